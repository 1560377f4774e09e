"""Questions as Adaptive Cards: one button per choice, and the card once it is answered.

Teams shows suggested actions only in personal chats, and they vanish after a reply; a card's
buttons work in every conversation and stay. Each button is a Universal Action (`Action.Execute`,
verb "answer"), which Teams sends to the bot as an `adaptiveCard/action` invoke; where a client
lacks Universal Actions its fallback, `Action.Submit`, sends the same data as a message. The
bot answers the invoke with the card as answered: the choice shown, the buttons gone.
"""

from __future__ import annotations

from typing import Any

from shared.cards.templates import ADAPTIVE_CARD

ANSWER_VERB = "answer"
INVOKE_NAME = "adaptiveCard/action"  # the invoke an Action.Execute click arrives as
CARD_VERSION = "1.5"


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


def answered_card(question: str, line: str) -> dict:
    """The question with what became of it (`line`) instead of its buttons."""
    return {
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": [
            {"type": "TextBlock", "text": question, "wrap": True},
            {"type": "TextBlock", "text": line, "wrap": True, "weight": "Bolder"},
        ],
    }


def card_answer(card: dict) -> dict[str, Any]:
    """An invoke's answer that replaces the clicked card with `card`."""
    return {"statusCode": 200, "type": ADAPTIVE_CARD, "value": card}


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
