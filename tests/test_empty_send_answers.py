"""A channel that takes a message but answers its send with an empty 2xx (no body, so no activity
id), as some local channels do: the message counts as sent; with no id, it cannot be updated or
recalled later, and its outcome says so."""

from __future__ import annotations

import pytest

from testbed.activities import activity
from tests.support.functions import (
    get_status,
    get_targets,
    patch_notification,
    post_activity,
    post_notify,
    recall,
)
from tests.support.references import store_conversations
from tests.support.work_queue import run_queued_work

QUIET, WITH_ID = "a:quiet-channel", "a:usual-channel"


@pytest.fixture
async def queued_app(app_with):
    """No per-tenant rate limit, so the tests are quick."""
    return await app_with(NOTIFY_MAX_RPS_PER_TENANT=0)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
async def test_an_empty_2xx_answer_to_a_send_is_sent(queued_app, channel, status):
    await store_conversations(queued_app, channel.url, [QUIET])
    channel.answer(QUIET, status, empty=True)

    response = await post_notify({"text": "Deploy 142 done"})

    assert (response.status, response.body["sent"], response.body["failed"]) == (200, 1, 0)
    [target] = (await get_targets(response.body["id"])).body["targets"]
    assert (target["outcome"], target["status"], target["activityId"]) == ("sent", status, "")
    assert target["sentIn"] == QUIET
    [received] = channel.received_by(QUIET)
    assert received.activity["text"] == "Deploy 142 done"


async def sent_to_both(app, channel) -> str:
    await store_conversations(app, channel.url, [QUIET, WITH_ID])
    channel.answer(QUIET, 200, empty=True)
    response = await post_notify({"text": "Deploy 142 failed"})
    assert response.body["sent"] == 2
    return response.body["id"]


async def test_a_message_sent_without_an_id_is_skipped_by_an_update(queued_app, channel):
    notification_id = await sent_to_both(queued_app, channel)

    update = await patch_notification(notification_id, {"text": "Deploy 142 is fine"})
    await run_queued_work(queued_app)

    assert [r.conversation_id for r in channel.received if r.method == "PUT"] == [WITH_ID]
    status = (await get_status(update.body["id"])).body
    assert (status["state"], status["counts"]["sent"], status["counts"]["skipped"]) == (
        "done",
        1,
        1,
    )
    assert status["counts"]["failed"] == 0
    [skipped] = (await get_targets(update.body["id"], outcome="skipped")).body["targets"]
    assert skipped["error"] == "no record of the sent message"


async def test_a_message_sent_without_an_id_is_skipped_by_a_recall(queued_app, channel):
    notification_id = await sent_to_both(queued_app, channel)

    response = await recall(notification_id)
    await run_queued_work(queued_app)

    assert [r.conversation_id for r in channel.received if r.method == "DELETE"] == [WITH_ID]
    status = (await get_status(response.body["id"])).body
    assert (status["counts"]["sent"], status["counts"]["skipped"], status["counts"]["failed"]) == (
        1,
        1,
        0,
    )


# A reply within a turn goes through botbuilder's ConnectorClient, which takes 200, 201 and 202
# and reads a 204 as an error: the adapter takes that one as sent too (shared/channel/adapter.py).
@pytest.mark.parametrize("status", [200, 201, 202, 204])
async def test_an_empty_2xx_answer_to_the_bot_s_reply_is_sent(app, channel, status):
    channel.answer(QUIET, status, empty=True)

    response = await post_activity(activity(channel.url, QUIET, text="hello"))

    assert response.status == 200
    [reply] = channel.received_by(QUIET)
    assert "subscribed" in reply.activity["text"]
    assert await app.store.get("msteams", QUIET) is not None
