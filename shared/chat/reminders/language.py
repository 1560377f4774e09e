"""What the bot knows of one language for reminders: its words, its clock, and its answers.

Each language is one module, `languages/<code>`, holding one `Language`: every string the
bot reads or writes in that language is there and nowhere else. The recognizer (dateparser) finds
days and durations; these patterns cover what it misses or misreads (clock times, parts of the
day, durations, "every day") and what is ours alone (the trigger, the task, the answers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field


def one_of(words: Iterable[str]) -> str:
    """A pattern for any of `words`, longest first ("einer halben" before "einer"), each space
    standing for any run of them."""
    ordered = sorted(words, key=len, reverse=True)
    return "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in ordered)


@dataclass(frozen=True)
class DayPart:
    """Words that place a clock time in a part of the day ("in the evening", "de la mañana",
    "tonight"): `hours` are the hours (0-23) a time in it can have. A group named `part` is all
    that is cut from the request ("tomorrow [morning]": the day is the recognizer's)."""

    pattern: str
    hours: range
    today: bool = False  # "tonight", "this morning": today's, never another day's


@dataclass(frozen=True)
class Language:
    code: str  # dateparser's language code, and the locale prefix it answers
    # "remind me": at the start (after politeness words) or, where the language puts it
    # elsewhere (Chinese, Korean), anywhere.
    triggers: tuple[str, ...]
    trigger_anywhere: bool = False
    # A trigger in two parts around the request: ("kannst du mich", "erinnern").
    framed_triggers: tuple[tuple[str, str], ...] = ()
    spaced: bool = True  # words between spaces (not Chinese)
    # "at 9" is 09:00 or 21:00, whichever comes next; where people say "20h" for the evening
    # (French), 9 is 09:00.
    twelve_hour: bool = True
    # Politeness before the trigger ("could you", "please"), or at the start of the request where
    # the trigger goes anywhere ("请"): regular expressions, in the order people put them.
    polite: tuple[str, ...] = ()
    # A clock time: named groups hour, minute (optional), half (optional, "half past"),
    # half_to (optional, German "halb 8": 7:30), meridiem (optional; a key of `meridiems`).
    # Tried in order, first match wins.
    clocks: tuple[str, ...] = ()
    meridiems: dict[str, range] = field(default_factory=dict)  # "pm" -> the hours it means
    day_parts: tuple[DayPart, ...] = ()
    # The clock time 12:00 / 00:00 said as a word; beside a clock time, they place it instead.
    noon: tuple[str, ...] = ()
    midnight: tuple[str, ...] = ()
    # Durations we read ourselves: groups amount (digits or a key of `amounts`), unit (a key of
    # `units`), half (optional, "and a half"), more (optional, minutes: "1h30").
    durations: tuple[str, ...] = ()
    units: dict[str, float] = field(default_factory=dict)  # unit word -> minutes
    amounts: dict[str, float] = field(default_factory=dict)  # "an" -> 1, "half an" -> 0.5
    # Words that make the recognizer's find a duration from now rather than a day.
    relative: str = ""
    # Times the bot cannot be sure of, whatever else it reads: a number that could be a
    # duration or a clock time ("in 2:30"), a qualifier it cannot place ("after 5pm").
    unsure: tuple[str, ...] = ()
    # Recurrence: (pattern, rule) where rule is an RRULE body; "{n}" takes the group n.
    every: tuple[tuple[str, str], ...] = ()
    # Words that link the time and the task ("to", "an", "de"): trimmed off the task's ends.
    links: tuple[str, ...] = ()
    # Words that mean a time the bot did not understand: left in a task, it asks back.
    time_words: tuple[str, ...] = ()
    # Common words the recognizer takes for a weekday's short name ("die": Dienstag, "je":
    # jeudi); with the words of `yours` ("ma": mardi, "mi": miércoles), never shown to it.
    not_days: tuple[str, ...] = ()
    list_commands: tuple[str, ...] = ()
    cancel_commands: tuple[str, ...] = ()  # followed by the reminder's number
    answers: dict[str, str] = field(default_factory=dict)
    # The person's words, told back by the bot ("my" -> "your", "ma" -> "ta").
    yours: dict[str, str] = field(default_factory=dict)
    # The word before the task, shortened before a vowel ("de" -> "d'": "d'appeler").
    elisions: dict[str, str] = field(default_factory=dict)
    vowels: str = ""

    def say(self, key: str, task: str, **fields: str) -> str:
        """The answer `key` about `task`, in the bot's voice: the person's "my" is "your", and
        the word before the task elides where the language does. The task is never a template
        (braces in it are text)."""
        before, after = self.answers[key].split("{task}", 1)
        told = self._told_back(task)
        for word, elided in self.elisions.items():
            if before.endswith(f" {word} ") and told and told[0].lower() in self.vowels:
                before = before[: -len(word) - 1] + elided
        return before.format(**fields) + told + after.format(**fields)

    def _told_back(self, task: str) -> str:
        if not task or not self.yours:
            return task
        words = sorted(self.yours, key=len, reverse=True)
        # "m'" ends a word by itself ("m'inscrire"); the others end where the word does.
        ends = {w: "" if w.endswith("'") else r"(?!\w)" for w in words}
        alternatives = "|".join(re.escape(w) + ends[w] for w in words)

        def yours(match: re.Match[str]) -> str:
            said = match.group(0)
            told = self.yours[said.lower()]
            return told[:1].upper() + told[1:] if said[:1].isupper() else told

        return re.sub(rf"(?<![\w'])(?:{alternatives})", yours, task, flags=re.IGNORECASE)
