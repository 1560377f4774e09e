"""Reminders in French: the words the bot reads, its clock patterns, its answers."""

from shared.chat.reminders.language import Language

WEEKDAYS = {
    "lundi": "MO", "mardi": "TU", "mercredi": "WE", "jeudi": "TH", "vendredi": "FR",
    "samedi": "SA", "dimanche": "SU",
}  # fmt: skip

LANGUAGE = Language(
    code="fr",
    triggers=("rappelle-moi", "rappelle moi", "rappelez-moi", "rappelez moi"),
    polite=("s'il te plaît,?", "stp,?"),
    clocks=(
        r"\bà\s+(?P<hour>\d{1,2})\s*(?:h|heures?)\s*(?P<minute>\d{2})?(?!\w)",
        r"\bà\s+(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?!\w)",
        r"\b(?P<hour>\d{1,2})h(?P<minute>\d{2})?(?!\w)",
    ),
    twelve_hour=False,
    noon=(r"\bà\s+midi\b",),
    midnight=(r"\bà\s+minuit\b",),
    tonight=(r"\bce\s+soir\b",),
    relative=r"^\s*dans\b",
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
    links=("de", "d'", "que", "qu'", "pour"),
    time_words=(
        "aujourd'hui",
        "demain",
        "hier",
        "soir",
        "matin",
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
)
