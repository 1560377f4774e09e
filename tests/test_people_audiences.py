"""People of an organisation reached wherever they are: the members of Entra groups and people
named by e-mail, each once, one to one; the app installed through Graph for those who never
talked to the bot, and their chat stored, so the next notification is one send each."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator

import jwt
import pytest
from opentelemetry.trace import SpanKind

from shared.app import App
from shared.telemetry.names import API, GRAPH, HTTP_STATUS, THROTTLED
from testbed.activities import activity
from testbed.graph_stub import GraphStub
from tests.support.credentials import APP_ID
from tests.support.functions import all_targets, get_status, post_activity, post_notify
from tests.support.http_client import post
from tests.support.references import stored_references
from tests.support.runners import Runners, runner_env, status_when_settled
from tests.support.telemetry import recording
from tests.support.work_queue import run_queued_work

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CATALOG_APP_ID = "5a1f7c2e-8d2b-4f5e-9a61-3c6f1f0e9b11"


def person() -> str:
    return str(uuid.uuid4())


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphStub]:
    stub = GraphStub().start()
    yield stub
    stub.stop()


@pytest.fixture
async def people_app(app_with, graph: GraphStub, channel) -> App:
    """Graph on loopback (no token with auth off), the app's catalog id set, Teams reached on
    the loopback channel; no rate limit on sends, no timer broadcast."""
    graph.reset()
    return await app_with(
        GRAPH_ENDPOINT=graph.url,
        TEAMS_APP_ID=CATALOG_APP_ID,
        TEAMS_SERVICE_URL=channel.url,
        NOTIFY_MAX_RPS_PER_TENANT="0",
        NOTIFY_TIMER_TEXT="",
    )


async def notify(to: dict) -> str:
    accepted = await post_notify({"text": "All hands at 3", "to": {**to, "tenantIds": [TENANT]}})
    assert accepted.status == 202, accepted.body
    return accepted.body["id"]


def delivered(channel) -> Counter:
    return Counter(r.conversation_id for r in channel.received if r.status == 200)


def installs(graph: GraphStub) -> list[str]:
    return [
        c.path.split("/")[2]
        for c in graph.calls
        if c.method == "POST" and c.path.endswith("/teamwork/installedApps")
    ]


async def talked_to_the_bot(channel, aad_object_id: str) -> str:
    """A person who wrote to the bot in their 1:1: its conversation id."""
    conversation = f"a:chat-of-{aad_object_id}"
    sender = {"id": f"29:{aad_object_id}", "name": "Ada", "aadObjectId": aad_object_id}
    answer = await post_activity(
        activity(channel.url, conversation, tenant_id=TENANT, **{"from": sender})
    )
    assert answer.status == 200
    return conversation


async def test_every_member_of_the_groups_is_reached_once_and_installed_for_if_need_be(
    people_app, graph, channel
):
    u1, u2, u3, u4, u5 = (graph.add_user(person())["id"] for _ in range(5))
    outer, nested, other = person(), person(), person()
    graph.add_group(nested, users=[u3, u4])
    graph.add_group(outer, users=[u1, u2, u3], groups=[nested])
    graph.add_group(other, users=[u5, u1])
    known_chat = await talked_to_the_bot(channel, u2)
    channel.reset()

    notification_id = await notify({"groups": [outer, other]})
    await run_queued_work(people_app)

    expected = {known_chat, *(GraphStub.chat_id(u) for u in (u1, u3, u4, u5))}
    assert delivered(channel) == Counter(expected)  # five people, each once
    assert sorted(installs(graph)) == sorted([u1, u3, u4, u5])  # not for the one with a 1:1
    assert {c.authorization for c in graph.calls} == {None}  # auth off: no token to a loopback
    assert all(CATALOG_APP_ID in graph.installed(u) for u in (u1, u3, u4, u5))
    status = (await get_status(notification_id)).body
    assert (status["state"], status["counts"]["matched"], status["counts"]["sent"]) == (
        "done",
        5,
        5,
    )

    channel.reset()
    graph.reset()
    await notify({"groups": [outer, other]})
    await run_queued_work(people_app)

    assert delivered(channel) == Counter(expected)
    assert installs(graph) == []  # every chat is stored now: one send each


async def test_people_named_by_e_mail_are_looked_up_in_batches_and_the_unknown_fail(
    people_app, graph, channel
):
    named = [graph.add_user(person(), f"person{n}@contoso.example") for n in range(25)]
    by_id = graph.add_user(person())["id"]
    emails = [u["userPrincipalName"] for u in named]

    notification_id = await notify({"userIds": [*emails, "nobody@contoso.example", by_id]})
    await run_queued_work(people_app)

    reached = {GraphStub.chat_id(u["id"]) for u in named} | {GraphStub.chat_id(by_id)}
    assert delivered(channel) == Counter(reached)
    batches = [c for c in graph.calls if c.path == "/$batch"]
    assert [len(b.body["requests"]) for b in batches] == [20, 6]  # Graph's 20 a batch
    failed = await all_targets(notification_id, outcome="failed")
    assert [(t["conversationId"], t["status"]) for t in failed] == [("nobody@contoso.example", 404)]
    assert "Request_ResourceNotFound" in failed[0]["error"]
    counts = (await get_status(notification_id)).body["counts"]
    assert (counts["matched"], counts["sent"], counts["failed"]) == (27, 26, 1)


async def test_a_missing_group_and_a_blocked_install_are_one_failed_target_each(
    people_app, graph, channel
):
    ok, blocked = graph.add_user(person())["id"], graph.add_user(person())["id"]
    group, missing = person(), person()
    graph.add_group(group, users=[ok, blocked])
    graph.answer(blocked, 403, "Forbidden", "App is blocked by app permission policy.")

    notification_id = await notify({"groups": [group, missing]})
    await run_queued_work(people_app)

    assert delivered(channel) == Counter({GraphStub.chat_id(ok): 1})
    failed = {t["conversationId"]: t for t in await all_targets(notification_id, outcome="failed")}
    assert set(failed) == {blocked, missing}
    assert (failed[blocked]["status"], failed[blocked]["error"].split(":")[0]) == (403, "Forbidden")
    assert (failed[missing]["status"], failed[missing]["error"].split(":")[0]) == (
        404,
        "Request_ResourceNotFound",
    )
    counts = (await get_status(notification_id)).body["counts"]
    assert (counts["matched"], counts["sent"], counts["failed"], counts["pending"]) == (3, 1, 2, 0)


async def test_graph_throttling_is_waited_out_as_retry_after_says(people_app, graph, channel):
    members = [graph.add_user(person())["id"] for _ in range(3)]
    group = person()
    graph.add_group(group, users=members)
    graph.answer(group, 429, "TooManyRequests", "Slow down", headers={"Retry-After": "1"})

    await notify({"groups": [group]})
    await run_queued_work(people_app)

    assert delivered(channel) == Counter(GraphStub.chat_id(m) for m in members)
    pages = [c for c in graph.calls if "/transitiveMembers/" in c.path]
    assert [p.status for p in pages] == [429, 200]
    assert pages[1].at - pages[0].at >= 1.0


async def test_a_large_group_is_paged_and_each_member_reached_once(app_with, graph, channel):
    app = await app_with(
        GRAPH_ENDPOINT=graph.url,
        TEAMS_APP_ID=CATALOG_APP_ID,
        TEAMS_SERVICE_URL=channel.url,
        NOTIFY_MAX_RPS_PER_TENANT="0",
        GRAPH_MAX_RPS_PER_TENANT="1000",  # three calls a new person: quick on loopback
        NOTIFY_TIMER_TEXT="",
    )
    graph.reset()
    members = [graph.add_user(person())["id"] for _ in range(1200)]
    for m in members[:600]:
        graph.install(m, CATALOG_APP_ID)  # installed earlier: 409, then its chat
    group = person()
    graph.add_group(group, users=members)

    notification_id = await notify({"groups": [group]})
    await run_queued_work(app, timeout=180)

    assert delivered(channel) == Counter(GraphStub.chat_id(m) for m in members)
    pages = [c for c in graph.calls if "/transitiveMembers/" in c.path]
    assert len(pages) == 2  # 999 a page
    counts = (await get_status(notification_id)).body["counts"]
    assert (counts["matched"], counts["sent"]) == (1200, 1200)


async def test_the_install_s_own_activities_store_no_second_reference(people_app, graph, channel):
    someone = graph.add_user(person())["id"]
    group = person()
    graph.add_group(group, users=[someone])
    await notify({"groups": [group]})
    await run_queued_work(people_app)
    installed_chat = GraphStub.chat_id(someone)

    # Teams then tells the bot of the install, naming the same chat as Bot Framework does.
    sender = {"id": f"29:{someone}", "aadObjectId": someone}
    update = activity(
        channel.url,
        "a:the-same-chat",
        type="installationUpdate",
        action="add",
        tenant_id=TENANT,
        **{"from": sender},
    )
    channel.reset()
    assert (await post_activity(update)).status == 200
    assert (await post_activity(update)).status == 200  # Teams tells of an install more than once

    stored = [r.conversation_id for r in await stored_references(people_app)]
    assert stored == [installed_chat]
    greetings = [r for r in channel.received if r.conversation_id == "a:the-same-chat"]
    assert len(greetings) == 1  # said once, in the chat Teams named

    said_stop = activity(
        channel.url, "a:the-same-chat", text="stop", tenant_id=TENANT, **{"from": sender}
    )
    assert (await post_activity(said_stop)).status == 200
    assert await stored_references(people_app) == []


async def test_without_the_app_s_catalog_id_people_without_a_1to1_fail_clearly(
    app_with, graph, channel
):
    graph.reset()
    app = await app_with(
        GRAPH_ENDPOINT=graph.url, TEAMS_SERVICE_URL=channel.url, NOTIFY_TIMER_TEXT=""
    )
    someone = graph.add_user(person())["id"]
    group = person()
    graph.add_group(group, users=[someone])

    notification_id = await notify({"groups": [group]})
    await run_queued_work(app)

    failed = await all_targets(notification_id, outcome="failed")
    assert [(t["conversationId"], t["error"].split(":")[0]) for t in failed] == [
        (someone, "TeamsAppIdNotSet")
    ]
    assert installs(graph) == []


@pytest.mark.parametrize(
    ("to", "field"),
    [
        ({"groups": ["not-a-guid"]}, "to.groups"),
        ({"groups": [str(uuid.uuid4()) for _ in range(21)]}, "to.groups"),
        ({"groups": [str(uuid.uuid4())], "conversationIds": ["a:1"]}, "to.conversationIds"),
        ({"userIds": ["ada@contoso.example", "29:abc"]}, "to.userIds"),
        (
            {"groups": [str(uuid.uuid4())], "tenantIds": [TENANT, TENANT.replace("7", "8")]},
            "to.tenantIds",
        ),
    ],
)
async def test_a_people_audience_that_cannot_be_meant_is_refused(people_app, to, field):
    answer = await post_notify({"text": "hi", "to": to})

    assert answer.status == 400
    assert answer.body["detail"] == {"field": field}


async def test_without_a_tenant_named_or_configured_a_people_audience_is_refused(people_app):
    answer = await post_notify({"text": "hi", "to": {"groups": [str(uuid.uuid4())]}})

    assert (answer.status, answer.body["detail"]["field"]) == (400, "to.tenantIds")


async def test_five_thousand_members_through_two_runners_are_each_reached_exactly_once(
    azurite, channel_stub, graph, tmp_path_factory
):
    """The whole path as Functions runs it: two devhost instances share the queue; half the
    group has the app installed already (409, then its chat), the other half gets it now. Pages
    run one after another (they are counted in order, and the tenant's Graph budget, not an
    instance, is what bounds them), their chunks on whichever instance takes them."""
    graph.reset()
    channel_stub.reset()
    members = [graph.add_user(person())["id"] for _ in range(5000)]
    for m in members[::2]:
        graph.install(m, CATALOG_APP_ID)
    group = person()
    graph.add_group(group, users=members)
    env = runner_env(
        azurite.connection_string,
        GRAPH_ENDPOINT=graph.url,
        TEAMS_APP_ID=CATALOG_APP_ID,
        TEAMS_SERVICE_URL=channel_stub.url,
        GRAPH_MAX_RPS_PER_TENANT=1000,
        NOTIFY_MAX_RPS_PER_TENANT=0,
    )

    with Runners(env, tmp_path_factory.mktemp("people")) as runners:
        first, second = runners.start(2)
        body = {"text": "Open enrolment", "to": {"groups": [group], "tenantIds": [TENANT]}}
        status, answer = await post(f"{first.url}/api/notify", body)
        assert status == 202, answer
        try:
            settled = await status_when_settled(second.url, answer["id"], timeout=240)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{runners.tails()}") from None
        chunk_sends = (first.chunk_sends(), second.chunk_sends())
        people_pages = (first.output().count("people page"), second.output().count("people page"))

    sends = Counter(r.conversation_id for r in channel_stub.received if r.status == 200)
    assert sends == Counter(GraphStub.chat_id(m) for m in members)  # each exactly once
    assert (settled["state"], settled["counts"]["matched"], settled["counts"]["sent"]) == (
        "done",
        5000,
        5000,
    )
    assert sorted(installs(graph)) == sorted(members)  # each asked once, installed or not
    assert sum(chunk_sends) == 5000, chunk_sends  # each chunk sent by one of them, once
    assert sum(people_pages) == 6, people_pages  # 999 members a page, each page run once


async def test_with_auth_on_graph_gets_the_bot_s_token_from_the_directory_tenant(
    secured_env, app_with, graph, channel, identity_server
):
    identity_server.tenants_asked.clear()
    graph.reset()
    app = await app_with(
        GRAPH_ENDPOINT=graph.url,
        TEAMS_APP_ID=CATALOG_APP_ID,
        TEAMS_SERVICE_URL=channel.url,
        NOTIFY_TIMER_TEXT="",
    )
    members = [graph.add_user(person())["id"] for _ in range(3)]
    group = person()
    graph.add_group(group, users=members)

    accepted = await post_notify({"text": "Hi", "to": {"groups": [group], "tenantIds": [TENANT]}})
    await run_queued_work(app)

    assert accepted.status == 202
    assert delivered(channel) == Counter(GraphStub.chat_id(m) for m in members)
    tokens = {c.authorization for c in graph.calls}
    [token] = tokens  # one token, cached, for every call
    claims = jwt.decode(token.split(" ", 1)[1], options={"verify_signature": False})
    assert (claims["appid"], claims["tid"]) == (APP_ID, TENANT)
    assert identity_server.tenants_asked == [TENANT]


async def test_a_person_named_by_e_mail_and_by_object_id_is_one_target(people_app, graph, channel):
    ada = graph.add_user(person(), "ada@contoso.example")

    notification_id = await notify({"userIds": ["ada@contoso.example", ada["id"]]})
    await run_queued_work(people_app)

    assert delivered(channel) == Counter({GraphStub.chat_id(ada["id"]): 1})
    counts = (await get_status(notification_id)).body["counts"]
    assert (counts["matched"], counts["sent"]) == (1, 1)


async def test_a_question_sent_into_an_installed_chat_takes_its_answer_from_teams_own_id(
    people_app, graph, channel
):
    someone = graph.add_user(person())["id"]
    group = person()
    graph.add_group(group, users=[someone])
    body = {
        "text": "Coming to the offsite?",
        "choices": ["Yes", "No"],
        "to": {"groups": [group], "tenantIds": [TENANT]},
    }
    accepted = await post_notify(body)
    await run_queued_work(people_app)
    channel.reset()

    sender = {"id": f"29:{someone}", "aadObjectId": someone}
    reply = activity(channel.url, "a:their-chat", text="yes", tenant_id=TENANT, **{"from": sender})
    assert (await post_activity(reply)).status == 200

    status = (await get_status(accepted.body["id"])).body
    assert [a["choice"] for a in status["answers"]] == ["Yes"]
    assert "recorded your answer" in channel.received[0].activity["text"]


async def test_graph_calls_are_traced_by_route_without_the_people_in_them(
    people_app, graph, channel
):
    # Addresses of their own: the stub keeps earlier tests' people (installed for already).
    named = [graph.add_user(person(), f"traced{n}@contoso.example") for n in range(3)]
    group = person()
    graph.add_group(group, users=[named[0]["id"]])
    graph.answer(group, 429, "TooManyRequests", "Slow down", headers={"Retry-After": "0"})

    with recording(sends_per_run=1000) as recorded:
        await notify({"groups": [group], "userIds": [u["userPrincipalName"] for u in named]})
        await run_queued_work(people_app)

    calls = [s for s in recorded.of_kind(SpanKind.CLIENT) if s.attributes[API] == GRAPH]
    assert len(calls) == len(graph.calls)
    assert {s.name for s in calls} >= {
        "GET /v1.0/groups/{id}/transitiveMembers/microsoft.graph.user",
        "POST /v1.0/$batch",
        "POST /v1.0/users/{id}/teamwork/installedApps",
    }
    assert sorted(s.attributes[HTTP_STATUS] for s in calls if s.attributes[HTTP_STATUS] >= 400) == [
        429
    ]
    recorded_text = repr([(s.name, dict(s.attributes)) for s in recorded.spans()])
    assert not any(
        u["userPrincipalName"] in recorded_text or u["id"] in recorded_text for u in named
    )
    assert recorded.totals(THROTTLED, by=API) == {GRAPH: 1}
