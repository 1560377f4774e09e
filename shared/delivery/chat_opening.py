"""Opening a 1:1 conversation with a member of a team the bot is installed in.

Teams lets a bot installed in a team message each member privately, even one who never talked to
it: `POST /v3/conversations` with the member gives the personal conversation's id (the same one
every time for the same user). The call counts against the same limits as a send, so it goes
through the fan-out like one: a member is a target whose action opens the chat, and the outcome's
`sent_in` is the conversation opened. Its reference is then built as the SDK builds one, so it is
stored and sent to like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

from shared.channel.connector import BotConnector, Sent
from shared.delivery.outcomes import Outcome, TargetResult
from shared.storage.personal_chats import PersonalChatIndex
from shared.storage.reference_store import ReferenceStore
from shared.storage.references import StoredReference
from shared.teams import PERSONAL, TEAMS, member_ids


def member_target(team: StoredReference, member: Mapping[str, Any]) -> StoredReference:
    """A team member as a fan-out target for OpenPersonalChat: the team's serviceUrl, bot and
    tenant, and the member's ids. Never stored: it names no conversation yet."""
    user_id = str(member["id"])
    return StoredReference(
        reference_json={
            "serviceUrl": team.service_url,
            "channelId": TEAMS,
            "bot": team.reference_json.get("bot") or {},
            "user": _account(member).serialize(),
        },
        channel_id=TEAMS,
        conversation_id=user_id,
        user_id=user_id,
        tenant_id=team.tenant_id,
        conversation_type=PERSONAL,
        service_url=team.service_url,
    )


class OpenPersonalChat:
    """The fan-out action that opens (or gets back) a member's 1:1 conversation with the bot."""

    async def perform(self, connector: BotConnector, target: StoredReference) -> Sent:
        conversation_id = await connector.create_personal_conversation(
            target.service_url, target.reference_json["bot"], target.user_id, target.tenant_id
        )
        return Sent("", 200, conversation_id)


class ChatKeeper:
    """Stores a person's 1:1 conversation with the bot, as the SDK builds its reference, and
    indexes it under the person's ids: one opened for a team member, or one opened again after
    Teams answered 404 for the one stored."""

    def __init__(
        self, store: ReferenceStore, chats: PersonalChatIndex, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._chats = chats
        self._clock = clock

    async def keep(self, target: StoredReference, conversation_id: str) -> None:
        """Store the opened conversation's reference, unless one is stored already (the member
        talked to the bot: that reference, as the member's own message gave it, is kept), and
        index it under the member's ids."""
        if await self._store.get(TEAMS, conversation_id) is None:
            await self._store.save(personal_reference(target, conversation_id, self._clock()))
        await self._index(target, conversation_id)

    async def move(self, old: StoredReference, conversation_id: str) -> StoredReference:
        """Teams opened another 1:1 for the person whose stored one it no longer found: the new
        one is stored and indexed, and the old one deleted (else both would be sent to)."""
        moved = personal_reference(old, conversation_id, self._clock())
        await self._store.save(moved)
        await self._index(old, conversation_id)
        await self._store.delete(old.channel_id, old.conversation_id)
        return moved

    async def _index(self, target: StoredReference, conversation_id: str) -> None:
        await self._chats.remember(
            target.tenant_id,
            member_ids(target.reference_json.get("user") or {}),
            conversation_id,
            target.service_url,
        )


def opened(result: TargetResult) -> bool:
    """Whether the chat was opened: a conversation id came back."""
    return result.outcome is Outcome.SENT and bool(result.sent_in)


def personal_reference(
    member_target: StoredReference, conversation_id: str, seen_at: datetime
) -> StoredReference:
    """The reference of the member's opened 1:1 conversation: a real ConversationReference, as a
    message from the member would have given it (bot, user, conversation, channel, serviceUrl)."""
    target = member_target.reference_json
    reference = ConversationReference(
        bot=ChannelAccount().deserialize(target["bot"]),
        user=ChannelAccount().deserialize(target["user"]),
        conversation=ConversationAccount(
            id=conversation_id,
            conversation_type=PERSONAL,
            tenant_id=member_target.tenant_id or None,
        ),
        channel_id=TEAMS,
        service_url=member_target.service_url,
    )
    return StoredReference(
        reference_json=reference.serialize(),
        channel_id=TEAMS,
        conversation_id=conversation_id,
        user_id=member_target.user_id,
        tenant_id=member_target.tenant_id,
        conversation_type=PERSONAL,
        service_url=member_target.service_url,
        last_seen=seen_at,
    )


def _account(member: Mapping[str, Any]) -> ChannelAccount:
    aad = member.get("aadObjectId") or member.get("objectId")
    return ChannelAccount(
        id=str(member["id"]),
        name=member.get("name") if isinstance(member.get("name"), str) else None,
        aad_object_id=aad if isinstance(aad, str) else None,
    )
