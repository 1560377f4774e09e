"""What a reminder request means: when (once, or a rule), what, or the question to ask back.

"remind me tomorrow at 9 to call mom", "erinnere mich in 10 Minuten an den Tee",
"每天早上8点提醒我跑步". The trigger and the language come from the modules of `languages/`
(the activity's locale is tried first, then every other language); durations, recurrence and
the clock time with its part of the day (`clock`) from that language's patterns; days, and
durations the patterns miss, from the recognizer (dateparser, loaded on the first reminder). What
is left is the task. Whenever the bot would have to guess — no time, a time it is not sure of (a
number that could be a duration or a clock time, a qualifier it cannot place: "in 2:30", "after
5pm", "2시 후에", "tonight at 1"), a time it cannot place (a clock time that does not exist in the
user's zone on that day, in the past, more than a year ahead), words that look like time left in
the task, no task — the answer is a question instead, and nothing is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from dateutil.rrule import rrulestr

from shared.chat.reminders import recognizer
from shared.chat.reminders.clock import Clock, take_time_of_day
from shared.chat.reminders.language import Language, one_of
from shared.chat.reminders.languages import de, en, es, fr, ko, zh
from shared.chat.reminders.reading import Reading

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
_APOSTROPHES = re.compile(r"[\u2018\u2019\u02bc]")  # phones type "d\u2019appeler"
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
        polite = "".join(rf"(?:(?:{p})\s*)?" for p in language.polite)
        for opening, closing in language.framed_triggers:
            framed = rf"\s*{polite}({re.escape(opening)})\b(.*)\b{re.escape(closing)}[\s?.!]*$"
            if match := re.match(framed, text, re.IGNORECASE | re.DOTALL):
                return language, f"{match.group(1)} {closing}", match.group(2)
        for trigger in language.triggers:
            if language.trigger_anywhere:
                match = re.search(re.escape(trigger), text, re.IGNORECASE)
            else:
                match = re.match(rf"\s*{polite}({re.escape(trigger)})\b", text, re.IGNORECASE)
            if match:
                rest = text[: match.start()] + " " + text[match.end() :]
                if language.trigger_anywhere:  # "请10分钟后提醒我": politeness leads the request
                    rest = re.sub(rf"^\s*{polite}", "", rest, flags=re.IGNORECASE)
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
    reading = Reading(_APOSTROPHES.sub("'", _CONTROL.sub(" ", rest)))
    local_now = now.astimezone(zone)
    unsure = _take_unsure(language, reading)
    rule, bad_rule = _take_rule(language, reading)
    duration = _take_duration(language, reading)
    time_of_day = take_time_of_day(language, reading)
    clock = time_of_day.clock
    unsure = unsure or time_of_day.unsure
    day_text, day = (None, None)
    if duration is None:
        day_text, day = recognizer.find(
            _hide_non_days(language, reading.text), language.code, local_now
        )
        if day_text and _short_day(language, day_text):
            unsure, day_text, day = True, None, None  # "sat exam": Saturday, or a test?
        if day_text and (start := reading.text.find(day_text)) >= 0:
            reading.take(start, start + len(day_text))
    task, looks_like_time = _task(language, reading.text)

    def asks() -> Asks:
        return Asks(task, reading.kept)

    if unsure or bad_rule or looks_like_time or not task:
        return asks()
    if rule is not None:
        if time_of_day.today:
            return asks()  # "every day tonight"
        return _recurring(rule, clock, task, now, zone) or asks()
    relative = day is not None and re.search(language.relative, day_text or "") is not None
    if (duration is not None or relative) and (clock is not None or time_of_day.today):
        return asks()  # "in 2 hours at 9": which?
    if time_of_day.today and day is not None:
        return asks()  # "tomorrow tonight"
    if duration is not None:
        due = now + duration
    elif day is not None and relative:
        # Elapsed time from now, whatever the local clock does meanwhile (DST).
        due = now + (day - local_now.replace(tzinfo=None, second=0, microsecond=0))
    elif clock is not None:
        base = day.date() if day is not None else local_now.date()
        may_roll = day is None and not time_of_day.today
        due = _clock_due(clock, base, may_roll, local_now, zone)
    else:
        return asks()
    if due is None or not timedelta(0) < due - now <= MAX_AHEAD:
        return asks()
    return Single(due.astimezone(timezone.utc), task)


def _take_rule(language: Language, reading: Reading) -> tuple[str | None, bool]:
    """The rule, and whether its interval cannot be ("every 0 hours": dateutil would search for
    ever)."""
    for pattern, rule in language.every:
        if match := reading.search(pattern):
            reading.take_match(match)
            bad = any(not 1 <= int(n) <= MAX_INTERVAL for n in match.groups())
            return rule.format(*match.groups()), bad
    return None, False


def _take_unsure(language: Language, reading: Reading) -> bool:
    """Whether the request holds a time the bot cannot be sure of. It is taken out, but not
    kept: the answer to the question says that time again, surely."""
    unsure = False
    for pattern in language.unsure:
        while (match := reading.search(pattern)) and match.group(0).strip():
            reading.take_match(match, keep=False)
            unsure = True
    return unsure


def _hide_non_days(language: Language, text: str) -> str:
    """`text` with the words that are never a day here blanked out, for the recognizer: it reads
    "appeler ma mère" as Tuesday (mardi), "an die Miete" as Dienstag."""
    words = [w for w in (*language.yours, *language.not_days) if not w.endswith("'")]
    if not words:
        return text
    return re.sub(
        rf"(?<![\w'])(?:{one_of(words)})(?!\w)",
        lambda match: " " * len(match.group(0)),
        text,
        flags=re.IGNORECASE,
    )


def _short_day(language: Language, found: str) -> bool:
    """A find of no more than a weekday's short name ("sat", "so", "a ju"): a day, or a word of
    the task? Not sure. The language's own day words ("hoy") are sure."""
    said = found.strip().lower()
    short = re.fullmatch(r"(?:[a-zà-ÿ]{1,3}\s+)?[a-zà-ÿ]{1,3}\.?", said) is not None
    return short and said not in {w.lower() for w in language.time_words}


def _take_duration(language: Language, reading: Reading) -> timedelta | None:
    for pattern in language.durations:
        match = reading.search(pattern)
        if match is None:
            continue
        groups = match.groupdict()
        unit = language.units.get(re.sub(r"\s+", " ", groups["unit"].lower().rstrip(".")))
        amount = _amount(language, groups["amount"])
        if unit is None or amount is None:
            continue  # a pattern wider than its words: not read rather than misread
        minutes = amount * unit
        if groups.get("half"):
            minutes += unit / 2  # "an hour and a half", "1시간 반", "一个半小时"
        if groups.get("more"):
            minutes += int(groups["more"])
        reading.take_match(match)
        # Past the limit it is refused anyway; capped here, timedelta cannot overflow.
        return timedelta(minutes=min(minutes, MAX_AHEAD / _MINUTE + 1))
    return None


def _amount(language: Language, said: str) -> float | None:
    """ "10", "1.5", "1,5", or a word of the language ("an", "half an", "두", "十五")."""
    said = re.sub(r"\s+", " ", said.strip().lower())
    if said in language.amounts:
        return language.amounts[said]
    if re.fullmatch(r"\d+(?:[.,]\d+)?", said):
        return float(said.replace(",", "."))
    return None


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
    clock: Clock, base: date, may_roll: bool, local_now: datetime, zone: tzinfo
) -> datetime | None:
    """The first reading of `clock` after now: on `base`, or the day after when no day was
    named. None if that time does not exist there that day."""
    hours = [clock.hour % 12, clock.hour % 12 + 12] if clock.twelve_hour else [clock.hour]
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
