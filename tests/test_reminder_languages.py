"""Reminders in the user's language: the request is understood in any of the six, the answer is
in the activity's locale where there is a translation, English otherwise."""

from __future__ import annotations

import pytest

from shared.app import get_app
from tests.support.chat import say, shown
from tests.support.functions import run_timer
from tests.support.work_queue import run_queued_work

# The clock reads Monday 23 November 2026, 09:00 UTC.
CONFIRMATIONS = [
    (
        "en-US",
        "remind me in 10 minutes to stretch",
        "Got it: I'll remind you to stretch at 09:10 (UTC), in 10 minutes.",
    ),
    (
        "de-DE",
        "erinnere mich in 10 Minuten an den Tee",
        "Alles klar: Ich erinnere dich um 09:10 (UTC), in 10 Minuten an: den Tee.",
    ),
    (
        "fr-FR",
        "rappelle-moi dans 10 minutes de boire",
        "C'est noté : je te rappellerai de boire à 09:10 (UTC), dans 10 minutes.",
    ),
    (
        "es-ES",
        "recuérdame en 10 minutos estirarme",
        "Entendido: te recordaré estirarme a las 09:10 (UTC), en 10 minutos.",
    ),
    ("zh-CN", "提醒我10分钟后喝水", "好的：我会在09:10 (UTC), 10分钟后提醒你喝水。"),
    (
        "ko-KR",
        "10분 후에 물 마시기 알려줘",
        "알겠어요: 09:10 (UTC), 10분 후에 물 마시기 알려 드릴게요.",
    ),
]


@pytest.mark.parametrize(("locale", "text", "expected"), CONFIRMATIONS, ids=lambda v: v)
async def test_a_request_is_confirmed_in_the_locales_language(
    clock, channel, locale, text, expected
):
    [confirm] = await say(channel, text, locale=locale)

    assert confirm == expected


async def test_the_reminder_itself_comes_in_the_language_it_was_set_in(clock, channel):
    await say(channel, "erinnere mich in 10 Minuten an den Tee", locale="de-DE")
    channel.reset()
    clock.advance(minutes=10)
    await run_timer()
    await run_queued_work(get_app())

    assert [shown(r.activity) for r in channel.received] == ["⏰ Erinnerung: den Tee"]


async def test_a_request_in_another_language_is_answered_in_the_locales(clock, channel):
    [confirm] = await say(channel, "erinnere mich in 10 Minuten an den Tee", locale="en-US")

    assert confirm == "Got it: I'll remind you to den Tee at 09:10 (UTC), in 10 minutes."


async def test_a_locale_without_a_translation_gets_english(clock, channel):
    [confirm] = await say(channel, "remind me in 10 minutes to stretch", locale="ja-JP")

    assert confirm == "Got it: I'll remind you to stretch at 09:10 (UTC), in 10 minutes."


async def test_the_question_back_is_in_the_locales_language(clock, channel):
    [question] = await say(channel, "rappelle-moi de boire", locale="fr-FR")
    [confirm] = await say(channel, "demain à 8h", locale="fr-FR")

    assert question == "Quand dois-je te rappeler de boire ?"
    assert confirm.startswith("C'est noté : je te rappellerai de boire à 08:00 le 24/11 (UTC)")


async def test_list_and_cancel_in_german(clock, channel):
    await say(channel, "erinnere mich in 10 Minuten an den Tee", locale="de-DE")

    [listing] = await say(channel, "Erinnerungen anzeigen", locale="de-DE")
    [cancelled] = await say(channel, "lösche 1", locale="de-DE")

    assert listing == "Deine Erinnerungen:\n\n1. den Tee, um 09:10 (UTC), in 10 Minuten"
    assert cancelled == "Erinnerung 1 gelöscht: den Tee."


# The bot tells the task back in its own voice: the person's "my" is its "your", and French
# elides the "de" before a vowel ("d'appeler", never "de appeler").
TOLD_BACK = [
    (
        "en-US",
        "can you remind me in 10 minutes to call my mom",
        "Got it: I'll remind you to call your mom at 09:10 (UTC), in 10 minutes.",
    ),
    (
        "fr-FR",
        "rappelle-moi dans 10 minutes d'appeler ma mère",
        "C'est noté : je te rappellerai d'appeler ta mère à 09:10 (UTC), dans 10 minutes.",
    ),
    (
        "fr-FR",
        "rappelle-moi dans 10 minutes de envoyer mon rapport",
        "C'est noté : je te rappellerai d'envoyer ton rapport à 09:10 (UTC), dans 10 minutes.",
    ),
    (
        "de-DE",
        "erinnere mich in 10 Minuten an meinen Termin",
        "Alles klar: Ich erinnere dich um 09:10 (UTC), in 10 Minuten an: deinen Termin.",
    ),
    (
        "es-ES",
        "recuérdame en 10 minutos llamar a mi madre",
        "Entendido: te recordaré llamar a tu madre a las 09:10 (UTC), en 10 minutos.",
    ),
]


@pytest.mark.parametrize(("locale", "text", "expected"), TOLD_BACK, ids=lambda v: v)
async def test_the_task_is_told_back_in_the_bots_voice(clock, channel, locale, text, expected):
    [confirm] = await say(channel, text, locale=locale)

    assert confirm == expected


async def test_the_reminder_itself_keeps_the_persons_words(clock, channel):
    await say(channel, "remind me in 10 minutes to call my mom")
    channel.reset()
    clock.advance(minutes=10)
    await run_timer()
    await run_queued_work(get_app())

    assert [shown(r.activity) for r in channel.received] == ["⏰ Reminder: call my mom"]


async def test_the_question_back_elides_too(clock, channel):
    [question] = await say(channel, "rappelle-moi d'envoyer le rapport", locale="fr-FR")

    assert question == "Quand dois-je te rappeler d'envoyer le rapport ?"


async def test_braces_in_a_task_are_text(clock, channel):
    [confirm] = await say(channel, "remind me in 10 minutes to fill in {when} and {task}")

    assert confirm == (
        "Got it: I'll remind you to fill in {when} and {task} at 09:10 (UTC), in 10 minutes."
    )
