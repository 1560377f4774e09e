"""Talk to the bot as a user would, through the messages function, and hear what it says back."""

from __future__ import annotations

from testbed.activities import activity
from testbed.channel_stub import ChannelStub
from tests.support.functions import post_activity

ADAPTIVE = "application/vnd.microsoft.card.adaptive"


async def say(channel: ChannelStub, text: str, conversation: str = "conv-1", **extra) -> list[str]:
    """Send a message as the user; return the bot's message replies (typing left out)."""
    channel.reset()
    response = await post_activity(activity(channel.url, conversation, text=text, **extra))
    assert response.status == 200
    return [r.activity["text"] for r in channel.received if r.activity["type"] == "message"]


def shown(message: dict) -> str:
    """What a delivered message says: its text, or in Teams its question card's first line."""
    for attachment in message.get("attachments") or []:
        if attachment["contentType"] == ADAPTIVE:
            return attachment["content"]["body"][0]["text"]
    return message["text"]
