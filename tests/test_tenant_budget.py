"""A tenant's budget shared by instances through Table Storage (Azurite).

Each SharedTenantBudget here stands for one instance (its own instance id, one shared table);
the real-time tests put each behind a RateLimits of its own, as Delivery does.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from azure.core.exceptions import ServiceRequestError
from azure.data.tables.aio import TableClient, TableServiceClient

from devhost.azurite import Azurite
from shared.delivery.clocks import WINDOW_SECONDS
from shared.delivery.rate_limits import RateLimits
from shared.delivery.tenant_budget import (
    MEMBER_PREFIX,
    SharedTenantBudget,
    Turn,
    partition_key,
)
from shared.storage.keys import MAX_KEY_LENGTH
from shared.storage.tables import Table

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "0d2f1b3c-0000-4000-8000-000000000000"
# Shorter than the default so the real-time tests stay short; a join then takes 1.35 s.
REFRESH = 0.3
# Send times are read just after wait_turn records them: a few microseconds late, never more.
JITTER = 0.005


@pytest.fixture
def table_name() -> str:
    return "b" + uuid.uuid4().hex[:16]


@pytest.fixture
async def table(azurite: Azurite, table_name: str) -> AsyncIterator[Table]:
    table = Table.from_connection_string(azurite.connection_string, table_name)
    yield table
    await table.close()


Instance = Callable[..., SharedTenantBudget]


@pytest.fixture
async def instance(table: Table) -> AsyncIterator[Instance]:
    """`instance(budget, **options)`: one more instance's budget on the shared table."""
    made: list[SharedTenantBudget] = []

    def make(budget: int = 10, **options: Any) -> SharedTenantBudget:
        made.append(SharedTenantBudget(table, budget, **options))
        return made[-1]

    yield make
    for budget in made:
        await budget.close()


class FakeTime:
    """Monotonic and wall clocks that move only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return datetime(2030, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def options(self) -> dict[str, Any]:
        return {"clock": self.clock, "wall_clock": self.wall}


async def member_rows(table: Table, tenant_id: str) -> list[str]:
    query = "PartitionKey eq @pk"
    rows = table.query(query, parameters={"pk": partition_key(tenant_id)})
    keys = [row["RowKey"] async for row in rows]
    return sorted(key.removeprefix(MEMBER_PREFIX) for key in keys if key.startswith(MEMBER_PREFIX))


async def send_for(
    limits: RateLimits, tenant_id: str, seconds: float, after: float = 0.0
) -> list[float]:
    """Send as fast as the limits allow, to many conversations, from `after` seconds from now
    until `seconds` from now: the send times."""
    times: list[float] = []
    end = time.monotonic() + seconds
    await asyncio.sleep(after)
    while time.monotonic() < end:
        await limits.wait_turn(("msteams", f"a:{len(times) % 50}"), tenant_id)
        times.append(time.monotonic())
    return times


async def send_to_one_conversation_for(limits: RateLimits, seconds: float) -> list[float]:
    times: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await limits.wait_turn(("msteams", "a:1"), TENANT)
        times.append(time.monotonic())
    return times


def most_in_window(times: list[float]) -> int:
    window = WINDOW_SECONDS - JITTER
    return max((sum(1 for t in times if s <= t < s + window) for s in times), default=0)


def count_between(times: list[float], start: float, end: float) -> int:
    return sum(1 for t in times if start <= t < end)


def limits_for(budget: SharedTenantBudget) -> RateLimits:
    return RateLimits(per_tenant=budget.budget, tenant_budget=budget)


async def test_instances_sending_at_once_keep_every_window_within_the_budget(instance):
    budgets = [instance(10, refresh_seconds=REFRESH) for _ in range(3)]
    start = time.monotonic()

    # Each joins while the others are sending: 0.4 s apart, all until 3.5 s.
    sends = await asyncio.gather(
        *(send_for(limits_for(b), TENANT, 3.5, after=0.4 * n) for n, b in enumerate(budgets))
    )

    assert most_in_window(sorted(t for times in sends for t in times)) <= 10
    for times in sends:  # once all have joined (2.2 s at most), each gets its share
        assert count_between(times, start + 2.3, start + 3.5) >= 1


async def test_a_lone_instance_uses_the_whole_budget_at_once(instance):
    limits = limits_for(instance(10, refresh_seconds=REFRESH))
    start = time.monotonic()

    times = await send_for(limits, TENANT, 1.0)

    assert count_between(times, start, start + 0.3) == 10
    assert most_in_window(times) == 10


async def test_instances_sending_to_one_conversation_share_its_seven_per_window(instance):
    budgets = [instance(50, refresh_seconds=REFRESH) for _ in range(2)]
    start = time.monotonic()

    sends = await asyncio.gather(
        *(send_to_one_conversation_for(limits_for(b), 2.5) for b in budgets)
    )

    assert most_in_window(sorted(t for times in sends for t in times)) <= 7
    for times in sends:
        assert count_between(times, start + 1.5, start + 2.5) >= 1


async def test_a_newcomer_waits_until_every_member_has_seen_it(instance):
    fake = FakeTime()
    member, newcomer = instance(10, **fake.options()), instance(10, **fake.options())
    assert await member.turn(TENANT) == Turn(members=1, wait_seconds=0.0)
    member.sent(TENANT)

    joined = await newcomer.turn(TENANT)
    seen_before_refresh = await member.turn(TENANT)
    fake.advance(1.0)
    seen_after_refresh = await member.turn(TENANT)

    assert joined.members == 2
    assert joined.wait_seconds == pytest.approx(1.0 + WINDOW_SECONDS)
    assert seen_before_refresh.members == 1
    assert seen_after_refresh.members == 2
    assert seen_after_refresh.share(10) == 5


async def test_a_member_that_stops_renewing_counts_until_its_row_expires(instance, table):
    fake = FakeTime()
    died = {"PartitionKey": partition_key(TENANT), "RowKey": MEMBER_PREFIX + "died"}
    await table.insert({**died, "Until": fake.wall() + timedelta(seconds=10)})
    survivor = instance(10, **fake.options())

    members = []
    for _ in range(12):
        members.append((await survivor.turn(TENANT)).members)
        survivor.sent(TENANT)
        fake.advance(1.0)

    assert members[:10] == [2] * 10
    assert members[10:] == [1, 1]
    assert await member_rows(table, TENANT) == [survivor.instance_id]


async def test_an_instance_idle_on_a_tenant_leaves_it_at_its_next_turn_for_another(instance, table):
    fake = FakeTime()
    staying, leaving = instance(10, **fake.options()), instance(10, **fake.options())
    await staying.turn(TENANT)
    await leaving.turn(TENANT)
    fake.advance(1.0 + WINDOW_SECONDS)  # the newcomer's join is over
    leaving.sent(TENANT)

    for _ in range(3):  # the one that stays keeps sending; the other sends elsewhere only
        fake.advance(0.95)
        assert (await staying.turn(TENANT)).members == 2
        staying.sent(TENANT)
        await leaving.turn(OTHER_TENANT)
        leaving.sent(OTHER_TENANT)
    rows_before_idle_enough = await member_rows(table, TENANT)
    fake.advance(0.2)  # idle on TENANT for 3 s and more
    await leaving.turn(OTHER_TENANT)
    rows_after = await member_rows(table, TENANT)
    fake.advance(1.0)

    assert leaving.instance_id in rows_before_idle_enough
    assert rows_after == [staying.instance_id]
    assert (await staying.turn(TENANT)).members == 1


async def test_leave_idle_leaves_the_tenants_idle_long_enough_only(instance, table):
    fake = FakeTime()
    budget = instance(10, **fake.options())
    await budget.turn(TENANT)
    budget.sent(TENANT)
    fake.advance(2.0)
    await budget.turn(OTHER_TENANT)
    budget.sent(OTHER_TENANT)
    fake.advance(1.5)  # idle on TENANT for 3.5 s, on OTHER_TENANT for 1.5 s

    await budget.leave_idle()

    assert await member_rows(table, TENANT) == []
    assert await member_rows(table, OTHER_TENANT) == [budget.instance_id]


async def test_a_send_answered_late_keeps_its_instance_a_member_until_it_leaves_the_window(
    instance, table
):
    fake = FakeTime()
    budget = instance(10, **fake.options())
    limits = RateLimits(per_tenant=10, clock=fake.clock, tenant_budget=budget)
    await limits.until_free(("msteams", "a:1"), TENANT)
    ticket = limits.try_take(("msteams", "a:1"), TENANT)
    fake.advance(2.5)  # the channel answers 2.5 s after the send left
    limits.done(ticket)
    fake.advance(1.5)  # idle since the send left for 4 s, since its answer for 1.5 s

    await budget.leave_idle()
    still_a_member = await member_rows(table, TENANT)
    fake.advance(1.5)
    await budget.leave_idle()

    assert still_a_member == [budget.instance_id]
    assert await member_rows(table, TENANT) == []


async def test_an_instance_that_goes_quiet_counts_until_its_row_expires(instance, table):
    fake = FakeTime()
    options = {"heartbeat_seconds": 1.0, "member_ttl_seconds": 3.5, **fake.options()}
    staying, quiet = instance(10, **options), instance(10, **options)
    await staying.turn(TENANT)
    staying.sent(TENANT)
    await quiet.turn(TENANT)  # its row lasts 3.5 s; then it is called no more

    members = []
    for _ in range(6):
        fake.advance(1.0)
        members.append((await staying.turn(TENANT)).members)
        staying.sent(TENANT)

    assert members == [2, 2, 2, 1, 1, 1]
    assert await member_rows(table, TENANT) == [staying.instance_id]


async def test_a_leave_that_storage_fails_fails_no_turn_and_the_row_expires(
    instance, table, monkeypatch, caplog
):
    fake = FakeTime()
    budget = instance(10, **fake.options())
    await budget.turn(TENANT)
    budget.sent(TENANT)
    fake.advance(3.5)

    async def unreachable(*args: Any, **kwargs: Any) -> None:
        raise ServiceRequestError("simulated outage")

    monkeypatch.setattr(TableClient, "delete_entity", unreachable)
    turn = await budget.turn(OTHER_TENANT)
    monkeypatch.undo()
    rows_after_failed_leave = await member_rows(table, TENANT)
    fake.advance(10.0)  # member_ttl_seconds

    assert turn == Turn(members=1, wait_seconds=0.0)
    assert "Leaving tenant budget" in caplog.text
    assert rows_after_failed_leave == [budget.instance_id]
    assert (await instance(10, **fake.options()).turn(TENANT)).members == 1


async def test_sending_leaves_no_task_running(instance):
    tasks_before = asyncio.all_tasks()
    limits = limits_for(instance(10, refresh_seconds=REFRESH))

    for tenant_id in (TENANT, OTHER_TENANT):
        await send_for(limits, tenant_id, 0.3)

    assert asyncio.all_tasks() == tasks_before


async def test_a_pause_stops_every_instance_within_refresh_seconds_until_it_ends(instance):
    pausing = limits_for(instance(10, refresh_seconds=REFRESH))
    other = limits_for(instance(10, refresh_seconds=REFRESH))
    sending = [asyncio.create_task(send_for(limits, TENANT, 4.2)) for limits in (pausing, other)]

    await asyncio.sleep(2.0)  # both have joined and are sending
    paused_at = time.monotonic()
    await pausing.pause_tenant(TENANT, 1.5)
    written_at = time.monotonic()
    pausing_sends, other_sends = await asyncio.gather(*sending)

    ends = paused_at + 1.5
    assert count_between(other_sends, paused_at - WINDOW_SECONDS, paused_at) > 0
    assert count_between(pausing_sends, paused_at, ends) == 0
    assert count_between(other_sends, written_at + REFRESH, ends - 0.02) == 0
    for times in (pausing_sends, other_sends):
        assert count_between(times, ends - 0.02, ends + 0.5) > 0


async def test_a_pause_leaves_other_tenants_alone(instance):
    fake = FakeTime()
    sender, pauser = instance(10, **fake.options()), instance(10, **fake.options())
    await sender.turn(TENANT)
    await sender.turn(OTHER_TENANT)

    await pauser.pause(TENANT, 5.0)
    fake.advance(1.0)

    assert (await sender.turn(TENANT)).wait_seconds == pytest.approx(4.0)
    assert (await sender.turn(OTHER_TENANT)).wait_seconds == 0.0


async def test_a_shorter_pause_never_cuts_a_longer_one_short(instance):
    fake = FakeTime()
    sender = instance(10, **fake.options())
    first, second = instance(10, **fake.options()), instance(10, **fake.options())
    await sender.turn(TENANT)

    await first.pause(TENANT, 30.0)
    await second.pause(TENANT, 2.0)
    fake.advance(1.0)

    assert (await sender.turn(TENANT)).wait_seconds == pytest.approx(29.0)


async def test_the_instance_that_pauses_stops_at_once(instance):
    fake = FakeTime()
    budget = instance(10, **fake.options())
    await budget.turn(TENANT)

    await budget.pause(TENANT, 2.0)

    assert (await budget.turn(TENANT)).wait_seconds == pytest.approx(2.0)


async def test_a_budget_of_zero_never_touches_the_table(azurite, instance, table_name):
    limits = limits_for(instance(0))

    for n in range(20):
        await limits.wait_turn(("msteams", f"a:{n}"), TENANT)
    await limits.pause_tenant(OTHER_TENANT, 0.01)
    await limits.close()

    async with TableServiceClient.from_connection_string(azurite.connection_string) as service:
        query = "TableName eq @name"
        parameters = {"name": table_name}
        assert [t async for t in service.query_tables(query, parameters=parameters)] == []


@pytest.mark.parametrize(
    "tenant_id",
    ["a/b\\c#d?e", "\x00\x7f", "\ud800", "é" * MAX_KEY_LENGTH],
    ids=["characters keys forbid", "control characters", "lone surrogate", "too long to encode"],
)
async def test_any_tenant_id_gets_a_partition_of_its_own(instance, tenant_id):
    budget = instance(10)

    assert (await budget.turn(tenant_id)).members == 1
    assert partition_key(tenant_id) != partition_key(tenant_id + "x")
    assert len(partition_key(tenant_id)) <= MAX_KEY_LENGTH


def test_rate_limits_refuse_a_budget_other_than_their_per_tenant_limit(table):
    with pytest.raises(ValueError, match="per_tenant"):
        RateLimits(per_tenant=50, tenant_budget=SharedTenantBudget(table, 10))
