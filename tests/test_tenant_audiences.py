"""A `to.tenantIds` audience reads its tenants' references from the tenant index, every tenant
side by side, and never the other tenants' rows; references stored before the index are copied
by the timer, and until then the audience is read as before, nobody missed."""

from __future__ import annotations

import json
from collections import Counter
from contextlib import suppress

import pytest
from azure.core.exceptions import ResourceExistsError
from azure.data.tables.aio import TableClient
from azure.storage.queue import TextBase64DecodePolicy
from azure.storage.queue.aio import QueueClient

import shared.storage.tenant_index
from devhost.azurite import Azurite, connection_string
from shared.app import App
from shared.storage.keys import decode_key
from shared.storage.tables import StorageUnavailableError
from testbed.counting_proxy import CountingProxy
from tests.support.functions import all_targets, get_status, post_notify, run_timer
from tests.support.references import reference, store_conversations
from tests.support.work_queue import run_queued_work


@pytest.fixture
async def tenant_app(app_with, azurite: Azurite, table_proxy: CountingProxy) -> App:
    """A queue-path app (inline up to 10 targets, no rate limit, no timer broadcast) whose
    tables are reached through the counting proxy."""
    storage = connection_string({"table": table_proxy.port, "queue": azurite.ports["queue"]})
    return await app_with(
        AzureWebJobsStorage=storage,
        NOTIFY_INLINE_MAX_TARGETS="10",
        NOTIFY_MAX_RPS_PER_TENANT="0",
        NOTIFY_TIMER_TEXT="",
    )


def conversations(tenant: str, count: int) -> list[str]:
    return [f"{tenant}-conv-{n:04d}" for n in range(count)]


async def store_before_the_index(app: App, app_env, channel, ids: list[str], tenant: str) -> None:
    """References as an earlier version of the app stored them: rows of the references table
    only, without copies in the tenant index."""
    async with TableClient.from_connection_string(
        app_env["AzureWebJobsStorage"], app.settings.conversation_table
    ) as table:
        with suppress(ResourceExistsError):
            await table.create_table()
        for start in range(0, len(ids), 100):
            await table.submit_transaction(
                [
                    ("upsert", reference(channel.url, c, tenant).to_entity())
                    for c in ids[start : start + 100]
                ]
            )


async def notify_tenants(app: App, tenants: list[str]) -> str:
    accepted = await post_notify({"text": "for some tenants", "to": {"tenantIds": tenants}})
    assert accepted.status == 202
    return accepted.body["id"]


def delivered(channel) -> Counter:
    return Counter(r.conversation_id for r in channel.received if r.status == 200)


async def test_a_tenant_audience_reads_its_tenants_from_the_index_and_no_other_rows(
    tenant_app, table_proxy, channel
):
    wanted = conversations("tenant-a", 30) + conversations("tenant-b", 30)
    await store_conversations(tenant_app, channel.url, wanted[:30], tenant_id="tenant-a")
    await store_conversations(tenant_app, channel.url, wanted[30:], tenant_id="tenant-b")
    await store_conversations(
        tenant_app, channel.url, conversations("tenant-other", 200), tenant_id="tenant-other"
    )
    await run_timer()  # the index learns it has every reference (saves wrote their copies)
    table_proxy.reset()

    notification_id = await notify_tenants(tenant_app, ["tenant-a", "tenant-b"])
    await run_queued_work(tenant_app)

    assert delivered(channel) == Counter(wanted)  # each once, nobody else
    # Not a single request to the references table: no row of tenant-other was read.
    tables = Counter(f.resource for f in table_proxy.forwarded)
    assert tables[tenant_app.settings.conversation_table] == 0
    assert tables[tenant_app.settings.tenant_index_table] > 0
    status = (await get_status(notification_id)).body
    assert (status["state"], status["counts"]["matched"], status["counts"]["sent"]) == (
        "done",
        60,
        60,
    )


async def test_the_first_window_has_a_chunk_of_every_tenant(tenant_app, channel):
    tenants = [f"tenant-{n}" for n in range(6)]
    for tenant in tenants:
        await store_conversations(tenant_app, channel.url, conversations(tenant, 250), tenant)
    await run_timer()

    await notify_tenants(tenant_app, tenants)

    queue = QueueClient.from_connection_string(
        tenant_app.settings.storage_connection_string,
        tenant_app.settings.notify_queue,
        message_decode_policy=TextBase64DecodePolicy(),
    )
    async with queue:
        items = [json.loads(m.content) for m in await queue.peek_messages(max_messages=32)]
    chunks = [item for item in items if item["kind"] == "chunk"]
    chunk_tenants = [decode_key(c["partitionKey"].split(".")[0]) for c in chunks]
    assert sorted(chunk_tenants) == tenants  # one full chunk of each, none waits for another
    assert [item["kind"] for item in items].count("expand") == 1  # the rest is split next


async def test_references_stored_before_the_index_are_reached_while_and_after_it_is_built(
    tenant_app, app_env, table_proxy, channel, monkeypatch
):
    monkeypatch.setattr(shared.storage.tenant_index, "PAGES_PER_BUILD", 1)
    old = conversations("tenant-a", 1200) + conversations("tenant-b", 600)
    await store_before_the_index(tenant_app, app_env, channel, old[:1200], "tenant-a")
    await store_before_the_index(tenant_app, app_env, channel, old[1200:], "tenant-b")
    await store_before_the_index(
        tenant_app, app_env, channel, conversations("tenant-c", 300), "tenant-c"
    )

    await run_timer()  # one page of 2,100 copied: the index is not complete
    await notify_tenants(tenant_app, ["tenant-a", "tenant-b"])
    await run_queued_work(tenant_app, timeout=120)
    assert delivered(channel) == Counter(old)  # read from the references table, as before

    await run_timer()
    await run_timer()  # the third page: every reference has its copy
    channel.reset()
    table_proxy.reset()
    notification_id = await notify_tenants(tenant_app, ["tenant-a", "tenant-b"])
    await run_queued_work(tenant_app, timeout=120)

    assert delivered(channel) == Counter(old)
    tables = Counter(f.resource for f in table_proxy.forwarded)
    assert tables[tenant_app.settings.conversation_table] == 0
    targets = await all_targets(notification_id)
    assert sorted(t["conversationId"] for t in targets) == sorted(old)


async def test_every_change_to_a_reference_reaches_its_copy(tenant_app, channel):
    await store_conversations(tenant_app, channel.url, conversations("tenant-a", 20), "tenant-a")
    await run_timer()
    gone, held = "tenant-a-conv-0003", "tenant-a-conv-0007"
    await tenant_app.store.delete("msteams", gone)
    await tenant_app.store.suspend(reference(channel.url, held, "tenant-a"), "BotDisabledByAdmin")
    await store_conversations(tenant_app, channel.url, ["tenant-a-new"], "tenant-a")

    notification_id = await notify_tenants(tenant_app, ["tenant-a"])
    await run_queued_work(tenant_app)

    expected = set(conversations("tenant-a", 20)) - {gone, held} | {"tenant-a-new"}
    assert delivered(channel) == Counter(expected)
    outcomes = {t["conversationId"]: t["outcome"] for t in await all_targets(notification_id)}
    assert outcomes[held] == "suspended"
    assert gone not in outcomes


async def test_a_reference_whose_deletion_was_under_way_is_not_copied_back(
    tenant_app, app_env, table_proxy, channel
):
    ids = conversations("tenant-a", 20)
    await store_before_the_index(tenant_app, app_env, channel, ids, "tenant-a")
    leaving = ids[5]
    # Its deletion is logged, then storage fails it before the rows go: the row stays, the
    # index building copies it, and the log says it was on its way out.
    table_proxy.fail(tenant_app.settings.conversation_table, drop="", seconds=60)
    with pytest.raises(StorageUnavailableError):
        await tenant_app.store.delete("msteams", leaving)
    table_proxy.reset()

    await run_timer()
    notification_id = await notify_tenants(tenant_app, ["tenant-a"])
    await run_queued_work(tenant_app)

    assert delivered(channel) == Counter(set(ids) - {leaving})
    assert leaving not in {t["conversationId"] for t in await all_targets(notification_id)}
