"""A reminder request the bot asked back about ("When should I remind you about …?"), waiting
for its answer.

The answer is free text, so it cannot be a question with choices (`prompts`); like those, the
question lives in Table Storage, one per conversation, so any instance reads the answer. It is
asked again once when the answer does not settle it, then dropped; after an hour the next
message is ordinary chat again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.storage.keys import InvalidKeyError, encode_key
from shared.storage.tables import Table, etag_of

PARTITION = "reminder-question"
EXPIRES_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Question:
    conversation: str  # channel id + conversation id, as `conversation_key` makes it
    trigger: str  # "remind me" as the user typed it, to read the answer with
    kept: str  # what was understood of the time ("on Friday"), read again with the answer
    task: str  # empty when the task is what was asked for
    asked_again: bool = False
    etag: str = ""


class ReminderQuestions:
    def __init__(self, table: Table, clock: Callable[[], datetime]) -> None:
        self._table = table
        self._clock = clock

    async def ask(self, question: Question) -> None:
        entity = {
            "PartitionKey": PARTITION,
            "RowKey": _row_key(question.conversation),
            "Trigger": question.trigger,
            "Kept": question.kept,
            "Task": question.task,
            "AskedAgain": question.asked_again,
            "AskedAt": self._clock(),
        }
        await self._table.upsert(entity)

    async def pending(self, conversation: str) -> Question | None:
        entity = await self._table.get(PARTITION, _row_key(conversation))
        if entity is None:
            return None
        question = Question(
            conversation=conversation,
            trigger=entity.get("Trigger", ""),
            kept=entity.get("Kept", ""),
            task=entity.get("Task", ""),
            asked_again=bool(entity.get("AskedAgain")),
            etag=etag_of(entity),
        )
        if self._clock() - entity["AskedAt"] > EXPIRES_AFTER:
            await self.close(question)
            return None
        return question

    async def close(self, question: Question) -> bool:
        """Drop it; False if another message's turn did so first (that one answered it)."""
        return await self._table.delete_if_unchanged(
            PARTITION, _row_key(question.conversation), question.etag
        )


def _row_key(conversation: str) -> str:
    try:
        return encode_key(conversation)
    except InvalidKeyError:
        return "sha256-" + hashlib.sha256(conversation.encode("utf-8", "surrogatepass")).hexdigest()
