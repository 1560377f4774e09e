"""What a card must be before it is sent: an Adaptive Card Teams renders, fully filled, small
enough for one message. Checked when the notification is asked for, so a bad card is a 400 and
nothing goes out."""

from __future__ import annotations

import json
import re
from typing import Any

from shared.cards.templates import CardError
from shared.cards.templating import unresolved

# Teams renders Adaptive Cards up to schema 1.5 (bots and messaging extensions).
MAX_VERSION = (1, 5)
# Teams refuses a message over about 28 KB (413 MessageSizeTooBig): text, cards and all.
MAX_MESSAGE_BYTES = 28 * 1024
_VERSION = re.compile(r"(\d+)\.(\d+)")


def check_card(card: Any) -> None:
    if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
        raise CardError('is not an Adaptive Card: its "type" must be "AdaptiveCard"')
    version = card.get("version")
    match = _VERSION.fullmatch(version) if isinstance(version, str) else None
    if match is None:
        raise CardError('needs a "version" such as "1.5"')
    if (int(match[1]), int(match[2])) > MAX_VERSION:
        raise CardError(
            f"is version {version}; Teams renders up to {'.'.join(map(str, MAX_VERSION))}"
        )
    left = unresolved(card)
    if left:
        raise CardError(f"leaves {left[0]} unresolved: the data has no value for it")


def check_message_size(activity: dict[str, Any]) -> None:
    size = len(json.dumps(activity, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > MAX_MESSAGE_BYTES:
        raise CardError(f"makes a message of {size} bytes; Teams takes at most {MAX_MESSAGE_BYTES}")
