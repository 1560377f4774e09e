"""Hundreds of bad requests at both HTTP functions: each a 4xx JSON error or a harmless 200."""

from __future__ import annotations

from collections import Counter

from azure.data.tables.aio import TableClient

from testbed.activities import activity
from tests.support.functions import post_activity, post_notify
from tests.support.hostile import corpus

CASES = corpus()


async def snapshot(env: dict[str, str]) -> list[dict]:
    """Every stored entity with its ETag and Timestamp: any write at all changes it."""
    async with TableClient.from_connection_string(
        env["AzureWebJobsStorage"], env["CONVERSATION_TABLE"]
    ) as table:
        rows = [{**e, "_etag": e.metadata["etag"]} async for e in table.list_entities()]
    return sorted(rows, key=lambda e: (e["PartitionKey"], e["RowKey"]))


def test_the_corpus_is_large_and_covers_both_functions():
    by_function = Counter(case.function for case in CASES)

    assert len(CASES) >= 150
    assert by_function["messages"] >= 100
    assert by_function["notify"] >= 50


async def test_every_bad_request_is_turned_away_and_stored_data_is_untouched(app, app_env, channel):
    for conversation in ("keep-1", "keep-2", "keep/3#?"):
        assert (await post_activity(activity(channel.url, conversation))).status == 200
    channel.reset()
    before = await snapshot(app_env)

    outcomes = []
    for case in CASES:
        post = post_activity if case.function == "messages" else post_notify
        response = await post(case.body, case.headers)
        outcomes.append((case, response))

    print("statuses:", sorted(Counter((c.function, r.status) for c, r in outcomes).items()))
    server_errors = [(c.name, r.status) for c, r in outcomes if r.status >= 500]
    assert server_errors == []
    not_json_errors = [
        c.name
        for c, r in outcomes
        if 400 <= r.status < 500 and not (isinstance(r.body, dict) and r.body.get("error"))
    ]
    assert not_json_errors == []
    unexpected = [
        (c.name, r.status) for c, r in outcomes if r.status not in (200, 400, 401, 413, 415)
    ]
    assert unexpected == []
    not_declared_json = [
        (c.name, r.status) for c, r in outcomes if c.name.startswith("content-type/")
    ]
    assert {status for _, status in not_declared_json} == {415}
    accepted_notifies = [c.name for c, r in outcomes if c.function == "notify" and r.status == 200]
    assert accepted_notifies == []
    assert channel.received == []
    assert await snapshot(app_env) == before
    assert len(before) == 3
