"""Which 1:1 conversation each Teams user has with the bot, by the user's `29:` id or aadObjectId.

Reaching a team's members one to one needs each member's personal conversation. Its reference is
stored under the conversation's id (`a:...`), which a roster does not give: this index answers it
with one point read per member instead of a scan of every reference for the user. One row per
(tenant, user id), and one per (tenant, aadObjectId), both naming the same conversation; and the
same rows again under no tenant, for `to.userIds`, which names people, not tenants (a `29:` id or
an object id belongs to one tenant). A row is a pointer only: the reference it names may have been
deleted since ("stop", or the user blocked the bot), and then the member is not written to again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.storage.keys import encode_key
from shared.storage.recent_writes import RecentWrites
from shared.storage.tables import Table, storage_errors

# Point reads in flight at once: a roster page of 500 members is looked up in a few round trips'
# time without flooding the account.
READS_AT_ONCE = 32
# The partition of the rows under no tenant: no tenant's key can be it (keys are URL-safe base64).
ANY_TENANT = "*"


class PersonalChat(NamedTuple):
    member_id: str  # the user's `29:` id, whichever id the row is found by
    conversation_id: str


class PersonalChatIndex:
    def __init__(self, table: Table, recent_writes: RecentWrites | None = None) -> None:
        self._table = table
        # The bot indexes every 1:1 it stores, on every message that changes its reference:
        # what this process wrote lately is not written again, and a burst of messages from one
        # chat writes once, not once each (the others wait for that write).
        self._recent_writes = recent_writes or RecentWrites()
        self._writing: dict[tuple[str, ...], asyncio.Lock] = {}

    async def find(self, tenant_id: str, user_ids: Iterable[str]) -> dict[str, str]:
        """The known 1:1 conversation id of each of these users (`29:` ids or aadObjectIds) in
        the tenant; users without one are left out."""
        return {
            u: chat.conversation_id for u, chat in (await self.lookup(tenant_id, user_ids)).items()
        }

    async def lookup(self, tenant_id: str, user_ids: Iterable[str]) -> dict[str, PersonalChat]:
        """What the index knows of each of these users in the tenant: their `29:` id and 1:1
        conversation id."""
        return await self._read(encode_key(tenant_id), user_ids)

    async def lookup_anywhere(self, user_ids: Iterable[str]) -> dict[str, PersonalChat]:
        """`lookup` in whichever tenant each user is in (for chats indexed by this version on)."""
        return await self._read(ANY_TENANT, user_ids)

    async def _read(self, partition: str, user_ids: Iterable[str]) -> dict[str, PersonalChat]:
        table = await self._table._client_ready()
        slots = asyncio.Semaphore(READS_AT_ONCE)
        found: dict[str, PersonalChat] = {}

        async def read(user_id: str) -> None:
            async with slots:
                with storage_errors():
                    try:
                        row = await table.get_entity(
                            partition, encode_key(user_id), select=["ConversationId", "MemberId"]
                        )
                    except ResourceNotFoundError:
                        return
            if row.get("ConversationId"):
                found[user_id] = PersonalChat(row.get("MemberId") or "", row["ConversationId"])

        await asyncio.gather(*(read(u) for u in set(user_ids) if u))
        return found

    async def remember(
        self, tenant_id: str, user_ids: Sequence[str], conversation_id: str, service_url: str
    ) -> None:
        """Record the user's 1:1 conversation under each of their ids, the `29:` id first (the
        same conversation for the same user every time: a write repeated changes nothing)."""
        key = (tenant_id, *user_ids)
        lock = self._writing.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                if self._recent_writes.etag_if_current(key, conversation_id) is None:
                    await self._write(tenant_id, user_ids, conversation_id, service_url)
                    self._recent_writes.remember(key, conversation_id, "")
        finally:
            if not lock.locked():
                self._writing.pop(key, None)

    async def _write(
        self, tenant_id: str, user_ids: Sequence[str], conversation_id: str, service_url: str
    ) -> None:
        table = await self._table._client_ready()
        rows = [
            {
                "PartitionKey": partition,
                "RowKey": encode_key(user_id),
                "UserId": user_id,
                "MemberId": user_ids[0],
                "TenantId": tenant_id,
                "ConversationId": conversation_id,
                "ServiceUrl": service_url,
            }
            for partition in (encode_key(tenant_id), ANY_TENANT)
            for user_id in dict.fromkeys(user_ids)
            if user_id
        ]
        if not rows:
            return
        # Upserts side by side, not transactions: as quick, and Azurite (make run's, the tests')
        # drops connections under a burst of transactions, failing the chat turn.
        with storage_errors():
            await asyncio.gather(
                *(table.upsert_entity(row, mode=UpdateMode.REPLACE) for row in rows)
            )
