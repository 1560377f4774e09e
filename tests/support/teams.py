"""A team the bot is installed in: its tenant, its General channel, and the stored conversation
the bot's arrival leaves behind."""

from __future__ import annotations

from datetime import datetime, timezone

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
