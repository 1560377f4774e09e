"""The app's long-lived clients live as long as the worker's event loop, and close with it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from devhost.azurite import Azurite
from shared.app import App
from shared.settings import Settings
from shared.storage.tables import Table
from testbed.activities import activity
from testbed.channel_stub import ChannelStub
from tests.support.app_settings import emulator_settings
from tests.support.devhost_process import start_devhost
from tests.support.http_client import post
from tests.support.references import store_conversations

APP_ROOT = Path(__file__).resolve().parent.parent


def runner_env(storage_connection_string: str) -> dict[str, str]:
    """The timer runs only when invoked; each run broadcasts (no BROADCAST_SCHEDULE)."""
    return {
        **os.environ,
        **emulator_settings(storage_connection_string),
        "NOTIFY_SCHEDULE": "0 0 0 1 1 *",
        "NOTIFY_TIMER_TEXT": "Broadcast before the stop",
        "BROADCAST_SCHEDULE": "",
    }


async def use_every_client(url: str, channel: ChannelStub) -> None:
    """Inbound (Table clients), a send (the channel's HTTP session, the tenant's budget row), and
    the timer's broadcast through the work queue (the queue client, devhost's queue listener)."""
    assert (await post(f"{url}/api/messages", activity(channel.url, "closing")))[0] == 200
    assert (await post(f"{url}/api/notify", {"text": "before the stop"}))[0] == 200
    assert (await post(f"{url}/admin/functions/notify_timer", {}))[0] == 202
    texts = [r.activity["text"] for r in channel.wait_for(3)]
    assert texts[-1] == "Broadcast before the stop"


def wait_for_line(log: Path, line: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while line not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"no {line!r} in the log"
        time.sleep(0.01)


def stopped(process: subprocess.Popen) -> int:
    try:
        return process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def assert_closed_cleanly(log: Path) -> None:
    output = log.read_text(errors="replace")
    assert "Host stopped" in output
    assert "Unclosed" not in output, output
    assert "Task was destroyed" not in output, output


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
async def test_stopping_the_runner_after_every_kind_of_invocation_closes_every_client(
    azurite, channel, tmp_path, signum
):
    log = tmp_path / "runner.log"
    process, url = start_devhost(APP_ROOT, runner_env(azurite.connection_string), log)
    try:
        await use_every_client(url, channel)
    finally:
        process.send_signal(signum)
        assert stopped(process) == 0

    assert_closed_cleanly(log)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
async def test_a_second_stop_signal_while_the_app_closes_its_clients_still_closes_them(
    channel, tmp_path, signum
):
    # Ctrl-C in `make run` stops Azurite too, so the app's goodbye to the tenant's budget
    # (deleting its row) retries for a second or so: long enough for an impatient second Ctrl-C.
    with Azurite.all_services() as storage:
        log = tmp_path / "runner.log"
        process, url = start_devhost(APP_ROOT, runner_env(storage.connection_string), log)
        try:
            await use_every_client(url, channel)
        except BaseException:
            process.kill()
            raise
    try:
        process.send_signal(signum)
        wait_for_line(log, "Host stopped")
        process.send_signal(signum)
    finally:
        assert stopped(process) == 0

    assert_closed_cleanly(log)
    assert "Already stopping" in log.read_text(errors="replace")


async def fail_to_close() -> None:
    raise RuntimeError("cannot close")


async def test_a_client_that_fails_to_close_leaves_none_of_the_others_open(
    app_env, channel, monkeypatch
):
    app = App.create(Settings.from_env())
    await store_conversations(app, channel.url, ["conv-1"])  # opens the Table clients
    closed: list[Table] = []

    def recording(table: Table) -> Callable[[], Awaitable[None]]:
        async def close() -> None:
            closed.append(table)
            await Table.close(table)

        return close

    for table in app.tables:
        monkeypatch.setattr(table, "close", recording(table))
    monkeypatch.setattr(app.connector, "close", fail_to_close)  # the first to close

    with pytest.raises(RuntimeError, match="cannot close"):
        await app.close()

    assert sorted(map(id, closed)) == sorted(map(id, app.tables))
