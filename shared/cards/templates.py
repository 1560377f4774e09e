"""Card templates: JSON files in the app's `cards/` folder (deployed with it), or given inline,
with the data to fill them, and for each recipient the card it gets.

`${recipient.*}` in a template is the recipient's own: its name, ids and conversation, from the
stored reference. In a 1:1 chat the recipient is the person; in a channel or a group chat it is the
conversation (its name where the channel gave one, no person's ids), since the stored reference's
user is only whoever spoke there last. A template that uses it is expanded once per recipient; any
other once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from shared.cards.expressions import ExpressionError
from shared.cards.templating import expand
from shared.teams import CHANNEL, GROUP_CHAT

CARDS_FOLDER = Path(__file__).resolve().parents[2] / "cards"
CARD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # a file name, never a path
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
RECIPIENT = "recipient"  # the data key each recipient's own details are under
# What a recipient's details are, when the template is checked before anything is sent.
RECIPIENT_FIELDS = (
    "id",
    "name",
    "aadObjectId",
    "conversationId",
    "conversationType",
    "channelId",
    "tenantId",
)


class CardError(ValueError):
    """A card or template that cannot be sent; the message says why."""


@dataclass(frozen=True)
class CardMessage:
    """A template and its data; `card_for` gives the card a recipient sees."""

    template: dict[str, Any] = field(compare=False)
    data: dict[str, Any] = field(compare=False)
    personal: bool = False  # uses ${recipient...}: expanded per recipient

    def card_for(self, reference: dict[str, Any] | None) -> Any:
        """The expanded card for a recipient (its stored reference JSON), or for anyone."""
        recipient = recipient_of(reference) if reference is not None and self.personal else None
        try:
            return expand(self.template, {**self.data, RECIPIENT: recipient or EMPTY_RECIPIENT})
        except (ExpressionError, RecursionError) as error:
            raise CardError(f"the template cannot be expanded: {error}") from None

    def attachment_for(self, reference: dict[str, Any] | None) -> dict[str, Any]:
        return {"contentType": ADAPTIVE_CARD, "content": self.card_for(reference)}


EMPTY_RECIPIENT = dict.fromkeys(RECIPIENT_FIELDS, "")


def card_message(card: Any, data: Any) -> CardMessage:
    """The template named (a file in cards/) or given inline, with its data."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CardError("data must be an object")
    if RECIPIENT in data:
        raise CardError(f"data.{RECIPIENT} is the recipient's own: leave it out")
    template = named_template(card) if isinstance(card, str) else card
    if not isinstance(template, dict):
        raise CardError("card must be a template's name or an Adaptive Card template object")
    # A mention anywhere (even outside a binding) only costs an expansion per recipient.
    return CardMessage(template, data, personal=RECIPIENT in json.dumps(template))


def named_template(name: str) -> dict[str, Any]:
    if not CARD_NAME.fullmatch(name):
        raise CardError(f"no card template named {name!r}")
    template = _load(name)
    if template is None:
        raise CardError(f"no card template named {name!r} (cards/{name}.json)")
    return template


@cache
def _load(name: str) -> dict[str, Any] | None:
    # Read once per process: templates are deployed with the app and change only with it.
    path = CARDS_FOLDER / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def recipient_of(reference: dict[str, Any]) -> dict[str, str]:
    """A recipient's details as templates see them, from its stored reference: the person, or a
    shared conversation itself."""
    conversation = reference.get("conversation") or {}
    if _is_shared(conversation):
        # Its stored user is only whoever spoke there last: no person's fields.
        who: dict[str, Any] = {"name": conversation.get("name")}
    else:
        who = reference.get("user") or {}
    return {
        "id": str(who.get("id") or ""),
        "name": str(who.get("name") or ""),
        "aadObjectId": str(who.get("aadObjectId") or ""),
        "conversationId": str(conversation.get("id") or ""),
        "conversationType": str(conversation.get("conversationType") or ""),
        "channelId": str(reference.get("channelId") or ""),
        "tenantId": str(conversation.get("tenantId") or ""),
    }


def _is_shared(conversation: dict[str, Any]) -> bool:
    """A conversation of several people: a Teams channel or group chat, or any channel's group."""
    kind = conversation.get("conversationType")
    return kind in (CHANNEL, GROUP_CHAT) or conversation.get("isGroup") is True
