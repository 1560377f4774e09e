"""Teams lifecycle events as Teams sends them: their names in one place, read from the payload.

Names are compared lower-cased. The Teams docs' own example for a restored team sends
`"eventType": "teamrestored"` and their samples compare the installation action with `"Add"`,
while botbuilder matches `teamRestored` and `add` exactly; Teams is what we answer to.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity

from shared.teams import PERSONAL, TEAMS

# conversationUpdate channelData.eventType. Archiving is not here: an archived team comes back
# with teamUnarchived, which names only the team, so forgetting its channels' references on
# archiving would lose them for good.
TEAM_GONE = frozenset({"teamdeleted", "teamharddeleted"})
TEAM_BACK = frozenset({"teamrestored", "teamunarchived"})
CHANNEL_DELETED = "channeldeleted"

# installationUpdate action; "-upgrade" when an app update adds or drops the bot.
INSTALLED = frozenset({"add", "add-upgrade"})
UNINSTALLED = frozenset({"remove", "remove-upgrade"})
# An install itself, which is greeted, not an update of one that is already there.
NEW_INSTALL = "add"


def event_type(activity: Activity) -> str:
    """A Teams conversationUpdate's channelData.eventType, lower-cased; "" if it has none."""
    return _lowered(_channel_data(activity).get("eventType"))


def installation_action(activity: Activity) -> str:
    return _lowered(activity.action)


def in_personal_scope(activity: Activity) -> bool:
    """Whether the activity comes from a user's 1:1 chat with the bot."""
    conversation_type = getattr(activity.conversation, "conversation_type", None)
    return activity.channel_id == TEAMS and _lowered(conversation_type) == PERSONAL


def team_id(activity: Activity) -> str | None:
    """channelData.team.id: the team, whose id is also its General channel's."""
    return _id_of(_channel_data(activity).get("team"))


def teams_channel_id(activity: Activity) -> str | None:
    """channelData.channel.id: the channel an event is about (conversation.id is the team's)."""
    return _id_of(_channel_data(activity).get("channel"))


def _channel_data(activity: Activity) -> dict[str, Any]:
    channel_data = activity.channel_data
    if activity.channel_id == TEAMS and isinstance(channel_data, dict):
        return channel_data
    return {}


def _id_of(part: object) -> str | None:
    value = part.get("id") if isinstance(part, dict) else None
    return value if isinstance(value, str) and value else None


def _lowered(value: object) -> str:
    return value.lower() if isinstance(value, str) else ""
