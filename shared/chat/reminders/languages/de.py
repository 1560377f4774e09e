"""Reminders in German: the words the bot reads, its clock patterns, its answers."""

from shared.chat.reminders.language import DayPart, Language, one_of

WEEKDAYS = {
    "montag": "MO", "dienstag": "TU", "mittwoch": "WE", "donnerstag": "TH", "freitag": "FR",
    "samstag": "SA", "sonntag": "SU",
}  # fmt: skip
AMOUNTS = {
    "ein": 1, "eine": 1, "einer": 1, "einem": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5,
    "sechs": 6, "zehn": 10, "fünfzehn": 15, "zwanzig": 20, "dreißig": 30,
    "einer halben": 0.5, "einem halben": 0.5, "anderthalb": 1.5, "eineinhalb": 1.5,
    "zweieinhalb": 2.5,
}  # fmt: skip
UNITS = {
    "sekunde": 1 / 60, "sekunden": 1 / 60, "sek": 1 / 60, "minute": 1, "minuten": 1, "min": 1,
    "viertelstunde": 15, "dreiviertelstunde": 45, "stunde": 60, "stunden": 60, "std": 60, "h": 60,
    "tag": 1440, "tage": 1440, "tagen": 1440, "woche": 10080, "wochen": 10080,
}  # fmt: skip
_AMOUNT = rf"\d+(?:[.,]\d+)?|{one_of(AMOUNTS)}"
_UNIT = one_of(UNITS)
_DAY = "|".join(("morgen", "übermorgen", *WEEKDAYS))
YOURS = {
    "mein": "dein", "meine": "deine", "meinen": "deinen", "meinem": "deinem", "meiner": "deiner",
    "meines": "deines", "mich": "dich", "mir": "dir",
}  # fmt: skip
_CLOCK = r"\d{1,2}(?!\d)(?:[:.]\d{2})?(?:\s*uhr)?(?!\w)"
MORNING, AFTERNOON, EVENING, NIGHT = range(1, 12), range(12, 19), range(17, 24), range(19, 24)
_PARTS = {"früh": MORNING, "vormittag": MORNING, "nachmittag": AFTERNOON, "abend": EVENING}

LANGUAGE = Language(
    code="de",
    triggers=("erinnere mich", "erinner mich", "erinnere mich bitte"),
    framed_triggers=(
        ("kannst du mich", "erinnern"),
        ("könntest du mich", "erinnern"),
        ("würdest du mich", "erinnern"),
        ("kannst du mich bitte", "erinnern"),
    ),
    polite=("hey bot,?", "bitte"),
    clocks=(
        r"\bum\s+(?P<half_to>halb)\s+(?P<hour>\d{1,2})(?!\w)",
        r"\bum\s+(?P<hour>\d{1,2})\s*uhr\s*(?P<minute>\d{2})\b",
        r"\bum\s+(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?(?:\s*uhr)?(?!\w)",
        r"\b(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*uhr\b",
    ),
    day_parts=(
        DayPart(r"\bheute\s+abend\b", EVENING, today=True),
        DayPart(r"\bheute\s+(?:morgen|früh|vormittag)\b", MORNING, today=True),
        DayPart(r"\bheute\s+nachmittag\b", AFTERNOON, today=True),
        DayPart(r"\bheute\s+nacht\b", NIGHT, today=True),
        *(DayPart(rf"\b(?:{_DAY})\s*(?P<part>{p})\b", hours) for p, hours in _PARTS.items()),
        DayPart(r"\b(?:morgens|früh|in\s+der\s+früh|vormittags|am\s+vormittag)\b", MORNING),
        DayPart(r"\b(?:nachmittags|am\s+nachmittag)\b", AFTERNOON),
        DayPart(r"\b(?:abends|am\s+abend)\b", EVENING),
    ),
    noon=(r"\bmittags\b", r"\bum\s+mittag\b"),
    midnight=(r"\b(?:um\s+)?mitternacht\b",),
    durations=(
        r"\bin\s+(?P<amount>\d+)\s*(?P<unit>h)\s*(?P<more>\d{1,2})\b",
        rf"\bin\s+(?P<amount>{_AMOUNT})\s*(?P<unit>{_UNIT})"
        r"(?:,?\s+(?:und\s+)?(?P<more>\d{1,2})\s*(?:minuten|min)\b)?(?!\w)",
    ),
    units=UNITS,
    amounts=AMOUNTS,
    relative=r"^\s*in\b",
    unsure=(
        r"\bin\s+\d{1,2}[:.]\d{2}\b",  # 2 h 30, or at 2:30?
        rf"\bin\s+\d+(?![\d.,:])(?!\s*(?:{_UNIT}|monaten?|monat|jahren?|jahr)(?:\b|\d))",
        rf"\b(?:nach|vor|gegen|bis|ab|circa|ca\.|etwa|ungefähr)\s+(?:{_CLOCK}|mittag|mitternacht)",
        rf"\bin\s+(?:ein\s+paar|einigen|wenigen)\s+(?:{_UNIT})(?!\w)",
    ),
    every=(
        (r"\b(?:jeden\s+werktag|werktags)\b", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        (r"\b(?:jeden\s+tag|täglich)\b", "FREQ=DAILY"),
        *((rf"\bjeden\s+{name}\b", f"FREQ=WEEKLY;BYDAY={day}") for name, day in WEEKDAYS.items()),
        (r"\balle\s+(\d+)\s+stunden\b", "FREQ=HOURLY;INTERVAL={0}"),
        (r"\bjede\s+stunde\b", "FREQ=HOURLY;INTERVAL=1"),
    ),
    links=("an", "ans", "daran", "dass", "zu", "um", "am", "bitte", "doch", "mal"),
    time_words=(
        "heute",
        "morgen",
        "übermorgen",
        "gestern",
        "abend",
        "abends",
        "morgens",
        "früh",
        "vormittags",
        "nachmittags",
        "nachts",
        "nacht",
        "mittag",
        "irgendwann",
        "später",
        "bald",
        "minute",
        "minuten",
        "stunde",
        "stunden",
        "tag",
        "tage",
        "tagen",
        "uhr",
        *WEEKDAYS,
    ),
    not_days=("die", "so"),
    list_commands=("erinnerungen anzeigen", "zeige erinnerungen", "meine erinnerungen"),
    cancel_commands=("lösche", "lösche erinnerung", "abbrechen"),
    answers={
        "set": "Alles klar: Ich erinnere dich {when} an: {task}.",
        "set_series": "Alles klar: Ich erinnere dich {rule} an: {task}, zuerst {when}.",
        "ask_when": "Wann soll ich dich an „{task}“ erinnern?",
        "ask_what": "Woran soll ich dich erinnern?",
        "help": (
            "Ich kann dich erinnern, etwa „erinnere mich in 10 Minuten an den Tee“ oder "
            "„erinnere mich jeden Tag um 9 ans Aufstehen“. „Erinnerungen anzeigen“ zeigt "
            "deine, „lösche 1“ löscht eine."
        ),
        "list": "Deine Erinnerungen:",
        "none": "Du hast keine Erinnerungen.",
        "cancelled": "Erinnerung {number} gelöscht: {task}.",
        "no_such": "Es gibt keine Erinnerung {number}. „Erinnerungen anzeigen“ zeigt deine.",
        "reminder": "⏰ Erinnerung: {task}",
        "done": "Erledigt",
        "snooze": "10 Minuten später",
        "done_ack": "Erledigt: {task}.",
        "snoozed": "Verschoben: Ich erinnere dich {when} an: {task}.",
        "at": "um {time}",
        "on": "am {date}",
        "in": "in {duration}",
        "date": "%d.%m.",
        "every_day": "jeden Tag um {time}",
        "every_weekday": "jeden Werktag um {time}",
        "every_week": "jeden {day} um {time}",
        "every_hours": "alle {n} Stunden",
        "every_minutes": "alle {n} Minuten",
        "weekdays": "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag",
        "minute": "{n} Minute",
        "minutes": "{n} Minuten",
        "hour": "{n} Stunde",
        "hours": "{n} Stunden",
        "day": "{n} Tag",
        "days": "{n} Tagen",
    },
    yours=YOURS,
)
