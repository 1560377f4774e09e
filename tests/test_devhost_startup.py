"""How `python -m devhost` starts, or refuses to: a taken port, an Azurite it did not start, and
the app's own start-up check (--preflight). Each failure is one clear line, not a traceback."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.__main__ import ensure_azurite
from devhost.azurite import Azurite, connection_string, data_location, free_port, port_open
from tests.support.app_settings import emulator_settings
from tests.support.devhost_process import REPO_ROOT, start_devhost

# The app's own start-up check, as `make run` passes it.
PREFLIGHT = "shared.app:check_environment"
OTHER_ACCOUNT = "DefaultEndpointsProtocol=https;AccountName=other;AccountKey=a2V5"


def run_devhost(
    *options: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devhost", *options],
        cwd=REPO_ROOT,
        env={**env, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def environment_without(*names: str) -> dict[str, str]:
    """This process's environment less `names`, so a test's local.settings.json decides them."""
    return {name: value for name, value in os.environ.items() if name not in names}


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port that something else listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def write_app(root: Path, values: dict[str, str]) -> Path:
    """A function app with no functions and its local settings; `shared` comes from PYTHONPATH."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "host.json").write_text(json.dumps({"version": "2.0"}))
    (root / "local.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    return root


def test_a_taken_port_is_named_with_how_to_choose_another_and_no_traceback(
    azurite: Azurite, taken_port: int
) -> None:
    env = {
        **os.environ,
        **emulator_settings(azurite.connection_string),
        "NOTIFY_SCHEDULE": "0 0 0 1 1 *",
    }

    result = run_devhost("--port", str(taken_port), "--no-azurite", "--no-local-settings", env=env)

    assert result.returncode == 1, result.stderr
    assert f"Port {taken_port} " in result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_taken_port_still_stops_the_azurite_it_started(tmp_path: Path, taken_port: int) -> None:
    root = write_app(tmp_path / "app", {})
    (root / "node_modules").symlink_to(REPO_ROOT / "node_modules")
    storage_ports = {"blob": free_port(), "queue": free_port(), "table": free_port()}
    env = {**os.environ, "AzureWebJobsStorage": connection_string(storage_ports)}

    result = run_devhost(
        "--app-root", str(root), "--port", str(taken_port), "--no-local-settings", env=env
    )

    assert result.returncode == 1, result.stderr
    assert "Azurite stopped" in result.stderr
    assert not any(port_open(port) for port in storage_ports.values())


def test_an_azurite_started_elsewhere_is_used_with_a_warning_naming_its_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    elsewhere = tmp_path / "other-checkout" / ".azurite"
    other = Azurite(elsewhere, free_port(), free_port(), free_port())
    with other, caplog.at_level(logging.INFO, logger="devhost"):
        started = ensure_azurite(tmp_path / "app", other.connection_string)

    assert started is None
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "did not start" in warning
    assert f"its data is in {elsewhere.resolve()}, not in this checkout's" in warning
    assert "TableEndpoint=http://127.0.0.1:" in warning  # how to run one of its own


def test_an_azurite_on_this_checkouts_data_is_used_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "app"
    ours = Azurite(root / ".azurite", free_port(), free_port(), free_port())
    with ours, caplog.at_level(logging.INFO, logger="devhost"):
        started = ensure_azurite(root, ours.connection_string)

    assert started is None
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "with this checkout's data" in caplog.text


def test_an_in_memory_azurite_is_said_to_keep_its_data_in_memory(
    azurite: Azurite, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ensure_azurite(tmp_path / "app", azurite.connection_string)

    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "it keeps its data in memory" in warning


def test_an_azurite_whose_data_cannot_be_located_is_said_so(
    azurite: Azurite,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As on a system without /proc, or with another user's Azurite.
    monkeypatch.setattr("devhost.__main__.data_location", lambda port: None)

    ensure_azurite(tmp_path / "app", azurite.connection_string)

    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "where it keeps its data cannot be told" in warning


def test_the_data_location_of_a_port_nothing_listens_on_is_unknown() -> None:
    assert data_location(free_port()) is None


def test_a_failing_preflight_refuses_to_start_before_azurite_naming_the_problem(
    tmp_path: Path,
) -> None:
    ports = {"blob": free_port(), "queue": free_port(), "table": free_port()}
    root = write_app(
        tmp_path / "app",
        {"BROADCAST_SCHEDULE": "every day", "AzureWebJobsStorage": connection_string(ports)},
    )
    env = environment_without("BROADCAST_SCHEDULE", "AzureWebJobsStorage")

    result = run_devhost(
        "--app-root", str(root), "--port", str(free_port()), "--preflight", PREFLIGHT, env=env
    )

    assert result.returncode == 1, result.stderr
    assert (
        "Refusing to start: BROADCAST_SCHEDULE is not a six-field NCRONTAB expression: "
        "'every day'" in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert "Azurite" not in result.stderr
    assert "Host started" not in result.stderr


def test_a_passing_preflight_lets_the_host_start(tmp_path: Path) -> None:
    root = write_app(
        tmp_path / "app",
        # A valid account that is not the emulator: nothing to start, and no function reads it.
        {"BROADCAST_SCHEDULE": "0 0 12 * * *", "AzureWebJobsStorage": OTHER_ACCOUNT},
    )
    log = tmp_path / "devhost.log"
    env = {
        **environment_without("BROADCAST_SCHEDULE", "AzureWebJobsStorage"),
        "PYTHONPATH": str(REPO_ROOT),
    }

    process, _ = start_devhost(root, env, log, timeout=15, options=["--preflight", PREFLIGHT])
    process.send_signal(signal.SIGTERM)

    assert process.wait(10) == 0
    assert f"Preflight {PREFLIGHT} passed" in log.read_text()


def test_a_preflight_not_written_as_module_colon_function_is_a_usage_error() -> None:
    result = run_devhost("--preflight", "shared.app", env=dict(os.environ))

    assert result.returncode == 2
    assert "MODULE:FUNCTION" in result.stderr
