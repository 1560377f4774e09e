"""Dialog-aware proactive messages: a question sent with choices, and the replies it gets.

When a prompt reaches a conversation, the conversation is marked as awaiting a reply. Its next
message that matches a choice (ignoring case) is recorded as the answer to that notification;
one that matches nothing gets the question once more, and after that the conversation goes back
to normal. Everything lives in Table Storage: any instance may get the reply.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.delivery.outbound import OutboundMessage
from shared.notifications.notification_store import Notification
from shared.notifications.reply_text import normalized
from shared.storage.keys import InvalidKeyError, conversation_key, encode_key
from shared.storage.references import StoredReference, activity_conversation_id
from shared.storage.tables import RowExistsError, Table, etag_of

if TYPE_CHECKING:
    from botbuilder.schema import Activity

AWAITING = "awaiting-reply"


@dataclass(frozen=True)
class PendingPrompt:
    conversation: str
    notification_id: str
    question: str
    choices: tuple[str, ...]
    reprompted: bool
    etag: str

    def match(self, reply: str) -> str | None:
        wanted = normalized(reply)
        return next((c for c in self.choices if normalized(c) == wanted), None)


@dataclass(frozen=True)
class Answer:
    conversation_id: str
    channel_id: str
    user_id: str
    choice: str
    answered_at: datetime

    @classmethod
    def given_by(cls, activity: Activity, choice: str, at: datetime) -> Answer:
        """The answer an activity gives (a reply, a card's button): its conversation, its sender."""
        return cls(
            conversation_id=activity_conversation_id(activity),
            channel_id=activity.channel_id,
            user_id=activity.from_property.id,
            choice=choice,
            answered_at=at,
        )


class PromptStore:
    def __init__(
        self, table: Table, clock: Callable[[], datetime], expires_after: timedelta
    ) -> None:
        self._table = table
        self._clock = clock
        # A question nobody answered stops catching replies after this: days later, "yes"
        # means something else.
        self._expires_after = expires_after

    async def await_reply(
        self, target: StoredReference, notification_id: str, question: str, choices: tuple[str, ...]
    ) -> None:
        """The prompt reached `target`: its next message answers this notification."""
        conversation = conversation_key(target.channel_id, target.conversation_id)
        entity = {
            "PartitionKey": AWAITING,
            "RowKey": _row_key(conversation),
            "Conversation": conversation,
            "NotificationId": notification_id,
            "Question": question,
            "Choices": json.dumps(list(choices)),
            "Reprompted": False,
            "AskedAt": self._clock(),
        }
        # A newer prompt to the same conversation takes over: replies answer the latest.
        await self._table.upsert(entity)

    def after_send(
        self, notification_id: str, message: OutboundMessage
    ) -> Callable[[StoredReference], Awaitable[None]] | None:
        """What runs after each successful send of `message`: for a question, await the reply."""
        if not message.choices:
            return None

        async def await_reply(target: StoredReference) -> None:
            await self.await_reply(target, notification_id, message.text or "", message.choices)

        return await_reply

    async def pending(self, channel_id: str, conversation_id: str) -> PendingPrompt | None:
        conversation = conversation_key(channel_id, conversation_id)
        entity = await self._table.get(AWAITING, _row_key(conversation))
        if entity is None:
            return None
        prompt = PendingPrompt(
            conversation=conversation,
            notification_id=entity["NotificationId"],
            question=entity.get("Question", ""),
            choices=tuple(json.loads(entity["Choices"])),
            reprompted=bool(entity.get("Reprompted")),
            etag=etag_of(entity),
        )
        asked_at = entity.get("AskedAt")
        if asked_at is not None and self._clock() - asked_at > self._expires_after:
            await self.close(prompt)
            return None
        return prompt

    async def record_answer(
        self, prompt: PendingPrompt, answer: Answer, per_user: bool = False
    ) -> bool:
        """Record the first answer from this conversation (`per_user`: from this user in it, as
        in group chats and channels, where the question stays open for the others); False if
        it had answered already."""
        entity = {
            "PartitionKey": _answers_partition(prompt.notification_id),
            "RowKey": _answerer_key(prompt.conversation, answer.user_id, per_user),
            "ConversationId": answer.conversation_id,
            "ChannelId": answer.channel_id,
            "UserId": answer.user_id,
            "Choice": answer.choice,
            "AnsweredAt": answer.answered_at,
        }
        try:
            await self._table.insert(entity)
        except RowExistsError:
            return False
        if not per_user:
            await self.close(prompt)
        return True

    async def given_answer(
        self, notification_id: str, activity: Activity, per_user: bool
    ) -> Answer | None:
        """The answer recorded for `notification_id` from the activity's conversation (with
        `per_user`, from its sender), or None; None too for an id no notification can have."""
        if not Notification.is_id(notification_id):
            return None
        conversation = conversation_key(activity.channel_id, activity_conversation_id(activity))
        row_key = _answerer_key(conversation, activity.from_property.id, per_user)
        entity = await self._table.get(_answers_partition(notification_id), row_key)
        if entity is None:
            return None
        return Answer(
            conversation_id=entity["ConversationId"],
            channel_id=entity["ChannelId"],
            user_id=entity.get("UserId", ""),
            choice=entity["Choice"],
            answered_at=entity["AnsweredAt"],
        )

    async def mark_reprompted(self, prompt: PendingPrompt) -> bool:
        """Note the re-prompt; False if another reply got there first."""
        entity = {
            "PartitionKey": AWAITING,
            "RowKey": _row_key(prompt.conversation),
            "Reprompted": True,
        }
        etag = await self._table.update_if_unchanged(entity, prompt.etag, merge=True)
        return etag is not None

    async def close(self, prompt: PendingPrompt) -> None:
        await self._table.delete_if_unchanged(AWAITING, _row_key(prompt.conversation), prompt.etag)

    async def answers(self, notification_id: str) -> list[Answer]:
        query = "PartitionKey eq @partition"
        parameters = {"partition": _answers_partition(notification_id)}
        return [
            Answer(
                conversation_id=e["ConversationId"],
                channel_id=e["ChannelId"],
                user_id=e.get("UserId", ""),
                choice=e["Choice"],
                answered_at=e["AnsweredAt"],
            )
            async for e in self._table.query(query, parameters=parameters)
        ]


def _row_key(conversation: str) -> str:
    """The conversation's key, or for ids too long for one (up to 512 characters each), a
    digest: a conversation any channel can talk in can be asked a question."""
    try:
        return encode_key(conversation)
    except InvalidKeyError:
        return "sha256-" + hashlib.sha256(conversation.encode("utf-8", "surrogatepass")).hexdigest()


def _answerer_key(conversation: str, user_id: str, per_user: bool) -> str:
    """Who answers once: the conversation, or (`per_user`) each person in it."""
    return _row_key(f"{conversation}\n{user_id}" if per_user else conversation)


def _answers_partition(notification_id: str) -> str:
    return f"answers-{notification_id}"


def answer_summary(answers: list[Answer], choices: list[str]) -> dict[str, Any]:
    tally = {choice: 0 for choice in choices}
    for answer in answers:
        tally[answer.choice] = tally.get(answer.choice, 0) + 1
    # "counts" is the delivery's; the answers have their own tally.
    listed = [
        {"conversationId": a.conversation_id, "userId": a.user_id, "choice": a.choice}
        for a in sorted(answers, key=lambda a: a.answered_at)
    ]
    return {"answers": listed, "answerCounts": tally}
