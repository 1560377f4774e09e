"""What a reminder request means: when (once, or a rule), what, or the question to ask back.

"remind me tomorrow at 9 to call mom", "erinnere mich in 10 Minuten an den Tee",
"每天早上8点提醒我跑步". The trigger and the language come from the modules of `languages/`
(the activity's locale is tried first, then every other language); the clock time, "tonight" and
recurrence from that language's patterns; days and durations from the recognizer (dateparser,
loaded on the first reminder). What is left is the task. Whenever the bot would have to guess —
no time, a time it cannot place (a clock time that does not exist in the user's zone on that day,
in the past, more than a year ahead), words that look like time left in the task, no task — the
answer is a question instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from dateutil.rrule import rrulestr

from shared.chat.reminders import recognizer
from shared.chat.reminders.language import Language
from shared.chat.reminders.languages import de, en, es, fr, ko, zh

LANGUAGES: dict[str, Language] = {m.LANGUAGE.code: m.LANGUAGE for m in (en, de, fr, es, zh, ko)}
MAX_AHEAD = timedelta(days=365)
_MINUTE = timedelta(minutes=1)
MAX_TEXT = 500
# Longer requests are not read: the recognizer's time grows faster than their length (a 200 KB
# German one took minutes), and nobody types a reminder that long.
MAX_REQUEST = 1000
# A rule firing more often than this is a mistake (or abuse of the timer), not a reminder.
MIN_INTERVAL = timedelta(minutes=5)
MAX_INTERVAL = 8784  # "every N hours / minutes": at most a (leap) year's hours
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # no part of a time or a task
WALL_CLOCK_RULES = ("FREQ=DAILY", "FREQ=WEEKLY")  # read in local time; the rest in elapsed time


@dataclass(frozen=True)
class Single:
    due: datetime  # UTC
    task: str


@dataclass(frozen=True)
class Recurring:
    rule: str  # RRULE body, read in the user's zone
    first: datetime  # UTC
    task: str


@dataclass(frozen=True)
class Asks:
    """Ask back instead of guessing. `kept` is what was understood of the time ("on Friday"),
    said again with the answer; `task` is empty when the task is what is missing."""

    task: str
    kept: str


Understood = Single | Recurring | Asks


def language_for(locale: str | None) -> Language:
    """The language to answer in: the locale's, English when we have no translation."""
    return LANGUAGES.get((locale or "en")[:2].lower(), LANGUAGES["en"])


def find_trigger(text: str, locale: str | None) -> tuple[Language, str, str] | None:
    """(language, trigger as typed, the text around it) if `text` asks for a reminder."""
    first = language_for(locale)
    for language in (first, *(lang for lang in LANGUAGES.values() if lang is not first)):
        polite = "".join(rf"(?:{p}\s+)?" for p in language.polite)
        for trigger in language.triggers:
            if language.trigger_anywhere:
                match = re.search(re.escape(trigger), text, re.IGNORECASE)
            else:
                match = re.match(rf"\s*{polite}({re.escape(trigger)})\b", text, re.IGNORECASE)
            if match:
                rest = text[: match.start()] + " " + text[match.end() :]
                return language, match.group(0).strip(), rest
    return None


@dataclass(frozen=True)
class ListReminders:
    pass


@dataclass(frozen=True)
class CancelReminder:
    number: int


def list_or_cancel(text: str) -> ListReminders | CancelReminder | None:
    """ "list reminders" / "cancel 2" in any of the languages."""
    said = re.sub(r"\s+", " ", text).strip(" .!?。！？").lower()
    for language in LANGUAGES.values():
        if said in language.list_commands:
            return ListReminders()
        for command in sorted(language.cancel_commands, key=len, reverse=True):
            if match := re.fullmatch(rf"{re.escape(command)}\s*#?(\d{{1,4}})", said):
                return CancelReminder(int(match.group(1)))
    return None


def understand(text: str, locale: str | None, now: datetime, zone: tzinfo) -> Understood | None:
    """None when `text` is no reminder request; `now` is aware."""
    found = find_trigger(text, locale)
    if found is None:
        return None
    language, _, rest = found
    return read_request(language, rest, now, zone)


def read_request(language: Language, rest: str, now: datetime, zone: tzinfo) -> Understood:
    """`rest` is the request without its trigger."""
    if len(rest) > MAX_REQUEST:
        return Asks("", "")
    rest = _CONTROL.sub(" ", rest)
    local_now = now.astimezone(zone)
    kept: list[str] = []
    rule, rest, bad_rule = _take_rule(language, rest, kept)
    tonight, rest = _take_any(language.tonight, rest, kept)
    clock, rest, bad_clock = _take_clock(language, rest, kept)
    duration, rest = _take_duration(language, rest, kept)
    day_text, day = (None, None)
    if duration is None and not bad_clock:
        day_text, day = recognizer.find(rest, language.code, local_now)
        if day_text:
            rest = rest.replace(day_text, " ", 1)
            kept.append(day_text)
    task, looks_like_time = _task(language, rest)

    def asks() -> Asks:
        return Asks(task, " ".join(kept))

    if bad_clock or bad_rule or looks_like_time or not task:
        return asks()
    if rule is not None:
        return _recurring(rule, clock, task, now, zone) or asks()
    relative = day is not None and re.search(language.relative, day_text or "") is not None
    if (duration is not None or relative) and clock is not None:
        return asks()  # "in 2 hours at 9": which?
    if duration is not None:
        due = now + duration
    elif day is not None and relative:
        # Elapsed time from now, whatever the local clock does meanwhile (DST).
        due = now + (day - local_now.replace(tzinfo=None, second=0, microsecond=0))
    elif clock is not None:
        base = day.date() if day is not None else local_now.date()
        due = _clock_due(clock, base, day is None and not tonight, tonight, local_now, zone)
    else:
        return asks()
    if due is None or not timedelta(0) < due - now <= MAX_AHEAD:
        return asks()
    return Single(due.astimezone(timezone.utc), task)


@dataclass(frozen=True)
class Clock:
    hour: int
    minute: int
    twelve_hour: bool  # "at 9": 09:00 or 21:00, whichever comes next


def _take_rule(language: Language, rest: str, kept: list[str]) -> tuple[str | None, str, bool]:
    """The rule, the text without it, and whether its interval cannot be ("every 0 hours":
    dateutil would search for ever)."""
    for pattern, rule in language.every:
        match = re.search(pattern, rest, re.IGNORECASE)
        if match:
            kept.append(match.group(0))
            bad = any(not 1 <= int(n) <= MAX_INTERVAL for n in match.groups())
            return rule.format(*match.groups()), _cut(rest, match), bad
    return None, rest, False


def _take_clock(language: Language, rest: str, kept: list[str]) -> tuple[Clock | None, str, bool]:
    """The clock time, the text without it, and whether it was one that cannot be (25:00)."""
    for words, hour in ((language.noon, 12), (language.midnight, 0)):
        for pattern in words:
            if match := re.search(pattern, rest, re.IGNORECASE):
                kept.append(match.group(0))
                return Clock(hour, 0, False), _cut(rest, match), False
    for pattern in language.clocks:
        match = re.search(pattern, rest, re.IGNORECASE)
        if match is None:
            continue
        kept.append(match.group(0))
        rest = _cut(rest, match)
        groups = match.groupdict()
        hour, minute = int(groups["hour"]), int(groups.get("minute") or 0)
        if groups.get("half"):
            minute = 30
        meridiem = (groups.get("meridiem") or "").lower().strip()
        if meridiem:
            pm = meridiem in language.pm
            if not 1 <= hour <= 12 and not (meridiem in language.am and hour == 0):
                return None, rest, True
            if hour <= 12:
                hour = hour % 12 + (12 if pm else 0)
        if hour > 23 or minute > 59:
            return None, rest, True
        # 1-12 without am/pm and without a leading zero reads either way; "08:00" and 13-23 don't.
        twelve = (
            language.twelve_hour
            and not meridiem
            and 1 <= hour <= 12
            and not groups["hour"].startswith("0")
        )
        return Clock(hour, minute, twelve), rest, False
    return None, rest, False


def _take_any(patterns: tuple[str, ...], rest: str, kept: list[str]) -> tuple[bool, str]:
    for pattern in patterns:
        if match := re.search(pattern, rest, re.IGNORECASE):
            kept.append(match.group(0))
            return True, _cut(rest, match)
    return False, rest


def _take_duration(language: Language, rest: str, kept: list[str]) -> tuple[timedelta | None, str]:
    for pattern in language.durations:
        match = re.search(pattern, rest, re.IGNORECASE)
        if match is None:
            continue
        groups = match.groupdict()
        amount_text = groups["amount"]
        amount = int(amount_text) if amount_text.isdigit() else 0.5  # "half an hour"
        minutes = amount * language.units.get(groups["unit"].lower(), 60)
        if groups.get("more"):
            minutes += int(groups["more"])
        kept.append(match.group(0))
        # Past the limit it is refused anyway; capped here, timedelta cannot overflow.
        return timedelta(minutes=min(minutes, MAX_AHEAD / _MINUTE + 1)), _cut(rest, match)
    return None, rest


def _recurring(
    rule: str, clock: Clock | None, task: str, now: datetime, zone: tzinfo
) -> Recurring | None:
    if rule.startswith(WALL_CLOCK_RULES):
        if clock is None:
            return None
        rule = f"{rule};BYHOUR={clock.hour};BYMINUTE={clock.minute}"
    elif clock is not None:
        return None  # "every 2 hours at 9" has no single meaning
    first = next_rule_time(rule, now, zone, start=now)
    if first is None or (second := next_rule_time(rule, first, zone, start=now)) is None:
        return None
    if second - first < MIN_INTERVAL:
        return None
    return Recurring(rule, first, task)


def next_rule_time(rule: str, after: datetime, zone: tzinfo, start: datetime) -> datetime | None:
    """The rule's first time after `after` (UTC). Daily and weekly rules keep the local clock
    time across DST changes (a time the clocks skip that day comes an hour later, one they repeat
    comes the first time); hourly ones count elapsed time from `start`."""
    if rule.startswith(WALL_CLOCK_RULES):
        local_start = start.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
        found = rrulestr(rule, dtstart=local_start).after(
            after.astimezone(zone).replace(tzinfo=None)
        )
        return None if found is None else found.replace(tzinfo=zone).astimezone(timezone.utc)
    utc_start = start.astimezone(timezone.utc).replace(tzinfo=None, second=0, microsecond=0)
    found = rrulestr(rule, dtstart=utc_start).after(
        after.astimezone(timezone.utc).replace(tzinfo=None)
    )
    return None if found is None else found.replace(tzinfo=timezone.utc)


def _clock_due(
    clock: Clock, base: date, may_roll: bool, tonight: bool, local_now: datetime, zone: tzinfo
) -> datetime | None:
    """The first reading of `clock` after now: on `base`, or the day after when no day was
    named; "at 9" tonight is 21:00. None if that time does not exist there that day."""
    hours = [clock.hour]
    if clock.twelve_hour:
        hours = [clock.hour % 12 + 12] if tonight else [clock.hour % 12, clock.hour % 12 + 12]
    days = [base, base + timedelta(days=1)] if may_roll else [base]
    for day in days:
        for hour in hours:
            naive = datetime.combine(day, time(hour, clock.minute))
            if naive <= local_now.replace(tzinfo=None):
                continue
            if not _exists(naive, zone):
                return None
            return naive.replace(tzinfo=zone)
    return None


def _exists(naive: datetime, zone: tzinfo) -> bool:
    """False for a local time the clocks skip (02:30 when they go forward at 02:00)."""
    there = naive.replace(tzinfo=zone)
    return there.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) == naive


def _task(language: Language, rest: str) -> tuple[str, bool]:
    """The task, and whether it held words that look like a time (a digit, "sometime"): those
    are left out of it, and mean the bot did not understand the time."""
    time_words = {w.lower() for w in language.time_words}
    if language.spaced:

        def timelike(word: str) -> bool:
            bare = word.strip(",.;:!?").lower()
            return bare in time_words or re.search(r"\d", bare) is not None

        words = rest.split()
        looks_like_time = any(timelike(w) for w in words)
        task = " ".join(w for w in words if not timelike(w))
    else:
        task = re.sub(r"\d+", "", rest)
        for word in time_words:
            task = task.replace(word, "")
        looks_like_time = task != rest
    return _trim_links(language, task)[:MAX_TEXT], looks_like_time


def _trim_links(language: Language, task: str) -> str:
    task = re.sub(r"\s+", " ", task).strip(" ,.;:!?")
    links = "|".join(re.escape(link) for link in sorted(language.links, key=len, reverse=True))
    if not links:
        return task
    edge = r"(?:[\s,]+|(?<=')|$)" if language.spaced else ""
    while True:
        trimmed = re.sub(rf"^(?:{links}){edge}", "", task, flags=re.IGNORECASE).strip(" ,.;:!?")
        trimmed = re.sub(rf"(?:^|\s+)(?:{links})$", "", trimmed, flags=re.IGNORECASE).strip(
            " ,.;:!?"
        )
        if trimmed == task:
            return task
        task = trimmed


def _cut(text: str, match: re.Match[str]) -> str:
    return text[: match.start()] + " " + text[match.end() :]
