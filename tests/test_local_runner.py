"""End to end over HTTP: the real function folders served by the local runner."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from azure.data.tables.aio import TableClient

from testbed.activities import activity
from tests.support.http_client import post


async def test_a_conversation_saved_over_http_gets_notify_and_timer_messages(local_runner, channel):
    runner = local_runner.url
    status, _ = await post(f"{runner}/api/messages", activity(channel.url, "e2e-conversation"))
    assert status == 200
    [ack] = channel.wait_for(1)
    assert "subscribed" in ack.activity["text"]

    status, report = await post(f"{runner}/api/notify", {"text": "Webhook says hi"})
    assert status == 200
    assert report.pop("id")
    assert report == {"matched": 1, "sent": 1, "failed": 0, "removed": 0, "failures": []}

    status, _ = await post(f"{runner}/admin/functions/notify_timer", {"input": ""})
    assert status == 202
    received = channel.wait_for(3)
    texts = [r.activity["text"] for r in received if r.conversation_id == "e2e-conversation"]
    assert texts[1:] == ["Webhook says hi", "Scheduled hello from the timer"]


async def test_bad_input_over_http_is_a_json_4xx(local_runner, channel):
    runner = local_runner.url
    status, body = await post(f"{runner}/api/notify", {"to": {"userIds": ["x"]}})

    assert status == 400
    assert body["detail"] == {"field": "text"}


async def test_routes_answer_only_their_declared_methods(local_runner):
    runner = local_runner.url
    async with aiohttp.ClientSession() as session, session.get(f"{runner}/api/notify") as response:
        assert response.status == 405


async def stored_rows(local_runner) -> list[dict]:
    env = local_runner.env
    async with TableClient.from_connection_string(
        env["AzureWebJobsStorage"], env["CONVERSATION_TABLE"]
    ) as table:
        return [row async for row in table.list_entities()]


async def post_many(url: str, bodies: list[dict]) -> list[int]:
    connector = aiohttp.TCPConnector(limit=0)  # every request in flight at once
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post_one(body: dict) -> int:
            async with session.post(url, json=body) as response:
                await response.read()
                return response.status

        return await asyncio.gather(*(post_one(body) for body in bodies))


async def test_500_concurrent_activities_from_500_conversations_store_500_references(
    local_runner, channel
):
    ids = [f"load-{n:03d}" for n in range(500)]
    bodies = [activity(channel.url, c, user_id=f"29:load-user-{c}") for c in ids]

    statuses = await post_many(f"{local_runner.url}/api/messages", bodies)

    assert statuses == [200] * 500
    stored = {row["ConversationId"] for row in await stored_rows(local_runner)}
    assert set(ids) <= stored


async def test_200_concurrent_activities_from_one_conversation_leave_one_intact_reference(
    local_runner, channel
):
    bodies = [activity(channel.url, "one-busy-conversation", text=f"#{n}") for n in range(200)]

    statuses = await post_many(f"{local_runner.url}/api/messages", bodies)

    assert statuses == [200] * 200
    rows = [
        r for r in await stored_rows(local_runner) if r["ConversationId"] == "one-busy-conversation"
    ]
    assert len(rows) == 1
    reference = json.loads(rows[0]["Reference"])
    assert reference["activityId"] in {body["id"] for body in bodies}
    assert reference["conversation"]["id"] == "one-busy-conversation"
    assert reference["serviceUrl"] == channel.url
    assert reference["bot"]["id"] == bodies[0]["recipient"]["id"]
