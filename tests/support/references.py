"""Conversation references put straight into the app's store, and read back from it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime, timezone

from botbuilder.schema import Activity

from shared.app import App
from shared.storage.audience import Audience
from shared.storage.references import StoredReference
from testbed.activities import activity


def reference(
    service_url: str, conversation_id: str, tenant_id: str = "tenant-1"
) -> StoredReference:
    inbound = Activity().deserialize(activity(service_url, conversation_id, tenant_id=tenant_id))
    return StoredReference.from_activity(inbound, seen_at=datetime.now(timezone.utc))


async def store_conversations(
    app: App, service_url: str, ids: Iterable[str], tenant_id: str = "tenant-1"
) -> None:
    slots = asyncio.Semaphore(16)

    async def save(conversation_id):
        async with slots:
            await app.store.save(reference(service_url, conversation_id, tenant_id))

    await asyncio.gather(*(save(c) for c in ids))


async def stored_references(app: App) -> list[StoredReference]:
    return [stored async for stored in app.store.find(Audience())]
