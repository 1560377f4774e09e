"""The local runner writes queue output bindings like the Functions host: what a function sets
on its `out` queue binding lands on the queue once it returns (encoded as host.json says, one
message per list item, the queue created if missing), and this host's listener on that queue
takes it at once instead of waiting out its polling back-off.

Runs a throwaway function app against an in-memory Azurite with the queue service.
"""

from __future__ import annotations

import base64
import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.queue import QueueServiceClient

from devhost.azurite import Azurite, free_port
from devhost.functions import FunctionLoadError, load_function, parse_function_json
from devhost.host import DevHost
from devhost.settings import MissingSettingError
from tests.support.devhost_process import RunningHost, call, start_host, stop_host, wait_for

# Long enough that an idle listener's back-off wait is seconds, not the 100 ms it starts at.
MAX_POLLING = "00:00:20"
IDLE_SECONDS = 4.0  # the back-off is then in a wait of 3.2 s or more (0.1 s, doubling)

HANDS_ON = """
import azure.functions as func


async def main(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
    text = req.get_body().decode("utf-8")
    out.set(text.split("|") if "|" in text else text)
    return func.HttpResponse("handed on")
"""
NOTHING_SET = """
import azure.functions as func


async def main(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
    return func.HttpResponse("nothing to hand on")
"""
RECORD = """
import json
import os
import time

import azure.functions as func


async def main(msg: func.QueueMessage) -> None:
    line = {"body": msg.get_body().decode("utf-8"), "at": time.time()}
    with open(os.environ["RECORD_FILE"], "a", encoding="utf-8") as records:
        records.write(json.dumps(line) + "\\n")
"""
NOT_AN_OUT = """
import azure.functions as func


async def main(req: func.HttpRequest, out: str) -> func.HttpResponse:
    return func.HttpResponse("")
"""


def http_with_output(queue_name: str) -> dict:
    return {
        "bindings": [
            {"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "anonymous"},
            {"type": "http", "direction": "out", "name": "$return"},
            {"type": "queue", "direction": "out", "name": "out", "queueName": queue_name},
        ]
    }


def queue_trigger(queue_name: str) -> dict:
    binding = {"name": "msg", "type": "queueTrigger", "direction": "in", "queueName": queue_name}
    return {"bindings": [{**binding, "connection": "AzureWebJobsStorage"}]}


def write_app(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    host_json = {"version": "2.0", "extensions": {"queues": {"maxPollingInterval": MAX_POLLING}}}
    (root / "host.json").write_text(json.dumps(host_json))
    (root / "local.settings.json").write_text(json.dumps({"Values": {"WORK": "Woken-Items"}}))
    functions = {
        "hand_on": (http_with_output("%WORK%"), HANDS_ON),
        "hand_on_elsewhere": (http_with_output("made-on-first-use"), HANDS_ON),
        "hand_on_nothing": (http_with_output("woken-items"), NOTHING_SET),
        "record": (queue_trigger("woken-items"), RECORD),
    }
    for name, (config, code) in functions.items():
        (root / name).mkdir()
        (root / name / "function.json").write_text(json.dumps(config))
        (root / name / "__init__.py").write_text(textwrap.dedent(code).lstrip())
    return root


@pytest.fixture(scope="module")
def queues(azurite: Azurite) -> QueueServiceClient:
    client = QueueServiceClient.from_connection_string(azurite.connection_string)
    client.create_queue("woken-items")
    return client


@pytest.fixture(scope="module")
def host(
    azurite: Azurite, queues: QueueServiceClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningHost]:
    root = write_app(tmp_path_factory.mktemp("output-app"))
    running = start_host(
        root,
        {
            "AzureWebJobsStorage": azurite.connection_string,
            "RECORD_FILE": str(root / "records.jsonl"),
        },
    )
    yield running
    if running.process.poll() is None:
        stop_host(running)


def records(host: RunningHost) -> list[dict]:
    path = host.root / "records.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines]


def picked_up(host: RunningHost, body: str) -> dict:
    assert wait_for(lambda: any(r["body"] == body for r in records(host)), timeout=25)
    return next(r for r in records(host) if r["body"] == body)


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def test_a_message_handed_on_through_a_binding_is_taken_at_once_by_this_hosts_idle_listener(
    host: RunningHost,
) -> None:
    for attempt in ("first", "second"):
        time.sleep(IDLE_SECONDS)  # the listener has backed off to waits of seconds
        answered_at = time.time()
        reply = call(f"{host.url}/api/hand_on", "POST", f"wake up, {attempt}".encode())
        assert reply.status == 200

        seen = picked_up(host, f"wake up, {attempt}")
        assert seen["at"] - answered_at < 1.0


def test_a_message_put_on_the_queue_by_anyone_else_waits_for_the_next_poll(
    host: RunningHost, queues: QueueServiceClient
) -> None:
    waits = []
    for attempt in ("first", "second"):
        time.sleep(IDLE_SECONDS)
        sent_at = time.time()
        queues.get_queue_client("woken-items").send_message(b64(f"no wake-up, {attempt}"))
        waits.append(picked_up(host, f"no wake-up, {attempt}")["at"] - sent_at)

    # Each arrived during a back-off wait of 3.2 s or more: on average half of it passes first.
    assert max(waits) > 1.0, waits


def test_each_item_of_a_list_is_a_message_of_its_own(
    host: RunningHost, queues: QueueServiceClient
) -> None:
    reply = call(f"{host.url}/api/hand_on_elsewhere", "POST", b"one|two|three")

    assert reply.status == 200
    client = queues.get_queue_client("made-on-first-use")  # created by the write, as the host does
    texts = [m.content for m in client.peek_messages(max_messages=32)]
    assert texts == [b64("one"), b64("two"), b64("three")]  # host.json's default: base64


def test_a_binding_left_unset_writes_nothing(host: RunningHost) -> None:
    before = len(records(host))

    reply = call(f"{host.url}/api/hand_on_nothing", "POST", b"")

    assert (reply.status, reply.body) == (200, b"nothing to hand on")
    time.sleep(1.0)  # the listener was woken for nothing, or not at all: either way, no message
    assert len(records(host)) == before


def test_an_out_binding_whose_parameter_is_not_an_out_is_refused_at_load(tmp_path: Path) -> None:
    function = tmp_path / "wrong"
    function.mkdir()
    (function / "function.json").write_text(json.dumps(http_with_output("anything")))
    (function / "__init__.py").write_text(NOT_AN_OUT.lstrip())

    with pytest.raises(FunctionLoadError, match=r"not a subclass of azure\.functions\.Out"):
        load_function(parse_function_json(function), tmp_path)


async def test_an_output_queue_named_by_a_missing_setting_stops_startup(
    tmp_path: Path, azurite: Azurite
) -> None:
    function = tmp_path / "hand_on"
    function.mkdir()
    (function / "function.json").write_text(json.dumps(http_with_output("%NOWHERE%")))
    (function / "__init__.py").write_text(HANDS_ON.lstrip())
    host = DevHost(
        tmp_path, port=free_port(), environ={"AzureWebJobsStorage": azurite.connection_string}
    )

    with pytest.raises(MissingSettingError, match="NOWHERE"):
        await host.start()
