"""JSON bodies are what they say they are: a key named twice in one object, or a body not declared
as application/json, is refused before anything is sent or stored."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import azure.functions as func
import pytest

import notify_http
from devhost.outputs import OutputValue
from shared.http import MAX_BODY_BYTES, parse_json_object
from shared.notifications.lifecycle import State
from shared.notifications.notification_store import Notification
from shared.request_errors import RequestError
from testbed.activities import activity
from tests.support.functions import patch_notification, post_activity, post_notify
from tests.support.references import store_conversations, stored_references

CARD = '{"contentType": "application/vnd.microsoft.card.adaptive", "content": %s}'
DUPLICATES = {
    "top-level": ('{"text": "a", "text": "b"}', "text"),
    "audience": (
        '{"text": "t", "to": {"conversationIds": ["c-1"], "conversationIds": ["c-2"]}}',
        "conversationIds",
    ),
    "card-deep-down": (
        '{"text": "t", "attachments": [%s]}'
        % (
            CARD
            % '{"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "x", "text": "y"}]}'
        ),
        "text",
    ),
    "in-a-list": ('{"text": "t", "data": [{}, {"n": 1, "n": 1}]}', "n"),
    "escaped-alike": ('{"text": "t", "\\u0074o": {}, "to": {}}', "to"),
}


@pytest.mark.parametrize(("raw", "key"), DUPLICATES.values(), ids=DUPLICATES.keys())
async def test_a_key_named_twice_anywhere_is_a_400_naming_it(app, channel, raw, key):
    await store_conversations(app, channel.url, ["c-1", "c-2"])

    response = await post_notify(raw.encode())

    assert response.status == 400
    assert response.body["detail"] == {"duplicateKey": key}
    assert json.dumps(key) in response.body["error"]
    assert channel.received == []


async def test_one_key_in_different_objects_is_fine(app, channel):
    await store_conversations(app, channel.url, ["c-1"])
    body = {
        "text": "t",
        "to": {"conversationIds": ["c-1"]},
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.hero", "content": {"text": "t"}}
        ],
    }

    response = await post_notify(body)

    assert response.status == 200


async def test_an_activity_naming_a_key_twice_is_a_400_and_nothing_is_stored(app, channel):
    raw = json.dumps(activity(channel.url, "dup-1"))[:-1] + ', "type": "message"}'

    response = await post_activity(raw.encode())

    assert response.status == 400
    assert response.body["detail"] == {"duplicateKey": "type"}
    assert await stored_references(app) == []


def test_a_very_long_duplicate_key_is_named_cut_short():
    key = "k" * 100_000
    with pytest.raises(RequestError) as refused:
        parse_json_object(
            json.dumps({key: 1}).encode()[:-1] + b", " + json.dumps(key).encode() + b": 2}"
        )

    assert refused.value.detail == {"duplicateKey": "k" * 100}


@pytest.mark.parametrize(
    "shape",
    [
        # The most objects a body can hold, and the most keys one object can.
        lambda n: "[" + ",".join(['{"a":1,"b":2}'] * (n // 14)) + "]",
        lambda n: "{" + ",".join(f'"k{i}":0' for i in range(n // 11)) + "}",
    ],
    ids=["tiny-objects", "one-wide-object"],
)
def test_refusing_duplicates_costs_little_on_the_largest_bodies(shape):
    """Measured: about 1.3x json.loads alone on 18,000 tiny objects (about 13 ms against 10),
    a few per cent on the large bodies of test_large_bodies. The margin here is wide, for a
    shared machine; a check that grew with the square of an object's keys would take seconds."""
    body = ('{"x": ' + shape(MAX_BODY_BYTES - 100) + "}").encode()
    assert len(body) <= MAX_BODY_BYTES

    def best_of(parse) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            parse()
            times.append(time.perf_counter() - started)
        return min(times)

    plain = best_of(lambda: json.loads(body))
    checked = best_of(lambda: parse_json_object(body))

    assert checked < plain * 4 + 0.02


# Content-Type: application/json, with or without parameters, in any case.

REFUSED_TYPES = [
    "",
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "text/json",
    "application/jsonx",
    "application/json-seq",
    "application/merge-patch+json",
    "json",
]
ACCEPTED_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON",
    "application/json ;charset=UTF-8",
    'APPLICATION/JSON; charset="utf-8"',
]


@pytest.mark.parametrize("content_type", REFUSED_TYPES)
async def test_a_notify_body_not_declared_as_json_is_a_415(app, channel, content_type):
    await store_conversations(app, channel.url, ["c-1"])

    response = await post_notify({"text": "t"}, {"Content-Type": content_type})

    assert response.status == 415
    assert response.body["detail"] == {"field": "Content-Type", "accepted": ["application/json"]}
    assert channel.received == []


async def test_a_notify_without_a_content_type_is_a_415(app, channel):
    await store_conversations(app, channel.url, ["c-1"])
    request = func.HttpRequest(
        method="POST", url="http://127.0.0.1:7071/api/notify", headers={}, body=b'{"text": "t"}'
    )

    response = await notify_http.main(request, OutputValue())

    assert response.status_code == 415
    assert json.loads(response.get_body())["error"] == "Content-Type must be application/json"
    assert channel.received == []


@pytest.mark.parametrize("content_type", ACCEPTED_TYPES)
async def test_json_with_any_parameters_in_any_case_is_accepted(app, channel, content_type):
    await store_conversations(app, channel.url, ["c-1"])

    response = await post_notify({"text": "t"}, {"Content-Type": content_type})

    assert response.status == 200


async def done_notification(app) -> str:
    notification = await app.notifications.add(
        Notification(
            id=Notification.new_id(),
            state=State.DONE,
            request={"text": "v1"},
            created_at=datetime.now(timezone.utc),
        )
    )
    return notification.id


@pytest.mark.parametrize("content_type", ["text/plain", "", "application/x-www-form-urlencoded"])
async def test_a_change_not_declared_as_json_is_a_415_and_changes_nothing(
    app, channel, content_type
):
    notification_id = await done_notification(app)

    response = await patch_notification(
        notification_id, {"text": "v2"}, {"Content-Type": content_type}
    )

    assert response.status == 415
    assert not (await app.notifications.get(notification_id)).revisions


@pytest.mark.parametrize(
    "content_type", ["application/merge-patch+json", "application/json; charset=utf-8"]
)
async def test_a_change_may_say_it_is_a_json_merge_patch(app, channel, content_type):
    notification_id = await done_notification(app)

    response = await patch_notification(
        notification_id, {"text": "v2"}, {"Content-Type": content_type}
    )

    assert response.status == 202


async def test_a_change_naming_a_key_twice_is_a_400(app, channel):
    notification_id = await done_notification(app)

    response = await patch_notification(notification_id, b'{"text": "v2", "text": "v3"}')

    assert response.status == 400
    assert response.body["detail"] == {"duplicateKey": "text"}
    assert not (await app.notifications.get(notification_id)).revisions


@pytest.mark.parametrize("content_type", ["text/plain", "", "application/x-www-form-urlencoded"])
async def test_an_activity_not_declared_as_json_is_a_415_and_nothing_is_stored(
    app, channel, content_type
):
    response = await post_activity(activity(channel.url, "ct-1"), {"Content-Type": content_type})

    assert response.status == 415
    assert await stored_references(app) == []


async def test_an_activity_as_channels_send_it_is_accepted(app, channel):
    headers = {"Content-Type": "application/json; charset=utf-8"}

    response = await post_activity(activity(channel.url, "ct-2"), headers)

    assert response.status == 200
    assert len(await stored_references(app)) == 1
