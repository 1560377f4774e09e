"""Faults: storage going away mid-life, channels that hang, drop connections or fail once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.data.tables.aio import TableClient

from devhost.azurite import Azurite, free_port
from shared.app import App
from testbed.activities import activity
from tests.support.functions import get_status, post_activity, post_notify
from tests.support.references import store_conversations


class FragileStorage:
    """An Azurite that keeps its data on disk, so it can be stopped and brought back."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self.port = free_port()
        self._azurite: Azurite | None = None

    def start(self) -> None:
        self._azurite = Azurite.table_only(self.port, self._folder).start()

    def stop(self) -> None:
        self._azurite.stop()

    @property
    def connection_string(self) -> str:
        return self._azurite.connection_string


@pytest.fixture
def fragile_storage(tmp_path: Path) -> Iterator[FragileStorage]:
    storage = FragileStorage(tmp_path / "azurite")
    storage.start()
    yield storage
    storage.stop()


@pytest.fixture
async def fragile_app(fragile_storage, app_with) -> App:
    return await app_with(AzureWebJobsStorage=fragile_storage.connection_string)


async def raw_rows(connection_string: str, table_name: str) -> dict[str, dict]:
    async with TableClient.from_connection_string(connection_string, table_name) as table:
        return {
            e["ConversationId"]: {**e, "_etag": e.metadata["etag"]}
            async for e in table.list_entities()
        }


async def test_while_storage_is_down_messages_get_503_and_nothing_is_half_written(
    fragile_app, fragile_storage, app_env, channel
):
    await post_activity(activity(channel.url, "conv-1"))
    before = await raw_rows(fragile_storage.connection_string, app_env["CONVERSATION_TABLE"])
    channel.reset()

    fragile_storage.stop()
    moved = activity(f"http://127.0.0.1:{channel.port}/emea/", "conv-1")
    changed = await post_activity(moved)
    new = await post_activity(activity(channel.url, "conv-2"))
    fragile_storage.start()

    assert (changed.status, new.status) == (503, 503)
    assert changed.body == {"error": "storage unavailable, retry later"}
    # No half-done turn: the channel's retry gets the one answer (typing may have shown).
    assert [r for r in channel.received if r.activity["type"] != "typing"] == []
    after = await raw_rows(fragile_storage.connection_string, app_env["CONVERSATION_TABLE"])
    assert after == before
    retried = await post_activity(activity(channel.url, "conv-2"))
    assert retried.status == 200
    assert await fragile_app.store.get("msteams", "conv-2") is not None


async def test_every_storage_unavailable_answer_says_when_to_retry(
    fragile_app, fragile_storage, channel
):
    fragile_storage.stop()
    answers = {
        "messages": await post_activity(activity(channel.url, "conv-1")),
        "notify": await post_notify({"text": "during outage"}),
        "status": await get_status("0" * 32),
    }
    fragile_storage.start()

    assert {name: a.status for name, a in answers.items()} == dict.fromkeys(answers, 503)
    assert {name: a.headers.get("Retry-After") for name, a in answers.items()} == dict.fromkeys(
        answers, "5"
    )


async def test_while_storage_is_down_notify_gets_503_and_a_retry_sends_once(
    fragile_app, fragile_storage, channel
):
    await store_conversations(fragile_app, channel.url, ["conv-a", "conv-b"])
    key = {"Idempotency-Key": "outage-1"}

    fragile_storage.stop()
    plain = await post_notify({"text": "during outage"})
    keyed = await post_notify({"text": "during outage"}, key)
    fragile_storage.start()

    assert (plain.status, keyed.status) == (503, 503)
    assert "storage unavailable" in keyed.body["error"]
    assert channel.received == []
    retried = await post_notify({"text": "during outage"}, key)
    again = await post_notify({"text": "during outage"}, key)
    assert retried.body["sent"] == 2
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert sorted(r.conversation_id for r in channel.received) == ["conv-a", "conv-b"]


async def test_channel_faults_each_end_in_one_reported_outcome_and_nothing_is_lost(
    app_with, channel
):
    app = await app_with(NOTIFY_SEND_TIMEOUT_SECONDS=1, NOTIFY_MAX_ATTEMPTS=2)
    await store_conversations(app, channel.url, ["fine", "hangs", "drops-once", "fails-once"])
    channel.answer("hangs", 200, delay_seconds=3)
    channel.answer("drops-once", 200, reset=True, times=1)
    channel.answer("fails-once", 500, "InternalServerError", times=1)

    first = await post_notify({"text": "first"})
    second = await post_notify({"text": "second"}, {})

    body = first.body
    assert (body["matched"], body["sent"], body["failed"], body["removed"]) == (4, 2, 2, 0)
    failures = {f["conversationId"]: f for f in body["failures"]}
    assert set(failures) == {"hangs", "fails-once"}
    assert failures["hangs"]["status"] is None
    assert "attempts: 2" in failures["hangs"]["error"]
    assert failures["fails-once"]["status"] == 500
    assert len(channel.received_by("drops-once")) == 3  # dropped, retried, then the second notify
    # Nothing lost: every reference is still there, and the one that failed once gets the next.
    assert second.body["matched"] == 4
    assert "fails-once" not in {f["conversationId"] for f in second.body["failures"]}
