"""A stored conversation reference: the exact `ConversationReference` plus the ids we filter by."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference

from shared.storage.keys import decode_key, encode_key
from shared.storage.tables import MAX_STRING_PROPERTY_CHARS
from shared.teams import CHANNEL, TEAMS, THREAD_SUFFIX


def stored_conversation_id(channel_id: str, conversation_id: str) -> str:
    """The audience member a conversation belongs to: a Teams channel thread is its channel (a
    reply in a thread is that channel talking), anything else is itself."""
    if channel_id == TEAMS:
        return conversation_id.split(THREAD_SUFFIX, 1)[0]
    return conversation_id


def post_thread_id(channel_id: str, conversation: dict[str, Any], activity_id: str) -> str:
    """The conversation a message sent to `conversation` (wire JSON) lives in: a new post in a
    Teams channel starts a thread named after the channel and the post's own activity id."""
    conversation_id = str(conversation.get("id") or "")
    if (
        channel_id == TEAMS
        and conversation.get("conversationType") == CHANNEL
        and THREAD_SUFFIX not in conversation_id
        and activity_id
    ):
        return f"{conversation_id}{THREAD_SUFFIX}{activity_id}"
    return conversation_id


def activity_conversation_id(activity: Activity) -> str:
    """The audience member an incoming activity's conversation is (see stored_conversation_id)."""
    return stored_conversation_id(activity.channel_id or "", activity.conversation.id or "")


@dataclass(frozen=True)
class Unreachable:
    """A conversation the channel answered 404 "not found" for: since when, and how many sends in
    a row. Stored as one short string ("<ISO time>|<count>"): fan-outs read it on every row, and a
    string costs nothing to read when it is empty."""

    since: datetime
    failures: int

    @classmethod
    def parse(cls, text: str) -> Unreachable | None:
        since, _, failures = text.partition("|")
        try:
            return cls(datetime.fromisoformat(since), int(failures))
        except ValueError:
            return None

    def __str__(self) -> str:
        return f"{self.since.isoformat()}|{self.failures}"

    def again(self) -> Unreachable:
        return Unreachable(self.since, self.failures + 1)


class InvalidReferenceError(ValueError):
    """The activity's conversation reference cannot be stored (too large for one property)."""


@dataclass(frozen=True)
class StoredReference:
    """`reference_json` is the exact `ConversationReference.serialize()` output, kept as such.

    `conversation_id` is the audience member's id: a Teams channel's, for a message in any of its
    threads (whose own id stays in the reference).

    Sending needs only that JSON (it is already in wire form); `reference` gives the SDK object
    for code that wants one, built on first use.
    """

    reference_json: dict[str, Any]
    channel_id: str
    conversation_id: str
    user_id: str
    tenant_id: str
    conversation_type: str
    service_url: str
    last_seen: datetime | None = None
    # Why sends to it are held back (Teams' BotDisabledByAdmin), or "". Never written by a save:
    # the conversation talking to the bot again lifts it.
    suspended: str = ""
    # Since when, and how many sends in a row, the channel has not found the conversation (404):
    # see Unreachable. Never written by a save either: the conversation talking again lifts it.
    unreachable: Unreachable | None = None
    # The Teams team a channel (or the team's own conversation) belongs to: channelData.team.id,
    # which the reference itself does not keep. A deleted team's references are found by it.
    team_id: str = ""

    @cached_property
    def reference(self) -> ConversationReference:
        return ConversationReference().deserialize(self.reference_json)

    @classmethod
    def from_activity(cls, activity: Activity, seen_at: datetime) -> StoredReference:
        reference = TurnContext.get_conversation_reference(activity)
        conversation = activity.conversation
        return cls(
            reference_json=reference.serialize(),
            channel_id=activity.channel_id or "",
            conversation_id=activity_conversation_id(activity),
            user_id=getattr(activity.from_property, "id", None) or "",
            tenant_id=_tenant_id(activity),
            conversation_type=conversation.conversation_type or "",
            service_url=activity.service_url or "",
            last_seen=seen_at,
            team_id=_team_id(activity),
        )

    @property
    def partition_key(self) -> str:
        return encode_key(self.channel_id)

    @property
    def row_key(self) -> str:
        return encode_key(self.conversation_id)

    def to_entity(self) -> dict[str, Any]:
        # serialize() JSON, untouched: loading it back gives the reference the SDK produced.
        reference_json = json.dumps(self.reference_json, separators=(",", ":"))
        if len(reference_json) > MAX_STRING_PROPERTY_CHARS:
            raise InvalidReferenceError(
                f"conversation reference is {len(reference_json)} characters; the limit is "
                f"{MAX_STRING_PROPERTY_CHARS}"
            )
        return {
            "PartitionKey": self.partition_key,
            "RowKey": self.row_key,
            "Reference": reference_json,
            "ChannelId": self.channel_id,
            "ConversationId": self.conversation_id,
            "UserId": self.user_id,
            "TenantId": self.tenant_id,
            "ConversationType": self.conversation_type,
            "ServiceUrl": self.service_url,
            "LastSeen": self.last_seen,
            "TeamId": self.team_id,
        }

    @classmethod
    def from_entity(cls, entity: dict[str, Any]) -> StoredReference:
        reference = json.loads(entity["Reference"])
        if not isinstance(reference, dict):
            raise ValueError("Reference is not a JSON object")
        return cls(
            reference_json=reference,
            channel_id=entity.get("ChannelId") or decode_key(entity["PartitionKey"]),
            conversation_id=entity.get("ConversationId") or decode_key(entity["RowKey"]),
            user_id=entity.get("UserId", ""),
            tenant_id=entity.get("TenantId", ""),
            conversation_type=entity.get("ConversationType", ""),
            service_url=entity.get("ServiceUrl") or reference.get("serviceUrl") or "",
            last_seen=entity.get("LastSeen"),
            suspended=entity.get("Suspended") or "",
            unreachable=Unreachable.parse(entity.get("Unreachable") or ""),
            team_id=entity.get("TeamId") or "",
        )


def _team_id(activity: Activity) -> str:
    channel_data = activity.channel_data
    if activity.channel_id != TEAMS or not isinstance(channel_data, dict):
        return ""
    team = channel_data.get("team")
    team_id = team.get("id") if isinstance(team, dict) else None
    return team_id if isinstance(team_id, str) else ""


def _tenant_id(activity: Activity) -> str:
    # The Python schema maps tenant_id to "tenantID", so Teams' "conversation.tenantId" lands in
    # additional_properties; channelData.tenant.id is Teams' other copy of the same id.
    conversation = activity.conversation
    tenant = conversation.tenant_id or (conversation.additional_properties or {}).get("tenantId")
    if not tenant and isinstance(activity.channel_data, dict):
        channel_tenant = activity.channel_data.get("tenant")
        if isinstance(channel_tenant, dict):
            tenant = channel_tenant.get("id")
    return tenant if isinstance(tenant, str) else ""
