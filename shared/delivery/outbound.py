"""The proactive message itself, and how it is addressed to one stored conversation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botbuilder.schema import (
    ActionTypes,
    Activity,
    ActivityTypes,
    Attachment,
    CardAction,
    SuggestedActions,
)

from shared.storage.references import stored_conversation_id
from shared.teams import TEAMS

if TYPE_CHECKING:
    from shared.cards.templates import CardMessage

# Where TurnContext.apply_conversation_reference puts each part of a reference on an outgoing
# activity: from the bot, to the user, in the reference's conversation.
_ADDRESSING = (
    ("serviceUrl", "serviceUrl"),
    ("channelId", "channelId"),
    ("from", "bot"),
    ("conversation", "conversation"),
    ("recipient", "user"),
)


@dataclass(frozen=True)
class OutboundMessage:
    text: str | None = None
    attachments: tuple[dict, ...] = field(default_factory=tuple)
    # Answers offered as buttons (suggested actions); a click sends the choice back as text.
    choices: tuple[str, ...] = field(default_factory=tuple)
    # Raises a notification in the Teams activity feed (channelData.notification.alert).
    urgent: bool = False
    # An Adaptive Card from a template (instead of `attachments`); see shared.cards.
    card: CardMessage | None = None

    def to_activity(self) -> Activity:
        attachments = (
            [self.card.attachment_for(None)] if self.card is not None else self.attachments
        )
        return Activity(
            type=ActivityTypes.message,
            text=self.text,
            attachments=[Attachment().deserialize(a) for a in attachments] or None,
            suggested_actions=_suggested_actions(self.choices),
        )


def _suggested_actions(choices: tuple[str, ...]) -> SuggestedActions | None:
    if not choices:
        return None
    return SuggestedActions(
        actions=[CardAction(type=ActionTypes.im_back, title=c, value=c) for c in choices]
    )


def _teams_question(
    message_json: dict[str, Any], message: OutboundMessage, question_id: str
) -> dict[str, Any] | None:
    if not message.choices or not question_id:
        return None
    # Imported for questions only: most messages have no choices, and every cold start would pay.
    from shared.cards.questions import question_card
    from shared.cards.templates import ADAPTIVE_CARD

    card = question_card(message.text or "", message.choices, question_id)
    question = {k: v for k, v in message_json.items() if k not in ("text", "suggestedActions")}
    question["attachments"] = [
        *question.get("attachments", []),
        {"contentType": ADAPTIVE_CARD, "content": card},
    ]
    return question


class ProactivePayloads:
    """Wire JSON for one message sent to many conversations, as continue_conversation sends it.

    `continue_conversation` + `send_activity` copy the reference's serviceUrl, channelId,
    conversation, bot (as `from`) and user (as `recipient`) onto the activity, set `inputHint` to
    acceptingInput, and reply to the continuation event's fresh uuid1 id (`replyToId`). The
    message is serialized once; the stored reference is already serialize() JSON, so each target
    costs a dict merge instead of two msrest round trips. A test holds this to the SDK's output.
    """

    def __init__(self, message: OutboundMessage, question_id: str = "") -> None:
        activity = message.to_activity()
        activity.input_hint = "acceptingInput"
        self._message = activity.serialize()
        # In Teams a question is a card whose buttons name it (`question_id`, its notification).
        self._teams_question = _teams_question(self._message, message, question_id)
        self._urgent = message.urgent
        # A card that names its recipient is expanded for each; any other once, above.
        self._personal_card = message.card if message.card and message.card.personal else None

    def message_for(self, reference: dict[str, Any]) -> dict[str, Any]:
        """The message as this recipient sees it, unaddressed (wire JSON)."""
        if self._teams_question is not None and reference.get("channelId") == TEAMS:
            return dict(self._teams_question)
        message = dict(self._message)
        if self._personal_card is not None:
            message["attachments"] = [self._personal_card.attachment_for(reference)]
        return message

    def for_reference(self, reference: dict[str, Any]) -> dict[str, Any]:
        payload = self.message_for(reference)
        for activity_key, reference_key in _ADDRESSING:
            if reference_key in reference:
                payload[activity_key] = reference[reference_key]
        conversation = payload.get("conversation")
        if isinstance(conversation, dict) and isinstance(conversation.get("id"), str):
            # A channel's reference may come from any of its threads: the message is a new post
            # in the channel, not a reply in whichever thread last spoke to the bot.
            channel_post = stored_conversation_id(payload.get("channelId", ""), conversation["id"])
            if channel_post != conversation["id"]:
                payload["conversation"] = {**conversation, "id": channel_post}
        if self._urgent and payload.get("channelId") == TEAMS:
            # Teams' own alert; other channels would not know the field.
            payload["channelData"] = {"notification": {"alert": True}}
        payload["replyToId"] = str(uuid.uuid1())
        return payload
