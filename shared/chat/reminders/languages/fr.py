"""Reminders in French: the words the bot reads, its clock patterns, its answers."""

from shared.chat.reminders.language import DayPart, Language, one_of

WEEKDAYS = {
    "lundi": "MO", "mardi": "TU", "mercredi": "WE", "jeudi": "TH", "vendredi": "FR",
    "samedi": "SA", "dimanche": "SU",
}  # fmt: skip
AMOUNTS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "dix": 10,
    "quinze": 15, "vingt": 20, "trente": 30, "une demi": 0.5, "un demi": 0.5,
}  # fmt: skip
UNITS = {
    "seconde": 1 / 60, "secondes": 1 / 60, "sec": 1 / 60, "minute": 1, "minutes": 1, "min": 1,
    "mn": 1, "quart d'heure": 15, "quarts d'heure": 15, "heure": 60, "heures": 60, "h": 60,
    "jour": 1440, "jours": 1440, "semaine": 10080, "semaines": 10080,
}  # fmt: skip
YOURS = {
    "ma": "ta", "mon": "ton", "mes": "tes", "me": "te", "m'": "t'", "moi": "toi",
    "moi-même": "toi-même",
}  # fmt: skip
_AMOUNT = rf"\d+(?:[.,]\d+)?|{one_of(AMOUNTS)}"
_UNIT = one_of(UNITS)
_DAY = "|".join(("demain", "après-demain", *WEEKDAYS))
_CLOCK = r"\d{1,2}(?!\d)\s*(?:h|heures?|[:.])?\s*(?:\d{2})?(?!\w)"
MORNING, AFTERNOON, EVENING = range(1, 12), range(12, 19), range(17, 24)
_PARTS = {"matin": MORNING, "après-midi": AFTERNOON, "soir": EVENING}

LANGUAGE = Language(
    code="fr",
    triggers=("rappelle-moi", "rappelle moi", "rappelez-moi", "rappelez moi", "me rappeler"),
    polite=(
        "hey bot,?",
        r"est-ce\s+que",
        r"tu\s+peux|peux-tu|tu\s+pourrais|pourrais-tu|vous\s+pouvez|pouvez-vous|pourriez-vous",
        r"s['’]il\s+te\s+plaît,?|s['’]il\s+vous\s+plaît,?|stp,?|svp,?",
    ),
    clocks=(
        r"\bà\s+(?P<hour>\d{1,2})\s*(?:h|heures?)\s*(?P<minute>\d{2})?(?!\w)",
        r"\bà\s+(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?!\w)",
        r"\b(?P<hour>\d{1,2})h(?P<minute>\d{2})?(?!\w)",
    ),
    twelve_hour=False,
    day_parts=(
        DayPart(r"\bce\s+soir\b", EVENING, today=True),
        DayPart(r"\bce\s+matin\b", MORNING, today=True),
        DayPart(r"\bcet\s+après-midi\b", AFTERNOON, today=True),
        *(DayPart(rf"\b(?:{_DAY})\s+(?P<part>{p})(?!\w)", hours) for p, hours in _PARTS.items()),
        DayPart(r"\bdu\s+matin\b", MORNING),
        DayPart(r"\b(?:de\s+)?l'après-midi\b", AFTERNOON),
        DayPart(r"\bdu\s+soir\b", EVENING),
    ),
    noon=(r"\b(?:à\s+)?(?<!-)midi\b",),
    midnight=(r"\b(?:à\s+)?minuit\b",),
    durations=(
        r"\bdans\s+(?P<amount>\d+)\s*(?P<unit>h)\s*(?P<more>\d{1,2})\b",
        rf"\bdans\s+(?P<amount>{_AMOUNT})\s*-?\s*(?P<unit>{_UNIT})"
        r"(?:\s+et\s+(?P<half>demie?)|\s+(?:et\s+)?(?P<more>\d{1,2})\s*(?:minutes?|min|mn)\b)?"
        r"(?!\w)",
    ),
    units=UNITS,
    amounts=AMOUNTS,
    relative=r"^\s*dans\b",
    unsure=(
        r"\bdans\s+\d{1,2}[:.]\d{2}\b",  # 2 h 30, or at 2:30?
        rf"\bdans\s+\d+(?![\d.,:])(?!\s*(?:{_UNIT}|mois|ans?|années?)(?:\b|\d))",
        rf"\b(?:après|avant|vers|jusqu'à|d'ici|pas\s+avant)\s+(?:{_CLOCK}|midi|minuit)",
        r"\bdans\s+(?:quelques|plusieurs|un\s+moment|un\s+instant|pas\s+longtemps)\b",
    ),
    every=(
        (
            r"\b(?:tous\s+les\s+jours\s+de\s+semaine|en\s+semaine)\b",
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        ),
        (r"\b(?:tous\s+les\s+jours|chaque\s+jour)\b", "FREQ=DAILY"),
        *(
            (rf"\b(?:tous\s+les\s+{name}s|chaque\s+{name})\b", f"FREQ=WEEKLY;BYDAY={day}")
            for name, day in WEEKDAYS.items()
        ),
        (r"\btoutes\s+les\s+(\d+)\s+heures\b", "FREQ=HOURLY;INTERVAL={0}"),
        (r"\btoutes\s+les\s+heures\b", "FREQ=HOURLY;INTERVAL=1"),
    ),
    links=(
        *("de", "d'", "que", "qu'", "pour"),
        *("s'il te plaît", "s'il vous plaît", "stp", "svp", "merci"),
    ),
    time_words=(
        "aujourd'hui",
        "demain",
        "hier",
        "soir",
        "matin",
        "après-midi",
        "nuit",
        "midi",
        "minute",
        "minutes",
        "heure",
        "heures",
        "jour",
        "jours",
        "bientôt",
        "tard",
        *WEEKDAYS,
    ),
    not_days=("je", "sa"),
    list_commands=("liste des rappels", "mes rappels", "affiche mes rappels", "liste rappels"),
    cancel_commands=("annule", "annuler", "annule le rappel"),
    answers={
        "set": "C'est noté : je te rappellerai de {task} {when}.",
        "set_series": "C'est noté : je te rappellerai de {task} {rule}, la première fois {when}.",
        "ask_when": "Quand dois-je te rappeler de {task} ?",
        "ask_what": "De quoi dois-je te rappeler ?",
        "help": (
            "Je peux te rappeler des choses, par exemple « rappelle-moi dans 10 minutes de "
            "boire » ou « rappelle-moi tous les jours à 8h de méditer ». Dis « mes rappels » "
            "pour les voir, « annule 1 » pour en supprimer un."
        ),
        "list": "Tes rappels :",
        "none": "Tu n'as aucun rappel.",
        "cancelled": "Rappel {number} annulé : {task}.",
        "no_such": "Il n'y a pas de rappel {number}. Dis « mes rappels » pour les voir.",
        "reminder": "⏰ Rappel : {task}",
        "done": "Fait",
        "snooze": "Dans 10 minutes",
        "done_ack": "Fait : {task}.",
        "snoozed": "Reporté : je te rappellerai de {task} {when}.",
        "at": "à {time}",
        "on": "le {date}",
        "in": "dans {duration}",
        "date": "%d/%m",
        "every_day": "tous les jours à {time}",
        "every_weekday": "chaque jour de semaine à {time}",
        "every_week": "chaque {day} à {time}",
        "every_hours": "toutes les {n} heures",
        "every_minutes": "toutes les {n} minutes",
        "weekdays": "lundi mardi mercredi jeudi vendredi samedi dimanche",
        "minute": "{n} minute",
        "minutes": "{n} minutes",
        "hour": "{n} heure",
        "hours": "{n} heures",
        "day": "{n} jour",
        "days": "{n} jours",
    },
    yours=YOURS,
    elisions={"de": "d'", "que": "qu'"},
    vowels="aeiouyhàâäéèêëîïôöûùüœæ",
)
