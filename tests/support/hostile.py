"""A corpus of bad requests for both HTTP functions: every one must be turned away harmlessly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from testbed.activities import activity

STUB = "http://127.0.0.1:9/"  # loopback (allowed in Emulator mode); port 9 discards


@dataclass(frozen=True)
class Case:
    name: str
    function: str  # "messages" or "notify"
    body: bytes
    headers: dict[str, str]


def _raw(value: Any) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


NOT_JSON_OBJECTS: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("whitespace", b"  \n\t"),
    ("open-brace", b"{"),
    ("close-brace", b"}"),
    ("truncated-object", b'{"type": "message", "conversation": {"id": '),
    ("truncated-string", b'{"type": "mess'),
    ("array", b"[]"),
    ("array-of-object", b"[{}]"),
    ("string", b'"message"'),
    ("number", b"42"),
    ("huge-number", b"1" + b"0" * 5000),
    ("true", b"true"),
    ("null", b"null"),
    ("nan", b"NaN"),
    ("nul-byte", b"\x00"),
    ("binary", bytes(range(256))),
    ("utf16", '{"type": "message"}'.encode("utf-16")),
    ("invalid-utf8", b'{"type": "\xff\xfe"}'),
    ("trailing-garbage", b'{"type": "message"} trailing'),
    ("two-objects", b"{}{}"),
    ("single-quotes", b"{'type': 'message'}"),
    ("comment", b'{"type": "message" /* hi */}'),
    ("deep-arrays", b"[" * 100_000 + b"]" * 100_000),
    ("deep-objects", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
    ("xml", b"<activity><type>message</type></activity>"),
    ("form", b"type=message&text=hi"),
]


def _activity(**overrides: Any) -> dict[str, Any]:
    body = activity(STUB, "hostile-conversation", type="typing", text=None)
    for key, value in overrides.items():
        if value is _DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


_DROP = object()
WRONG_TYPES = [None, 0, 1.5, True, [], ["message"], {}, {"id": "x"}, ""]
BAD_SERVICE_URLS = [
    "ftp://smba.trafficmanager.net/amer/",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "gopher://smba.trafficmanager.net/",
    "data:text/plain,hi",
    "http://10.0.0.1/",
    "http://192.168.1.1/api/",
    "http://172.16.5.4/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00::1]/",
    "https://attacker.invalid/",
    "https://smba.trafficmanager.net.attacker.invalid/",
    "https://user:pass@smba.trafficmanager.net/",
    "http://smba.trafficmanager.net/amer/",
    "https://",
    "https://[::1",
    "https://smba.trafficmanager.net:99999/",
    "//smba.trafficmanager.net/",
    "smba.trafficmanager.net",
    "https://botframework.com.attacker.invalid/",
]
FORBIDDEN_KEY_CHARACTERS = [
    "/",
    "\\",
    "#",
    "?",
    *map(chr, range(0x20)),
    *map(chr, range(0x7F, 0xA0)),
]


def messages_cases() -> Iterator[tuple[str, Any]]:
    for name, raw in NOT_JSON_OBJECTS:
        yield f"not-json/{name}", raw
    for field in ("type", "serviceUrl", "channelId", "conversation", "from", "recipient"):
        for index, value in enumerate(WRONG_TYPES):
            if field in ("conversation", "from", "recipient") and isinstance(value, dict):
                continue  # an object is the right type there
            yield f"wrong-type/{field}/{index}", _activity(**{field: value})
        yield f"missing/{field}", _activity(**{field: _DROP})
    for field in ("conversation", "from", "recipient"):
        for index, value in enumerate([None, 7, "", ["x"]]):
            yield f"bad-id/{field}/{index}", _activity(**{field: {"id": value}})
    for field, value in [
        ("timestamp", "not a date"),
        ("timestamp", 12),
        ("localTimestamp", "2026-13-45T99:99:99"),
        ("membersAdded", "bot"),
        ("membersAdded", [1, 2]),
        ("membersRemoved", [{"id": {"nested": True}}]),
        ("entities", "x"),
        ("attachments", [1]),
        ("attachments", "card"),
        ("suggestedActions", []),
        ("replyToId", {"id": 1}),
    ]:
        yield f"schema/{field}/{json.dumps(value)[:20]}", _activity(**{field: value})
    for index, url in enumerate(BAD_SERVICE_URLS):
        yield f"service-url/{index}", _activity(type="message", text="hi", serviceUrl=url)
    yield "huge/text", _activity(type="message", text="x" * 300_000)
    yield "huge/conversation-id", _activity(conversation={"id": "c" * 300_000})
    yield "huge/members", _activity(membersAdded=[{"id": f"u{n}"} for n in range(30_000)])
    yield "long/conversation-id", _activity(type="message", conversation={"id": "c" * 2000})
    yield "long/channel-id", _activity(type="message", channelId="x" * 600)
    yield (
        "deep/channel-data",
        _raw(
            json.dumps(_activity(type="message"))[:-1].encode()
            + b', "channelData": '
            + b'{"a":' * 5000
            + b"1"
            + b"}" * 5000
            + b"}"
        ),
    )
    for name in (
        "unknownType",
        "handoff",
        "trace",
        "endOfConversation",
        "messageReaction",
        "event",
        "invoke",
        "deleteUserData",
        "suggestion",
        "contactRelationUpdate",
    ):
        yield f"harmless-type/{name}", _activity(type=name)
    for index, surrogate in enumerate(["\ud800", "\udfff", "a\ud83dz"]):
        yield f"unicode/lone-surrogate/{index}", _activity(conversation={"id": surrogate})
        yield f"unicode/lone-surrogate-channel/{index}", _activity(channelId=surrogate)
    for index, odd in enumerate(["\u202eevil", "zero\u200bwidth", "\ufeffbom", "💬" * 50, "\x00"]):
        yield f"unicode/odd-id/{index}", _activity(conversation={"id": odd})
    for index, character in enumerate(FORBIDDEN_KEY_CHARACTERS):
        yield f"key-character/{index:02x}", _activity(conversation={"id": f"a{character}b"})
    message = json.dumps(_activity(type="message", text="hi"))[:-1]
    yield "duplicate-key/type", (message + ', "type": "typing"}').encode()
    yield "duplicate-key/conversation", (message + ', "conversation": {"id": "other"}}').encode()
    yield "duplicate-key/nested", (message + ', "channelData": {"a": 1, "a": 2}}').encode()


def notify_cases() -> Iterator[tuple[str, Any, dict[str, str]]]:
    for name, raw in NOT_JSON_OBJECTS:
        yield f"not-json/{name}", raw, {}
    for index, value in enumerate([0, True, [], {}, ["x"], {"t": 1}]):
        yield f"wrong-type/text/{index}", {"text": value}, {}
    for index, value in enumerate(
        [
            "card",
            1,
            {},
            [1],
            [None],
            [{}],
            [{"contentType": 5}],
            [{"contentType": ""}],
            [{"contentType": "x"}] * 11,
        ]
    ):
        yield f"wrong-type/attachments/{index}", {"text": "t", "attachments": value}, {}
    for index, value in enumerate(["all", 1, [], True]):
        yield f"wrong-type/to/{index}", {"text": "t", "to": value}, {}
    for field in ("conversationIds", "userIds", "channelIds", "tenantIds"):
        for index, value in enumerate(["x", 1, None, {}, [1], [""], [None], [["x"]]]):
            yield f"wrong-type/to.{field}/{index}", {"text": "t", "to": {field: value}}, {}
    yield "missing/everything", {}, {}
    yield "missing/text-blank", {"text": "   \n"}, {}
    yield "unknown/top", {"text": "t", "sendAll": True}, {}
    yield "unknown/case", {"text": "t", "To": {"userIds": ["u"]}}, {}
    yield "unknown/to-field", {"text": "t", "to": {"everyone": True}}, {}
    yield "deep/to", _raw(b'{"text": "t", "to": ' + b"[" * 5000 + b"]" * 5000 + b"}"), {}
    yield "huge/text", {"text": "x" * 300_000}, {}
    yield "huge/ids", {"text": "t", "to": {"userIds": ["u" * 10] * 30_000}}, {}
    yield "unicode/surrogate-text", _raw(b'{"text": "\\ud800"}'), {}
    for index, key in enumerate(["", "k" * 300, "ключ", "line\nbreak"]):
        yield f"idempotency-key/{index}", {"text": "t"}, {"Idempotency-Key": key}
        yield f"webhook-id/{index}", {"text": "t"}, {"webhook-id": key}
    yield "duplicate-key/text", b'{"text": "t", "text": "u"}', {}
    yield "duplicate-key/to", b'{"text": "t", "to": {}, "to": {"conversationIds": ["x"]}}', {}
    yield "duplicate-key/deep", b'{"text": "t", "data": {"a": [{"b": {"c": 1, "c": 2}}]}}', {}


# Bodies that are fine but not declared as JSON: 415 on both functions (BotBuilder's own HTTP
# adapters answer a channel the same). "" stands for no Content-Type.
NOT_JSON_CONTENT_TYPES = [
    "",
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "application/xml",
    "text/json",
    "application/jsonx",
    "application/json-patch+json",
    "json",
    "application/json\x00",
]


def content_type_cases() -> Iterator[tuple[str, str, Any, dict[str, str]]]:
    valid = {"messages": _activity(type="message", text="hi"), "notify": {"text": "t"}}
    for function, body in valid.items():
        for index, content_type in enumerate(NOT_JSON_CONTENT_TYPES):
            yield f"content-type/{index}", function, body, {"Content-Type": content_type}


def corpus() -> list[Case]:
    cases = [Case(name, "messages", _raw(body), {}) for name, body in messages_cases()]
    cases += [Case(name, "notify", _raw(body), h) for name, body, h in notify_cases()]
    cases += [Case(name, f, _raw(body), h) for name, f, body, h in content_type_cases()]
    return cases
