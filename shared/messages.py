"""The proactive message itself, and how it is addressed to one stored conversation."""

from __future__ import annotations

from dataclasses import dataclass, field

from botbuilder.core import TurnContext
from botbuilder.core.conversation_reference_extension import get_continuation_activity
from botbuilder.schema import Activity, ActivityTypes, Attachment, ConversationReference


@dataclass(frozen=True)
class OutboundMessage:
    text: str | None = None
    attachments: tuple[dict, ...] = field(default_factory=tuple)

    def to_activity(self) -> Activity:
        return Activity(
            type=ActivityTypes.message,
            text=self.text,
            attachments=[Attachment().deserialize(a) for a in self.attachments] or None,
        )


def address_proactive(activity: Activity, reference: ConversationReference) -> Activity:
    """Address `activity` exactly as `continue_conversation` + `send_activity` would.

    The SDK wraps the reference in a continuation event with a fresh id, and the turn's replies
    carry that id as `replyToId`; doing the same keeps what the channel receives identical.
    """
    continuation = get_continuation_activity(reference)
    turn_reference = TurnContext.get_conversation_reference(continuation)
    addressed = TurnContext.apply_conversation_reference(activity, turn_reference)
    addressed.input_hint = addressed.input_hint or "acceptingInput"
    addressed.id = None
    return addressed
