"""A team the bot is installed in: its tenant, its General channel, the stored conversation the
bot's arrival leaves behind, and Teams' installationUpdate events as its docs show them."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from botbuilder.schema import Activity

from shared.app import App
from shared.storage.references import StoredReference
from testbed.activities import BOT_ID, activity

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TEAM = "19:team0123@thread.tacv2"  # also its General channel's id


async def install_in_team(app: App, channel, team_id: str = TEAM) -> None:
    """The team's General conversation stored, as the bot's arrival in the team stores it."""
    arrival = activity(
        channel.url,
        team_id,
        type="conversationUpdate",
        conversation_type="channel",
        tenant_id=TENANT,
        membersAdded=[{"id": BOT_ID}],
        channelData={"team": {"id": team_id}, "tenant": {"id": TENANT}},
    )
    inbound = Activity().deserialize(arrival)
    await app.store.save(StoredReference.from_activity(inbound, datetime.now(timezone.utc)))


def installation_update(
    service_url: str,
    action: str,
    *,
    conversation: str,
    user: str,
    tenant: str = TENANT,
    team: str | None = None,
) -> dict[str, Any]:
    """The installationUpdate example of the Teams docs: in a team (the conversation is the
    channel chosen at install), or, without `team`, in a person's 1:1."""
    event: dict[str, Any] = {
        "type": "installationUpdate",
        "id": "f:816eb23d-bfa1-afa3-dfeb-d2aa338e9541",
        "timestamp": "2021-11-09T04:47:30.91Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": user, "aadObjectId": "eddfa9d4-346e-4cce-a18f-fa6261ad776b"},
        "recipient": {"id": BOT_ID, "name": "Test Bot"},
        "locale": "en-US",
        "action": action,
    }
    if team is None:
        event["conversation"] = {
            "conversationType": "personal",
            "tenantId": tenant,
            "id": conversation,
        }
        event["channelData"] = {"tenant": {"id": tenant}, "source": {"name": "message"}}
        return event
    event["entities"] = [{"type": "clientInfo", "locale": "en-US"}]
    event["conversation"] = {
        "isGroup": True,
        "id": conversation,
        "name": "2021 Test Channel",
        "conversationType": "channel",
        "tenantId": tenant,
    }
    event["channelData"] = {
        "settings": {"selectedChannel": {"id": conversation}},
        "channel": {"id": conversation},
        "team": {"aadGroupId": "da849743-4259-475f-ae7a-4f4b0fb49943", "id": team},
        "tenant": {"id": tenant},
        "source": {"name": "message"},
    }
    return event
