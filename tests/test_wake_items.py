"""A function that puts work on the queue wakes this instance's listener: it sets a WakeItem on
its queue output binding (the host wakes its own listener at once for a message written through a
binding, and for no other). One that puts nothing there sets nothing.

The functions' real entry points, given an `Out` as the worker gives one; what lands on the
queue is devhost's (tests/test_devhost_outputs.py) and the worker's (test_runtime_conformance).
"""

from __future__ import annotations

import json

import azure.functions as func
from azure.functions.timer import TimerRequest

import notify_http
import notify_revise
import notify_timer
from devhost.outputs import OutputValue
from shared.app import get_app
from tests.support.functions import post_notify, run_timer
from tests.support.references import store_conversations
from tests.support.work_queue import run_queued_work


def notify_request(body: dict) -> func.HttpRequest:
    return func.HttpRequest(
        method="POST",
        url="http://127.0.0.1:7071/api/notify",
        headers={"Content-Type": "application/json"},
        body=json.dumps(body).encode(),
    )


def woken_for(work: OutputValue) -> str | None:
    """The notification a WakeItem set on the binding names; None if nothing was set."""
    if work.get() is None:
        return None
    item = json.loads(work.get())
    assert item["kind"] == "wake"
    return item["notification"]


async def test_a_queued_notify_wakes_the_listener_and_an_inline_one_does_not(app_with, channel):
    app = await app_with(NOTIFY_INLINE_MAX_TARGETS=2)
    await store_conversations(app, channel.url, ["c1", "c2", "c3"])
    queued, inline = OutputValue(), OutputValue()

    to_all = await notify_http.main(notify_request({"text": "all three"}), queued)
    to_two = await notify_http.main(
        notify_request({"text": "two", "to": {"conversationIds": ["c1", "c2"]}}), inline
    )

    assert (to_all.status_code, to_two.status_code) == (202, 200)
    assert woken_for(queued) == json.loads(to_all.get_body())["id"]
    assert woken_for(inline) is None


async def test_a_timer_run_that_queues_due_work_wakes_the_listener(clock, channel):
    await store_conversations(get_app(), channel.url, ["c1"])
    response = await post_notify({"text": "later", "sendAt": "2026-11-23T09:30:00Z"})
    nothing_due, due = OutputValue(), OutputValue()

    await notify_timer.main(TimerRequest(past_due=False), nothing_due)
    clock.advance(minutes=30)
    await notify_timer.main(TimerRequest(past_due=False), due)

    assert woken_for(nothing_due) is None
    assert woken_for(due) == response.body["id"]
    await run_timer()


async def test_a_queued_recall_wakes_the_listener(app_with, channel):
    app = await app_with(NOTIFY_INLINE_MAX_TARGETS=0)
    await store_conversations(app, channel.url, ["c1", "c2"])
    sent = await post_notify({"text": "oops"})
    await run_queued_work(app)
    work = OutputValue()

    answer = await notify_revise.main(
        func.HttpRequest(
            method="DELETE",
            url=f"http://127.0.0.1:7071/api/notify/{sent.body['id']}",
            headers={},
            route_params={"id": sent.body["id"]},
            body=b"",
        ),
        work,
    )

    assert answer.status_code == 202
    assert woken_for(work) == json.loads(answer.get_body())["id"]  # the recall's own record
