"""Reminders in Spanish: the words the bot reads, its clock patterns, its answers."""

from shared.chat.reminders.language import Language

WEEKDAYS = {
    "lunes": "MO", "martes": "TU", "miércoles": "WE", "jueves": "TH", "viernes": "FR",
    "sábado": "SA", "domingo": "SU",
}  # fmt: skip

LANGUAGE = Language(
    code="es",
    triggers=("recuérdame", "recuerdame", "recordarme"),
    polite=("por favor,?",),
    clocks=(
        r"\ba\s+las?\s+(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<meridiem>[ap]\.?m\.?)?(?![\w:])",
    ),
    pm=("pm", "p.m.", "p.m"),
    am=("am", "a.m.", "a.m"),
    noon=(r"\bal\s+mediodía\b",),
    midnight=(r"\ba\s+medianoche\b",),
    tonight=(r"\besta\s+noche\b", r"\besta\s+tarde\b"),
    relative=r"^\s*(?:en|dentro\s+de)\b",
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
    links=("que", "de", "para"),
    time_words=(
        "hoy",
        "mañana",
        "ayer",
        "noche",
        "tarde",
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
)
