"""Per-target outcomes: exactly one per target, written in batches, added up from summaries."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest

from devhost.azurite import Azurite
from shared.delivery.results import Outcome, TargetResult
from shared.notifications.outcomes import TARGETS_PER_CHUNK, OutcomeStore
from shared.storage.tables import Table

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
async def outcomes(azurite: Azurite) -> AsyncIterator[OutcomeStore]:
    table = Table.from_connection_string(azurite.connection_string, "o" + uuid.uuid4().hex[:16])
    yield OutcomeStore(table)
    await table.close()


def result(conversation_id: str, outcome: Outcome = Outcome.SENT, **details) -> TargetResult:
    return TargetResult("msteams", conversation_id, outcome, **details)


async def test_recorded_outcomes_read_back_with_what_the_channel_said(outcomes):
    await outcomes.record(
        "n1",
        [
            result("a:1", attempts=1, activity_id="1700000000001", status=201),
            result("a:2", Outcome.REMOVED, status=403, error="BotNotInConversationRoster"),
        ],
        NOW,
    )

    rows = {r["conversationId"]: r async for r in outcomes.outcomes("n1")}

    assert rows["a:1"]["outcome"] == "sent"
    assert rows["a:1"]["activityId"] == "1700000000001"
    assert (rows["a:2"]["outcome"], rows["a:2"]["status"]) == ("removed", 403)
    assert rows["a:2"]["error"] == "BotNotInConversationRoster"


async def test_totals_add_up_every_batch(outcomes):
    many = [result(f"a:{i}") for i in range(250)] + [result("f", Outcome.FAILED, status=502)]

    written = await outcomes.record("n1", many, NOW)
    totals = await outcomes.totals("n1")

    assert written == 251
    assert totals.counts[Outcome.SENT] == 250
    assert totals.counts[Outcome.FAILED] == 1
    assert totals.recorded == 251


async def test_a_target_keeps_its_first_outcome_when_recorded_again(outcomes):
    await outcomes.record("n1", [result("a:1", activity_id="first")], NOW)

    written = await outcomes.record("n1", [result("a:1", Outcome.FAILED), result("a:2")], NOW)

    rows = {r["conversationId"]: r async for r in outcomes.outcomes("n1")}
    assert written == 1
    assert rows["a:1"]["activityId"] == "first"
    assert (await outcomes.totals("n1")).counts == {
        **dict.fromkeys(Outcome, 0),
        Outcome.SENT: 2,
    }


async def test_outcomes_can_be_read_by_kind(outcomes):
    await outcomes.record("n1", [result("a:1"), result("a:2", Outcome.FAILED)], NOW)

    failed = [r["conversationId"] async for r in outcomes.outcomes("n1", Outcome.FAILED)]

    assert failed == ["a:2"]


async def test_a_chunk_is_claimed_once_until_a_redelivery_takes_it_over(outcomes):
    first = await outcomes.claim_chunk("n1", "0-0", NOW, take_over=False)
    duplicate = await outcomes.claim_chunk("n1", "0-0", NOW, take_over=False)
    redelivered = await outcomes.claim_chunk("n1", "0-0", NOW, take_over=True)

    assert first is not None
    assert duplicate is None
    assert redelivered is not None


async def test_a_done_chunk_is_never_claimed_again(outcomes):
    claim = await outcomes.claim_chunk("n1", "0-0", NOW, take_over=False)
    await outcomes.record("n1", [result(f"a:{i}") for i in range(TARGETS_PER_CHUNK)], NOW, claim)

    assert await outcomes.claim_chunk("n1", "0-0", NOW, take_over=True) is None


async def test_the_holder_of_a_taken_over_claim_records_nothing(outcomes):
    stale = await outcomes.claim_chunk("n1", "0-0", NOW, take_over=False)
    await outcomes.claim_chunk("n1", "0-0", NOW, take_over=True)

    written = await outcomes.record("n1", [result("a:1")], NOW, stale)

    assert written == 0
    assert (await outcomes.totals("n1")).recorded == 0


async def test_a_taker_over_sees_which_targets_already_have_outcomes(outcomes):
    await outcomes.record("n1", [result("a:1"), result("a:2")], NOW)

    recorded = await outcomes.recorded_targets("n1")

    assert len(recorded) == 2
