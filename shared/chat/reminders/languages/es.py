"""Reminders in Spanish: the words the bot reads, its clock patterns, its answers."""

from shared.chat.reminders.language import DayPart, Language, one_of

WEEKDAYS = {
    "lunes": "MO", "martes": "TU", "miércoles": "WE", "jueves": "TH", "viernes": "FR",
    "sábado": "SA", "domingo": "SU",
}  # fmt: skip
AMOUNTS = {
    "un": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "diez": 10,
    "quince": 15, "veinte": 20, "treinta": 30, "media": 0.5, "un par de": 2,
}  # fmt: skip
UNITS = {
    "segundo": 1 / 60, "segundos": 1 / 60, "minuto": 1, "minutos": 1, "min": 1,
    "cuarto de hora": 15, "hora": 60, "horas": 60, "h": 60, "día": 1440, "días": 1440,
    "dia": 1440, "dias": 1440, "semana": 10080, "semanas": 10080,
}  # fmt: skip
_AMOUNT = rf"\d+(?:[.,]\d+)?|{one_of(AMOUNTS)}"
_UNIT = one_of(UNITS)
_IN = r"\b(?:en|dentro\s+de)\s+"
_CLOCK = r"\d{1,2}(?!\d)(?:[:.]\d{2})?(?!\w)"
PM, AM = range(12, 24), range(0, 12)
# In Spain "las 8 de la tarde" is 20:00: the afternoon runs until dinner.
MORNING, AFTERNOON, NIGHT, SMALL_HOURS = range(1, 12), range(12, 21), range(19, 24), range(0, 7)

LANGUAGE = Language(
    code="es",
    triggers=(
        *("recuérdame", "recuerdame", "recordarme"),
        *("me puedes recordar", "me podrías recordar", "me podrias recordar", "me recuerdas"),
    ),
    polite=("hey bot,?", "¿", r"por\s+favor,?", "puedes|podrías|podrias|puede|podría"),
    clocks=(
        r"\ba\s+las?\s+(?P<hour>\d{1,2})\s+y\s+(?P<half>media)\b",
        r"\ba\s+las?\s+(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<meridiem>[ap]\.?m\.?)?(?![\w:])",
    ),
    meridiems={
        **dict.fromkeys(("pm", "p.m.", "p.m", "pm."), PM),
        **dict.fromkeys(("am", "a.m.", "a.m", "am."), AM),
    },
    day_parts=(
        DayPart(r"\besta\s+noche\b", NIGHT, today=True),
        DayPart(r"\besta\s+tarde\b", AFTERNOON, today=True),
        DayPart(r"\besta\s+mañana\b", MORNING, today=True),
        DayPart(r"\b(?:de|por)\s+la\s+mañana\b", MORNING),
        DayPart(r"\b(?:de|por)\s+la\s+tarde\b", AFTERNOON),
        DayPart(r"\b(?:de|por)\s+la\s+noche\b", NIGHT),
        DayPart(r"\bde\s+la\s+madrugada\b", SMALL_HOURS),
    ),
    noon=(r"\b(?:al|a|del)\s+mediod[ií]a\b", r"\bmediod[ií]a\b"),
    midnight=(r"\b(?:a\s+la|a|de\s+la)\s+medianoche\b", r"\bmedianoche\b"),
    durations=(
        rf"{_IN}(?P<amount>\d+)\s*(?P<unit>h)\s*(?P<more>\d{{1,2}})\b",
        rf"{_IN}(?P<amount>{_AMOUNT})\s*(?P<unit>{_UNIT})"
        r"(?:\s+y\s+(?P<half>media)|\s+y\s+(?P<more>\d{1,2})\s*(?:minutos?|min)\b)?(?!\w)",
    ),
    units=UNITS,
    amounts=AMOUNTS,
    relative=r"^\s*(?:en|dentro\s+de)\b",
    unsure=(
        rf"{_IN}\d{{1,2}}[:.]\d{{2}}\b",  # 2 h 30, or at 2:30?
        rf"{_IN}\d+(?![\d.,:])(?!\s*(?:{_UNIT}|mes(?:es)?|años?)(?:\b|\d))",
        rf"\b(?:después\s+de|antes\s+de|hacia|sobre|hasta|para)\s+(?:las?\s+{_CLOCK}|el\s+mediod[ií]a|la\s+medianoche)",
        rf"{_IN}(?:unos|unas|algunos|un\s+rato|un\s+ratito|un\s+momento)\b",
    ),
    every=(
        (r"\b(?:entre\s+semana|cada\s+día\s+laborable)\b", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        (r"\b(?:todos\s+los\s+d[ií]as|cada\s+d[ií]a|diariamente)\b", "FREQ=DAILY"),
        *(
            (rf"\b(?:todos\s+los\s+{name}|cada\s+{name})\b", f"FREQ=WEEKLY;BYDAY={day}")
            for name, day in WEEKDAYS.items()
        ),
        (r"\bcada\s+(\d+)\s+horas\b", "FREQ=HOURLY;INTERVAL={0}"),
        (r"\bcada\s+hora\b", "FREQ=HOURLY;INTERVAL=1"),
    ),
    links=("que", "de", "para", "por favor", "porfa", "gracias"),
    time_words=(
        "hoy",
        "mañana",
        "ayer",
        "noche",
        "tarde",
        "madrugada",
        "minuto",
        "minutos",
        "hora",
        "horas",
        "día",
        "días",
        "luego",
        "pronto",
        *WEEKDAYS,
    ),
    list_commands=("mis recordatorios", "ver recordatorios", "lista de recordatorios"),
    cancel_commands=("cancela", "cancelar", "cancela el recordatorio"),
    answers={
        "set": "Entendido: te recordaré {task} {when}.",
        "set_series": "Entendido: te recordaré {task} {rule}, la primera vez {when}.",
        "ask_when": "¿Cuándo debo recordarte {task}?",
        "ask_what": "¿Qué debo recordarte?",
        "help": (
            "Puedo recordarte cosas, por ejemplo «recuérdame en 10 minutos estirarme» o "
            "«recuérdame todos los días a las 7 tomar vitaminas». Di «mis recordatorios» para "
            "verlos, «cancela 1» para quitar uno."
        ),
        "list": "Tus recordatorios:",
        "none": "No tienes recordatorios.",
        "cancelled": "Recordatorio {number} cancelado: {task}.",
        "no_such": "No hay recordatorio {number}. Di «mis recordatorios» para verlos.",
        "reminder": "⏰ Recordatorio: {task}",
        "done": "Hecho",
        "snooze": "En 10 minutos",
        "done_ack": "Hecho: {task}.",
        "snoozed": "Pospuesto: te recordaré {task} {when}.",
        "at": "a las {time}",
        "on": "el {date}",
        "in": "en {duration}",
        "date": "%d/%m",
        "every_day": "todos los días a las {time}",
        "every_weekday": "cada día laborable a las {time}",
        "every_week": "cada {day} a las {time}",
        "every_hours": "cada {n} horas",
        "every_minutes": "cada {n} minutos",
        "weekdays": "lunes martes miércoles jueves viernes sábado domingo",
        "minute": "{n} minuto",
        "minutes": "{n} minutos",
        "hour": "{n} hora",
        "hours": "{n} horas",
        "day": "{n} día",
        "days": "{n} días",
    },
    yours={"mi": "tu", "mis": "tus", "me": "te", "mí": "ti", "conmigo": "contigo"},
)
