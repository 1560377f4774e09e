"""POST /api/messages: references saved whole, removed when the bot leaves, bad input refused."""

from __future__ import annotations

import asyncio
import json

import pytest
from azure.data.tables.aio import TableClient
from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from shared.app import App
from shared.settings import Settings
from shared.storage.tables import StorageUnavailableError
from testbed.activities import BOT_ID, activity, bot_added, bot_removed
from testbed.channel_stub import ChannelStub
from tests.support.credentials import APP_ID
from tests.support.functions import post_activity, post_notify
from tests.support.references import stored_references

CONVERSATION = "a:1Jd8sd9sOZfQ2b-fAKE-personal-chat"


async def test_a_message_saves_the_reference_exactly_as_the_sdk_serializes_it(app, channel):
    body = activity(channel.url, CONVERSATION, text="hi there")

    response = await post_activity(body)

    assert response.status == 200
    stored = await app.store.get("msteams", CONVERSATION)
    expected = TurnContext.get_conversation_reference(Activity().deserialize(body))
    assert stored.reference.serialize() == expected.serialize()
    assert stored.reference.service_url == channel.url
    assert stored.reference.bot.id == BOT_ID
    assert stored.reference.user.id == "29:user-1"


async def test_the_stored_reference_json_is_the_unmodified_serialize_output(app, app_env, channel):
    body = activity(channel.url, CONVERSATION)

    await post_activity(body)

    async with TableClient.from_connection_string(
        app_env["AzureWebJobsStorage"], app_env["CONVERSATION_TABLE"]
    ) as table:
        [entity] = [e async for e in table.list_entities()]
    reference = TurnContext.get_conversation_reference(Activity().deserialize(body))
    assert json.loads(entity["Reference"]) == reference.serialize()
    assert entity["ConversationId"] == CONVERSATION


async def test_a_message_records_the_ids_used_for_filtering(app, channel):
    await post_activity(activity(channel.url, CONVERSATION, user_id="29:u-7", tenant_id="t-7"))

    stored = await app.store.get("msteams", CONVERSATION)

    assert (stored.channel_id, stored.conversation_id) == ("msteams", CONVERSATION)
    assert (stored.user_id, stored.tenant_id) == ("29:u-7", "t-7")
    assert stored.conversation_type == "personal"
    assert stored.service_url == channel.url
    assert stored.last_seen is not None


async def test_teams_tenant_comes_from_channel_data_when_the_conversation_lacks_it(app, channel):
    body = activity(channel.url, CONVERSATION, tenant_id=None)
    body["channelData"] = {"tenant": {"id": "tenant-from-channel-data"}}

    await post_activity(body)

    stored = await app.store.get("msteams", CONVERSATION)
    assert stored.tenant_id == "tenant-from-channel-data"


async def test_a_message_is_acknowledged_in_reply_to_it(app, channel):
    body = activity(channel.url, CONVERSATION, text="hello bot")

    await post_activity(body)

    [reply] = channel.received_by(CONVERSATION)
    assert reply.reply_to_id == body["id"]
    assert reply.activity["type"] == "message"
    assert "subscribed" in reply.activity["text"]
    assert reply.activity["from"]["id"] == BOT_ID
    assert reply.activity["recipient"]["id"] == "29:user-1"


async def test_the_bot_added_to_a_conversation_saves_it_and_says_welcome(app, channel):
    await post_activity(bot_added(channel.url, "19:team-channel@thread.tacv2"))

    assert await app.store.get("msteams", "19:team-channel@thread.tacv2") is not None
    [welcome] = channel.received_by("19:team-channel@thread.tacv2")
    assert welcome.activity["text"].startswith("Hi!")


async def test_another_member_joining_does_not_save_the_conversation(app, channel):
    body = activity(
        channel.url, CONVERSATION, type="conversationUpdate", membersAdded=[{"id": "29:someone"}]
    )

    response = await post_activity(body)

    assert response.status == 200
    assert await app.store.get("msteams", CONVERSATION) is None
    assert channel.received == []


async def test_the_bot_removed_from_a_conversation_deletes_its_reference(app, channel):
    await post_activity(activity(channel.url, CONVERSATION))

    await post_activity(bot_removed(channel.url, CONVERSATION))

    assert await app.store.get("msteams", CONVERSATION) is None


async def test_teams_app_installation_saves_and_uninstallation_deletes(app, channel):
    install = activity(channel.url, CONVERSATION, type="installationUpdate", action="add")
    uninstall = activity(channel.url, CONVERSATION, type="installationUpdate", action="remove")

    await post_activity(install)
    saved = await app.store.get("msteams", CONVERSATION)
    await post_activity(uninstall)

    assert saved is not None
    assert await app.store.get("msteams", CONVERSATION) is None


async def test_a_deleted_team_deletes_its_reference(app, channel):
    team_conversation = "19:general@thread.tacv2"
    await post_activity(bot_added(channel.url, team_conversation))
    deleted = activity(channel.url, team_conversation, type="conversationUpdate")
    deleted["channelData"] = {"eventType": "teamDeleted", "tenant": {"id": "tenant-1"}}

    await post_activity(deleted)

    assert await app.store.get("msteams", team_conversation) is None


async def test_subscribed_is_true_when_another_instance_unsubscribed_meanwhile(app, channel):
    other_instance = App.create(Settings.from_env())
    try:
        await post_activity(activity(channel.url, CONVERSATION, text="hi"))
        stop = json.dumps(activity(channel.url, CONVERSATION, text="stop")).encode()
        headers = {"Content-Type": "application/json"}
        assert (await other_instance.activities.handle(stop, headers)).status == 200

        await post_activity(activity(channel.url, CONVERSATION, text="hi again"))
    finally:
        await other_instance.close()

    assert await app.store.get("msteams", CONVERSATION) is not None
    assert "subscribed" in channel.received_by(CONVERSATION)[-1].activity["text"]


@pytest.mark.parametrize("text", ["Stop.", "STOP!", " stop… ", "Unsubscribe!!"])
async def test_stop_with_punctuation_around_it_still_unsubscribes(app, channel, text):
    await post_activity(activity(channel.url, CONVERSATION, text="hello"))

    await post_activity(activity(channel.url, CONVERSATION, text=text))

    assert await app.store.get("msteams", CONVERSATION) is None


async def test_saying_stop_unsubscribes_and_any_later_message_subscribes_again(app, channel):
    await post_activity(activity(channel.url, CONVERSATION, text="hello"))

    await post_activity(activity(channel.url, CONVERSATION, text="  STOP "))
    after_stop = await app.store.get("msteams", CONVERSATION)
    await post_activity(activity(channel.url, CONVERSATION, text="back again"))

    assert after_stop is None
    assert await app.store.get("msteams", CONVERSATION) is not None
    replies = [r.activity["text"] for r in channel.received_by(CONVERSATION)]
    assert "unsubscribed" in replies[1]


@pytest.mark.parametrize(
    "conversation_id",
    [
        "a/b\\c#d?e",
        "19:meeting_abc@thread.v2;messageid=1699999999999",
        "a:1-ünïcødé-会话-💬",
        "?",
        "x" * 384,
    ],
    ids=[
        "forbidden-key-chars",
        "colon-semicolon-at",
        "non-ascii",
        "just-?",
        "long",
    ],
)
async def test_any_conversation_id_round_trips_through_table_storage(app, channel, conversation_id):
    response = await post_activity(activity(channel.url, conversation_id, channel_id="webchat"))

    assert response.status == 200
    stored = await app.store.get("webchat", conversation_id)
    assert stored.conversation_id == conversation_id
    assert stored.reference.conversation.id == conversation_id
    assert [s.conversation_id for s in await stored_references(app)] == [conversation_id]


def _with_id(body: dict, field: str, value: str) -> dict:
    if field == "channelId":
        body["channelId"] = value
    elif field.startswith("channelData."):
        _, name, _ = field.split(".")
        body["channelData"][name] = {"id": value}
    else:
        body[field.split(".")[0]]["id"] = value
    return body


ID_FIELDS = [
    "channelId",
    "conversation.id",
    "from.id",
    "recipient.id",
    "channelData.channel.id",
    "channelData.team.id",
]


@pytest.mark.parametrize("field", ID_FIELDS)
@pytest.mark.parametrize("character", ["\n", "\x00", "\x85"], ids=["newline", "nul", "nel"])
async def test_an_id_with_a_control_character_is_a_400_and_nothing_is_stored(
    app, channel, field, character
):
    body = _with_id(activity(channel.url, CONVERSATION), field, f"19:abc{character}def")

    response = await post_activity(body)

    assert response.status == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.body == {
        "error": f"{field} must not contain control characters",
        "detail": {"field": field},
    }
    assert await stored_references(app) == []
    assert channel.received == []


@pytest.mark.parametrize(
    "character",
    ["\t", "\r", "\x1f", "\x7f", "\x80", "\x9f"],
    ids=["tab", "cr", "unit-separator", "del", "c1-first", "c1-last"],
)
async def test_every_c0_c1_and_del_control_character_is_refused(app, channel, character):
    response = await post_activity(activity(channel.url, f"conv{character}1"))

    assert response.status == 400
    assert response.body["detail"] == {"field": "conversation.id"}
    assert await stored_references(app) == []


async def test_the_first_character_past_the_controls_is_an_ordinary_id(app, channel):
    conversation_id = "conv\u00a0nbsp"

    response = await post_activity(activity(channel.url, conversation_id))

    assert response.status == 200
    assert (await app.store.get("msteams", conversation_id)).conversation_id == conversation_id


async def test_a_conversation_id_too_long_for_a_table_key_is_a_400(app, channel):
    response = await post_activity(activity(channel.url, "x" * 385))

    assert response.status == 400
    assert response.body["detail"] == {"field": "conversation.id"}
    assert await stored_references(app) == []


async def test_a_disallowed_service_url_is_refused_and_nothing_is_stored_or_sent(app, channel):
    body = activity("https://attacker.invalid/", CONVERSATION)

    response = await post_activity(body)

    assert response.status == 400
    assert response.body["detail"] == {"field": "serviceUrl"}
    assert await app.store.get("msteams", CONVERSATION) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"serviceUrl": "http://127.0.0.1/", "channelId": "x", "conversation": {"id": "c"}},
            "type",
        ),
        ({"type": "message", "channelId": "x", "conversation": {"id": "c"}}, "serviceUrl"),
        ({"type": "message", "serviceUrl": "http://127.0.0.1/", "channelId": "x"}, "conversation"),
        (
            {
                "type": "message",
                "serviceUrl": "http://127.0.0.1/",
                "channelId": "x",
                "conversation": "c",
            },
            "conversation",
        ),
        (
            {
                "type": "message",
                "serviceUrl": "http://127.0.0.1/",
                "channelId": "x",
                "conversation": {},
            },
            "conversation.id",
        ),
        (
            {
                "type": 7,
                "serviceUrl": "http://127.0.0.1/",
                "channelId": "x",
                "conversation": {"id": "c"},
            },
            "type",
        ),
        (
            {
                "type": "message",
                "serviceUrl": "http://127.0.0.1/",
                "channelId": "x",
                "conversation": {"id": "\ud800"},
            },
            "conversation.id",
        ),
    ],
)
async def test_an_activity_missing_what_we_need_is_a_400_naming_the_field(app, body, field):
    response = await post_activity(body)

    assert response.status == 400
    assert response.body["detail"] == {"field": field}
    assert response.body["error"].startswith(field)


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"not json", b"[1, 2]", b'"a string"', b"null", b"\xff\xfe"],
    ids=["empty", "truncated", "text", "array", "string", "null", "binary"],
)
async def test_a_body_that_is_not_a_json_object_is_a_400(app, raw):
    response = await post_activity(raw)

    assert response.status == 400
    assert "error" in response.body


async def test_an_activity_that_breaks_the_schema_is_a_400_not_a_500(app, channel):
    body = activity(channel.url, CONVERSATION, timestamp="yesterday-ish")

    response = await post_activity(body)

    assert response.status == 400
    assert response.body["error"] == "activity does not match the Bot Framework schema"


async def test_a_body_over_256_kib_is_a_413(app, channel):
    body = activity(channel.url, CONVERSATION, text="x" * (256 * 1024))

    response = await post_activity(body)

    assert response.status == 413
    assert await app.store.get("msteams", CONVERSATION) is None


async def test_with_an_app_id_a_request_without_a_token_is_a_401(app_with, channel: ChannelStub):
    app = await app_with(
        MicrosoftAppId="00000000-0000-0000-0000-000000000001",
        MicrosoftAppPassword="not-a-real-secret",
    )

    response = await post_activity(activity(channel.url, CONVERSATION))

    assert response.status == 401
    assert response.body == {"error": "unauthorized"}
    assert await app.store.get("msteams", CONVERSATION) is None
    assert channel.received == []


async def test_a_slow_turn_shows_typing_before_the_answer(app, channel, monkeypatch):
    real_save = app.store.save_if_changed

    async def slow_save(stored):
        await asyncio.sleep(0.8)  # slower than the typing delay (0.5 s)
        return await real_save(stored)

    monkeypatch.setattr(app.store, "save_if_changed", slow_save)

    await post_activity(activity(channel.url, CONVERSATION))

    typing, answer = channel.wait_for(2)
    assert typing.activity["type"] == "typing"
    assert typing.activity["from"]["id"] == BOT_ID
    assert answer.activity["type"] == "message"


async def test_typing_stops_when_a_slow_turn_fails(app, channel, monkeypatch):
    async def failing_save(stored):
        await asyncio.sleep(0.7)
        raise StorageUnavailableError("simulated outage")

    monkeypatch.setattr(app.store, "save_if_changed", failing_save)

    response = await post_activity(activity(channel.url, CONVERSATION))
    typing_at_answer = len(channel.received)
    await asyncio.sleep(2.5)  # longer than the typing period

    assert response.status == 503
    assert typing_at_answer == 1
    assert len(channel.received) == 1


async def test_a_quick_turn_answers_without_typing_noise(app, channel):
    await post_activity(activity(channel.url, CONVERSATION))
    await asyncio.sleep(0.6)

    assert [r.activity["type"] for r in channel.received] == ["message"]


async def test_a_message_from_an_unchanged_conversation_writes_nothing(app, channel, monkeypatch):
    await post_activity(activity(channel.url, CONVERSATION, text="first"))
    writes = []
    table = app.tables[0]
    monkeypatch.setattr(table, "upsert", _recording(writes, table))

    await post_activity(activity(channel.url, CONVERSATION, text="second"))
    await post_activity(activity(channel.url, CONVERSATION, text="third"))

    assert writes == []
    assert len(channel.received_by(CONVERSATION)) == 3  # every message still answered


async def test_a_changed_reference_is_written_once(app, channel, monkeypatch):
    await post_activity(activity(channel.url, CONVERSATION, text="first"))
    writes = []
    table = app.tables[0]
    monkeypatch.setattr(table, "upsert", _recording(writes, table))
    moved = f"http://127.0.0.1:{channel.port}/emea/"

    await post_activity(activity(moved, CONVERSATION, text="second"))
    await post_activity(activity(moved, CONVERSATION, text="third"))

    assert len(writes) == 1
    assert (await app.store.get("msteams", CONVERSATION)).service_url == moved


async def test_after_unsubscribing_the_next_message_writes_again(app, channel):
    await post_activity(activity(channel.url, CONVERSATION, text="first"))
    await post_activity(activity(channel.url, CONVERSATION, text="stop"))

    await post_activity(activity(channel.url, CONVERSATION, text="again"))

    assert await app.store.get("msteams", CONVERSATION) is not None


def _recording(writes, table):
    real_upsert = table.upsert

    async def upsert(entity):
        writes.append(entity["RowKey"])
        return await real_upsert(entity)

    return upsert


def _without_recipient(body: dict) -> dict:
    """An activity as some local Direct Line emulators send it: no `recipient`."""
    del body["recipient"]
    return body


async def test_a_local_channel_that_leaves_out_the_recipient_starts_a_conversation(app, channel):
    body = _without_recipient(activity(channel.url, "dl-conv-1", channel_id="directline"))

    response = await post_activity(body)

    assert response.status == 200
    stored = await app.store.get("directline", "dl-conv-1")
    expected = TurnContext.get_conversation_reference(Activity().deserialize(body))
    assert stored.reference_json == expected.serialize()
    assert "bot" not in stored.reference_json  # what it had: no bot named
    assert stored.reference.user.id == "29:user-1"
    [reply] = channel.received_by("dl-conv-1")
    assert "subscribed" in reply.activity["text"]
    assert reply.activity["recipient"]["id"] == "29:user-1"
    assert "from" not in reply.activity


async def test_a_null_recipient_is_a_recipient_left_out(app, channel):
    response = await post_activity(activity(channel.url, "dl-conv-2", recipient=None))

    assert response.status == 200
    assert "bot" not in (await app.store.get("msteams", "dl-conv-2")).reference_json


async def test_a_reference_without_its_bot_still_gets_notifications(app, channel):
    await post_activity(_without_recipient(activity(channel.url, "dl-conv-3")))
    channel.reset()

    response = await post_notify({"text": "Deploy finished"})

    assert response.body["sent"] == 1
    [sent] = channel.received_by("dl-conv-3")
    assert sent.activity["text"] == "Deploy finished"
    assert sent.activity["recipient"]["id"] == "29:user-1"


async def test_with_an_app_id_the_missing_recipient_is_the_bot_it_names(
    secured_app, channel, identity_server
):
    body = _without_recipient(activity(channel.url, "dl-conv-4"))
    token = identity_server.channel_token(channel.url)

    response = await post_activity(body, {"Authorization": f"Bearer {token}"})

    assert response.status == 200
    stored = await secured_app.store.get("msteams", "dl-conv-4")
    assert stored.reference_json["bot"] == {"id": APP_ID}
    [reply] = channel.received_by("dl-conv-4")
    assert reply.activity["from"]["id"] == APP_ID


@pytest.mark.parametrize(
    ("recipient", "field", "error"),
    [
        ("bot", "recipient", "recipient must be an object"),
        ({}, "recipient.id", "recipient.id is required and must be a non-empty string"),
        ({"id": ""}, "recipient.id", "recipient.id is required and must be a non-empty string"),
        ({"id": "28:b\nx"}, "recipient.id", "recipient.id must not contain control characters"),
    ],
    ids=["not-an-object", "no-id", "empty-id", "control-character"],
)
async def test_a_recipient_that_is_there_must_still_name_the_bot(
    app, channel, recipient, field, error
):
    response = await post_activity(activity(channel.url, CONVERSATION, recipient=recipient))

    assert response.status == 400
    assert response.body == {"error": error, "detail": {"field": field}}
    assert await stored_references(app) == []
    assert channel.received == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"conversation": {"id": "a\x00b"}}, "conversation.id"),
        ({"channelId": "x" * 600}, "channelId"),
        ({"serviceUrl": "https://attacker.invalid/"}, "serviceUrl"),
        ({"from": {"id": ""}}, "from.id"),
    ],
    ids=["control-character", "too-long-for-a-key", "service-url", "no-sender"],
)
async def test_without_a_recipient_every_other_check_still_holds(app, channel, change, field):
    body = {**_without_recipient(activity(channel.url, CONVERSATION)), **change}

    response = await post_activity(body)

    assert response.status == 400
    assert response.body["detail"] == {"field": field}
    assert await stored_references(app) == []
    assert channel.received == []
