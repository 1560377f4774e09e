"""Every body POST /api/notify accepts can be stored: records hold requests and reports of any size.

A Table property holds 64 KiB at most, an entity 1 MiB; a body may be 256 KiB.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone

import pytest
from azure.data.tables.aio import TableClient

from devhost.azurite import Azurite
from shared.app import get_app
from shared.http import MAX_BODY_BYTES
from shared.notifications.idempotency_store import Claimed, IdempotencyStore, Replay
from shared.notifications.lifecycle import State
from shared.notifications.notification_store import Notification, NotificationStore
from shared.storage.large_values import json_properties, json_value, report_properties
from shared.storage.tables import (
    MAX_BINARY_PROPERTY_BYTES,
    MAX_REPORT_BYTES,
    MAX_REQUEST_BYTES,
    MAX_STRING_PROPERTY_CHARS,
    Table,
)
from tests.support.functions import get_status, post_notify, run_timer
from tests.support.references import store_conversations
from tests.support.work_queue import run_queued_work

SUBSCRIBERS = ["conv-00000000", "conv-00009999"]
SEND_AT = "2026-11-23T09:30:00Z"  # half an hour after the test clock's start


def random_text(alphabet: Callable[[random.Random], str], size: int, seed: int = 7) -> str:
    """`size` characters drawn from `alphabet`: text that compresses about as badly as real text."""
    rng = random.Random(seed)
    return "".join(alphabet(rng) for _ in range(size))


def ascii_words(rng: random.Random) -> str:
    return rng.choice("abcdefghijklmnopqrstuvwxyz      .,ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def cjk(rng: random.Random) -> str:
    return chr(rng.randint(0x4E00, 0x9FFF))


def any_plane(rng: random.Random) -> str:
    """A character from any plane: mostly 4 bytes of UTF-8 that hardly compress."""
    while True:
        code = rng.randint(0xA0, 0x10FFFF)
        if not 0xD800 <= code <= 0xDFFF:
            return chr(code)


def many_conversation_ids() -> dict:
    others = [f"conv-{n:08d}" for n in range(1, 9999)]
    return {
        "text": "Release notes",
        "to": {"conversationIds": [SUBSCRIBERS[0], *others, SUBSCRIBERS[1]]},
    }


def adaptive_card() -> dict:
    rows = [
        {
            "type": "TextBlock",
            "text": f"Row {n}: " + random_text(ascii_words, 60, seed=n),
            "wrap": True,
        }
        for n in range(1700)
    ]
    card = {"type": "AdaptiveCard", "version": "1.4", "body": rows}
    return {
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]
    }


BODIES: dict[str, Callable[[], dict]] = {
    "10000-conversation-ids": many_conversation_ids,
    "200kb-adaptive-card": adaptive_card,
    "200kb-text": lambda: {"text": random_text(ascii_words, 200_000)},
    "200kb-cjk-text": lambda: {"text": random_text(cjk, 66_000)},
}


def encoded(payload: dict) -> bytes:
    """The body as a caller sends it: UTF-8, non-ASCII characters as themselves."""
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


@pytest.fixture(params=list(BODIES), ids=list(BODIES))
def large(request) -> dict:
    payload = BODIES[request.param]()
    assert 160_000 < len(encoded(payload)) <= MAX_BODY_BYTES
    return payload


@pytest.fixture
async def subscribers(clock, channel) -> list[str]:
    await store_conversations(get_app(), channel.url, SUBSCRIBERS)
    return SUBSCRIBERS


async def stored_request(notification_id: str) -> dict:
    notification = await get_app().notifications.get(notification_id)
    assert notification is not None
    return notification.request


async def test_a_large_body_sent_now_is_stored_and_reaches_every_target(
    subscribers, channel, large
):
    response = await post_notify(encoded(large))

    assert response.status == 200
    assert (response.body["matched"], response.body["sent"]) == (2, 2)
    assert await stored_request(response.body["id"]) == large
    assert (await get_status(response.body["id"])).body["state"] == "done"
    assert sorted(r.conversation_id for r in channel.received) == subscribers


async def test_a_large_scheduled_body_is_stored_and_delivered_when_due(
    subscribers, clock, channel, large
):
    response = await post_notify(encoded({**large, "sendAt": SEND_AT}))
    assert response.status == 202
    notification_id = response.body["id"]
    assert await stored_request(notification_id) == {**large, "sendAt": SEND_AT}

    clock.advance(minutes=30)
    await run_timer()
    await run_queued_work(get_app())

    assert sorted(r.conversation_id for r in channel.received) == subscribers
    status = (await get_status(notification_id)).body
    assert (status["state"], status["counts"]["sent"]) == ("done", 2)


@pytest.mark.parametrize("send_at", [None, SEND_AT], ids=["now", "scheduled"])
async def test_a_large_body_with_an_idempotency_key_is_answered_the_same_on_replay(
    subscribers, channel, large, send_at
):
    body = encoded(large if send_at is None else {**large, "sendAt": send_at})
    headers = {"Idempotency-Key": f"large-{uuid.uuid4().hex}"}

    first = await post_notify(body, headers)
    received = len(channel.received)
    replay = await post_notify(body, headers)

    assert first.status == (200 if send_at is None else 202)
    assert (replay.status, replay.body) == (first.status, first.body)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert len(channel.received) == received


@pytest.mark.parametrize("body", ["200kb-text", "200kb-cjk-text"])
async def test_a_200_kb_text_reaches_the_channel_whole(subscribers, channel, body):
    payload = BODIES[body]()

    await post_notify(encoded(payload))

    assert [r.activity["text"] for r in channel.received] == [payload["text"]] * 2


async def test_the_largest_body_of_the_least_compressible_text_is_stored(subscribers):
    # Random characters from every plane compress least: the most stored bytes per body byte.
    payload = {"text": random_text(any_plane, 80_000), "sendAt": SEND_AT}
    while len(encoded(payload)) > MAX_BODY_BYTES:
        payload["text"] = payload["text"][:-500]
    assert len(encoded(payload)) > MAX_BODY_BYTES - 2048

    response = await post_notify(encoded(payload))

    assert response.status == 202
    assert await stored_request(response.body["id"]) == payload


# The module on its own, against Azurite.


@pytest.fixture
async def table(azurite: Azurite) -> AsyncIterator[Table]:
    table = Table.from_connection_string(azurite.connection_string, "v" + uuid.uuid4().hex[:16])
    yield table
    await table.close()


async def round_trip(table: Table, properties: dict) -> dict:
    row_key = uuid.uuid4().hex
    await table.upsert({"PartitionKey": "p", "RowKey": row_key, **properties})
    return await table.get("p", row_key)


def binary_parts(properties: dict) -> list[bytes]:
    return [value for value in properties.values() if isinstance(value, bytes)]


def stored_bytes(properties: dict) -> int:
    return sum(len(part) for part in binary_parts(properties))


VALUES = {
    "small": {"text": "Deploy finished", "to": {"userIds": ["user-a"]}},
    "ascii": {"text": random_text(ascii_words, 200_000)},
    "cjk": {"text": random_text(cjk, 80_000)},
    "every-plane": {"text": random_text(any_plane, 60_000)},
    "lone-surrogates": {"content": "\ud800 \udfff " * 20_000},
    "floats": {"content": [1e15, 1e-7, 0.1, -0.0, 2**70] * 10_000},
}


@pytest.mark.parametrize("value", list(VALUES.values()), ids=list(VALUES))
async def test_a_value_reads_back_exactly_from_a_stored_entity(table, value):
    entity = await round_trip(table, json_properties("Request", value, MAX_REQUEST_BYTES))

    assert json_value(entity, "Request") == value


def test_a_value_that_fits_one_string_property_is_written_as_records_always_were():
    value = {"text": "x" * (MAX_STRING_PROPERTY_CHARS - 20)}

    assert json_properties("Request", value, MAX_REQUEST_BYTES) == {"Request": json.dumps(value)}


def test_a_larger_value_is_split_into_binary_parts_table_storage_accepts():
    properties = json_properties("Request", VALUES["every-plane"], MAX_REQUEST_BYTES)

    parts = binary_parts(properties)
    assert properties["RequestParts"] == len(parts) > 1
    assert all(len(part) <= MAX_BINARY_PROPERTY_BYTES for part in parts)
    assert "Request" not in properties


async def test_a_record_written_as_one_string_property_still_reads(table):
    # What this app wrote before values could be split: json.dumps in one string property.
    request = {"text": "y" * (MAX_STRING_PROPERTY_CHARS - 20)}
    report = {"matched": 1, "sent": 1, "failed": 0, "removed": 0, "failures": []}
    await table.insert(
        {
            "PartitionKey": "notification",
            "RowKey": "0" * 32,
            "State": "done",
            "Request": json.dumps(request),
            "CreatedAt": datetime(2026, 1, 1, tzinfo=timezone.utc),
            "Kind": "notify",
            "Owner": "",
            "Report": json.dumps(report),
        }
    )

    notification = await NotificationStore(table).get("0" * 32)

    assert (notification.request, notification.report) == (request, report)


def test_a_value_over_its_share_is_refused():
    with pytest.raises(ValueError, match="Request"):
        json_properties("Request", VALUES["every-plane"], 64 * 1024)


def failures(count: int) -> list[dict]:
    return [
        {"conversationId": f"19:{uuid.uuid4().hex}@thread.v2", "status": 403, "error": "Forbidden"}
        for _ in range(count)
    ]


def report_of(failed: list[dict]) -> dict:
    return {
        "matched": len(failed),
        "sent": 0,
        "failed": len(failed),
        "removed": 0,
        "failures": failed,
    }


async def test_a_report_within_its_share_is_stored_whole(table):
    report = report_of(failures(2000))  # far more than one string property holds
    assert len(json.dumps(report)) > MAX_STRING_PROPERTY_CHARS

    entity = await round_trip(table, report_properties("Report", report, MAX_REPORT_BYTES))

    assert json_value(entity, "Report") == report


async def test_a_report_over_its_share_keeps_its_counts_and_says_how_many_failures_it_left_out(
    table,
):
    report = report_of(failures(30_000))

    properties = report_properties("Report", report, MAX_REPORT_BYTES)
    stored = json_value(await round_trip(table, properties), "Report")

    assert stored_bytes(properties) <= MAX_REPORT_BYTES
    assert {k: stored[k] for k in ("matched", "sent", "failed", "removed")} == {
        k: report[k] for k in ("matched", "sent", "failed", "removed")
    }
    assert stored["failures"] == report["failures"][: len(stored["failures"])]
    assert len(stored["failures"]) + stored["failuresOmitted"] == 30_000
    assert len(stored["failures"]) > 1000


async def test_an_idempotency_key_replays_an_answer_too_large_for_one_property(table):
    keys = IdempotencyStore(table, clock=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    answer = {"id": "0" * 32, **report_of(failures(2000))}
    claim = await keys.claim("key", "digest")
    assert isinstance(claim, Claimed)

    await keys.complete("key", "digest", claim, 200, answer)

    assert await keys.claim("key", "digest") == Replay(200, answer)


def value_of_stored_size(share: int) -> dict:
    """A value whose stored parts take just under `share` bytes."""

    text = random_text(ascii_words, share * 2)

    def value(size: int) -> dict:
        return {"text": text[:size]}

    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if stored_bytes(json_properties("Value", value(middle), 2**30)) <= share:
            low = middle
        else:
            high = middle - 1
    return value(low)


async def test_a_record_with_the_largest_request_and_report_fits_one_entity(table):
    request = value_of_stored_size(MAX_REQUEST_BYTES)
    report = value_of_stored_size(MAX_REPORT_BYTES)
    store = NotificationStore(table)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    added = await store.add(Notification(Notification.new_id(), State.SENDING, request, now))
    await store.finish(added, report, now)

    stored = await store.get(added.id)
    assert (stored.request, stored.report) == (request, report)


async def test_a_large_record_is_still_written_in_one_request(azurite):
    sent: list[str] = []
    async with TableClient.from_connection_string(
        azurite.connection_string,
        table_name="w" + uuid.uuid4().hex[:16],
        raw_request_hook=lambda pipeline: sent.append(pipeline.http_request.method),
    ) as client:
        table = Table(client)
        await table.get("p", "r")  # creates the table
        store = NotificationStore(table)
        now = datetime(2026, 1, 1, tzinfo=timezone.utc)
        sent.clear()

        added = await store.add(
            Notification(Notification.new_id(), State.SENDING, VALUES["cjk"], now)
        )
        await store.finish(added, report_of(failures(5000)), now)

    assert sent == ["POST", "PUT"]  # one insert, one conditional replace: as before
