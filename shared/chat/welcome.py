"""The greeting a conversation gets when the app is installed there (WELCOME_TEXT), said once per
install.

Teams tells of one install more than once: a personal install sends an installationUpdate (add)
and a conversationUpdate with the bot among membersAdded, nearly together and perhaps to two
instances, and the channel sends an event again when its first try went unanswered. Whoever
inserts the conversation's row in the Notifications table first says it; the others find the row
there. Removing the bot or uninstalling the app deletes the row, so the next install is greeted
again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime

from botbuilder.core import TurnContext

from shared.storage.keys import InvalidKeyError, conversation_key, encode_key
from shared.storage.references import activity_conversation_id
from shared.storage.tables import RowExistsError, Table

logger = logging.getLogger(__name__)

PARTITION = "welcomed"


class Welcome:
    def __init__(self, text: str, table: Table, clock: Callable[[], datetime]) -> None:
        self._text = text
        self._table = table
        self._clock = clock

    async def greet_once(self, turn_context: TurnContext) -> None:
        """Say the greeting here unless this install has had it (or there is none to say)."""
        if not self._text:
            return
        activity = turn_context.activity
        row = _row_key(activity.channel_id, activity_conversation_id(activity))
        try:
            await self._table.insert(
                {"PartitionKey": PARTITION, "RowKey": row, "GreetedAt": self._clock()}
            )
        except RowExistsError:
            return
        try:
            await turn_context.send_activity(self._text)
        except Exception:
            # Not said: the channel's next try of this event, or the install's other one, says it.
            await self._table.delete(PARTITION, row)
            raise
        logger.info("Welcomed %s/%s", activity.channel_id, activity_conversation_id(activity))

    async def forget(self, channel_id: str, conversation_id: str) -> None:
        """The app left the conversation: its next install is greeted again."""
        await self._table.delete(PARTITION, _row_key(channel_id, conversation_id))


def _row_key(channel_id: str, conversation_id: str) -> str:
    conversation = conversation_key(channel_id, conversation_id)
    try:
        return encode_key(conversation)
    except InvalidKeyError:
        return "sha256-" + hashlib.sha256(conversation.encode("utf-8", "surrogatepass")).hexdigest()
