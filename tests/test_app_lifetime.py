"""The app's long-lived clients live as long as the worker's event loop, and close with it."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from testbed.activities import activity
from tests.support.app_settings import emulator_settings
from tests.support.devhost_process import start_devhost
from tests.support.http_client import post

APP_ROOT = Path(__file__).resolve().parent.parent


async def test_stopping_the_runner_closes_every_client_the_app_opened(azurite, channel, tmp_path):
    env = {
        **os.environ,
        **emulator_settings(azurite.connection_string),
        "NOTIFY_SCHEDULE": "0 0 0 1 1 *",
    }
    log = tmp_path / "runner.log"
    process, url = start_devhost(APP_ROOT, env, log)
    try:
        # Inbound (Table clients) and a proactive send (the channel's HTTP session).
        assert (await post(f"{url}/api/messages", activity(channel.url, "closing")))[0] == 200
        assert (await post(f"{url}/api/notify", {"text": "before the stop"}))[0] == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0

    output = log.read_text(errors="replace")
    assert "Host stopped" in output
    assert "Unclosed" not in output
