"""Work items: small, parsed strictly, and the reference reads they rely on."""

from __future__ import annotations

import json

import pytest

from shared.notifications.outcome_store import TARGETS_PER_CHUNK
from shared.sending.work_items import (
    ChunkItem,
    ExpandItem,
    MalformedItemError,
    chunk_items,
    parse_work_item,
    spread_by_tenant,
)
from shared.storage.audience import Audience
from shared.storage.keys import encode_key
from shared.storage.queues import MAX_MESSAGE_JSON_BYTES
from tests.support.references import store_conversations


@pytest.mark.parametrize(
    "item",
    [
        ExpandItem("n1"),
        ExpandItem("n1", page=3, continuation={"NextPartitionKey": "a", "NextRowKey": "b"}),
        ChunkItem("n1", "3-0", "bXN0ZWFtcw", ("YTox", "YToy")),
    ],
)
def test_a_work_item_survives_the_round_trip_through_json(item):
    assert parse_work_item(json.loads(json.dumps(item.to_json()))) == item


@pytest.mark.parametrize(
    "payload",
    [None, [], {}, {"kind": "expand"}, {"kind": "nope", "notification": "n1"},
     {"kind": "chunk", "notification": "n1", "chunk": "0-0", "partitionKey": "p", "rowKeys": [1]},
     {"kind": "expand", "notification": "n1", "page": "x"}],
)  # fmt: skip
def test_anything_else_is_a_malformed_item(payload):
    with pytest.raises(MalformedItemError):
        parse_work_item(payload)


def test_chunks_keep_to_one_partition_and_the_chunk_size():
    keys = [("p1", f"r{i}") for i in range(TARGETS_PER_CHUNK + 50)] + [("p2", "r0")]

    chunks = list(chunk_items("n1", 7, keys))

    assert [len(c.row_keys) for c in chunks] == [TARGETS_PER_CHUNK, 50, 1]
    assert [c.chunk.rsplit("-", 1)[0] for c in chunks] == ["7-0", "7-1", "7-2"]
    assert [c.partition_key for c in chunks] == ["p1", "p1", "p2"]
    assert [k for c in chunks for k in c.row_keys] == [k for _, k in keys]


def test_a_chunk_is_named_by_its_place_and_its_keys():
    keys = [("p1", f"r{i}") for i in range(5)]

    again = list(chunk_items("n1", 0, keys))
    shifted = list(chunk_items("n1", 0, keys[1:]))

    assert list(chunk_items("n1", 0, keys)) == again
    assert shifted[0].chunk != again[0].chunk


def test_a_chunk_of_the_longest_keys_still_fits_one_queue_message():
    longest = "x" * 512
    keys = [(longest, f"{i:03d}" + longest[3:]) for i in range(TARGETS_PER_CHUNK)]

    chunks = list(chunk_items("f" * 32, 99999, keys))

    assert len(chunks) > 1
    assert max(len(json.dumps(c.to_json())) for c in chunks) <= MAX_MESSAGE_JSON_BYTES


async def test_pages_of_keys_cover_the_audience_exactly_once(app, channel):
    ids = [f"conv-{i:04d}" for i in range(2500)]
    await store_conversations(app, channel.url, ids[:1200], tenant_id="t1")
    await store_conversations(app, channel.url, ids[1200:], tenant_id="t2")

    keys, continuation, pages = [], None, 0
    while True:
        page, continuation = await app.store.find_page(
            Audience(tenant_ids=frozenset({"t2"})), continuation
        )
        keys += page
        pages += 1
        if continuation is None:
            break

    assert pages == 2  # 1,300 rows match on the server: 1,000 and 300
    assert sorted((k.partition_key, k.row_key) for k in keys) == sorted(
        ("bXN0ZWFtcw", encode_key(i)) for i in ids[1200:]
    )
    assert {k.tenant_id for k in keys} == {"t2"}


async def test_get_many_reads_back_the_references_that_still_exist(app, channel):
    await store_conversations(app, channel.url, ["a", "b", "c", "d"])
    await app.store.delete("msteams", "c")

    found = await app.store.get_many(encode_key("msteams"), [encode_key(c) for c in "bcd"])

    assert sorted(r.conversation_id for r in found) == ["b", "d"]


def test_chunks_go_on_the_queue_round_robin_over_the_tenants_they_start_with():
    keys = [
        ("p", f"{tenant}{n}")
        for tenant, count in (("a", 3), ("b", 2), ("c", 1))
        for n in range(count)
    ]
    chunks = [ChunkItem("n1", str(i), "p", (row,)) for i, (_, row) in enumerate(keys)]
    tenant_of = {("p", row): row[0] for _, row in keys}

    spread = spread_by_tenant(chunks, tenant_of)

    assert [c.row_keys[0] for c in spread] == ["a0", "b0", "c0", "a1", "b1", "a2"]
