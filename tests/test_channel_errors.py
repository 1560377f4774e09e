"""What each of the channel's refusals does to its conversation, as the Teams docs list them:
gone for good is removed, disabled by the tenant admin is suspended, anything else fails and is
kept; busy answers are retried. Reports carry the code."""

from __future__ import annotations

import pytest

from shared.app import App
from tests.support.chat import say
from tests.support.functions import post_notify
from tests.support.references import store_conversations, stored_references

REFUSALS = [
    # status, code, outcome, reference kept
    (403, "BotNotInConversationRoster", "removed", False),
    (403, "ConversationBlockedByUser", "removed", False),
    (403, "MessageWritesBlocked", "removed", False),
    (403, "BotDisabledByAdmin", "suspended", True),
    (403, "botdisabledbyadmin", "suspended", True),  # the service's spelling may differ
    (403, "ForbiddenOperationException", "failed", True),
    (413, "MessageSizeTooBig", "failed", True),
    (403, "", "failed", True),  # a 403 that says nothing more is not proof of anything
    (404, "NotFound", "failed", True),
    # 404 ConversationNotFound heals or counts: tests/test_not_found.py
]


@pytest.mark.parametrize(("status", "code", "outcome", "kept"), REFUSALS)
async def test_a_refusal_ends_its_target_as_the_code_says(
    app: App, channel, status: int, code: str, outcome: str, kept: bool
) -> None:
    await store_conversations(app, channel.url, ["c-1", "c-2"])
    channel.answer("c-1", status, code, "refused")

    body = (await post_notify({"text": "hello"})).body

    assert body.get(outcome) == 1
    assert body["sent"] == 1
    assert len(channel.received_by("c-1")) == 1  # never retried
    [failure] = body["failures"]
    assert failure["conversationId"] == "c-1"
    assert failure["status"] == status
    assert failure["error"].split(":")[0] == (code or "HttpError")
    assert failure["removed"] is (outcome == "removed")
    assert failure["suspended"] is (outcome == "suspended")
    stored = {s.conversation_id for s in await stored_references(app)}
    assert ("c-1" in stored) is kept


@pytest.mark.parametrize("status", [412, 429, 502, 503, 504])
async def test_a_busy_answer_is_retried(app: App, channel, status: int) -> None:
    await store_conversations(app, channel.url, ["c-1"])
    channel.answer("c-1", status, "Busy", times=1, headers={"Retry-After": "0"})

    body = (await post_notify({"text": "hello"})).body

    assert body["sent"] == 1
    assert len(channel.received_by("c-1")) == 2


async def test_a_suspended_conversation_is_skipped_until_it_talks_to_the_bot_again(
    app: App, channel
) -> None:
    await store_conversations(app, channel.url, ["c-1", "c-2"])
    channel.answer("c-1", 403, "BotDisabledByAdmin", "disabled by your admin", times=1)
    assert (await post_notify({"text": "first"})).body.get("suspended") == 1
    channel.reset()

    held_back = (await post_notify({"text": "second"})).body

    assert (held_back["suspended"], held_back["sent"]) == (1, 1)
    assert held_back["failures"][0]["error"] == "BotDisabledByAdmin"
    assert channel.received_by("c-1") == []  # nothing was asked of the channel

    await say(channel, "hi again", conversation="c-1")
    channel.reset()
    resumed = (await post_notify({"text": "third"})).body

    assert (resumed.get("suspended", 0), resumed["sent"]) == (0, 2)
    assert len(channel.received_by("c-1")) == 1
