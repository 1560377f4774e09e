"""The clock time of a request, placed by the words around it, or found unsure.

"at 9" reads 09:00 or 21:00, whichever comes next (09:00 where people say "21h" for the evening);
"at 9pm", "at 9 in the evening", "tonight at 9", "晚上9点", "저녁 9시" read 21:00; "noon" is 12:00.
A part of the day that holds no single reading of the hour ("tonight at 1", "9pm in the
morning", "밤 12시", "晚上12点"), or one named without a clock time ("tomorrow morning"), makes
the time unsure: the bot asks rather than picking one.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.chat.reminders.language import Language
from shared.chat.reminders.reading import Reading

_NOON, _MIDNIGHT = range(12, 13), range(0, 1)


@dataclass(frozen=True)
class Clock:
    hour: int
    minute: int
    twelve_hour: bool  # "at 9": 09:00 or 21:00, whichever comes next


@dataclass(frozen=True)
class TimeOfDay:
    clock: Clock | None
    today: bool  # named by a part of today ("tonight", "this morning")
    unsure: bool  # a time was said that has no single reading (or cannot be: 25:00)


def take_time_of_day(language: Language, reading: Reading) -> TimeOfDay:
    """The clock time of the request, placed by the parts of the day around it; both are taken
    from `reading`."""
    parts, today = _take_parts(language, reading)
    typed = _take_clock(language, reading)
    time_of_day = _place(language, typed, parts, today, _take_noon_or_midnight(language, reading))
    if typed is not None and typed.said and not time_of_day.unsure:
        reading.keep(*typed.said)  # an unsure one is said again in the answer, not kept
    return time_of_day


@dataclass(frozen=True)
class _Typed:
    hour: int
    minute: int
    fixed: bool  # one reading only: 0, 13-23, "08", or a word ("noon")
    meridiem: range | None = None
    impossible: bool = False  # 25:00, "13pm"
    said: tuple[int, str] | None = None  # where it stood in the request, and as typed


def _place(
    language: Language,
    typed: _Typed | None,
    parts: list[range],
    today: bool,
    word: range | None,
) -> TimeOfDay:
    """ "at 9" with what places it: the parts of the day around it, its meridiem, "noon"."""
    if word is not None and typed is None:
        typed = _Typed(word.start, 0, fixed=True)
    elif word is not None:
        parts = [*parts, word]  # "at 12 noon"
    if typed is None:
        return TimeOfDay(None, today, unsure=bool(parts))  # "tomorrow morning": when in it?
    if typed.impossible:
        return TimeOfDay(None, today, unsure=True)
    hours = {typed.hour} if typed.fixed else {typed.hour % 12, typed.hour % 12 + 12}
    if typed.meridiem is not None:
        parts = [*parts, typed.meridiem]
    if not parts:
        twelve = language.twelve_hour and len(hours) == 2
        return TimeOfDay(Clock(typed.hour, typed.minute, twelve), today, unsure=False)
    for part in parts:
        hours &= set(part)
    if len(hours) != 1:
        return TimeOfDay(None, today, unsure=True)
    return TimeOfDay(Clock(hours.pop(), typed.minute, False), today, unsure=False)


def _take_parts(language: Language, reading: Reading) -> tuple[list[range], bool]:
    parts: list[range] = []
    today = False
    for part in language.day_parts:
        match = reading.search(part.pattern)
        if match is None:
            continue
        reading.take(*(match.span("part") if "part" in match.groupdict() else match.span()))
        parts.append(part.hours)
        today = today or part.today
    return parts, today


def _take_clock(language: Language, reading: Reading) -> _Typed | None:
    for pattern in language.clocks:
        match = reading.search(pattern)
        if match is None:
            continue
        reading.take_match(match, keep=False)  # kept once placed: see take_time_of_day
        groups = match.groupdict()
        hour, minute = int(groups["hour"]), int(groups.get("minute") or 0)
        if groups.get("half"):
            minute = 30
        if groups.get("half_to"):  # "halb 8" is 7:30, "halb 1" 12:30
            hour, minute = (hour - 1) or 12, 30
        said = (groups.get("meridiem") or "").lower().strip()
        meridiem = language.meridiems.get(said) if said else None
        # A meridiem reads the hour on a 12-hour clock: "13pm" is no time.
        impossible = not 0 <= hour <= 23 or minute > 59 or (meridiem is not None and hour > 12)
        # 1-12 without a leading zero reads either way; "08:00", 0 and 13-23 don't.
        fixed = not 1 <= hour <= 12 or groups["hour"].startswith("0")
        at = (match.start(), match.group(0))
        return _Typed(hour, minute, fixed, meridiem, impossible, at)
    return None


def _take_noon_or_midnight(language: Language, reading: Reading) -> range | None:
    for words, hours in ((language.noon, _NOON), (language.midnight, _MIDNIGHT)):
        if _take_first(words, reading):
            return hours
    return None


def _take_first(patterns: tuple[str, ...], reading: Reading) -> bool:
    for pattern in patterns:
        if match := reading.search(pattern):
            reading.take_match(match)
            return True
    return False
