"""The reminder conversation: set, list and cancel reminders from chat, in the user's language,
and ask back instead of guessing.

A request the bot cannot place in time ("remind me on Friday to submit the report": at what
time?) gets a question, and the next message is read as its answer, together with what was
understood before ("on Friday" + "at 3pm"). Answers are in the activity's locale where there is a
translation (`languages/`), English otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from types import ModuleType
from typing import TYPE_CHECKING

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes

from shared.cards.questions import answered_card
from shared.chat.reminders.book import (
    REMINDER,
    SNOOZE,
    ReminderBook,
    describe,
    describe_rule,
    reminder_text,
    user_timezone,
)
from shared.chat.reminders.questions import Question, ReminderQuestions
from shared.notifications.prompt_store import Answer, PendingPrompt, PromptStore
from shared.storage.keys import conversation_key
from shared.storage.references import activity_conversation_id

if TYPE_CHECKING:
    from shared.chat.reminders.language import Language
    from shared.chat.reminders.phrases import Asks, Understood


def _phrases() -> ModuleType:
    """The request reader and its six languages, imported by the first message that reaches the
    dialog (≈ 20 ms): the functions that never chat (notify, timer, queue) don't pay for it."""
    from shared.chat.reminders import phrases

    return phrases


class ReminderDialog:
    def __init__(
        self,
        book: ReminderBook,
        questions: ReminderQuestions,
        prompts: PromptStore,
        clock: Callable[[], datetime],
    ) -> None:
        self._book = book
        self._questions = questions
        self._prompts = prompts
        self._clock = clock

    async def answer_reminder(
        self, turn_context: TurnContext, pending: PendingPrompt, text: str
    ) -> bool:
        """ "Done" / "Snooze 10 minutes" typed (or sent by the card's fallback button) after a
        delivered reminder; False when the pending question is not a reminder's or `text` is
        neither."""
        choice = pending.match(text)
        line = None if choice is None else await self._settle(turn_context, pending, choice)
        if line is None:
            return False
        if line:
            await turn_context.send_activity(line)
        return True

    async def answer_click(
        self, turn_context: TurnContext, notification_id: str, choice: str
    ) -> dict | None:
        """A reminder card's button (a Universal Action): the card to show in its place, or None
        when the click is not for the reminder awaiting an answer here."""
        activity = turn_context.activity
        pending = await self._prompts.pending(
            activity.channel_id, activity_conversation_id(activity)
        )
        if pending is None or pending.notification_id != notification_id:
            return None
        matched = pending.match(choice)
        line = None if matched is None else await self._settle(turn_context, pending, matched)
        if line is None:
            return None
        return answered_card(pending.question, line)

    async def _settle(
        self, turn_context: TurnContext, pending: PendingPrompt, choice: str
    ) -> str | None:
        """Record `choice` as the reminder's answer and act on it: snooze stores it again ten
        minutes from now, done ends it (a series goes on). What to say; "" if it was answered
        already; None if the pending question is not a reminder's."""
        reminder = await self._book.get(pending.notification_id)
        if reminder is None or reminder.kind != REMINDER:
            return None
        activity = turn_context.activity
        answer = Answer.given_by(activity, choice, self._clock())
        if not await self._prompts.record_answer(pending, answer):
            return ""  # another message or click answered it first
        words = _phrases().language_for(activity.locale)
        task = reminder_text(reminder)
        if choice != pending.choices[-1]:  # "Done" (snooze is the last choice: see _store)
            return words.answers["done_ack"].format(task=task)
        now, zone = self._clock(), user_timezone(activity)
        due = now + SNOOZE
        request = reminder.request
        await self._book.add(activity, due, request["text"], now, tuple(request.get("choices", ())))
        return words.say("snoozed", task, when=describe(due, zone, now, words))

    async def handle(self, turn_context: TurnContext, text: str) -> bool:
        """Answer a reminder command or the answer to a question we asked; False otherwise."""
        activity = turn_context.activity
        phrases = _phrases()
        words = phrases.language_for(activity.locale)
        command = phrases.list_or_cancel(text)
        if isinstance(command, phrases.ListReminders):
            await turn_context.send_activity(await self._list(activity, words))
            return True
        if isinstance(command, phrases.CancelReminder):
            await turn_context.send_activity(await self._cancel(activity, command.number, words))
            return True
        found = phrases.find_trigger(text, activity.locale)
        if found is not None:
            language, trigger, rest = found
            await self._set(turn_context, language, trigger, rest, previous=None)
            return True
        question = await self._questions.pending(_conversation(activity))
        if question is None:
            return False
        if not await self._questions.close(question):
            return True  # another message answered it meanwhile
        language, trigger, _ = phrases.find_trigger(question.trigger, None) or (words, "", "")
        request = f"{question.kept} {text} {question.task}"
        await self._set(turn_context, language, trigger, request, previous=question)
        return True

    async def drop_all(self, activity: Activity) -> int:
        """On unsubscribe: the conversation's pending reminders are cancelled (nothing would
        reach it any more); how many there were."""
        return await self._book.cancel_all(activity)

    async def _set(
        self,
        turn_context: TurnContext,
        language: Language,
        trigger: str,
        request: str,
        previous: Question | None,
    ) -> None:
        # The long-task pattern: show typing at once, store the work, answer when it is done.
        await turn_context.send_activity(Activity(type=ActivityTypes.typing))
        activity = turn_context.activity
        phrases = _phrases()
        words = phrases.language_for(activity.locale)
        now, zone = self._clock(), user_timezone(activity)
        understood = phrases.read_request(language, request, now, zone)
        if isinstance(understood, phrases.Asks):
            await turn_context.send_activity(
                await self._ask(activity, trigger, understood, words, previous)
            )
            return
        await turn_context.send_activity(await self._store(activity, understood, words, now, zone))

    async def _ask(
        self,
        activity: Activity,
        trigger: str,
        asks: Asks,
        words: Language,
        previous: Question | None,
    ) -> str:
        """Ask when (or what); asked twice already, say how instead of asking a third time."""
        if previous is not None and previous.asked_again:
            return words.answers["help"]
        # An answer that named no time is no part of the task it answered about.
        task = previous.task if previous is not None and previous.task else asks.task
        question = Question(
            _conversation(activity), trigger, asks.kept, task, asked_again=previous is not None
        )
        await self._questions.ask(question)
        if not task:
            return words.answers["ask_what"]
        return words.say("ask_when", task)

    async def _store(
        self,
        activity: Activity,
        understood: Understood,
        words: Language,
        now: datetime,
        zone: tzinfo,
    ) -> str:
        answers = words.answers
        text = answers["reminder"].format(task=understood.task)
        choices = (answers["done"], answers["snooze"])  # snooze last: `_settle` tells them apart
        if isinstance(understood, _phrases().Recurring):
            await self._book.add(
                activity, understood.first, text, now, choices, understood.rule, zone
            )
            return words.say(
                "set_series",
                understood.task,
                rule=describe_rule(understood.rule, words),
                when=describe(understood.first, zone, now, words),
            )
        await self._book.add(activity, understood.due, text, now, choices)
        return words.say("set", understood.task, when=describe(understood.due, zone, now, words))

    async def _list(self, activity: Activity, words: Language) -> str:
        pending = await self._book.pending(activity)
        answers = words.answers
        if not pending:
            return f"{answers['none']} {answers['help']}"
        now, zone = self._clock(), user_timezone(activity)
        lines = [
            f"{number}. {reminder_text(n)}, "
            + (f"{describe_rule(n.rule, words)}, " if n.rule else "")
            + describe(n.send_at, zone, now, words)
            for number, n in enumerate(pending, start=1)
        ]
        return answers["list"] + "\n\n" + "\n\n".join(lines)

    async def _cancel(self, activity: Activity, number: int, words: Language) -> str:
        cancelled = await self._book.cancel(activity, number)
        if cancelled is None:
            return words.answers["no_such"].format(number=number)
        return words.answers["cancelled"].format(number=number, task=reminder_text(cancelled))


def _conversation(activity: Activity) -> str:
    return conversation_key(activity.channel_id, activity_conversation_id(activity))
