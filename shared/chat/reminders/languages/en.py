"""Reminders in English: the words the bot reads, its clock patterns, its answers."""

from shared.chat.reminders.language import DayPart, Language, one_of

WEEKDAYS = {
    "monday": "MO", "tuesday": "TU", "wednesday": "WE", "thursday": "TH", "friday": "FR",
    "saturday": "SA", "sunday": "SU",
}  # fmt: skip
AMOUNTS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty-five": 45, "forty five": 45, "half": 0.5,
}  # fmt: skip
UNITS = {
    "second": 1 / 60, "seconds": 1 / 60, "sec": 1 / 60, "secs": 1 / 60,
    "minute": 1, "minutes": 1, "min": 1, "mins": 1,
    "hour": 60, "hours": 60, "hr": 60, "hrs": 60, "h": 60,
    "day": 1440, "days": 1440, "week": 10080, "weeks": 10080,
}  # fmt: skip
_AMOUNT = rf"\d+(?:[.,]\d+)?|{one_of(AMOUNTS)}"
_UNIT = one_of(UNITS)
_DAY = "|".join(("today", "tomorrow", *WEEKDAYS))
_CLOCK = r"\d{1,2}(?!\d)(?:[:.]\d{2})?(?:\s*[ap]\.?m\.?|\s*o'clock)?"
PM, AM = range(12, 24), range(0, 12)
MORNING, AFTERNOON, EVENING, NIGHT = range(1, 12), range(12, 19), range(17, 24), range(19, 24)

LANGUAGE = Language(
    code="en",
    triggers=("remind me",),
    polite=("hey bot,?", r"(?:can|could|would|will)\s+(?:you|u)", "please|pls|plz|kindly"),
    clocks=(
        r"\bat\s+(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<meridiem>[ap]\.?m\.?)?(?![\w:])",
        r"\b(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<meridiem>[ap]\.?m\.?)(?!\w)",
    ),
    meridiems={
        **dict.fromkeys(("pm", "p.m.", "p.m", "pm."), PM),
        **dict.fromkeys(("am", "a.m.", "a.m", "am."), AM),
    },
    day_parts=(
        DayPart(r"\btonight\b", EVENING, today=True),
        DayPart(r"\bthis\s+evening\b", EVENING, today=True),
        DayPart(r"\bthis\s+morning\b", MORNING, today=True),
        DayPart(r"\bthis\s+afternoon\b", AFTERNOON, today=True),
        DayPart(r"\bin\s+the\s+morning\b", MORNING),
        DayPart(r"\bin\s+the\s+afternoon\b", AFTERNOON),
        DayPart(r"\bin\s+the\s+evening\b", EVENING),
        DayPart(r"\bat\s+night\b", NIGHT),
        DayPart(rf"\b(?:{_DAY})\s+(?P<part>morning)\b", MORNING),
        DayPart(rf"\b(?:{_DAY})\s+(?P<part>afternoon)\b", AFTERNOON),
        DayPart(rf"\b(?:{_DAY})\s+(?P<part>evening)\b", EVENING),
        DayPart(rf"\b(?:{_DAY})\s+(?P<part>night)\b", NIGHT),
    ),
    noon=(r"\b(?:at\s+)?(?:noon|midday)\b",),
    midnight=(r"\b(?:at\s+)?midnight\b",),
    durations=(
        r"\b(?:in|after)\s+(?P<amount>\d+)\s*(?P<unit>h)\s*(?P<more>\d{1,2})\b",
        r"\b(?:in|after)\s+(?:a\s+)?(?P<amount>half)\s+(?:an?\s+)?(?P<unit>hour|day)\b",
        rf"\b(?:in|after)\s+(?P<amount>{_AMOUNT})\s+and\s+(?P<half>a\s+half)\s+(?P<unit>{_UNIT})\b",
        rf"\b(?:in|after)\s+(?P<amount>{_AMOUNT})\s*(?P<unit>{_UNIT})"
        r"(?:\s+and\s+(?P<half>a\s+half)|,?\s+(?:and\s+)?(?P<more>\d{1,2})\s*(?:minutes?|mins?)\b)?"
        r"(?!\w)",
    ),
    units=UNITS,
    amounts=AMOUNTS,
    relative=r"^\s*in\b",
    unsure=(
        r"\bin\s+\d{1,2}[:.]\d{2}\b",  # 2 h 30, or at 2:30?
        rf"\bin\s+\d+(?![\d.,:])(?!\s*(?:{_UNIT}|months?|years?)(?:\b|\d))",  # "in 5": 5 what?
        rf"\b(?:after|before|around|until|till|by)\s+(?:{_CLOCK}|noon|midnight)(?![\w:])",
        r"\babout\s+\d{1,2}(?:[:.]\d{2})?\s*(?:[ap]\.?m\.?|o'clock)(?!\w)",
        rf"\bin\s+(?:a\s+)?(?:few|couple(?:\s+of)?|several|some)\s+(?:{_UNIT})(?!\w)",
        r"\bin\s+a\s+(?:bit|while|moment)\b",
    ),
    every=(
        (r"\bevery\s+weekday\b", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        (r"\b(?:every\s+day|daily)\b", "FREQ=DAILY"),
        *((rf"\bevery\s+{name}\b", f"FREQ=WEEKLY;BYDAY={day}") for name, day in WEEKDAYS.items()),
        (r"\bevery\s+(\d+)\s+hours?\b", "FREQ=HOURLY;INTERVAL={0}"),
        (r"\bevery\s+hour\b", "FREQ=HOURLY;INTERVAL=1"),
        (r"\bevery\s+(\d+)\s+minutes?\b", "FREQ=MINUTELY;INTERVAL={0}"),
        (r"\bevery\s+minute\b", "FREQ=MINUTELY;INTERVAL=1"),
    ),
    links=(
        *("to", "that", "about", "of", "at", "on", "in"),
        *("please", "pls", "thanks", "thank you", "thx"),
    ),
    time_words=(
        "today",
        "tomorrow",
        "tonight",
        "yesterday",
        "morning",
        "afternoon",
        "evening",
        "night",
        "sometime",
        "later",
        "soon",
        "minute",
        "minutes",
        "hour",
        "hours",
        "days",
        "o'clock",
        *WEEKDAYS,
    ),
    list_commands=("list reminders", "show reminders", "list my reminders", "show my reminders"),
    cancel_commands=("cancel", "cancel reminder"),
    answers={
        "set": "Got it: I'll remind you to {task} {when}.",
        "set_series": "Got it: I'll remind you to {task} {rule}, first {when}.",
        "ask_when": "When should I remind you about {task}?",
        "ask_what": "What should I remind you about?",
        "help": (
            'I can set reminders like "remind me in 10 minutes to stretch", "remind me '
            'tomorrow at 9 to call mom" or "remind me every weekday at 8:30 to check mail". '
            'Say "list reminders" to see yours, "cancel 1" to drop one.'
        ),
        "list": "Your reminders:",
        "none": "You have no reminders.",
        "cancelled": "Cancelled reminder {number}: {task}.",
        "no_such": 'There is no reminder {number}. Say "list reminders" to see yours.',
        "reminder": "⏰ Reminder: {task}",
        "done": "Done",
        "snooze": "Snooze 10 minutes",
        "done_ack": "Done: {task}.",
        "snoozed": "Snoozed: I'll remind you to {task} {when}.",
        "at": "at {time}",
        "on": "on {date}",
        "in": "in {duration}",
        "date": "%a %d %b",
        "every_day": "every day at {time}",
        "every_weekday": "every weekday at {time}",
        "every_week": "every {day} at {time}",
        "every_hours": "every {n} hours",
        "every_minutes": "every {n} minutes",
        "weekdays": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
        "minute": "{n} minute",
        "minutes": "{n} minutes",
        "hour": "{n} hour",
        "hours": "{n} hours",
        "day": "{n} day",
        "days": "{n} days",
    },
    yours={"my": "your", "me": "you", "myself": "yourself", "mine": "yours"},
)
