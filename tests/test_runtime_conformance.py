"""The app under Azure's own Python worker runtime answers as it does under the local runner.

From Python 3.13 Azure runs function.json apps on the `azure-functions-runtime-v1` package. Each
test here sends the same request or trigger to the app served by devhost and to the app loaded by
that runtime (`tests/support/runtime_worker.py`: worker init, metadata, a load per function.json,
invocations with the host's TypedData), and compares what comes back: status, the headers the app
sets, the JSON body (ids and times aside), and what reaches Azurite and the loopback channel.

Needs Python 3.13 and the runtime package: `make test` runs this module in `.venv-3.13`; on other
interpreters it is skipped.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import json
import re
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

pytest.importorskip(
    "azure_functions_runtime_v1",
    reason="Azure's worker runtime installs only on Python 3.13+ (make test runs it there)",
)
pytest.importorskip("google.protobuf", reason="the FunctionRpc messages need protobuf")

import azure.functions as func
from azure.data.tables.aio import TableClient
from azure.storage.queue import TextBase64DecodePolicy, TextBase64EncodePolicy
from azure.storage.queue.aio import QueueClient
from azure_functions_runtime_v1.bindings.meta import from_incoming_proto

from devhost.azurite import Azurite, free_port
from devhost.host import read_host_json
from devhost.queues import QueueListener, function_message, read_queue_options
from devhost.timers import timer_request
from shared.app import App
from testbed.activities import activity, bot_added
from testbed.channel_stub import ChannelStub, Received
from tests.support.devhost_process import REPO_ROOT, devhost_argv, start_devhost
from tests.support.function_rpc import protos
from tests.support.functions import post_notify
from tests.support.runners import Runners, runner_env
from tests.support.runtime_worker import (
    HttpAnswer,
    RuntimeWorker,
    WorkerError,
    host_queue_message,
    host_timer_info,
)
from tests.support.work_queue import FAST_POLLING, queued_messages

# Both sides: an audience over one conversation goes through the queue; no tenant rate limit.
SETTINGS = {
    "NOTIFY_INLINE_MAX_TARGETS": "1",
    "NOTIFY_MAX_RPS_PER_TENANT": "0",
    "NOTIFY_TIMER_TEXT": "Scheduled hello from the timer",
}
JSON = {"Content-Type": "application/json"}
AZURE = "azure runtime"
# Written by the web server, not by the function or the worker.
SERVER_HEADERS = {"date", "server", "content-length", "transfer-encoding", "connection"}
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")
# Notification ids, and the ids the channel gives the messages sent (Teams' are milliseconds).
_HEX_ID = re.compile(r"\b[0-9a-f]{32}\b")
_MESSAGE_ID = re.compile(r"\b\d{13}\b")

Call = Callable[..., Awaitable[HttpAnswer]]


@pytest.fixture(scope="module")
async def worker() -> Any:
    started = RuntimeWorker(REPO_ROOT)
    await started.start()
    yield started
    started.stop()


@dataclasses.dataclass(frozen=True)
class Local:
    url: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def local(azurite: Azurite, channel_stub: ChannelStub, tmp_path_factory) -> Iterator[Local]:
    """The app under devhost, with SETTINGS, tables and a queue of its own."""
    env = runner_env(azurite.connection_string, **SETTINGS)
    with Runners(env, tmp_path_factory.mktemp("local")) as runners:
        [runner] = runners.start()
        yield Local(runner.url, env)


@pytest.fixture
async def azure_app(app_with) -> App:
    """The process-wide app the runtime's invocations use, with SETTINGS and fresh tables."""
    return await app_with(**SETTINGS)


async def over_http(
    base_url: str, method: str, target: str, headers: dict | None = None, body: bytes = b""
) -> HttpAnswer:
    async with (
        aiohttp.ClientSession(skip_auto_headers={"Content-Type"}) as session,
        session.request(method, base_url + target, headers=headers, data=body) as response,
    ):
        kept = {
            name.lower(): value
            for name, value in response.headers.items()
            if name.lower() not in SERVER_HEADERS
        }
        return HttpAnswer(response.status, kept, await response.read())


def callers(local: Local, worker: RuntimeWorker) -> dict[str, Call]:
    async def local_call(method, target, headers=None, body=b""):
        return await over_http(local.url, method, target, headers, body)

    async def azure_call(method, target, headers=None, body=b""):
        return await worker.http(method, target, headers or (), body)

    return {"local runner": local_call, AZURE: azure_call}


def normalized(value: Any, ids: set[str]) -> Any:
    """`value` with what differs by nature between two runs (ids, times) replaced by markers."""
    if isinstance(value, dict):
        return {key: normalized(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [normalized(item, ids) for item in value]
    if isinstance(value, bytes):
        return normalized(value.decode("utf-8"), ids).encode("utf-8")
    if isinstance(value, str):
        for known in ids:
            value = value.replace(known, "<id>")
        value = _HEX_ID.sub("<hex>", _ISO_TIME.sub("<time>", value))
        return _MESSAGE_ID.sub("<message id>", value)
    return value


def comparable(answer: HttpAnswer, ids: set[str] = frozenset()) -> dict:
    headers = {name.lower(): value for name, value in answer.headers.items()}
    body: Any = answer.body
    if headers.get("content-type", "").startswith("application/json") and body:
        body = answer.json()
    return {
        "status": answer.status,
        "headers": normalized(headers, ids),
        "body": normalized(body, ids),
    }


def ids_in(answer: HttpAnswer) -> set[str]:
    body = answer.json() if answer.body.startswith(b"{") else {}
    return {body["id"]} if isinstance(body, dict) and "id" in body else set()


async def both(
    local: Local, worker: RuntimeWorker, channel: ChannelStub, scenario
) -> dict[str, tuple[Any, list[Received]]]:
    """Run `scenario(call, side)` against the local runner, then the runtime; what it returned
    and what the channel received meanwhile, by side."""
    results = {}
    for side, call in callers(local, worker).items():
        channel.reset()
        outcome = await scenario(call, side)
        results[side] = (outcome, list(channel.received))
    return results


def texts(received: list[Received]) -> list[str]:
    return [r.activity.get("text") for r in received if r.activity.get("type") == "message"]


# --- Loading --------------------------------------------------------------------------------


def test_every_function_of_the_app_loads_under_the_runtime(worker: RuntimeWorker) -> None:
    folders = {p.parent.name for p in REPO_ROOT.glob("*/function.json")}

    assert set(worker.functions) == folders
    assert worker.capabilities["RawHttpBodyBytes"] == "true"


# --- HTTP functions ----------------------------------------------------------------------------


async def test_an_activity_is_answered_alike_and_its_reference_is_stored(
    local, worker, azure_app, channel
):
    async def scenario(call: Call, side: str) -> dict:
        added = await call(
            "POST", "/api/messages", JSON, json.dumps(bot_added(channel.url, "rt-added")).encode()
        )
        said = await call(
            "POST", "/api/messages", JSON, json.dumps(activity(channel.url, "rt-said")).encode()
        )
        return {"added": comparable(added), "said": comparable(said)}

    results = await both(local, worker, channel, scenario)

    (local_answers, local_sent), (azure_answers, azure_sent) = results.values()
    assert azure_answers == local_answers
    assert azure_answers["said"]["status"] == 200
    assert texts(azure_sent) == texts(local_sent)
    assert any("subscribed" in text for text in texts(azure_sent))
    azure_rows = await stored_rows(
        azure_app.settings.storage_connection_string, azure_app.settings.conversation_table
    )
    local_rows = await stored_rows(
        local.env["AzureWebJobsStorage"], local.env["CONVERSATION_TABLE"]
    )
    assert {"rt-added", "rt-said"} <= set(azure_rows)
    assert azure_rows["rt-said"] == local_rows["rt-said"]
    assert azure_rows["rt-added"] == local_rows["rt-added"]


async def stored_rows(connection_string: str, table_name: str) -> dict[str, dict]:
    """Each stored conversation's row, by conversation id, with what differs by nature (the
    activity id, times) left out."""
    async with TableClient.from_connection_string(connection_string, table_name) as table:
        rows = [row async for row in table.list_entities()]
    return {
        row["ConversationId"]: normalized(
            {
                **{k: v for k, v in row.items() if k != "LastSeen"},
                "Reference": json.loads(row["Reference"]) | {"activityId": "<activity>"},
            },
            set(),
        )
        for row in rows
    }


async def test_an_inline_notify_is_answered_alike_and_the_send_happens(
    local, worker, azure_app, channel
):
    async def scenario(call: Call, side: str) -> dict:
        await call(
            "POST", "/api/messages", JSON, json.dumps(activity(channel.url, "rt-1")).encode()
        )
        body = {"text": "Inline hello", "to": {"conversationIds": ["rt-1"]}}
        answer = await call("POST", "/api/notify", JSON, json.dumps(body).encode())
        return comparable(answer, ids_in(answer))

    results = await both(local, worker, channel, scenario)

    (local_answer, local_sent), (azure_answer, azure_sent) = results.values()
    assert azure_answer == local_answer
    assert azure_answer["status"] == 200
    assert texts(azure_sent)[-1] == texts(local_sent)[-1] == "Inline hello"


@pytest.mark.parametrize(
    "body",
    [b'{"to": {"userIds": ["x"]}}', b"not json", b"[1, 2]", b'{"text": "x", "To": {}}'],
    ids=["no text", "not JSON", "not an object", "unknown field"],
)
async def test_a_bad_notify_body_is_the_same_4xx(local, worker, azure_app, channel, body):
    async def scenario(call: Call, side: str) -> dict:
        return comparable(await call("POST", "/api/notify", JSON, body))

    results = await both(local, worker, channel, scenario)

    (local_answer, _), (azure_answer, _) = results.values()
    assert azure_answer == local_answer
    assert 400 <= azure_answer["status"] < 500


async def test_unknown_notification_ids_are_answered_alike(local, worker, azure_app, channel):
    async def scenario(call: Call, side: str) -> list[dict]:
        return [
            comparable(await call("GET", "/api/notify/" + "0" * 32)),
            comparable(await call("GET", "/api/notify/not-an-id/targets")),
            comparable(await call("POST", "/api/notify/" + "0" * 32 + "/cancel")),
        ]

    results = await both(local, worker, channel, scenario)

    (local_answers, _), (azure_answers, _) = results.values()
    assert azure_answers == local_answers
    assert [a["status"] for a in azure_answers] == [404, 404, 404]


# --- The queue: a large audience, its work items, status, targets, cancel --------------------


async def drain_through_the_runtime(worker: RuntimeWorker, app: App, timeout: float = 30) -> None:
    """Poll the app's work queue and its poison queue as the host does (devhost's listener) and
    run every message through the runtime's notify_queue / notify_poison."""
    queue = app.settings.notify_queue
    options = dataclasses.replace(
        read_queue_options(read_host_json(REPO_ROOT, {}), {"WEBSITE_SKU": "Dynamic"}),
        max_polling_interval=FAST_POLLING,
    )

    def listener(function_name: str, queue_name: str) -> QueueListener:
        async def invoke(message: func.QueueMessage, _details: str) -> None:
            await worker.queue(function_name, message)

        return QueueListener(
            function_name,
            queue_name,
            app.settings.storage_connection_string,
            options,
            invoke,
            lease=dt.timedelta(seconds=30),
        )

    listeners = [listener("notify_queue", queue), listener("notify_poison", f"{queue}-poison")]
    polling = [asyncio.create_task(each.run()) for each in listeners]
    deadline = time.monotonic() + timeout
    try:
        while await queued_messages(app, queue) or await queued_messages(app, f"{queue}-poison"):
            assert time.monotonic() < deadline, "queued work not done in time"
            await asyncio.sleep(FAST_POLLING.total_seconds())
    finally:
        for task in polling:
            task.cancel()
        await asyncio.gather(*polling, return_exceptions=True)
        for each in listeners:
            await each.drain(5)


async def settled(call: Call, notification_id: str, timeout: float = 30) -> HttpAnswer:
    deadline = time.monotonic() + timeout
    while True:
        answer = await call("GET", f"/api/notify/{notification_id}")
        if answer.json()["state"] not in ("queued", "sending"):
            return answer
        assert time.monotonic() < deadline, answer.json()
        await asyncio.sleep(0.2)


async def test_a_queued_notify_is_answered_alike_and_its_work_items_complete_under_the_runtime(
    local, worker, azure_app, channel
):
    async def scenario(call: Call, side: str) -> dict:
        for conversation in ("rt-q1", "rt-q2"):
            activity_body = json.dumps(activity(channel.url, conversation)).encode()
            await call("POST", "/api/messages", JSON, activity_body)
        body = {"text": "Queued hello", "to": {"conversationIds": ["rt-q1", "rt-q2"]}}
        accepted = await call("POST", "/api/notify", JSON, json.dumps(body).encode())
        ids = ids_in(accepted)
        if side == AZURE:
            await drain_through_the_runtime(worker, azure_app)
        [notification_id] = ids
        status = await settled(call, notification_id)
        targets = await call("GET", f"/api/notify/{notification_id}/targets")
        csv = await call(
            "GET", f"/api/notify/{notification_id}/targets?outcome=sent", {"Accept": "text/csv"}
        )
        cancel = await call("POST", f"/api/notify/{notification_id}/cancel")
        return {
            name: comparable(answer, ids)
            for name, answer in (
                ("accepted", accepted),
                ("status", status),
                ("targets", targets),
                ("csv", csv),
                ("cancel", cancel),
            )
        }

    results = await both(local, worker, channel, scenario)

    (local_answers, local_sent), (azure_answers, azure_sent) = results.values()
    assert azure_answers == local_answers
    assert azure_answers["accepted"]["status"] == 202
    assert azure_answers["accepted"]["headers"]["location"] == "/api/notify/<id>"
    assert azure_answers["status"]["body"]["state"] == "done"
    sends = [r.conversation_id for r in azure_sent if r.activity.get("text") == "Queued hello"]
    assert sorted(sends) == ["rt-q1", "rt-q2"]
    assert texts(azure_sent).count("Queued hello") == texts(local_sent).count("Queued hello")


async def test_a_queued_notify_sets_its_work_binding_under_the_runtime_as_devhost_writes_it(
    worker, azure_app, channel
):
    for conversation in ("rt-w1", "rt-w2"):
        activity_body = json.dumps(activity(channel.url, conversation)).encode()
        await worker.http("POST", "/api/messages", JSON, activity_body)
    body = {"text": "Wake up", "to": {"conversationIds": ["rt-w1", "rt-w2"]}}

    accepted = await worker.http("POST", "/api/notify", JSON, json.dumps(body).encode())

    assert accepted.status == 202
    [notification_id] = ids_in(accepted)
    # The worker hands the host the value set on notify_http's queue binding, as a string...
    work = worker.last_outputs["work"]
    assert work.WhichOneof("data") == "string"
    wake = {"kind": "wake", "notification": notification_id}
    assert json.loads(work.string) == wake
    # ...which the host writes to the work queue; devhost writes the same from the same call.
    queued = await post_notify(body)
    assert queued.status == 202
    client = QueueClient.from_connection_string(
        azure_app.settings.storage_connection_string,
        azure_app.settings.notify_queue,
        message_decode_policy=TextBase64DecodePolicy(),
    )
    async with client:
        messages = [json.loads(m.content) for m in await client.peek_messages(max_messages=32)]
    assert {"kind": "wake", "notification": queued.body["id"]} in messages
    await drain_through_the_runtime(worker, azure_app)


async def test_a_poisoned_work_item_is_recorded_under_the_runtime(worker, azure_app, channel):
    for conversation in ("rt-p1", "rt-p2"):
        body = json.dumps(activity(channel.url, conversation)).encode()
        await worker.http("POST", "/api/messages", JSON, body)
    accepted = await worker.http("POST", "/api/notify", JSON, b'{"text": "never"}')
    [notification_id] = ids_in(accepted)
    channel.reset()
    client = QueueClient.from_connection_string(
        azure_app.settings.storage_connection_string,
        azure_app.settings.notify_queue + "-poison",
        message_encode_policy=TextBase64EncodePolicy(),
    )
    async with client:
        await client.create_queue()
        source = QueueClient.from_connection_string(
            azure_app.settings.storage_connection_string, azure_app.settings.notify_queue
        )
        async with source:
            async for message in source.receive_messages():
                # The host moved it here after maxDequeueCount failures: the same text.
                await client.send_message(_base64_text(message.content))
                await source.delete_message(message)

    await drain_through_the_runtime(worker, azure_app)

    # The request split the audience's first window: what was poisoned is its chunk.
    status = (await worker.http("GET", f"/api/notify/{notification_id}")).json()
    assert (status["state"], status["counts"]["failed"], status["counts"]["pending"]) == (
        "done",
        2,
        0,
    )
    targets = (await worker.http("GET", f"/api/notify/{notification_id}/targets")).json()
    assert {t["error"].split(":")[0] for t in targets["targets"]} == {"WorkItemPoisoned"}
    assert channel.received == []


def _base64_text(content: str) -> str:
    return base64.b64decode(content).decode("utf-8")


# --- The timer ---------------------------------------------------------------------------------


async def test_the_timer_completes_under_the_runtime_and_broadcasts(worker, azure_app, channel):
    await worker.http(
        "POST", "/api/messages", JSON, json.dumps(activity(channel.url, "rt-timer")).encode()
    )
    channel.reset()

    response = await worker.timer("notify_timer")
    await drain_through_the_runtime(worker, azure_app)  # the broadcast goes through the queue

    assert response.result.status == protos.StatusResult.Success
    assert texts(channel.received) == ["Scheduled hello from the timer"]


# --- What each trigger's function gets, devhost next to the runtime ----------------------------


def test_devhost_gives_a_timer_the_timer_request_the_runtime_decodes(worker) -> None:
    now = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone.utc)
    last = now - dt.timedelta(minutes=1)
    host_json = json.loads(host_timer_info(True, now))
    host_json["ScheduleStatus"]["Last"] = last.isoformat()
    binding = protos.ParameterBinding(
        name="timer", data=protos.TypedData(json=json.dumps(host_json))
    )

    decoded = from_incoming_proto("timerTrigger", binding, trigger_metadata={})
    local = timer_request(True, last, now, now)

    assert (local.past_due, local.schedule, local.schedule_status) == (
        decoded.past_due,
        decoded.schedule,
        decoded.schedule_status,
    )


async def test_devhost_gives_a_queue_function_the_message_the_runtime_decodes(
    worker, azure_app
) -> None:
    client = QueueClient.from_connection_string(
        azure_app.settings.storage_connection_string,
        azure_app.settings.notify_queue,
        message_encode_policy=TextBase64EncodePolicy(),
    )
    async with client:
        await client.create_queue()
        await client.send_message('{"kind": "probe", "text": "héllo"}')
        [received] = [m async for m in client.receive_messages(visibility_timeout=5)]
    body = base64.b64decode(received.content)

    local = function_message(received, body)
    text, metadata = host_queue_message(local)
    binding = protos.ParameterBinding(name="msg", data=protos.TypedData(string=text))
    decoded = from_incoming_proto("queueTrigger", binding, trigger_metadata=metadata)

    def seen(message: func.QueueMessage) -> tuple:
        return (
            message.id,
            message.get_body(),
            message.dequeue_count,
            message.insertion_time,
            message.expiration_time,
            message.time_next_visible,
            message.pop_receipt,
        )

    assert seen(local) == seen(decoded)
    assert isinstance(decoded.dequeue_count, int)
    assert decoded.insertion_time.tzinfo is not None


# --- How a request reaches a function: a probe app under both -----------------------------------

PROBE = textwrap.dedent(
    """
    import json
    import azure.functions as func

    def main(req: func.HttpRequest) -> func.HttpResponse:
        seen = {
            "method": req.method,
            "headers": {k: v for k, v in req.headers.items() if k.startswith("x-")},
            "params": dict(req.params),
            "route": dict(req.route_params),
            "body": req.get_body().decode(),
            "module": __name__,
        }
        return func.HttpResponse(
            json.dumps(seen), status_code=207, headers={"X-Probe": "yes", "Retry-After": "3"},
            mimetype="application/json",
        )
    """
)
PROBE_BINDINGS = {
    "bindings": [
        {
            "type": "httpTrigger",
            "direction": "in",
            "name": "req",
            "authLevel": "anonymous",
            "methods": ["get", "post"],
            "route": "probe/{name}/{tag?}",
        },
        {"type": "http", "direction": "out", "name": "$return"},
    ]
}


# A timer function that returns a value it has no binding for.
STRAY_RETURN = textwrap.dedent(
    """
    import azure.functions as func

    def main(timer: func.TimerRequest) -> str:
        return "nowhere to go"
    """
)
STRAY_RETURN_BINDINGS = {
    "bindings": [
        {"type": "timerTrigger", "direction": "in", "name": "timer", "schedule": "0 0 0 1 1 *"}
    ]
}


@pytest.fixture(scope="module")
async def probe(tmp_path_factory, azurite: Azurite) -> Any:
    """The probe app, served by devhost and loaded by the runtime."""
    root: Path = tmp_path_factory.mktemp("probe_app")
    (root / "host.json").write_text('{"version": "2.0"}')
    for name, bindings, code in (
        ("rtprobe", PROBE_BINDINGS, PROBE),
        ("rtstray", STRAY_RETURN_BINDINGS, STRAY_RETURN),
    ):
        (root / name).mkdir()
        (root / name / "function.json").write_text(json.dumps(bindings))
        (root / name / "__init__.py").write_text(code)
    env = runner_env(azurite.connection_string)
    process, url = start_devhost(root, env, root / "devhost.log")
    loaded = RuntimeWorker(root)
    await loaded.start()
    yield url, loaded, root / "devhost.log"
    process.terminate()
    process.wait(10)


@pytest.mark.parametrize(
    ("method", "target", "headers", "body"),
    [
        ("GET", "/api/probe/ada?sort=asc", {}, b""),
        ("GET", "/api/probe/ada/blue?tag=a&tag=b", {}, b""),
        ("GET", "/api/probe/ada?empty=&sort=", {}, b""),
        ("GET", "/api/probe/a%20b?q=x+y", {"X-Trace": "1"}, b""),
        ("POST", "/api/probe/ada", {"X-Seen": "yes", "Content-Type": "text/plain"}, b"hello"),
    ],
    ids=["query", "repeated query", "empty query values", "encoded", "body and headers"],
)
async def test_a_request_reaches_the_function_as_the_runtime_builds_it(
    probe, method, target, headers, body
):
    url, loaded, _ = probe

    local = await over_http(url, method, target, headers, body)
    azure = await loaded.http(method, target, headers, body)

    assert comparable(azure) == comparable(local)
    assert azure.status == 207


async def test_repeated_request_headers_reach_the_function_joined_as_the_host_joins_them(probe):
    url, loaded, _ = probe
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{url}/api/probe/ada", headers=[("X-Twice", "a"), ("X-Twice", "b")]) as r,
    ):
        local = json.loads(await r.read())

    azure = (
        await loaded.http("GET", "/api/probe/ada", [("X-Twice", "a"), ("X-Twice", "b")])
    ).json()

    assert local["headers"] == azure["headers"] == {"x-twice": "a,b"}


async def test_a_function_module_is_imported_under_the_app_package_as_the_runtime_imports_it(
    probe,
):
    url, loaded, _ = probe

    local = (await over_http(url, "GET", "/api/probe/ada")).json()
    azure = (await loaded.http("GET", "/api/probe/ada")).json()

    assert local["module"] == azure["module"] == "__app__.rtprobe"


async def test_a_value_returned_without_a_return_binding_fails_the_invocation_alike(probe):
    url, loaded, log = probe

    with pytest.raises(WorkerError, match="without a \\$return binding"):
        await loaded.timer("rtstray")
    accepted = await over_http(url, "POST", "/admin/functions/rtstray", JSON, b'{"input": ""}')

    assert accepted.status == 202
    deadline = time.monotonic() + 10
    while "Executed 'Functions.rtstray'" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        await asyncio.sleep(0.05)
    assert "Executed 'Functions.rtstray' (Failed" in log.read_text()


WRONG_ANNOTATION = textwrap.dedent(
    """
    import azure.functions as func

    def main(timer: func.QueueMessage) -> None:
        pass
    """
)


async def test_a_trigger_annotation_that_does_not_fit_its_binding_is_refused_at_load_alike(
    tmp_path: Path,
):
    root = tmp_path / "misannotated_app"
    (root / "rtwrong").mkdir(parents=True)
    (root / "host.json").write_text('{"version": "2.0"}')
    (root / "rtwrong" / "function.json").write_text(json.dumps(STRAY_RETURN_BINDINGS))
    (root / "rtwrong" / "__init__.py").write_text(WRONG_ANNOTATION)

    with pytest.raises(WorkerError, match="does not match its Python annotation"):
        await RuntimeWorker(root).start()
    local = await asyncio.create_subprocess_exec(
        *devhost_argv(root, free_port()), cwd=REPO_ROOT, stderr=asyncio.subprocess.PIPE
    )
    try:
        _, stderr = await asyncio.wait_for(local.communicate(), 30)
    finally:
        if local.returncode is None:  # it started after all
            local.kill()
            await local.wait()

    assert local.returncode == 1
    assert "does not match its Python annotation" in stderr.decode()


async def test_a_chunked_request_body_does_not_reach_the_function_as_on_azure(probe):
    # The host passes a body only with a Content-Length (azure-functions-host#7930).
    url, loaded, log = probe

    async def chunks():
        yield b'{"text": '
        yield b'"hello"}'

    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/api/probe/ada", data=chunks()) as response,
    ):
        local = json.loads(await response.read())
    azure = (await loaded.http("POST", "/api/probe/ada", {"Transfer-Encoding": "chunked"})).json()

    assert local["body"] == azure["body"] == ""
    assert "the body came chunked" in log.read_text()
