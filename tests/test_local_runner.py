"""End to end over HTTP: the real function folders served by the local runner."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from devhost.azurite import free_port, port_open
from tests.support.activities import activity

APP_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def runner(azurite, channel_stub, tmp_path_factory) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "AzureWebJobsStorage": azurite.connection_string,
        "CONVERSATION_TABLE": "e2e" + uuid.uuid4().hex[:12],
        "NOTIFICATIONS_TABLE": "e2en" + uuid.uuid4().hex[:12],
        "MicrosoftAppId": "",
        "MicrosoftAppPassword": "",
        "MicrosoftAppType": "MultiTenant",
        "MicrosoftAppTenantId": "",
        "NOTIFY_SCHEDULE": "0 0 0 1 1 *",  # once a year: the test triggers it on demand
        "NOTIFY_TIMER_TEXT": "Scheduled hello from the timer",
        "ALLOWED_SERVICE_URLS": "",
    }
    log = tmp_path_factory.mktemp("runner") / "runner.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "devhost", "--no-azurite", "--port", str(port)],
            cwd=APP_ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while not port_open(port):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"local runner did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
        process.terminate()
        process.wait(10)


async def post(url: str, body: object) -> tuple[int, object]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        payload = await response.json(content_type=None) if response.content_length else None
        return response.status, payload


async def test_a_conversation_saved_over_http_gets_notify_and_timer_messages(runner, channel):
    status, _ = await post(f"{runner}/api/messages", activity(channel.url, "e2e-conversation"))
    assert status == 200
    [ack] = channel.wait_for(1)
    assert "subscribed" in ack.activity["text"]

    status, report = await post(f"{runner}/api/notify", {"text": "Webhook says hi"})
    assert status == 200
    assert report == {"matched": 1, "sent": 1, "failed": 0, "removed": 0, "failures": []}

    status, _ = await post(f"{runner}/admin/functions/notify_timer", {"input": ""})
    assert status == 202
    received = channel.wait_for(3)
    texts = [r.activity["text"] for r in received if r.conversation_id == "e2e-conversation"]
    assert texts[1:] == ["Webhook says hi", "Scheduled hello from the timer"]


async def test_bad_input_over_http_is_a_json_4xx(runner, channel):
    status, body = await post(f"{runner}/api/notify", {"to": {"userIds": ["x"]}})

    assert status == 400
    assert body["detail"] == {"field": "text"}


async def test_routes_answer_only_their_declared_methods(runner):
    async with aiohttp.ClientSession() as session, session.get(f"{runner}/api/notify") as response:
        assert response.status == 405
