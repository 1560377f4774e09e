"""Per-target outcomes: exactly one per target, written in transactions, added up from claims."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest

from devhost.azurite import Azurite
from shared.delivery.outcomes import Outcome, TargetResult
from shared.notifications.outcome_store import (
    OUTCOMES_PER_TRANSACTION,
    InvalidContinuationError,
    OutcomeStore,
)
from shared.storage.tables import Table

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
async def outcomes(azurite: Azurite) -> AsyncIterator[OutcomeStore]:
    table = Table.from_connection_string(azurite.connection_string, "o" + uuid.uuid4().hex[:16])
    yield OutcomeStore(table)
    await table.close()


def result(conversation_id: str, outcome: Outcome = Outcome.SENT, **details) -> TargetResult:
    return TargetResult("msteams", conversation_id, outcome, **details)


async def record_chunk(outcomes, chunk: str, results: list[TargetResult], done: bool = True):
    claim = await outcomes.claim_chunk("n1", chunk, NOW, take_over=False)
    return await outcomes.record("n1", claim, list(enumerate(results)), NOW, done=done)


async def all_rows(outcomes, outcome: Outcome | None = None) -> list[dict]:
    rows, continuation = await outcomes.page("n1", outcome)
    assert continuation is None
    return rows


async def test_recorded_outcomes_read_back_with_what_the_channel_said(outcomes):
    await record_chunk(
        outcomes,
        "0-0",
        [
            result("a:1", attempts=1, activity_id="1700000000001", status=201),
            result("a:2", Outcome.REMOVED, status=403, error="BotNotInConversationRoster"),
        ],
    )

    rows = {r["conversationId"]: r for r in await all_rows(outcomes)}

    assert rows["a:1"]["outcome"] == "sent"
    assert rows["a:1"]["activityId"] == "1700000000001"
    assert (rows["a:2"]["outcome"], rows["a:2"]["status"]) == ("removed", 403)
    assert rows["a:2"]["error"] == "BotNotInConversationRoster"


async def test_totals_add_up_every_transaction_of_every_chunk(outcomes):
    many = [result(f"a:{i}") for i in range(OUTCOMES_PER_TRANSACTION + 50)]
    await record_chunk(outcomes, "0-0", many)
    await record_chunk(outcomes, "0-1", [result("f", Outcome.FAILED, status=502)], done=False)

    totals = await outcomes.totals("n1")

    assert totals.counts[Outcome.SENT] == OUTCOMES_PER_TRANSACTION + 50
    assert totals.counts[Outcome.FAILED] == 1
    assert totals.recorded == OUTCOMES_PER_TRANSACTION + 51
    assert (totals.chunks_claimed, totals.chunks_done) == (2, 1)
    assert totals.started_at == totals.last_at == NOW


async def test_a_target_keeps_its_first_outcome_when_another_chunk_records_it_again(outcomes):
    await record_chunk(outcomes, "0-0", [result("a:1", activity_id="first")])

    await record_chunk(outcomes, "0-0-again", [result("a:1", Outcome.FAILED), result("a:2")])

    rows = {r["conversationId"]: r for r in await all_rows(outcomes)}
    assert rows["a:1"]["activityId"] == "first"
    assert (await outcomes.totals("n1")).counts == {**dict.fromkeys(Outcome, 0), Outcome.SENT: 2}


async def test_outcomes_can_be_read_by_kind_a_page_at_a_time(outcomes):
    await record_chunk(
        outcomes,
        "0-0",
        [result(f"a:{i}", Outcome.FAILED if i % 2 else Outcome.SENT) for i in range(9)],
    )

    first, continuation = await outcomes.page("n1", Outcome.FAILED, size=3)
    rest, end = await outcomes.page("n1", Outcome.FAILED, continuation, size=3)

    assert len(first) == 3
    assert continuation is not None
    assert len(rest) == 1
    assert end is None
    assert sorted(r["conversationId"] for r in first + rest) == ["a:1", "a:3", "a:5", "a:7"]


@pytest.mark.parametrize(
    "token", ["%%%", "bm90IGpzb24", "WzEsMl0"], ids=["not-base64", "not-json", "a-list"]
)
async def test_a_continuation_this_api_did_not_give_is_refused(outcomes, token):
    with pytest.raises(InvalidContinuationError):
        await outcomes.page("n1", continuation=token)


async def test_a_chunk_is_claimed_once_until_a_redelivery_takes_it_over(outcomes):
    first = await outcomes.claim_chunk("n1", "0-0", NOW, take_over=False)
    duplicate = await outcomes.claim_chunk("n1", "0-0", NOW, take_over=False)
    redelivered = await outcomes.claim_chunk("n1", "0-0", NOW, take_over=True)

    assert first is not None
    assert duplicate is None
    assert redelivered is not None


async def test_a_done_chunk_is_never_claimed_again(outcomes):
    await record_chunk(outcomes, "0-0", [result("a:1")])

    assert await outcomes.claim_chunk("n1", "0-0", NOW, take_over=True) is None


async def test_the_holder_of_a_taken_over_claim_records_nothing(outcomes):
    stale = await outcomes.claim_chunk("n1", "0-0", NOW, take_over=False)
    await outcomes.claim_chunk("n1", "0-0", NOW, take_over=True)

    assert await outcomes.record("n1", stale, [(0, result("a:1"))], NOW) is None
    assert (await outcomes.totals("n1")).recorded == 0
    assert await all_rows(outcomes) == []


async def test_a_taker_over_skips_the_positions_the_dead_run_recorded(outcomes):
    await record_chunk(outcomes, "0-0", [result("a:0"), result("a:1"), result("a:2")], done=False)

    taken = await outcomes.claim_chunk("n1", "0-0", NOW, take_over=True)
    finished = await outcomes.record(
        "n1", taken, [(1, result("a:1", Outcome.FAILED)), (3, result("a:3"))], NOW, done=True
    )

    assert taken.recorded == {0, 1, 2}
    assert finished.recorded == {0, 1, 2, 3}
    assert (await outcomes.totals("n1")).counts[Outcome.SENT] == 4
    assert await outcomes.claim_chunk("n1", "0-0", NOW, take_over=True) is None
