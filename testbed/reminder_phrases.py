# ruff: noqa: E501  (the phrase table reads best one row a line)
"""The reminder phrase table: what people type, in their language and zone, and what it becomes.

Every row is one phrase as a user types it, the activity's locale and timezone, and the outcome:
a reminder due at a local time with its task, a recurring one (its rule and first time), or a
question back ("when?") because the bot would otherwise guess. The clock reads NOW. The tests
(tests/test_reminder_phrases.py) hold the product to every row; `python -m bench.recognizers`
scores the candidate recognizers on the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from shared.chat.reminders.phrases import Asks, Recurring, Single, understand

# Monday 23 November 2026, 08:17 UTC: 03:17 in New York, 09:17 in Berlin, Paris and Madrid,
# 16:17 in Shanghai, 17:17 in Seoul.
NOW = datetime(2026, 11, 23, 8, 17, tzinfo=timezone.utc)
NY, BERLIN, PARIS, MADRID = "America/New_York", "Europe/Berlin", "Europe/Paris", "Europe/Madrid"
SHANGHAI, SEOUL, UTC = "Asia/Shanghai", "Asia/Seoul", "UTC"


@dataclass(frozen=True)
class Due:
    local: str  # "YYYY-MM-DD HH:MM" in the row's zone (the first of two, when clocks go back)
    task: str


@dataclass(frozen=True)
class Every:
    rule: str  # RFC 5545 RRULE, read in the row's zone
    first: str  # the first occurrence, local
    task: str


@dataclass(frozen=True)
class AsksBack:
    task: str | None  # what the question names, when the bot could tell


PHRASES = [
    # The phrasings, as a new user in New York typed them.
    ("en-US", NY, "remind me at 2:30 on March 14 to test DST", AsksBack("test DST")),
    ("en-US", NY, "remind me every day at 9 to stand up", Every("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "2026-11-23 09:00", "stand up")),
    ("en-US", NY, "remind me tonight at 8 to call", Due("2026-11-23 20:00", "call")),
    ("en-US", NY, "remind me tomorrow at 9 to call mom", Due("2026-11-24 09:00", "call mom")),
    ("en-US", NY, "remind me in 1h30 to stretch", Due("2026-11-23 04:47", "stretch")),
    ("en-US", NY, "please remind me in 10 minutes to stretch", Due("2026-11-23 03:27", "stretch")),
    ("en-US", NY, "remind me on Friday to submit the report", AsksBack("submit the report")),
    ("en-US", NY, "remind me in 99999999999999999999 minutes to x", AsksBack("x")),
    ("de-DE", BERLIN, "erinnere mich in 10 Minuten an den Tee", Due("2026-11-23 09:27", "den Tee")),
    ("fr-FR", PARIS, "rappelle-moi dans 10 minutes de boire", Due("2026-11-23 09:27", "boire")),
    # English: durations.
    ("en-US", NY, "remind me in 10 minutes to stretch", Due("2026-11-23 03:27", "stretch")),
    ("en-US", NY, "remind me to stretch in 10 minutes", Due("2026-11-23 03:27", "stretch")),
    ("en-US", NY, "remind me in 1 hour 30 minutes to call mum", Due("2026-11-23 04:47", "call mum")),
    ("en-US", NY, "remind me in an hour to drink water", Due("2026-11-23 04:17", "drink water")),
    ("en-US", NY, "remind me in 2h to deploy", Due("2026-11-23 05:17", "deploy")),
    ("en-US", NY, "remind me in 90 min to leave", Due("2026-11-23 04:47", "leave")),
    ("en-US", NY, "remind me in half an hour to check the oven", Due("2026-11-23 03:47", "check the oven")),
    ("en-US", NY, "remind me in 3 days to renew the certificate", Due("2026-11-26 03:17", "renew the certificate")),
    ("en-US", NY, "Remind me in 5 Minutes To Breathe.", Due("2026-11-23 03:22", "Breathe")),
    # English: clock times, 24 h and am/pm; a bare hour is the next time it shows on a clock.
    ("en-US", NY, "remind me at 17:30 to call Bob", Due("2026-11-23 17:30", "call Bob")),
    ("en-US", NY, "remind me to call Bob at 5:15 p.m.", Due("2026-11-23 17:15", "call Bob")),
    ("en-US", NY, "remind me at 5pm to leave", Due("2026-11-23 17:00", "leave")),
    ("en-US", NY, "remind me at 2:30 to take the pill", Due("2026-11-23 14:30", "take the pill")),
    ("en-US", NY, "remind me at 23:00 to sleep", Due("2026-11-23 23:00", "sleep")),
    ("en-US", NY, "remind me at noon to eat", Due("2026-11-23 12:00", "eat")),
    ("en-US", UTC, "remind me at 08:00 to open the shop", Due("2026-11-24 08:00", "open the shop")),
    ("en-US", UTC, "remind me at 12am to sleep", Due("2026-11-24 00:00", "sleep")),
    # English: days.
    ("en-US", NY, "remind me at 9am tomorrow to open the shop", Due("2026-11-24 09:00", "open the shop")),
    ("en-US", NY, "remind me next Monday at 8:30 to plan the week", Due("2026-11-30 08:30", "plan the week")),
    ("en-US", NY, "remind me on Friday at 3pm to submit the report", Due("2026-11-27 15:00", "submit the report")),
    ("en-US", NY, "remind me on December 24 at 6pm to wrap gifts", Due("2026-12-24 18:00", "wrap gifts")),
    ("en-US", NY, "remind me at 9 on 2026-12-01 to pay rent", Due("2026-12-01 09:00", "pay rent")),
    # English: DST edges in New York (clocks go forward on 14 March 2027, back on 7 November 2027).
    ("en-US", NY, "remind me at 2:30 on March 15 to test DST", Due("2027-03-15 02:30", "test DST")),
    ("en-US", NY, "remind me at 1:30 on November 7 to test the fall back", Due("2027-11-07 01:30", "test the fall back")),
    # English: recurrence.
    ("en-US", NY, "remind me every weekday at 8:30 to check mail", Every("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=8;BYMINUTE=30", "2026-11-23 08:30", "check mail")),
    ("en-US", NY, "remind me every Monday at 10 to water the plants", Every("FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0", "2026-11-23 10:00", "water the plants")),
    ("en-US", NY, "remind me every 2 hours to drink water", Every("FREQ=HOURLY;INTERVAL=2", "2026-11-23 05:17", "drink water")),
    ("en-US", NY, "remind me daily at 7am to take vitamins", Every("FREQ=DAILY;BYHOUR=7;BYMINUTE=0", "2026-11-23 07:00", "take vitamins")),
    ("en-US", NY, "remind me every Monday to water the plants", AsksBack("water the plants")),
    # English: ask, don't guess.
    ("en-US", NY, "remind me to water the plants", AsksBack("water the plants")),
    ("en-US", NY, "remind me sometime to stretch", AsksBack("stretch")),
    ("en-US", NY, "remind me in 10 minutes", AsksBack(None)),
    ("en-US", NY, "remind me in 0 minutes to blink", AsksBack("blink")),
    ("en-US", NY, "remind me at 25:00 to travel in time", AsksBack("travel in time")),
    ("en-US", NY, "remind me at 13pm to lunch", AsksBack("lunch")),
    ("en-US", NY, "remind me in 400 days to celebrate", AsksBack("celebrate")),
    ("en-US", NY, "remind me yesterday at 9 to vote", AsksBack("vote")),
    ("en-US", NY, "remind me in 999999999h to x", AsksBack("x")),
    ("en-US", NY, "remind me every 0 hours to drink water", AsksBack("drink water")),
    ("en-US", NY, "remind me every minute to blink", AsksBack("blink")),
    # German.
    ("de-DE", BERLIN, "erinnere mich morgen um 9 daran, die Mama anzurufen", Due("2026-11-24 09:00", "die Mama anzurufen")),
    ("de-DE", BERLIN, "erinnere mich um 17:30 an den Anruf", Due("2026-11-23 17:30", "den Anruf")),
    ("de-DE", BERLIN, "erinnere mich heute Abend um 8 an den Müll", Due("2026-11-23 20:00", "den Müll")),
    ("de-DE", BERLIN, "erinnere mich am Freitag um 14 Uhr an den Bericht", Due("2026-11-27 14:00", "den Bericht")),
    ("de-DE", BERLIN, "erinnere mich in 2 Stunden ans Training", Due("2026-11-23 11:17", "Training")),
    ("de-DE", BERLIN, "erinnere mich jeden Tag um 9 ans Aufstehen", Every("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "2026-11-24 09:00", "Aufstehen")),
    ("de-DE", BERLIN, "erinnere mich an den Tee", AsksBack("den Tee")),
    # French.
    ("fr-FR", PARIS, "rappelle-moi demain à 9h d'appeler maman", Due("2026-11-24 09:00", "appeler maman")),
    ("fr-FR", PARIS, "rappelle-moi ce soir à 20h de sortir le chien", Due("2026-11-23 20:00", "sortir le chien")),
    ("fr-FR", PARIS, "rappelle-moi à 17h30 d'appeler Bob", Due("2026-11-23 17:30", "appeler Bob")),
    ("fr-FR", PARIS, "rappelle-moi dans 2 heures de partir", Due("2026-11-23 11:17", "partir")),
    ("fr-FR", PARIS, "rappelle-moi tous les jours à 8h de méditer", Every("FREQ=DAILY;BYHOUR=8;BYMINUTE=0", "2026-11-24 08:00", "méditer")),
    ("fr-FR", PARIS, "rappelle-moi de boire", AsksBack("boire")),
    # Spanish.
    ("es-ES", MADRID, "recuérdame en 10 minutos estirarme", Due("2026-11-23 09:27", "estirarme")),
    ("es-ES", MADRID, "recuérdame mañana a las 9 llamar a mamá", Due("2026-11-24 09:00", "llamar a mamá")),
    ("es-ES", MADRID, "recuérdame a las 17:30 llamar a Bob", Due("2026-11-23 17:30", "llamar a Bob")),
    ("es-ES", MADRID, "recuérdame esta noche a las 8 sacar la basura", Due("2026-11-23 20:00", "sacar la basura")),
    ("es-ES", MADRID, "recuérdame todos los días a las 7 tomar vitaminas", Every("FREQ=DAILY;BYHOUR=7;BYMINUTE=0", "2026-11-24 07:00", "tomar vitaminas")),
    ("es-ES", MADRID, "recuérdame llamar a mamá", AsksBack("llamar a mamá")),
    # Chinese.
    ("zh-CN", SHANGHAI, "提醒我10分钟后喝水", Due("2026-11-23 16:27", "喝水")),
    ("zh-CN", SHANGHAI, "明天早上9点提醒我开会", Due("2026-11-24 09:00", "开会")),
    ("zh-CN", SHANGHAI, "今晚8点提醒我打电话", Due("2026-11-23 20:00", "打电话")),
    ("zh-CN", SHANGHAI, "提醒我下午5点半去接孩子", Due("2026-11-23 17:30", "去接孩子")),
    ("zh-CN", SHANGHAI, "每天早上8点提醒我跑步", Every("FREQ=DAILY;BYHOUR=8;BYMINUTE=0", "2026-11-24 08:00", "跑步")),
    ("zh-CN", SHANGHAI, "提醒我喝水", AsksBack("喝水")),
    # Korean.
    ("ko-KR", SEOUL, "10분 후에 물 마시기 알려줘", Due("2026-11-23 17:27", "물 마시기")),
    ("ko-KR", SEOUL, "내일 9시에 회의 알려줘", Due("2026-11-24 09:00", "회의")),
    ("ko-KR", SEOUL, "오늘 밤 8시에 전화 알려줘", Due("2026-11-23 20:00", "전화")),
    ("ko-KR", SEOUL, "리마인드 오후 6시 30분 운동", Due("2026-11-23 18:30", "운동")),
    ("ko-KR", SEOUL, "매일 오전 7시에 비타민 알려줘", Every("FREQ=DAILY;BYHOUR=7;BYMINUTE=0", "2026-11-24 07:00", "비타민")),
    ("ko-KR", SEOUL, "회의 알려줘", AsksBack("회의")),
    # As people type them (issue 22): politeness, durations in every unit, half hours, noon and
    # midnight words, parts of the day, possessives and elision in tasks. Then what the bot is
    # not sure of — a number that could be a duration or a clock time, a part of the day that
    # does not place the hour, a word that may or may not be a day — asked back, never guessed.
    ("en-US", NY, "can you remind me to call mom at 5pm", Due("2026-11-23 17:00", "call mom")),
    ("en-US", NY, "could you remind me in 10 minutes to stretch", Due("2026-11-23 03:27", "stretch")),
    ("en-US", NY, "hey bot, could you please remind me tomorrow at 9 to call the dentist", Due("2026-11-24 09:00", "call the dentist")),
    ("en-US", NY, "remind me to take my pills at 10 tonight please", Due("2026-11-23 22:00", "take my pills")),
    ("en-US", NY, "remind me in an hour and a half to leave", Due("2026-11-23 04:47", "leave")),
    ("en-US", NY, "remind me in 1.5 hours to move the car", Due("2026-11-23 04:47", "move the car")),
    ("en-US", NY, "remind me in 45 mins to check the laundry", Due("2026-11-23 04:02", "check the laundry")),
    ("en-US", NY, "remind me in 90 seconds to check the tea", Due("2026-11-23 03:18", "check the tea")),
    ("en-US", NY, "remind me in 2 weeks to renew my passport", Due("2026-12-07 03:17", "renew my passport")),
    ("en-US", NY, "remind me at 9 in the morning to water the garden", Due("2026-11-23 09:00", "water the garden")),
    ("en-US", NY, "remind me at 3 in the afternoon to pick up the kids", Due("2026-11-23 15:00", "pick up the kids")),
    ("en-US", NY, "remind me at 7 tomorrow evening to call grandma", Due("2026-11-24 19:00", "call grandma")),
    ("en-US", NY, "remind me tomorrow night at 10 to lock the door", Due("2026-11-24 22:00", "lock the door")),
    ("en-US", NY, "remind me this afternoon at 4 to call Sam", Due("2026-11-23 16:00", "call Sam")),
    ("en-US", NY, "remind me at 12 noon to eat lunch", Due("2026-11-23 12:00", "eat lunch")),
    ("en-US", NY, "remind me at midnight to turn off the lights", Due("2026-11-24 00:00", "turn off the lights")),
    ("en-US", NY, "remind me every day at 7 in the evening to journal", Every("FREQ=DAILY;BYHOUR=19;BYMINUTE=0", "2026-11-23 19:00", "journal")),
    ("en-US", NY, "remind me in 2:30 to call mom", AsksBack("call mom")),
    ("en-US", NY, "remind me in 5 to call mom", AsksBack("call mom")),
    ("en-US", NY, "remind me after 5pm to call the bank", AsksBack("call the bank")),
    ("en-US", NY, "remind me in a few minutes to check the oven", AsksBack("check the oven")),
    ("en-US", NY, "remind me tomorrow morning to call mom", AsksBack("call mom")),
    ("en-US", NY, "remind me tonight at 1 to take the bread out", AsksBack("take the bread out")),
    ("en-US", NY, "remind me at 3 in the evening to cook", AsksBack("cook")),
    ("en-US", NY, "remind me at 9pm in the morning to run", AsksBack("run")),
    ("en-US", NY, "remind me at 9 to study for the sat exam", AsksBack("study for the sat exam")),
    ("de-DE", BERLIN, "kannst du mich morgen um 9 an den Arzttermin erinnern?", Due("2026-11-24 09:00", "den Arzttermin")),
    ("de-DE", BERLIN, "erinnere mich bitte morgen um 9 an meinen Termin", Due("2026-11-24 09:00", "meinen Termin")),
    ("de-DE", BERLIN, "bitte erinnere mich in einer halben Stunde an den Kuchen", Due("2026-11-23 09:47", "den Kuchen")),
    ("de-DE", BERLIN, "erinnere mich in einer Viertelstunde an den Tee", Due("2026-11-23 09:32", "den Tee")),
    ("de-DE", BERLIN, "erinnere mich in anderthalb Stunden an die Wäsche", Due("2026-11-23 10:47", "die Wäsche")),
    ("de-DE", BERLIN, "erinnere mich in 90 Minuten an die Pizza", Due("2026-11-23 10:47", "die Pizza")),
    ("de-DE", BERLIN, "erinnere mich in 3 Tagen an die Miete", Due("2026-11-26 09:17", "die Miete")),
    ("de-DE", BERLIN, "erinnere mich in 2 Wochen an die Steuererklärung", Due("2026-12-07 09:17", "die Steuererklärung")),
    ("de-DE", BERLIN, "erinnere mich morgen früh um 7 an den Zug", Due("2026-11-24 07:00", "den Zug")),
    ("de-DE", BERLIN, "erinnere mich um 8 Uhr abends an den Müll", Due("2026-11-23 20:00", "den Müll")),
    ("de-DE", BERLIN, "erinnere mich um halb 8 an den Bus", Due("2026-11-23 19:30", "den Bus")),
    ("de-DE", BERLIN, "erinnere mich um 12 Uhr mittags an das Essen", Due("2026-11-23 12:00", "das Essen")),
    ("de-DE", BERLIN, "erinnere mich um Mitternacht an den Geburtstag", Due("2026-11-24 00:00", "den Geburtstag")),
    ("de-DE", BERLIN, "erinnere mich um 17:30 an die Wäsche", Due("2026-11-23 17:30", "die Wäsche")),
    ("de-DE", BERLIN, "erinnere mich in 2:30 an den Anruf", AsksBack("den Anruf")),
    ("de-DE", BERLIN, "erinnere mich in 5 an den Tee", AsksBack("den Tee")),
    ("de-DE", BERLIN, "erinnere mich gegen 5 an den Anruf", AsksBack("den Anruf")),
    ("de-DE", BERLIN, "erinnere mich heute Abend um 3 an den Film", AsksBack("den Film")),
    ("de-DE", BERLIN, "erinnere mich morgen früh an den Zug", AsksBack("den Zug")),
    ("fr-FR", PARIS, "tu peux me rappeler demain à 9h d'appeler maman ?", Due("2026-11-24 09:00", "appeler maman")),
    ("fr-FR", PARIS, "peux-tu me rappeler dans 10 minutes de boire", Due("2026-11-23 09:27", "boire")),
    ("fr-FR", PARIS, "rappelle-moi s'il te plaît dans une heure de sortir le chien", Due("2026-11-23 10:17", "sortir le chien")),
    ("fr-FR", PARIS, "rappelle-moi dans 2h de partir", Due("2026-11-23 11:17", "partir")),
    ("fr-FR", PARIS, "rappelle-moi dans 1h30 de rappeler le garage", Due("2026-11-23 10:47", "rappeler le garage")),
    ("fr-FR", PARIS, "rappelle-moi dans une demi-heure d'éteindre le four", Due("2026-11-23 09:47", "éteindre le four")),
    ("fr-FR", PARIS, "rappelle-moi dans un quart d'heure de sortir le gâteau", Due("2026-11-23 09:32", "sortir le gâteau")),
    ("fr-FR", PARIS, "rappelle-moi dans 3 jours de payer le loyer", Due("2026-11-26 09:17", "payer le loyer")),
    ("fr-FR", PARIS, "rappelle-moi dans 2 semaines de renouveler mon passeport", Due("2026-12-07 09:17", "renouveler mon passeport")),
    ("fr-FR", PARIS, "rappelle-moi demain matin à 8h d'appeler ma mère", Due("2026-11-24 08:00", "appeler ma mère")),
    ("fr-FR", PARIS, "rappelle-moi à 18h d'appeler ma mère", Due("2026-11-23 18:00", "appeler ma mère")),
    ("fr-FR", PARIS, "rappelle-moi à 8h du soir de nourrir mon chat", Due("2026-11-23 20:00", "nourrir mon chat")),
    ("fr-FR", PARIS, "rappelle-moi à midi de manger", Due("2026-11-23 12:00", "manger")),
    ("fr-FR", PARIS, "rappelle-moi à minuit d'éteindre la box", Due("2026-11-24 00:00", "éteindre la box")),
    ("fr-FR", PARIS, "rappelle-moi dans 10 minutes de m'étirer", Due("2026-11-23 09:27", "m'étirer")),
    ("fr-FR", PARIS, "rappelle-moi demain à 9h d’envoyer le rapport", Due("2026-11-24 09:00", "envoyer le rapport")),
    ("fr-FR", PARIS, "rappelle-moi dans 2:30 de partir", AsksBack("partir")),
    ("fr-FR", PARIS, "rappelle-moi vers 18h d'appeler Paul", AsksBack("appeler Paul")),
    ("fr-FR", PARIS, "rappelle-moi ce soir à 3h de fermer la porte", AsksBack("fermer la porte")),
    ("fr-FR", PARIS, "rappelle-moi demain matin d'appeler maman", AsksBack("appeler maman")),
    ("es-ES", MADRID, "¿puedes recordarme mañana a las 9 llamar a mamá?", Due("2026-11-24 09:00", "llamar a mamá")),
    ("es-ES", MADRID, "por favor recuérdame en 10 minutos estirarme", Due("2026-11-23 09:27", "estirarme")),
    ("es-ES", MADRID, "¿me recuerdas en una hora sacar al perro?", Due("2026-11-23 10:17", "sacar al perro")),
    ("es-ES", MADRID, "recuérdame dentro de 2 horas salir", Due("2026-11-23 11:17", "salir")),
    ("es-ES", MADRID, "recuérdame dentro de 10 minutos apagar el horno", Due("2026-11-23 09:27", "apagar el horno")),
    ("es-ES", MADRID, "recuérdame en media hora sacar la ropa", Due("2026-11-23 09:47", "sacar la ropa")),
    ("es-ES", MADRID, "recuérdame en una hora y media recoger a los niños", Due("2026-11-23 10:47", "recoger a los niños")),
    ("es-ES", MADRID, "recuérdame en 3 días pagar el alquiler", Due("2026-11-26 09:17", "pagar el alquiler")),
    ("es-ES", MADRID, "recuérdame en 2 semanas renovar el pasaporte", Due("2026-12-07 09:17", "renovar el pasaporte")),
    ("es-ES", MADRID, "recuérdame a las 8 de la mañana correr", Due("2026-11-24 08:00", "correr")),
    ("es-ES", MADRID, "recuérdame a las 5 de la tarde llamar a Ana", Due("2026-11-23 17:00", "llamar a Ana")),
    ("es-ES", MADRID, "recuérdame a las 10 de la noche tomar la pastilla", Due("2026-11-23 22:00", "tomar la pastilla")),
    ("es-ES", MADRID, "recuérdame a mediodía comer", Due("2026-11-23 12:00", "comer")),
    ("es-ES", MADRID, "recuérdame a medianoche apagar las luces", Due("2026-11-24 00:00", "apagar las luces")),
    ("es-ES", MADRID, "recuérdame a las 5 y media llamar a mi madre", Due("2026-11-23 17:30", "llamar a mi madre")),
    ("es-ES", MADRID, "recuérdame en 5 salir", AsksBack("salir")),
    ("es-ES", MADRID, "recuérdame después de las 5 llamar a Ana", AsksBack("llamar a Ana")),
    ("es-ES", MADRID, "recuérdame a las 3 de la noche cerrar la puerta", AsksBack("cerrar la puerta")),
    ("es-ES", MADRID, "recuérdame mañana por la mañana llamar a mamá", AsksBack("llamar a mamá")),
    ("zh-CN", SHANGHAI, "提醒我半小时后喝水", Due("2026-11-23 16:47", "喝水")),
    ("zh-CN", SHANGHAI, "半小时后提醒我关火", Due("2026-11-23 16:47", "关火")),
    ("zh-CN", SHANGHAI, "一个半小时后提醒我出门", Due("2026-11-23 17:47", "出门")),
    ("zh-CN", SHANGHAI, "请10分钟后提醒我喝水", Due("2026-11-23 16:27", "喝水")),
    ("zh-CN", SHANGHAI, "麻烦一小时后提醒我开会", Due("2026-11-23 17:17", "开会")),
    ("zh-CN", SHANGHAI, "两个小时后提醒我收衣服", Due("2026-11-23 18:17", "收衣服")),
    ("zh-CN", SHANGHAI, "十五分钟后提醒我关火", Due("2026-11-23 16:32", "关火")),
    ("zh-CN", SHANGHAI, "过20分钟提醒我拿快递", Due("2026-11-23 16:37", "拿快递")),
    ("zh-CN", SHANGHAI, "3天后提醒我交房租", Due("2026-11-26 16:17", "交房租")),
    ("zh-CN", SHANGHAI, "一周后提醒我续签合同", Due("2026-11-30 16:17", "续签合同")),
    ("zh-CN", SHANGHAI, "明天中午提醒我吃饭", Due("2026-11-24 12:00", "吃饭")),
    ("zh-CN", SHANGHAI, "中午1点提醒我午休", Due("2026-11-24 13:00", "午休")),
    ("zh-CN", SHANGHAI, "提醒我晚上7点半去健身房", Due("2026-11-23 19:30", "去健身房")),
    ("zh-CN", SHANGHAI, "提醒我一下明天早上8点开会", Due("2026-11-24 08:00", "开会")),
    ("zh-CN", SHANGHAI, "记得提醒我今晚9点吃药", Due("2026-11-23 21:00", "吃药")),
    ("zh-CN", SHANGHAI, "凌晨2点提醒我看比赛", Due("2026-11-24 02:00", "看比赛")),
    ("zh-CN", SHANGHAI, "零点提醒我发祝福", Due("2026-11-24 00:00", "发祝福")),
    ("zh-CN", SHANGHAI, "3点以后提醒我打电话", AsksBack("打电话")),
    ("zh-CN", SHANGHAI, "晚上12点提醒我睡觉", AsksBack("睡觉")),
    ("zh-CN", SHANGHAI, "明天早上提醒我开会", AsksBack("开会")),
    ("zh-CN", SHANGHAI, "几分钟后提醒我关火", AsksBack("关火")),
    ("ko-KR", SEOUL, "2시간 뒤에 회의 알려줘", Due("2026-11-23 19:17", "회의")),
    ("ko-KR", SEOUL, "2시간 후에 약 먹기 알려줘", Due("2026-11-23 19:17", "약 먹기")),
    ("ko-KR", SEOUL, "한 시간 뒤에 빨래 알려줘", Due("2026-11-23 18:17", "빨래")),
    ("ko-KR", SEOUL, "1시간 반 후에 회의 알려줘", Due("2026-11-23 18:47", "회의")),
    ("ko-KR", SEOUL, "30분 뒤에 물 마시기 좀 알려줘", Due("2026-11-23 17:47", "물 마시기")),
    ("ko-KR", SEOUL, "10분 후에 물 마시기 알려주세요", Due("2026-11-23 17:27", "물 마시기")),
    ("ko-KR", SEOUL, "3일 후에 월세 알려줘", Due("2026-11-26 17:17", "월세")),
    ("ko-KR", SEOUL, "2주 후에 여권 갱신 알려줘", Due("2026-12-07 17:17", "여권 갱신")),
    ("ko-KR", SEOUL, "정오에 점심 알려줘", Due("2026-11-24 12:00", "점심")),
    ("ko-KR", SEOUL, "자정에 일기 쓰기 알려줘", Due("2026-11-24 00:00", "일기 쓰기")),
    ("ko-KR", SEOUL, "내일 아침 9시에 회의 알려주세요", Due("2026-11-24 09:00", "회의")),
    ("ko-KR", SEOUL, "새벽 5시에 운동 알려줘", Due("2026-11-24 05:00", "운동")),
    ("ko-KR", SEOUL, "저녁 7시에 운동 알려줘", Due("2026-11-23 19:00", "운동")),
    ("ko-KR", SEOUL, "오후 3시 반에 회의 알려줄래?", Due("2026-11-24 15:30", "회의")),
    ("ko-KR", SEOUL, "2시 후에 회의 알려줘", AsksBack("회의")),
    ("ko-KR", SEOUL, "내일 3시간 회의 알려줘", AsksBack("회의")),
    ("ko-KR", SEOUL, "밤 12시에 일기 알려줘", AsksBack("일기")),
    ("ko-KR", SEOUL, "밤 2시에 일기 알려줘", AsksBack("일기")),
    ("ko-KR", SEOUL, "내일 아침에 회의 알려줘", AsksBack("회의")),
    ("ko-KR", SEOUL, "몇 분 후에 빨래 알려줘", AsksBack("빨래")),
]  # fmt: skip


def local(text: str, zone: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone))


def outcome(locale: str, zone: str, text: str) -> Due | Every | AsksBack | None:
    """What the product makes of a phrase, in the table's terms (None: not a reminder at all)."""
    understood = understand(text, locale, NOW, ZoneInfo(zone))
    if understood is None:
        return None
    if isinstance(understood, Asks):
        return AsksBack(understood.task or None)
    if isinstance(understood, Recurring):
        first = understood.first.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
        return Every(understood.rule, first, understood.task)
    assert isinstance(understood, Single)
    return Due(
        understood.due.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M"), understood.task
    )
