"""Start `python -m devhost` as a child process and wait until it serves."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
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
