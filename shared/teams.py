"""Microsoft Teams' own words, in one place: the channel id, conversation types, thread and user
ids as Teams writes them. Every layer that treats Teams differently takes them from here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

TEAMS = "msteams"  # the Bot Framework channel id of Microsoft Teams
# Teams' conversation types: a 1:1 chat with the bot, a team's channel, a group chat.
PERSONAL = "personal"
CHANNEL = "channel"
GROUP_CHAT = "groupChat"
# `to.teamChannels`: a team's General channel (whose id is the team's own), or every channel.
GENERAL = "general"
ALL_CHANNELS = "all"
CHANNEL_CHOICES = (GENERAL, ALL_CHANNELS)
# A channel message names its thread after the channel: "19:…@thread.tacv2;messageid=…".
THREAD_SUFFIX = ";messageid="
_USER_ID = re.compile(r"29:[^\s/]+")


def member_ids(member: Mapping[str, Any]) -> tuple[str, ...]:
    """A roster member's ids: the `29:` id, and the Entra object id when the roster gives it
    (pagedmembers names it aadObjectId, older rosters objectId)."""
    ids = (member.get("id"), member.get("aadObjectId") or member.get("objectId"))
    return tuple(i for i in ids if isinstance(i, str) and i)


def is_member_id(user_id: str) -> bool:
    """A Teams user's `29:` id or an Entra object id (a GUID): the ids a team member has."""
    if _USER_ID.fullmatch(user_id):
        return True
    try:
        uuid.UUID(user_id)
    except ValueError:
        return False
    return True


# How Graph names the 1:1 chat between a person and the bot (a chat id, where Bot Framework
# activities name the same chat "a:..."): the conversation an app installed for them opens.
INSTALLED_CHAT_SUFFIX = "@unq.gbl.spaces"


def is_installed_chat(conversation_id: str) -> bool:
    return conversation_id.startswith("19:") and conversation_id.endswith(INSTALLED_CHAT_SUFFIX)
