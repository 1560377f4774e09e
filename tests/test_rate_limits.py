"""Sliding-window limits, retry decisions and the recent-writes cache, on an injected clock."""

from __future__ import annotations

import pytest

from shared.channel.connector import ChannelError
from shared.delivery.clocks import WINDOW_SECONDS
from shared.delivery.rate_limits import RateLimits, SlidingWindow
from shared.delivery.retry_policy import MAX_RETRY_AFTER_SECONDS, RetryPolicy
from shared.storage.recent_writes import RecentWrites


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def sends_at(limits: RateLimits, time: FakeTime, keys: list[tuple[str, str]]) -> list[float]:
    times = []
    for conversation, tenant in keys:
        await limits.wait_turn(conversation, tenant)
        times.append(time.now)
    return times


def most_in_window(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + WINDOW_SECONDS) for start in times)


async def test_an_eighth_send_to_one_conversation_waits_for_the_window_to_pass():
    time = FakeTime()
    limits = RateLimits(per_tenant=0, clock=time.clock, sleep=time.sleep)

    times = await sends_at(limits, time, [("c", "")] * 8)

    assert times[:7] == [100.0] * 7
    assert times[7] == pytest.approx(100.0 + WINDOW_SECONDS)


async def test_no_window_ever_holds_more_than_the_limit():
    time = FakeTime()
    limits = RateLimits(per_tenant=5, clock=time.clock, sleep=time.sleep)
    keys = [(f"c{n % 3}", "tenant") for n in range(40)]

    times = await sends_at(limits, time, keys)

    assert most_in_window(times) == 5
    for conversation in ("c0", "c1", "c2"):
        own = [t for t, (c, _) in zip(times, keys, strict=True) if c == conversation]
        assert most_in_window(own) <= 7


async def test_tenants_and_conversations_are_limited_independently():
    time = FakeTime()
    limits = RateLimits(per_tenant=2, clock=time.clock, sleep=time.sleep)

    times = await sends_at(limits, time, [("a1", "A"), ("a2", "A"), ("b1", "B"), ("b2", "B")])

    assert times == [100.0] * 4


async def test_no_tenant_means_no_tenant_limit():
    time = FakeTime()
    limits = RateLimits(per_tenant=1, clock=time.clock, sleep=time.sleep)

    times = await sends_at(limits, time, [(f"c{n}", "") for n in range(5)])

    assert times == [100.0] * 5


async def test_a_paused_tenant_waits_for_the_pause_to_end_and_other_tenants_do_not():
    time = FakeTime()
    limits = RateLimits(per_tenant=50, clock=time.clock, sleep=time.sleep)

    await limits.pause_tenant("A", 2.0)
    times = await sends_at(limits, time, [("b1", "B"), ("a1", "A"), ("b2", "B")])

    assert times == [100.0, 102.0, 102.0]


async def test_a_shorter_pause_does_not_cut_a_longer_one_short():
    time = FakeTime()
    limits = RateLimits(per_tenant=50, clock=time.clock, sleep=time.sleep)

    await limits.pause_tenant("A", 5.0)
    await limits.pause_tenant("A", 1.0)
    times = await sends_at(limits, time, [("a1", "A")])

    assert times == [105.0]


async def test_a_pause_holds_even_without_a_tenant_limit():
    time = FakeTime()
    limits = RateLimits(per_tenant=0, clock=time.clock, sleep=time.sleep)

    await limits.pause_tenant("A", 1.5)
    times = await sends_at(limits, time, [("a1", "A")])

    assert times == [101.5]


def test_a_smaller_share_is_enforced_on_the_sends_a_window_already_holds():
    window = SlidingWindow(10)
    for sent_at in (100.0, 100.5, 100.6):
        window.record("k", sent_at)

    assert window.wait_seconds("k", 100.7, limit=2) == pytest.approx(100.5 + WINDOW_SECONDS - 100.7)
    assert window.wait_seconds("k", 100.7, limit=4) == 0.0


def test_idle_keys_are_swept_so_memory_follows_live_conversations():
    time = FakeTime()
    limits = RateLimits(per_tenant=50, clock=time.clock, sleep=time.sleep)
    for n in range(5000):
        limits._conversation.record(f"c{n}", time.now)
    time.now += 2 * WINDOW_SECONDS

    limits._conversation.sweep(time.now)

    assert len(limits._conversation) == 0


@pytest.mark.parametrize("status", [429, 412, 502, 503, 504, None])
def test_answers_that_may_pass_later_are_retried_until_the_last_attempt(status):
    policy = RetryPolicy(max_attempts=3)
    error = ChannelError(status, "Busy", "")

    assert policy.delay_before_retry(error, 1) > 0
    assert policy.delay_before_retry(error, 2) > 0
    assert policy.delay_before_retry(error, 3) is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 500])
def test_other_answers_are_not_retried(status):
    assert RetryPolicy().delay_before_retry(ChannelError(status, "No", ""), 1) is None


def test_backoff_grows_exponentially_with_jitter_within_bounds():
    policy = RetryPolicy(max_attempts=10, base_delay_seconds=0.5, max_delay_seconds=8.0)
    error = ChannelError(502, "BadGateway", "")

    delays = [
        [policy.delay_before_retry(error, attempt) for _ in range(50)] for attempt in (1, 2, 6)
    ]

    assert all(0.25 <= d <= 0.5 for d in delays[0])
    assert all(0.5 <= d <= 1.0 for d in delays[1])
    assert all(4.0 <= d <= 8.0 for d in delays[2])  # capped at max_delay_seconds
    assert len(set(delays[0])) > 1  # jittered


def test_retry_after_is_honoured_exactly_and_too_long_a_wait_gives_up():
    policy = RetryPolicy()

    assert policy.delay_before_retry(ChannelError(429, "Busy", "", retry_after=1.0), 1) == 1.0
    too_long = ChannelError(429, "Busy", "", retry_after=MAX_RETRY_AFTER_SECONDS + 1)
    assert policy.delay_before_retry(too_long, 1) is None


def test_recent_writes_expire_and_forget():
    time = FakeTime()
    writes = RecentWrites(ttl_seconds=60, max_entries=2, clock=time.clock)
    writes.remember("a", "v1", "etag-1")

    assert writes.etag_if_current("a", "v1") == "etag-1"
    assert writes.etag_if_current("a", "v2") is None
    writes.forget("a")
    assert writes.etag_if_current("a", "v1") is None
    writes.remember("a", "v1", "etag-2")
    time.now += 61
    assert writes.etag_if_current("a", "v1") is None


def test_recent_writes_keep_only_the_newest_entries():
    writes = RecentWrites(max_entries=2)
    for key in ("a", "b", "c"):
        writes.remember(key, "v", f"etag-{key}")

    assert [writes.etag_if_current(k, "v") for k in ("a", "b", "c")] == [None, "etag-b", "etag-c"]


async def test_a_send_in_flight_counts_until_its_answer_and_a_window_after_it():
    time = FakeTime()
    limits = RateLimits(per_conversation=7, per_tenant=2, clock=time.clock, sleep=time.sleep)
    first = limits.try_take("c1", "tenant")
    second = limits.try_take("c2", "tenant")

    time.now += 5  # both still unanswered: however late they reached the channel, they count
    third_while_in_flight = limits.try_take("c3", "tenant")
    limits.done(first)
    third_just_after_an_answer = limits.try_take("c3", "tenant")
    time.now += WINDOW_SECONDS
    third_a_window_after = limits.try_take("c3", "tenant")

    assert (first, second) != (None, None)
    assert third_while_in_flight is None
    assert third_just_after_an_answer is None
    assert third_a_window_after is not None
