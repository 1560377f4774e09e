"""The local runner serves queue triggers like the Functions host: it polls Azurite, decodes base64,
counts dequeues, retries after `visibilityTimeout`, moves poison messages aside, bounds
concurrency by `batchSize` / `newBatchThreshold` and runs queue functions from the admin API.

Runs throwaway function apps against an in-memory Azurite with the queue service.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import itertools
import json
import os
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import azure.functions as func
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient, QueueServiceClient

from devhost.azurite import Azurite
from devhost.functions import QUEUE_TRIGGER, FunctionSpec
from devhost.host import read_host_json
from devhost.queues import (
    DEVELOPMENT_MAX_POLLING_INTERVAL,
    LEASE,
    QueueListener,
    QueueOptions,
    QueueTriggerError,
    polling_delays,
    read_lease,
    read_queue_options,
    resolve_queue_name,
    storage_connection_string,
)
from devhost.settings import MissingSettingError
from tests.support.devhost_process import RunningHost, call, start_host, stop_host, wait_for

# Small host.json values keep the tests fast; each test's comment says which one it relies on.
QUEUE_SETTINGS = {
    "batchSize": 2,
    "newBatchThreshold": 0,
    "maxDequeueCount": 3,
    "visibilityTimeout": "00:00:02",
    "maxPollingInterval": "00:00:01",
}
MAX_POLLING_SECONDS = 1.0
SPEC = FunctionSpec(
    name="work",
    directory=Path("work"),
    script_file=Path("work/__init__.py"),
    entry_point="main",
    trigger_type=QUEUE_TRIGGER,
    trigger_name="msg",
    binding_names=("msg",),
    queue_name="work-items",
)
# Writes one JSON line per call to RECORD_FILE: what the function saw, and when.
RECORDER = """
import json
import os
import time


def record(function, msg, **extra):
    line = {
        "function": function,
        "type": type(msg).__name__,
        "id": msg.id,
        "body": msg.get_body().decode("utf-8"),
        "dequeue_count": msg.dequeue_count,
        "pop_receipt": msg.pop_receipt,
        "expiration_time": str(msg.expiration_time),
        "at": time.time(),
        **extra,
    }
    with open(os.environ["RECORD_FILE"], "a", encoding="utf-8") as records:
        records.write(json.dumps(line) + "\\n")
"""
RECORD = """
import azure.functions as func
import recorder


async def main(msg: func.QueueMessage) -> None:
    recorder.record("record", msg)
"""
FLAKY = """
import azure.functions as func
import recorder


def main(msg: func.QueueMessage) -> None:
    recorder.record("flaky", msg)
    raise RuntimeError("flaky fails every time")
"""
# Sleeps for as many seconds as the message says.
SLOW = """
import time
import azure.functions as func
import recorder


def main(msg: func.QueueMessage) -> None:
    recorder.record("slow", msg, event="start")
    time.sleep(float(msg.get_body()))
    recorder.record("slow", msg, event="end")
"""


def queue_function(queue_name: str) -> dict:
    binding = {"name": "msg", "type": "queueTrigger", "direction": "in", "queueName": queue_name}
    return {"bindings": [{**binding, "connection": "AzureWebJobsStorage"}]}


def write_queue_app(
    root: Path, functions: dict[str, tuple[str, str]], queues: dict, values: dict[str, str]
) -> Path:
    """An app of queue functions ({name: (queueName, code)}) with `queues` as host.json's."""
    root.mkdir(parents=True, exist_ok=True)
    host_json = {"version": "2.0", "extensions": {"queues": queues}}
    (root / "host.json").write_text(json.dumps(host_json))
    (root / "local.settings.json").write_text(json.dumps({"Values": values}))
    (root / "recorder.py").write_text(RECORDER)
    for name, (queue_name, code) in functions.items():
        (root / name).mkdir()
        (root / name / "function.json").write_text(json.dumps(queue_function(queue_name)))
        (root / name / "__init__.py").write_text(textwrap.dedent(code).lstrip())
    return root


def records(host: RunningHost, function: str | None = None) -> list[dict]:
    path = host.root / "records.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    found = [json.loads(line) for line in lines]
    return [r for r in found if function is None or r["function"] == function]


def records_with(host: RunningHost, body: str) -> list[dict]:
    return [r for r in records(host) if r["body"] == body]


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


@pytest.fixture(scope="module")
def azurite() -> Iterator[Azurite]:
    with Azurite.all_services() as running:
        yield running


@pytest.fixture(scope="module")
def queues(azurite: Azurite) -> QueueServiceClient:
    return QueueServiceClient.from_connection_string(azurite.connection_string)


def existing_queue(queues: QueueServiceClient, name: str) -> QueueClient:
    client = queues.get_queue_client(name)
    if name not in {q.name for q in queues.list_queues()}:
        client.create_queue()
    return client


def message_count(client: QueueClient) -> int:
    """Messages on the queue, visible or not; 0 while the queue does not exist."""
    try:
        return client.get_queue_properties().approximate_message_count
    except ResourceNotFoundError:
        return 0


def texts(client: QueueClient) -> list[str]:
    """The visible messages' text; none while the queue does not exist."""
    try:
        return [message.content for message in client.peek_messages(max_messages=32)]
    except ResourceNotFoundError:
        return []


def start_app(root: Path, azurite: Azurite) -> RunningHost:
    return start_host(
        root,
        {
            "AzureWebJobsStorage": azurite.connection_string,
            "RECORD_FILE": str(root / "records.jsonl"),
        },
    )


@pytest.fixture(scope="module")
def host(
    azurite: Azurite, queues: QueueServiceClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningHost]:
    for name in ("recorded-items", "flaky-items", "slow-items"):
        existing_queue(queues, name)
    root = write_queue_app(
        tmp_path_factory.mktemp("queue-app"),
        {
            "record": ("%RECORD_QUEUE%", RECORD),
            "flaky": ("flaky-items", FLAKY),
            "slow": ("slow-items", SLOW),
            "late": ("late-items", RECORD),
        },
        QUEUE_SETTINGS,
        {"RECORD_QUEUE": "Recorded-Items"},
    )
    running = start_app(root, azurite)
    yield running
    if running.process.poll() is None:
        stop_host(running)


def test_message_is_delivered_decoded_with_dequeue_count_1_then_deleted(
    host: RunningHost, queues: QueueServiceClient
) -> None:
    items = existing_queue(queues, "recorded-items")

    sent = items.send_message(b64("héllo ✓"))

    assert wait_for(lambda: records_with(host, "héllo ✓"))
    [seen] = records_with(host, "héllo ✓")
    assert (seen["type"], seen["id"], seen["dequeue_count"]) == ("QueueMessage", sent.id, 1)
    assert seen["pop_receipt"]
    assert wait_for(lambda: message_count(items) == 0)


def test_invocation_is_logged_with_the_host_reason_and_trigger_details(
    host: RunningHost, queues: QueueServiceClient
) -> None:
    sent = existing_queue(queues, "recorded-items").send_message(b64("logged"))

    assert wait_for(lambda: records_with(host, "logged"))
    reason = "Reason='New queue message detected on 'recorded-items'.'"
    assert f"Executing 'Functions.record' ({reason}" in host.output()
    assert f"Trigger Details: MessageId: {sent.id}, DequeueCount: 1" in host.output()


def test_queue_name_comes_from_the_app_setting_lower_cased(host: RunningHost) -> None:
    assert "record: queueTrigger (queue 'recorded-items')" in host.output()


def test_text_that_is_not_base64_goes_to_the_poison_queue_without_a_run(
    host: RunningHost, queues: QueueServiceClient
) -> None:
    sent = existing_queue(queues, "recorded-items").send_message("plain text, not base64!")
    poison = queues.get_queue_client("recorded-items-poison")

    assert wait_for(lambda: "plain text, not base64!" in texts(poison))
    assert "Message decoding has failed" in host.output()
    assert sent.id not in [r["id"] for r in records(host)]


@dataclass
class Poisoned:
    runs: list[dict]
    moved_at: float


@pytest.fixture(scope="module")
def poisoned(host: RunningHost, queues: QueueServiceClient) -> Poisoned:
    """A message `flaky` fails on every time, followed until it reaches the poison queue."""
    existing_queue(queues, "flaky-items").send_message(b64("doomed"))
    poison = queues.get_queue_client("flaky-items-poison")
    # maxDequeueCount 3, visibilityTimeout 2 s: three runs about 2 s apart.
    assert wait_for(lambda: message_count(poison) == 1, timeout=10)
    return Poisoned(records_with(host, "doomed"), time.time())


def test_failed_message_is_retried_with_growing_dequeue_count(poisoned: Poisoned) -> None:
    assert [r["dequeue_count"] for r in poisoned.runs] == [1, 2, 3]


def test_failure_at_max_dequeue_count_moves_the_original_text_to_the_poison_queue(
    poisoned: Poisoned, host: RunningHost, queues: QueueServiceClient
) -> None:
    poison = queues.get_queue_client("flaky-items-poison")

    assert texts(poison) == [b64("doomed")]
    # At once, not after one more visibilityTimeout (2 s).
    assert poisoned.moved_at - poisoned.runs[-1]["at"] < 1
    assert "MaxDequeueCount of 3 (message " in host.output()
    assert "Moving message to queue 'flaky-items-poison'." in host.output()
    assert wait_for(lambda: message_count(queues.get_queue_client("flaky-items")) == 0)


def test_failed_message_comes_back_after_the_visibility_timeout(poisoned: Poisoned) -> None:
    gaps = [later["at"] - earlier["at"] for earlier, later in itertools.pairwise(poisoned.runs)]

    assert all(gap >= 1.9 for gap in gaps), gaps  # visibilityTimeout 00:00:02


def test_at_most_batch_size_messages_run_at_once(
    host: RunningHost, queues: QueueServiceClient
) -> None:
    slow = existing_queue(queues, "slow-items")
    for _ in range(6):
        slow.send_message(b64("0.4"))

    assert wait_for(lambda: len([r for r in records(host, "slow") if r["event"] == "end"]) == 6)
    events = sorted((r["at"], 1 if r["event"] == "start" else -1) for r in records(host, "slow"))
    running = list(itertools.accumulate(change for _, change in events))
    # batchSize 2, newBatchThreshold 0: the next two are fetched only when both are done.
    assert max(running) == 2


def test_idle_queue_still_picks_up_a_message_within_max_polling_interval(
    host: RunningHost, queues: QueueServiceClient
) -> None:
    time.sleep(3 * MAX_POLLING_SECONDS)  # long enough for polling to back off to its maximum

    sent_at = time.time()
    existing_queue(queues, "recorded-items").send_message(b64("after a quiet spell"))

    assert wait_for(lambda: records_with(host, "after a quiet spell"))
    [seen] = records_with(host, "after a quiet spell")
    assert seen["at"] - sent_at < MAX_POLLING_SECONDS + 0.5


def test_trigger_queue_is_not_created_but_used_once_it_exists(
    host: RunningHost, queues: QueueServiceClient
) -> None:
    late = queues.get_queue_client("late-items")
    assert wait_for(lambda: "queue 'late-items' does not exist; waiting for it" in host.output())
    with pytest.raises(ResourceNotFoundError):
        late.get_queue_properties()

    late.create_queue()
    late.send_message(b64("worth the wait"))

    assert wait_for(lambda: records_with(host, "worth the wait"), timeout=3)


def test_admin_endpoint_runs_a_queue_function_with_the_input_as_body(
    host: RunningHost,
) -> None:
    reply = call(f"{host.url}/admin/functions/record", method="POST", body=b'{"input": "by hand"}')

    assert reply.status == 202
    assert wait_for(lambda: records_with(host, "by hand"))
    [seen] = records_with(host, "by hand")
    # Straight to the function, as Core Tools does: a message that was never on a queue.
    assert (seen["id"], seen["dequeue_count"], seen["pop_receipt"]) == (None, 0, None)


def test_admin_endpoint_refuses_an_object_as_queue_input(host: RunningHost) -> None:
    reply = call(f"{host.url}/admin/functions/record", method="POST", body=b'{"input": {"a": 1}}')

    assert reply.status == 400


def test_message_encoding_none_passes_the_text_as_it_is(
    azurite: Azurite, queues: QueueServiceClient, tmp_path: Path
) -> None:
    existing_queue(queues, "plain-items").send_message(b64("not decoded"))
    root = write_queue_app(
        tmp_path / "app", {"plain": ("plain-items", RECORD)}, {"messageEncoding": "none"}, {}
    )
    running = start_app(root, azurite)
    try:
        assert wait_for(lambda: records(running))
        assert [r["body"] for r in records(running)] == [b64("not decoded")]
    finally:
        stop_host(running)


def test_sigterm_lets_a_running_message_finish_and_deletes_it(
    azurite: Azurite, queues: QueueServiceClient, tmp_path: Path
) -> None:
    items = existing_queue(queues, "stopping-items")
    root = write_queue_app(tmp_path / "app", {"slow": ("stopping-items", SLOW)}, QUEUE_SETTINGS, {})
    running = start_app(root, azurite)
    items.send_message(b64("1.5"))
    assert wait_for(lambda: records(running))

    assert stop_host(running) == 0

    assert [r["event"] for r in records(running)] == ["start", "end"]
    assert message_count(items) == 0


async def test_message_stays_invisible_while_a_run_outlasts_its_lease(
    azurite: Azurite, queues: QueueServiceClient
) -> None:
    existing_queue(queues, "lease-items").send_message(b64("long job"))
    runs: list[int | None] = []

    async def invoke(message: func.QueueMessage, details: str) -> None:
        runs.append(message.dequeue_count)
        await asyncio.sleep(3)

    listener = QueueListener(
        "lease",
        "lease-items",
        azurite.connection_string,
        QueueOptions(max_polling_interval=dt.timedelta(seconds=1)),
        invoke,
        lease=dt.timedelta(seconds=2),
    )
    polling = asyncio.create_task(listener.run())
    await asyncio.sleep(4.5)
    polling.cancel()
    await listener.drain(5)

    assert runs == [1]
    assert message_count(queues.get_queue_client("lease-items")) == 0


def test_a_message_held_by_a_killed_runner_comes_back_after_the_test_lease(
    azurite: Azurite, queues: QueueServiceClient, tmp_path: Path
) -> None:
    items = existing_queue(queues, "killed-items")
    items.send_message(b64("60"))
    slow = write_queue_app(tmp_path / "slow", {"slow": ("killed-items", SLOW)}, QUEUE_SETTINGS, {})
    dying = start_host(
        slow,
        {
            "AzureWebJobsStorage": azurite.connection_string,
            "RECORD_FILE": str(slow / "records.jsonl"),
            "DEVHOST_QUEUE_LEASE_SECONDS": "2",
        },
    )
    assert wait_for(lambda: records(dying))
    time.sleep(1.5)  # past half the lease: renewed at least once
    dying.process.kill()
    dying.process.wait(5)
    killed_at = time.time()
    root = write_queue_app(
        tmp_path / "next", {"record": ("killed-items", RECORD)}, QUEUE_SETTINGS, {}
    )
    running = start_app(root, azurite)
    try:
        assert wait_for(lambda: records(running))
        [seen] = records(running)
        assert (seen["body"], seen["dequeue_count"]) == ("60", 2)
        assert seen["at"] - killed_at < 2 + MAX_POLLING_SECONDS + 0.5
    finally:
        stop_host(running)


def test_the_lease_is_the_hosts_unless_the_test_knob_sets_whole_seconds() -> None:
    assert read_lease({}) == LEASE == dt.timedelta(minutes=10)
    assert read_lease({"DEVHOST_QUEUE_LEASE_SECONDS": "3"}) == dt.timedelta(seconds=3)
    for bad in ("0", "1.5", "soon"):
        with pytest.raises(QueueTriggerError, match="DEVHOST_QUEUE_LEASE_SECONDS"):
            read_lease({"DEVHOST_QUEUE_LEASE_SECONDS": bad})


def test_empty_queue_polling_backs_off_exponentially_up_to_the_maximum() -> None:
    delays = list(itertools.islice(polling_delays(dt.timedelta(seconds=2)), 10))

    assert delays[0] == 0.1
    assert all(a < b for a, b in itertools.pairwise(delays[:6]))
    assert delays[-3:] == [2.0, 2.0, 2.0]


def test_queue_settings_default_like_func_start() -> None:
    options = read_queue_options({}, {"WEBSITE_SKU": "Dynamic"})

    # func start runs the host as Development, which lowers the 1-minute maxPollingInterval.
    assert options == QueueOptions(
        batch_size=16,
        new_batch_threshold=8,
        max_dequeue_count=5,
        visibility_timeout=dt.timedelta(0),
        max_polling_interval=DEVELOPMENT_MAX_POLLING_INTERVAL,
        message_encoding="base64",
    )


def test_new_batch_threshold_defaults_to_half_a_batch_per_processor_off_consumption() -> None:
    options = read_queue_options({"extensions": {"queues": {"batchSize": 4}}}, {})

    assert options.new_batch_threshold == 2 * (os.cpu_count() or 1)


def test_queue_name_setting_that_is_not_set_stops_startup_naming_it() -> None:
    spec = replace(SPEC, queue_name="%WORK_QUEUE%")

    with pytest.raises(MissingSettingError, match="WORK_QUEUE"):
        resolve_queue_name(spec, {})


def test_emulator_connection_without_a_queue_endpoint_is_refused() -> None:
    tables_only = Azurite.table_only(port=10002).connection_string

    with pytest.raises(QueueTriggerError, match="no QueueEndpoint"):
        storage_connection_string(SPEC, {"AzureWebJobsStorage": tables_only})


def test_max_polling_interval_defaults_to_a_minute_outside_development() -> None:
    options = read_queue_options({}, {"AZURE_FUNCTIONS_ENVIRONMENT": "Production"})

    assert options.max_polling_interval == dt.timedelta(minutes=1)


def test_app_settings_named_after_a_host_json_path_override_it(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(
        json.dumps({"version": "2.0", "extensions": {"queues": {"batchSize": 8}}})
    )
    environ = {
        "AzureFunctionsJobHost__extensions__queues__BATCHSIZE": "1",
        "AzureFunctionsJobHost__extensions__queues__newBatchThreshold": "0",
    }

    options = read_queue_options(read_host_json(tmp_path, environ), environ)

    assert (options.batch_size, options.new_batch_threshold) == (1, 0)
