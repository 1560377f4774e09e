"""A delivered reminder offers "Done" and "Snooze 10 minutes"; the reply is an answer to that
reminder: snooze sends it again ten minutes later, done ends it (for a series, this occurrence)."""

from __future__ import annotations

from shared.app import get_app
from testbed.activities import activity
from tests.support.chat import ADAPTIVE, say, shown
from tests.support.functions import post_activity, run_timer
from tests.support.work_queue import run_queued_work


async def deliver_due(clock, channel, **advance: float) -> list[dict]:
    channel.reset()
    clock.advance(**advance)
    await run_timer()
    await run_queued_work(get_app())
    return [r.activity for r in channel.received]


def buttons(activity: dict) -> list[str]:
    """Its answer buttons: the card's actions in Teams, suggested actions elsewhere."""
    for attachment in activity.get("attachments") or []:
        if attachment["contentType"] == ADAPTIVE:
            return [a["title"] for a in attachment["content"]["actions"]]
    return [a["title"] for a in (activity.get("suggestedActions") or {}).get("actions", [])]


def click(channel, reminder: dict, choice: str):
    """A click on the reminder card's button, as Teams sends it (adaptiveCard/action invoke)."""
    [attachment] = reminder["attachments"]
    [data] = [a["data"] for a in attachment["content"]["actions"] if a["title"] == choice]
    value = {"action": {"type": "Action.Execute", "verb": "answer", "data": data}}
    return post_activity(
        activity(channel.url, "conv-1", type="invoke", name="adaptiveCard/action", value=value)
    )


async def test_a_delivered_reminder_offers_done_and_snooze(clock, channel):
    await say(channel, "remind me in 10 minutes to stretch")

    [reminder] = await deliver_due(clock, channel, minutes=10)

    assert shown(reminder) == "⏰ Reminder: stretch"
    assert buttons(reminder) == ["Done", "Snooze 10 minutes"]


async def test_snooze_sends_the_reminder_again_ten_minutes_later(clock, channel):
    await say(channel, "remind me in 10 minutes to stretch")
    await deliver_due(clock, channel, minutes=10)

    [snoozed] = await say(channel, "Snooze 10 minutes")
    early = await deliver_due(clock, channel, minutes=9)
    [again] = await deliver_due(clock, channel, minutes=1)

    assert snoozed == "Snoozed: I'll remind you to stretch at 09:20 (UTC), in 10 minutes."
    assert early == []
    assert shown(again) == "⏰ Reminder: stretch"
    assert buttons(again) == ["Done", "Snooze 10 minutes"]


async def test_a_click_on_snooze_answers_with_the_card_and_sends_it_again_later(clock, channel):
    await say(channel, "remind me in 10 minutes to stretch")
    [reminder] = await deliver_due(clock, channel, minutes=10)

    response = await click(channel, reminder, "Snooze 10 minutes")
    [again] = await deliver_due(clock, channel, minutes=10)

    card = response.body["value"]
    assert "actions" not in card  # the buttons are gone
    assert [block["text"] for block in card["body"]] == [
        "⏰ Reminder: stretch",
        "Snoozed: I'll remind you to stretch at 09:20 (UTC), in 10 minutes.",
    ]
    assert shown(again) == "⏰ Reminder: stretch"


async def test_a_click_on_done_answers_with_the_card_and_ends_the_reminder(clock, channel):
    await say(channel, "remind me in 10 minutes to stretch")
    [reminder] = await deliver_due(clock, channel, minutes=10)

    response = await click(channel, reminder, "Done")
    second = await click(channel, reminder, "Snooze 10 minutes")
    later = await deliver_due(clock, channel, minutes=30)

    assert [b["text"] for b in response.body["value"]["body"]][1] == "Done: stretch."
    # A later click keeps the question and its answer (issue 22, item 4's cards).
    assert [b["text"] for b in second.body["value"]["body"]][:2] == [
        "⏰ Reminder: stretch",
        "✅ Ada answered: Done",
    ]
    assert later == []


async def test_where_universal_actions_are_missing_the_submitted_choice_snoozes(clock, channel):
    await say(channel, "remind me in 10 minutes to stretch")
    [reminder] = await deliver_due(clock, channel, minutes=10)
    [data] = [a["data"] for a in reminder["attachments"][0]["content"]["actions"][1:]]

    channel.reset()
    await post_activity(activity(channel.url, "conv-1", text=None, value=data))
    [again] = await deliver_due(clock, channel, minutes=10)

    assert shown(again) == "⏰ Reminder: stretch"


async def test_done_ends_the_reminder(clock, channel):
    await say(channel, "remind me in 10 minutes to stretch")
    await deliver_due(clock, channel, minutes=10)

    [done] = await say(channel, "done")
    later = await deliver_due(clock, channel, minutes=30)
    [listing] = await say(channel, "list reminders")

    assert done == "Done: stretch."
    assert later == []
    assert listing.startswith("You have no reminders.")


async def test_done_on_a_series_ends_only_this_occurrence(clock, channel):
    await say(channel, "remind me every day at 10 to stand up")  # 10:00 UTC, an hour from now
    await deliver_due(clock, channel, hours=1)

    [done] = await say(channel, "Done")
    [tomorrow] = await deliver_due(clock, channel, days=1)

    assert done == "Done: stand up."
    assert shown(tomorrow) == "⏰ Reminder: stand up"


async def test_the_buttons_and_answers_are_in_the_reminders_language(clock, channel):
    await say(channel, "erinnere mich in 10 Minuten an den Tee", locale="de-DE")
    [reminder] = await deliver_due(clock, channel, minutes=10)

    [snoozed] = await say(channel, "10 Minuten später", locale="de-DE")

    assert buttons(reminder) == ["Erledigt", "10 Minuten später"]
    assert snoozed == "Verschoben: Ich erinnere dich um 09:20 (UTC), in 10 Minuten an: den Tee."


async def test_other_chat_after_a_reminder_is_not_taken_for_an_answer(clock, channel):
    await say(channel, "remind me in 10 minutes to stretch")
    await deliver_due(clock, channel, minutes=10)

    [confirm] = await say(channel, "remind me in 1 hour to drink water")
    [listing] = await say(channel, "list reminders")

    assert confirm.startswith("Got it: I'll remind you to drink water")
    assert listing.splitlines()[2:] == ["1. drink water, at 10:10 (UTC), in 1 hour"]
