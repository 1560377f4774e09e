"""Scale-out for real: `python -m devhost` runners sharing one Azurite, one channel and one work
queue, as Functions instances share a storage account. A runner killed mid-fan-out loses nothing
and repeats only sends it had not recorded; runners on one queue keep a tenant within its budget
together, and all hold off when the tenant answers 429.

Each scenario runs once per module and its tests check one consequence each; run with `-s` to see
the figures they measure.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

import pytest

from shared.notifications.outcome_writer import UNRECORDED_LIMIT
from testbed.channel_stub import ChannelStub, Received
from tests.support.http_client import post
from tests.support.runners import (
    Runner,
    Runners,
    exported_targets,
    partly_recorded_chunks,
    recorded_conversations,
    runner_env,
    status_when_settled,
    store_audience,
    wait_until,
)

CONCURRENCY = 32  # NOTIFY_CONCURRENCY of the runners killed
# What an instance that dies leaves its successor to send again, however many chunks it held:
# its sends in flight and the outcomes it had learned and not yet written (see
# shared/notifications/outcome_writer.py).
REPEATS_BOUND = CONCURRENCY + UNRECORDED_LIMIT

KILL_TENANTS = ("tenant-a", "tenant-b", "tenant-c")
KILL_PER_TENANT = 1000
KILL_AFTER_SHARE = 0.3
CHANNEL_LATENCY_SECONDS = 0.1  # CONCURRENCY sends in flight per runner: about 300 a second
LEASE_SECONDS = 3  # how soon a dead runner's queue messages come back (devhost test knob)

TENANT = "tenant-busy"
BUDGET = 10  # NOTIFY_MAX_RPS_PER_TENANT, for the three runners together
RUNNERS = 3
PARTS, PER_PART = 10, 15  # notifications to one tenant, each queued (inline up to 10)
THROTTLED = "busy-throttled"  # in the tenant too; answers 429 once
RETRY_AFTER_SECONDS = 2
# One send at a time per runner, each answered this much later: a runner could send 5 a second,
# more than its share (3 per window), so one taking more would show; and its share goes out
# spread over the window (a gap of 0.65 s at most, not one burst), so a runner still sending
# shows in any stretch of 0.7 s (the quiet one checked after a 429).
PACED_LATENCY_SECONDS = 0.2
REFRESH_SECONDS = 1.0  # SharedTenantBudget's default: how soon every runner sees a pause
# After the 429 at t0 no runner sends in (t0 + QUIET_FROM, t0 + RETRY_AFTER_SECONDS): the one that
# got it stops at once, the others within REFRESH_SECONDS (plus storage and scheduling latency).
QUIET_FROM = REFRESH_SECONDS + 0.3


@dataclass(frozen=True)
class KilledMidFanOut:
    ids: list[str]
    received: list[Received]
    sent_before_kill: set[str]
    recorded_at_kill: set[str]
    partly_recorded: list[int]
    status: dict
    exported: list[dict]
    restarted: Runner

    @property
    def repeats(self) -> Counter[str]:
        """Sends beyond the first, per conversation."""
        counts = Counter(r.conversation_id for r in self.received)
        return Counter({c: n - 1 for c, n in counts.items() if n > 1})


async def slow_audience(
    azurite, channel_stub: ChannelStub, name: str
) -> tuple[dict[str, str], list[str]]:
    """The runners' settings (short lease, no rate limit) and 3,000 stored conversations in 3
    tenants, each answered after CHANNEL_LATENCY_SECONDS: a fan-out long enough to kill mid-way."""
    channel_stub.reset()
    env = runner_env(
        azurite.connection_string,
        NOTIFY_MAX_RPS_PER_TENANT=0,
        NOTIFY_CONCURRENCY=CONCURRENCY,
        DEVHOST_QUEUE_LEASE_SECONDS=LEASE_SECONDS,
    )
    audiences = {t: [f"{t}-{name}-{n:04d}" for n in range(KILL_PER_TENANT)] for t in KILL_TENANTS}
    ids = [c for tenant_ids in audiences.values() for c in tenant_ids]
    await store_audience(env, channel_stub.url, audiences)
    for conversation_id in ids:
        channel_stub.answer(conversation_id, 201, delay_seconds=CHANNEL_LATENCY_SECONDS)
    return env, ids


async def some_chunk_partly_recorded(
    env: dict[str, str], notification_id: str, runners: Runners
) -> list[int]:
    """Wait until a chunk has part of its outcomes written; how many each such chunk has."""
    deadline = time.monotonic() + 30
    while not (partly_recorded := await partly_recorded_chunks(env, notification_id)):
        assert time.monotonic() < deadline, f"no chunk partly recorded\n{runners.tails()}"
        await asyncio.sleep(0.05)
    return partly_recorded


async def notified_and_partly_sent(
    runner: Runner, runners: Runners, channel_stub: ChannelStub, ids: list[str]
) -> str:
    """POST a notification to everyone through `runner`; its id once KILL_AFTER_SHARE of the
    sends arrived."""
    status, body = await post(f"{runner.url}/api/notify", {"text": "To all 3,000"})
    assert status == 202, body
    await wait_until(
        lambda: len(channel_stub.received) >= KILL_AFTER_SHARE * len(ids),
        timeout=30,
        what=f"{KILL_AFTER_SHARE:.0%} of the sends arrive\n{runners.tails()}",
    )
    return body["id"]


@pytest.fixture(scope="module")
async def killed_mid_fan_out(azurite, channel_stub: ChannelStub, tmp_path_factory):
    """3,000 targets in 3 tenants through the queue; the runner is killed with SIGKILL once 30 %
    of the sends arrived, and a new one (short lease) finishes the notification."""
    env, ids = await slow_audience(azurite, channel_stub, "conv")

    with Runners(env, tmp_path_factory.mktemp("killed")) as runners:
        [first] = runners.start()
        notification_id = await notified_and_partly_sent(first, runners, channel_stub, ids)
        # Killed while it holds a chunk with part of its outcomes written, so its successor
        # has recorded targets to skip (not only chunks it starts afresh).
        partly_recorded = await some_chunk_partly_recorded(env, notification_id, runners)
        first.kill()
        # Requests already on the wire reach the stub; then nothing more comes from the dead.
        await asyncio.sleep(0.5)
        sent_before_kill = {r.conversation_id for r in channel_stub.received}
        recorded_at_kill = await recorded_conversations(env, notification_id)
        [restarted] = runners.start()
        try:
            settled = await status_when_settled(restarted.url, notification_id, timeout=60)
            exported = await exported_targets(restarted.url, notification_id)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{runners.tails()}") from None
    return KilledMidFanOut(
        ids,
        channel_stub.received,
        sent_before_kill,
        recorded_at_kill,
        partly_recorded,
        settled,
        exported,
        restarted,
    )


def test_a_killed_runner_dies_mid_fan_out_and_its_successor_takes_its_items_over(
    killed_mid_fan_out,
):
    scenario = killed_mid_fan_out
    held = len(scenario.sent_before_kill - scenario.recorded_at_kill)
    print(
        f"\nkill -9 after {len(scenario.sent_before_kill)} of {len(scenario.ids)} targets sent: "
        f"{len(scenario.recorded_at_kill)} outcomes recorded, {held} sent but not recorded; "
        f"outcomes recorded of chunks held, not done: {scenario.partly_recorded}"
    )

    assert 0 < len(scenario.recorded_at_kill) < len(scenario.sent_before_kill) < len(scenario.ids)
    assert scenario.partly_recorded
    assert "DequeueCount: 2" in scenario.restarted.output()  # redelivered after the lease


def test_after_a_kill_every_target_is_still_sent(killed_mid_fan_out):
    scenario = killed_mid_fan_out

    assert {r.conversation_id for r in scenario.received} == set(scenario.ids)


def test_after_a_kill_the_status_counts_every_target_sent(killed_mid_fan_out):
    counts = dict(killed_mid_fan_out.status["counts"])
    counts.pop("possibleDuplicates")  # see the next test

    assert killed_mid_fan_out.status["state"] == "done"
    assert counts == {
        "matched": 3000, "sent": 3000, "failed": 0, "removed": 0, "suspended": 0,
        "skipped": 0, "cancelled": 0, "pending": 0,
    }  # fmt: skip


def test_after_a_kill_everyone_who_may_have_had_it_twice_is_flagged(killed_mid_fan_out):
    scenario = killed_mid_fan_out
    deliveries = Counter(r.conversation_id for r in scenario.received if r.status == 200)
    repeated = {c for c, n in deliveries.items() if n > 1}
    flagged = {r["conversationId"] for r in scenario.exported if r["possibleDuplicate"]}

    assert repeated <= flagged
    assert scenario.status["counts"]["possibleDuplicates"] == len(flagged)


def test_after_a_kill_the_export_has_exactly_one_row_per_target(killed_mid_fan_out):
    scenario = killed_mid_fan_out
    rows = scenario.exported

    assert sorted(r["conversationId"] for r in rows) == sorted(scenario.ids)
    assert {r["outcome"] for r in rows} == {"sent"}


def test_after_a_kill_only_sends_without_a_recorded_outcome_repeat(killed_mid_fan_out):
    scenario = killed_mid_fan_out
    repeats = scenario.repeats
    print(
        f"\nrepeated sends after kill -9: {sum(repeats.values())} "
        f"(to {len(repeats)} conversations; bound: {CONCURRENCY} in flight + "
        f"{UNRECORDED_LIMIT} unwritten = {REPEATS_BOUND})"
    )

    assert sum(repeats.values()) <= REPEATS_BOUND
    # Each repeat is of a send that had reached the channel before the kill and whose outcome
    # was not yet written: a target with a recorded outcome is never sent again.
    assert sorted(set(repeats) & scenario.recorded_at_kill) == []
    assert set(repeats) <= scenario.sent_before_kill


@dataclass(frozen=True)
class SharedQueue:
    ids: list[str]
    received: list[Received]
    statuses: list[dict]
    throttled_report: dict
    most_in_a_second: int
    stub_lag_seconds: float
    sends_by_runner: dict[str, int]


@pytest.fixture(scope="module")
async def three_runners_on_one_queue(azurite, channel_stub: ChannelStub, tmp_path_factory):
    """Ten queued notifications of 15 targets to one tenant with a budget of 10 sends a second,
    served by three runners, each taking one queue item and sending one at a time to a channel
    that answers in 0.2 s.
    Mid-way, a small notification (sent inline by the runner that takes the request, within
    that runner's share) gets 429 with Retry-After: 2."""
    channel_stub.reset()
    env = runner_env(
        azurite.connection_string,
        NOTIFY_MAX_RPS_PER_TENANT=BUDGET,
        NOTIFY_INLINE_MAX_TARGETS=10,
        NOTIFY_CONCURRENCY=1,
        # One queue item at a time per runner, so no runner can take every item in one fetch.
        AzureFunctionsJobHost__extensions__queues__batchSize=1,
        AzureFunctionsJobHost__extensions__queues__newBatchThreshold=0,
    )
    ids = [f"busy-{n:03d}" for n in range(PARTS * PER_PART)]
    await store_audience(env, channel_stub.url, {TENANT: [*ids, THROTTLED]})
    for conversation_id in ids:
        channel_stub.answer(conversation_id, 201, delay_seconds=PACED_LATENCY_SECONDS)

    with Runners(env, tmp_path_factory.mktemp("shared")) as runners:
        started = runners.start(RUNNERS)
        notification_ids = []
        for k in range(PARTS):
            part = ids[k * PER_PART : (k + 1) * PER_PART]
            body = {"text": f"Part {k}", "to": {"conversationIds": part}}
            status, answer = await post(f"{started[k % RUNNERS].url}/api/notify", body)
            assert status == 202, answer
            notification_ids.append(answer["id"])
        # By then every runner has work and is sending to the tenant.
        await wait_until(
            lambda: len(channel_stub.received) >= 0.3 * len(ids),
            timeout=30,
            what=f"30 % of the sends arrive\n{runners.tails()}",
        )
        channel_stub.answer(
            THROTTLED,
            429,
            "TooManyRequests",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            times=1,
        )
        body = {"text": "Mid-way", "to": {"conversationIds": [THROTTLED]}}
        status, throttled_report = await post(f"{started[0].url}/api/notify", body)
        assert status == 200, throttled_report
        try:
            statuses = [
                await status_when_settled(started[0].url, n, timeout=60) for n in notification_ids
            ]
        except AssertionError as error:
            raise AssertionError(f"{error}\n{runners.tails()}") from None
        return SharedQueue(
            ids,
            channel_stub.received,
            statuses,
            throttled_report,
            # Arrivals are timed when the stub's handler runs: up to its loop's lag late. Sends
            # a second apart at the channel are at least that much less apart on its record.
            channel_stub.most_in_any_window(lambda _: TENANT, 1.0 - channel_stub.most_lag_seconds),
            channel_stub.most_lag_seconds,
            {runner.name: runner.chunk_sends() for runner in started},
        )


def test_runners_on_one_queue_share_the_work(three_runners_on_one_queue):
    sends = three_runners_on_one_queue.sends_by_runner
    print(f"\nsends per runner: {sends}")

    assert sum(sends.values()) == PARTS * PER_PART + 1  # and the inline one
    assert len([n for n in sends.values() if n > 0]) >= 2


def test_runners_on_one_queue_keep_the_tenant_within_its_budget_in_any_second(
    three_runners_on_one_queue,
):
    most = three_runners_on_one_queue.most_in_a_second
    lag = three_runners_on_one_queue.stub_lag_seconds
    print(f"\nmost sends to the tenant in any 1 s window: {most} (budget {BUDGET})")
    print(f"windows shortened by the stub's lag: {lag:.3f} s")

    assert most <= BUDGET


def test_a_429_with_retry_after_pauses_the_tenant_on_every_runner(three_runners_on_one_queue):
    scenario = three_runners_on_one_queue
    first, *retries = [r for r in scenario.received if r.conversation_id == THROTTLED]
    t0 = first.at
    others = [r.at - t0 for r in scenario.received if r is not first]
    around = sorted(round(d, 2) for d in others if -1.5 < d < 3)
    print(f"\n429 at t0, retried at t0+{retries[0].at - t0:.2f} s; other sends at t0+: {around}")

    assert len(retries) == 1
    assert retries[0].at - t0 >= RETRY_AFTER_SECONDS
    assert [d for d in others if QUIET_FROM < d < RETRY_AFTER_SECONDS] == []
    # The fan-out was under way on both sides of the pause: the gap is the pause's doing.
    assert any(-1 < d <= 0 for d in others)
    assert any(RETRY_AFTER_SECONDS <= d < 3 for d in others)


def test_runners_on_one_queue_still_send_every_target(three_runners_on_one_queue):
    scenario = three_runners_on_one_queue

    assert {s["state"] for s in scenario.statuses} == {"done"}
    assert [(s["counts"]["sent"], s["counts"]["pending"]) for s in scenario.statuses] == [
        (PER_PART, 0)
    ] * PARTS
    assert sorted({r.conversation_id for r in scenario.received}) == [*scenario.ids, THROTTLED]
    assert (scenario.throttled_report["sent"], scenario.throttled_report["failed"]) == (1, 0)


async def test_two_runners_share_the_queue_and_one_is_killed_the_other_finishes_everything(
    azurite, channel_stub: ChannelStub, tmp_path_factory
):
    """3,000 targets through the queue, two runners taking its items; one is killed with SIGKILL
    mid-fan-out and never comes back. The survivor takes the dead one's items once their lease
    runs out: nobody lost, one outcome each, every repeat flagged, and a status that converges."""
    env, ids = await slow_audience(azurite, channel_stub, "pair")

    with Runners(env, tmp_path_factory.mktemp("pair")) as runners:
        [victim] = runners.start()
        notification_id = await notified_and_partly_sent(victim, runners, channel_stub, ids)
        # The second takes items beside the first; the first dies holding a chunk part-recorded.
        [survivor] = runners.start()
        await some_chunk_partly_recorded(env, notification_id, runners)
        sent_before_kill = {r.conversation_id for r in channel_stub.received}
        recorded_at_kill = await recorded_conversations(env, notification_id)
        victim.kill()
        settled = await status_when_settled(survivor.url, notification_id, timeout=90)
        exported = await exported_targets(survivor.url, notification_id)

    deliveries = Counter(r.conversation_id for r in channel_stub.received if r.status < 300)
    repeated = {c for c, n in deliveries.items() if n > 1}
    flagged = {r["conversationId"] for r in exported if r["possibleDuplicate"]}
    assert set(deliveries) == set(ids)  # nobody lost
    assert sorted(r["conversationId"] for r in exported) == sorted(ids)  # one outcome each
    assert settled["state"] == "done"
    assert (settled["counts"]["sent"], settled["counts"]["pending"]) == (3000, 0)
    assert max(deliveries.values()) <= 2
    assert repeated <= flagged
    assert len(repeated) <= REPEATS_BOUND  # what one dead instance can hold
    print(
        f"\ntwo runners, one killed: {len(sent_before_kill - recorded_at_kill)} sent but not "
        f"recorded at the kill, {len(repeated)} repeated, {len(flagged)} flagged"
    )
