"""A notification's `callback`: each read and reaction it asked for is POSTed to the caller's URL,
signed with the Standard Webhooks headers, at least once through the work queue (500 and 429
tried again, with the same webhook-id; a 4xx given up at once), and counted in the status. The
receiver hears nothing it did not subscribe to, and a crash between a receipt and its callback
loses nothing."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from shared.storage.queues import WorkQueue
from testbed.activities import activity
from testbed.callback_receiver import CallbackReceiver
from tests.support.functions import get_status, post_activity, post_notify
from tests.support.references import store_conversations
from tests.support.work_queue import run_queued_work
from tests.test_engagement import reaction, read_receipt, stored_chats

SECRET = "whsec_" + base64.b64encode(b"callback-signing-key-of-32-bytes").decode()


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    server = CallbackReceiver(SECRET).start()
    yield server
    server.stop()


@pytest.fixture
async def app(app_with, receiver):
    receiver.reset()
    return await app_with(CALLBACK_SECRET=SECRET, CALLBACK_RETRY_SECONDS="1")


async def notify(channel, receiver, conversation_id: str, **callback) -> tuple[str, str]:
    """Sent inline, with a callback to the receiver: its id, and the id of the message."""
    before = len(channel.received)
    body = {
        "text": "Fire drill at 11",
        "to": {"conversationIds": [conversation_id]},
        "callback": {"url": receiver.url, **callback},
    }
    answer = await post_notify(body)
    assert answer.status == 200, answer.body
    [sent] = channel.received[before:]
    return answer.body["id"], sent.activity_id


async def callbacks_of(notification_id: str) -> dict:
    return (await get_status(notification_id)).body["callbacks"]


async def test_a_read_is_delivered_signed_through_500_and_429_with_one_webhook_id(
    app, channel, receiver
):
    await stored_chats(channel, "a:ada")
    notification_id, message = await notify(channel, receiver, "a:ada", events=["read"])
    receiver.answer(500)
    receiver.answer(429, {"Retry-After": "1"})
    receiver.answer(200)

    assert (await post_activity(read_receipt(channel, "a:ada", message))).status == 200
    await run_queued_work(app, timeout=30)

    got = receiver.got
    assert [d.answered for d in got] == [500, 429, 200]
    assert all(d.signed for d in got)
    assert len({d.webhook_id for d in got}) == 1  # a receiver can tell a retry from a new event
    event = got[-1].body
    assert event["type"] == "notification.read"
    assert (event["notificationId"], event["conversationId"]) == (notification_id, "a:ada")
    assert event["userId"] == "aad-29:user-1"
    assert await callbacks_of(notification_id) == {"delivered": 1, "gaveUp": 0, "pending": 0}


async def test_a_client_error_gives_up_at_once(app, channel, receiver):
    await stored_chats(channel, "a:ada")
    notification_id, message = await notify(channel, receiver, "a:ada", events=["read"])
    receiver.answer(410)

    assert (await post_activity(read_receipt(channel, "a:ada", message))).status == 200
    await run_queued_work(app, timeout=30)

    assert [d.answered for d in receiver.got] == [410]
    assert await callbacks_of(notification_id) == {"delivered": 0, "gaveUp": 1, "pending": 0}


async def test_the_receiver_hears_only_what_it_subscribed_to(app, channel, receiver):
    await stored_chats(channel, "a:ada", "a:bob")
    reactions_only, to_ada = await notify(channel, receiver, "a:ada", events=["reaction"])
    answer = await post_notify({"text": "No callback", "to": {"conversationIds": ["a:bob"]}})
    to_bob = channel.received[-1].activity_id

    for body in (
        read_receipt(channel, "a:ada", to_ada),
        read_receipt(channel, "a:bob", to_bob, user="29:bob"),
        reaction(channel, "a:bob", to_bob, "29:bob", reactionsAdded=["like"]),
        reaction(channel, "a:ada", to_ada, "29:user-1", reactionsAdded=["heart"]),
    ):
        assert (await post_activity(body)).status == 200
    await run_queued_work(app, timeout=30)

    [delivered] = receiver.got
    assert delivered.body["type"] == "notification.reaction"
    assert delivered.body["notificationId"] == reactions_only
    assert delivered.body["data"] == {"added": ["heart"], "removed": []}
    assert (await get_status(answer.body["id"])).body["engagement"]["read"] == 1


async def test_a_crash_between_a_receipt_and_its_callback_loses_no_event(
    app, channel, receiver, monkeypatch
):
    await stored_chats(channel, "a:ada")
    notification_id, message = await notify(channel, receiver, "a:ada", events=["read"])
    put = WorkQueue.put
    crashed = []

    async def crash_once_before_queueing_a_callback(queue, item, delay_seconds=0):
        if item["kind"] == "callback" and not crashed:
            crashed.append(item)
            raise RuntimeError("the instance died here")
        await put(queue, item, delay_seconds)

    monkeypatch.setattr(WorkQueue, "put", crash_once_before_queueing_a_callback)
    assert (await post_activity(read_receipt(channel, "a:ada", message))).status == 200
    await run_queued_work(app, timeout=60)

    assert crashed  # the read and its event were recorded, then the run died
    assert [d.body["type"] for d in receiver.got] == ["notification.read"]
    assert await callbacks_of(notification_id) == {"delivered": 1, "gaveUp": 0, "pending": 0}
    assert (await get_status(notification_id)).body["engagement"]["read"] == 1


@pytest.mark.parametrize(
    ("callback", "field"),
    [
        ({"url": "https://hooks.contoso.example/teams"}, "callback.url"),  # not listed
        ({"url": "ftp://127.0.0.1/x"}, "callback.url"),
        ({"url": "http://127.0.0.1/x", "events": ["opened"]}, "callback.events"),
        ({"url": "http://127.0.0.1/x", "events": []}, "callback.events"),
        ({"url": "http://127.0.0.1/x", "secret": "mine"}, "callback"),
    ],
)
async def test_a_callback_the_app_may_not_call_is_a_400(app, callback, field):
    answer = await post_notify({"text": "hi", "callback": callback})

    assert answer.status == 400
    assert answer.body["detail"]["field"] == field


async def test_a_callback_without_a_signing_secret_is_a_400(app_with):
    await app_with(CALLBACK_SECRET="")
    body = {"text": "hi", "callback": {"url": "http://127.0.0.1/hooks"}}

    answer = await post_notify(body)

    assert answer.status == 400
    assert "CALLBACK_SECRET" in answer.body["error"]


async def test_done_is_delivered_once_when_every_target_has_its_outcome(
    app_with, channel, receiver
):
    app = await app_with(CALLBACK_SECRET=SECRET)
    conversations = [f"a:member-{n:03d}" for n in range(450)]  # queued, in three chunks
    await store_conversations(app, channel.url, conversations)
    channel.answer("a:member-003", 403, "ConversationBlockedByUser")
    body = {
        "text": "Quarterly results are out",
        "to": {"conversationIds": conversations},
        "callback": {"url": receiver.url, "events": ["done"]},
    }
    answer = await post_notify(body)
    assert answer.status == 202, answer.body

    await run_queued_work(app, timeout=60)

    [done] = [d.body for d in receiver.got]
    assert done["type"] == "notification.done"
    assert done["notificationId"] == answer.body["id"]
    assert (done["data"]["sent"], done["data"]["removed"], done["data"]["pending"]) == (449, 1, 0)
    assert await callbacks_of(answer.body["id"]) == {"delivered": 1, "gaveUp": 0, "pending": 0}


async def test_an_inline_notification_is_done_at_once(app, channel, receiver):
    await stored_chats(channel, "a:ada")
    notification_id, _ = await notify(channel, receiver, "a:ada", events=["done"])

    await run_queued_work(app, timeout=30)

    assert [d.body["type"] for d in receiver.got] == ["notification.done"]
    assert receiver.got[0].body["notificationId"] == notification_id


async def test_an_answer_to_the_question_is_delivered(app, channel, receiver):
    await stored_chats(channel, "a:ada")
    body = {
        "text": "Coming to the offsite?",
        "choices": ["Yes", "No"],
        "to": {"conversationIds": ["a:ada"]},
        "callback": {"url": receiver.url, "events": ["answered"]},
    }
    asked = await post_notify(body)
    assert asked.status == 200, asked.body

    assert (await post_activity(activity(channel.url, "a:ada", text="yes"))).status == 200
    await run_queued_work(app, timeout=30)

    [answered] = [d.body for d in receiver.got]
    assert answered["type"] == "notification.answered"
    assert (answered["conversationId"], answered["data"]) == ("a:ada", {"choice": "Yes"})
    status = (await get_status(asked.body["id"])).body
    assert status["engagement"]["answered"] == 1
