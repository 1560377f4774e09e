"""The delivery engine: retries, Retry-After, rate limits, pruning, one outcome per target."""

from __future__ import annotations

import asyncio

from devhost.azurite import free_port
from tests.support.functions import post_notify
from tests.support.references import store_conversations


async def test_a_502_is_retried_and_then_counts_as_sent(app, channel):
    await store_conversations(app, channel.url, ["c-1"])
    channel.answer("c-1", 502, "BadGateway", times=1)

    response = await post_notify({"text": "retry me"})

    assert response.body["sent"] == 1
    assert response.body["failures"] == []
    assert len(channel.received_by("c-1")) == 2


async def test_a_412_is_retried(app, channel):
    await store_conversations(app, channel.url, ["c-1"])
    channel.answer("c-1", 412, "PreconditionFailed", times=2)

    response = await post_notify({"text": "retry me"})

    assert response.body["sent"] == 1
    assert len(channel.received_by("c-1")) == 3


async def test_a_429_retry_after_delays_that_conversation_and_nothing_else(app, channel):
    ids = [f"c-{n}" for n in range(10)]
    await store_conversations(app, channel.url, ids)
    channel.answer("c-0", 429, "TooManyRequests", times=1, headers={"Retry-After": "1"})

    response = await post_notify({"text": "slow down"})

    assert response.body["sent"] == 10
    first, second = channel.received_by("c-0")
    assert second.at - first.at >= 1.0
    others = [r.at for r in channel.received if r.conversation_id != "c-0"]
    assert max(others) - first.at < 0.5


async def test_retries_stop_after_the_configured_attempts(app_with, channel):
    app = await app_with(NOTIFY_MAX_ATTEMPTS=3)
    await store_conversations(app, channel.url, ["c-1"])
    channel.answer("c-1", 504, "GatewayTimeout", headers={"Retry-After": "0"})

    response = await post_notify({"text": "never"})

    assert (response.body["sent"], response.body["failed"]) == (0, 1)
    assert response.body["failures"][0]["status"] == 504
    assert "attempts: 3" in response.body["failures"][0]["error"]
    assert len(channel.received_by("c-1")) == 3
    assert await app.store.get("msteams", "c-1") is not None


async def test_a_channel_that_does_not_answer_is_retried_then_reported(app_with, channel):
    app = await app_with(NOTIFY_MAX_ATTEMPTS=2)
    closed_port = free_port()
    await store_conversations(app, f"http://127.0.0.1:{closed_port}/", ["c-nowhere"])

    response = await post_notify({"text": "anyone?"})

    [failure] = response.body["failures"]
    assert failure["status"] is None
    assert "attempts: 2" in failure["error"]
    assert response.body["failed"] == 1


async def test_errors_that_will_not_pass_later_are_not_retried(app, channel):
    await store_conversations(app, channel.url, ["c-1"])
    channel.answer("c-1", 400, "BadArgument")

    response = await post_notify({"text": "bad"})

    assert response.body["failed"] == 1
    assert len(channel.received_by("c-1")) == 1


async def test_no_conversation_gets_more_than_seven_messages_in_a_second(app, channel):
    await store_conversations(app, channel.url, ["busy"])

    reports = await asyncio.gather(*(post_notify({"text": f"#{n}"}) for n in range(12)))

    assert sum(r.body["sent"] for r in reports) == 12
    arrivals = sorted(r.at for r in channel.received_by("busy"))
    assert len(arrivals) == 12
    # Within any second (less 50 ms for arrival jitter on a loaded machine) at most seven...
    assert channel.most_in_any_window(lambda r: r.conversation_id, window_seconds=0.95) <= 7
    # ...and the eighth had to wait for the first one's second to pass.
    assert arrivals[7] - arrivals[0] >= 0.95


async def test_no_tenant_gets_more_than_its_limit_in_a_second(app_with, channel):
    app = await app_with(NOTIFY_MAX_RPS_PER_TENANT=5)
    limited = [f"a-{n}" for n in range(12)]
    await store_conversations(app, channel.url, limited, tenant_id="tenant-a")
    await store_conversations(app, channel.url, ["b-1", "b-2", "b-3"], tenant_id="tenant-b")

    response = await post_notify({"text": "per tenant"})

    assert response.body["sent"] == 15
    tenant_a = sorted(r.at for r in channel.received if r.conversation_id.startswith("a-"))
    assert channel.most_in_any_window(lambda r: r.conversation_id[0], window_seconds=0.95) <= 5
    assert tenant_a[10] - tenant_a[0] >= 1.9  # twelve at five a second span two windows
    tenant_b = [r.at for r in channel.received if r.conversation_id.startswith("b-")]
    first = min(r.at for r in channel.received)
    assert max(tenant_b) - first < 0.5  # the other tenant is not held back


async def test_every_target_ends_sent_failed_or_removed_exactly_once(app, channel):
    fine = [f"ok-{n}" for n in range(5)]
    gone = {
        "gone-403": (403, "BotNotInConversationRoster"),
        "gone-blocked": (403, "MessageWritesBlocked"),
    }
    broken = ["broken-1", "broken-2"]
    flaky = {"flaky-502": (502, {}), "flaky-429": (429, {"Retry-After": "0"})}
    await store_conversations(app, channel.url, fine + list(gone) + broken + list(flaky))
    for conversation, (status, code) in gone.items():
        channel.answer(conversation, status, code)
    for conversation in broken:
        channel.answer(conversation, 500, "InternalServerError")
    for conversation, (status, headers) in flaky.items():
        channel.answer(conversation, status, "Busy", times=1, headers=headers)

    body = (await post_notify({"text": "roll call"})).body

    assert body["matched"] == 11
    assert (body["sent"], body["failed"], body["removed"]) == (7, 2, 2)
    outcomes = {f["conversationId"]: f["removed"] for f in body["failures"]}
    assert outcomes == {
        "gone-403": True,
        "gone-blocked": True,
        "broken-1": False,
        "broken-2": False,
    }
    attempts = {c: len(channel.received_by(c)) for c in fine + broken + list(gone)}
    assert set(attempts.values()) == {1}
    assert [len(channel.received_by(c)) for c in flaky] == [2, 2]
    remaining = {s.conversation_id async for s in _all(app)}
    assert remaining == set(fine + broken + list(flaky))


async def test_more_references_than_one_table_page_are_each_sent_once(app_with, channel):
    app = await app_with(NOTIFY_MAX_RPS_PER_TENANT=0, NOTIFY_INLINE_MAX_TARGETS=2000)
    ids = [f"page-{n:04d}" for n in range(1100)]
    await store_conversations(app, channel.url, ids)

    response = await post_notify({"text": "everyone"})

    assert response.body["matched"] == 1100
    assert response.body["sent"] == 1100
    received = [r.conversation_id for r in channel.received]
    assert sorted(received) == ids


async def _all(app):
    from shared.storage.audience import Audience

    async for stored in app.store.find(Audience()):
        yield stored


async def test_a_tenant_waiting_for_its_window_does_not_hold_up_other_tenants(app_with, channel):
    app = await app_with(NOTIFY_CONCURRENCY=2, NOTIFY_MAX_RPS_PER_TENANT=2)
    await store_conversations(app, channel.url, [f"a-{n}" for n in range(6)], tenant_id="busy")
    await store_conversations(app, channel.url, ["b-0", "b-1"], tenant_id="quiet")

    response = await post_notify({"text": "everyone"})

    assert response.body["sent"] == 8
    first = min(r.at for r in channel.received)
    quiet = [r.at - first for r in channel.received if r.conversation_id.startswith("b-")]
    assert max(quiet) < 0.5  # not after the busy tenant's three windows
