"""What is done to each target of a fan-out: a new message sent, or one sent earlier changed or
recalled. Fan-out owns the limits, retries and outcomes; an action owns the one channel call."""

from __future__ import annotations

from typing import Any, Protocol

from shared.channel.connector import BotConnector, Sent
from shared.delivery.outbound import OutboundMessage, ProactivePayloads
from shared.storage.references import StoredReference, post_thread_id


class ChannelAction(Protocol):
    async def perform(self, connector: BotConnector, target: StoredReference) -> Sent:
        """The one channel call for this target; raises ChannelError when refused."""
        ...


class SendMessage:
    """A new proactive message, addressed as continue_conversation would address it."""

    def __init__(self, message: OutboundMessage, notification_id: str = "") -> None:
        self._payloads = ProactivePayloads(message, notification_id)

    async def perform(self, connector: BotConnector, target: StoredReference) -> Sent:
        payload = self._payloads.for_reference(target.reference_json)
        sent = await connector.send(payload)
        thread = post_thread_id(
            str(payload.get("channelId") or ""), payload["conversation"], sent.activity_id
        )
        return Sent(sent.activity_id, sent.status, thread)


def sent_message_reference(
    channel_id: str, conversation_id: str, activity_id: str, service_url: str
) -> dict[str, Any]:
    """A ConversationReference (wire JSON) that names one sent message: its conversation (a
    channel post's thread) and its activity id are all an update or a recall addresses."""
    return {
        "activityId": activity_id,
        "channelId": channel_id,
        "conversation": {"id": conversation_id},
        "serviceUrl": service_url,
    }


class UpdateMessage:
    """Replace what a sent message shows (PUT .../activities/{activityId})."""

    def __init__(self, message: OutboundMessage) -> None:
        self._payloads = ProactivePayloads(message)

    async def perform(self, connector: BotConnector, target: StoredReference) -> Sent:
        reference = target.reference_json
        activity_id = reference["activityId"]
        conversation = reference["conversation"]
        activity = {
            **self._payloads.message_for(reference),
            "id": activity_id,
            "channelId": reference["channelId"],
            "conversation": conversation,
            "serviceUrl": reference["serviceUrl"],
        }
        await connector.update_activity(
            reference["serviceUrl"], conversation["id"], activity_id, activity
        )
        return Sent(activity_id, 200, conversation["id"])


class RecallMessage:
    """Delete a sent message (DELETE .../activities/{activityId})."""

    async def perform(self, connector: BotConnector, target: StoredReference) -> Sent:
        reference = target.reference_json
        activity_id = reference["activityId"]
        conversation_id = reference["conversation"]["id"]
        await connector.delete_activity(reference["serviceUrl"], conversation_id, activity_id)
        return Sent(activity_id, 200, conversation_id)


class PostInChannel:
    """A new thread in a Teams channel, opened by the message (POST /v3/conversations, isGroup):
    the channel need never have talked to the bot. The target's conversation is the channel
    (a team's General channel has the team's id); the result names the thread it started."""

    def __init__(self, message: OutboundMessage, notification_id: str = "") -> None:
        self._payloads = ProactivePayloads(message, notification_id)
        self._urgent = message.urgent

    async def perform(self, connector: BotConnector, target: StoredReference) -> Sent:
        activity = self._payloads.message_for(target.reference_json)
        if self._urgent:
            activity["channelData"] = {"notification": {"alert": True}}
        thread, activity_id = await connector.post_to_channel(
            target.service_url, target.conversation_id, target.tenant_id, activity
        )
        return Sent(activity_id, 200, thread)
