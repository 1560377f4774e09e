"""What the bot knows of one language for reminders: its words, its clock, and its answers.

Each language is one module, `languages/<code>`, holding one `Language`: every string the
bot reads or writes in that language is there and nowhere else. The recognizer (dateparser) finds
days and durations; these patterns cover what it misses or misreads (clock times, "tonight", "every
day") and what is ours alone (the trigger, the task, the answers).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Language:
    code: str  # dateparser's language code, and the locale prefix it answers
    # "remind me": at the start (after politeness words) or, where the language puts it
    # elsewhere (Chinese, Korean), anywhere.
    triggers: tuple[str, ...]
    trigger_anywhere: bool = False
    spaced: bool = True  # words between spaces (not Chinese)
    # "at 9" is 09:00 or 21:00, whichever comes next; where people say "20h" for the evening
    # (French), 9 is 09:00.
    twelve_hour: bool = True
    polite: tuple[str, ...] = ()
    # A clock time: named groups hour, minute (optional), half (optional, "half past"),
    # meridiem (optional; one of `pm` / `am` words). Tried in order, first match wins.
    clocks: tuple[str, ...] = ()
    pm: tuple[str, ...] = ()
    am: tuple[str, ...] = ()
    noon: tuple[str, ...] = ()
    midnight: tuple[str, ...] = ()
    # "tonight": today, in the evening (a bare hour is read after noon).
    tonight: tuple[str, ...] = ()
    # Durations we read ourselves (groups amount, unit), where the recognizer does not.
    durations: tuple[str, ...] = ()
    units: dict[str, int] = field(default_factory=dict)  # unit word -> minutes
    # Words that make the recognizer's find a duration from now rather than a day.
    relative: str = ""
    # Recurrence: (pattern, rule) where rule is an RRULE body; "{n}" takes the group n.
    every: tuple[tuple[str, str], ...] = ()
    # Words that link the time and the task ("to", "an", "de"): trimmed off the task's ends.
    links: tuple[str, ...] = ()
    # Words that mean a time the bot did not understand: left in a task, it asks back.
    time_words: tuple[str, ...] = ()
    list_commands: tuple[str, ...] = ()
    cancel_commands: tuple[str, ...] = ()  # followed by the reminder's number
    answers: dict[str, str] = field(default_factory=dict)
