"""Questions as Adaptive Cards: one button per choice, and the card once it is answered.

Teams shows suggested actions only in personal chats, and they vanish after a reply; a card's
buttons work in every conversation and stay. Each button is a Universal Action (`Action.Execute`,
verb "answer"), which Teams sends to the bot as an `adaptiveCard/action` invoke; where a client
lacks Universal Actions its fallback, `Action.Submit`, sends the same data as a message. The
bot answers the invoke with the card as answered: the choice shown, the buttons gone. An invoke
this bot does not own gets the Universal Actions error answer (`application/vnd.microsoft.error`),
as BotBuilder's ActivityHandler answers one it cannot read:
https://learn.microsoft.com/en-us/adaptive-cards/authoring-cards/universal-action-model
"""

from __future__ import annotations

from typing import Any

from shared.cards.templates import ADAPTIVE_CARD

ANSWER_VERB = "answer"
INVOKE_NAME = "adaptiveCard/action"  # the invoke an Action.Execute click arrives as
CARD_VERSION = "1.5"
ERROR = "application/vnd.microsoft.error"  # the type of a Universal Actions error answer
NOT_SUPPORTED = "NotSupported"  # the error code of a verb the bot does not own
# The id of an answered card's question block: the other blocks say what became of it.
QUESTION_BLOCK = "question"


def question_card(question: str, choices: tuple[str, ...], notification_id: str) -> dict:
    return {
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": [{"type": "TextBlock", "text": question, "wrap": True}],
        "actions": [_button(choice, notification_id) for choice in choices],
    }


def _button(choice: str, notification_id: str) -> dict[str, Any]:
    data = {"notification": notification_id, "choice": choice}
    return {
        "type": "Action.Execute",
        "title": choice,
        "verb": ANSWER_VERB,
        "data": data,
        "fallback": {"type": "Action.Submit", "title": choice, "data": data},
    }


def answered_card(question: str, line: str, note: str = "") -> dict:
    """The question with what became of it (`line`) instead of its buttons, and a `note` below.
    A part that is not known ("") is left out: an empty TextBlock reads as a broken card."""
    blocks = [
        {"type": "TextBlock", "id": QUESTION_BLOCK, "text": question, "wrap": True},
        {"type": "TextBlock", "text": line, "wrap": True, "weight": "Bolder"},
        {"type": "TextBlock", "text": note, "wrap": True, "isSubtle": True},
    ]
    return {
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": [block for block in blocks if block["text"]],
    }


def card_answer(card: dict) -> dict[str, Any]:
    """An invoke's answer that replaces the clicked card with `card`."""
    return {"statusCode": 200, "type": ADAPTIVE_CARD, "value": card}


class ActionRefused(Exception):
    """An adaptiveCard/action invoke this bot does not answer: `answer` is the Universal Actions
    error to reply with, a 400 (also the invoke's HTTP status, as BotBuilder answers it)."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.answer = {
            "statusCode": self.status,
            "type": ERROR,
            "value": {"code": code, "message": message},
        }


def executed_answer(value: Any) -> tuple[str, str]:
    """(notification id, choice) from an adaptiveCard/action invoke's value; ActionRefused for
    an action that is not one of our buttons (NotSupported) or is one without its data
    (BadRequest)."""
    action = value.get("action") if isinstance(value, dict) else None
    if not isinstance(action, dict):
        raise ActionRefused("BadRequest", "The invoke's value has no action.")
    verb = action.get("verb")
    if verb != ANSWER_VERB:
        raise ActionRefused(NOT_SUPPORTED, f"The verb {verb!r:.100} is not supported by this bot.")
    clicked = clicked_answer(value)
    if clicked is None:
        raise ActionRefused("BadRequest", "The answer does not name its notification and choice.")
    return clicked


def clicked_answer(value: Any) -> tuple[str, str] | None:
    """(notification id, choice) from an invoke's value (Action.Execute) or a message's value
    (the Action.Submit fallback); None if it is not one of our buttons."""
    if not isinstance(value, dict):
        return None
    action = value.get("action")
    if isinstance(action, dict):
        if action.get("verb") != ANSWER_VERB:
            return None
        value = action.get("data")
        if not isinstance(value, dict):
            return None
    notification_id, choice = value.get("notification"), value.get("choice")
    if isinstance(notification_id, str) and isinstance(choice, str):
        return notification_id, choice
    return None
