"""Start `python -m devhost` as a child process, wait until it serves, call it, and stop it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from devhost.azurite import free_port, port_open

REPO_ROOT = Path(__file__).resolve().parents[2]


def devhost_argv(app_root: Path, port: int, options: Sequence[str] = ()) -> list[str]:
    app = ["--app-root", str(app_root), "--no-azurite", "--port", str(port)]
    if app_root.resolve() == REPO_ROOT:
        # The product's own folder holds the developer's local.settings.json (`make run` made
        # it): a test's settings come from the test alone.
        app.append("--no-local-settings")
    return [sys.executable, "-m", "devhost", *app, *options]


def start_devhost(
    app_root: Path,
    env: Mapping[str, str],
    log: Path,
    timeout: float = 30.0,
    options: Sequence[str] = (),
) -> tuple[subprocess.Popen, str]:
    """The running host and its base URL; fails the test with the host's log if it dies."""
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            devhost_argv(app_root, port, options),
            cwd=REPO_ROOT,
            env=dict(env),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"devhost did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)
    return process, f"http://127.0.0.1:{port}"


@dataclass
class RunningHost:
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    root: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_host(root: Path, env_overrides: dict[str, str] | None = None) -> RunningHost:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env_overrides or {})}
    log = root / "devhost.log"
    process, url = start_devhost(root, env, log, timeout=10)
    return RunningHost(process, url, log, root)


def stop_host(host: RunningHost) -> int:
    host.process.send_signal(signal.SIGTERM)
    return host.process.wait(10)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def call(url: str, method: str = "GET", body: bytes | None = None) -> Reply:
    request = urllib.request.Request(url, data=body, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
