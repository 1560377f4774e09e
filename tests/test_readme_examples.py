"""Every curl example in README.md works whenever it is run: each one, run by bash and curl against
the app served by the local runner, gets a 2xx, and the status the README says where it says one.
Dates in them are computed when they run, never written out."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from testbed.activities import bot_added
from testbed.graph_stub import GraphStub
from tests.support.app_settings import emulator_settings
from tests.support.devhost_process import REPO_ROOT, start_devhost
from tests.support.readme_examples import README, Example, readme_examples, run_example

EXAMPLES = readme_examples()
# In the Standard Webhooks format (whsec_ + base64 of the key), as the README's signing expects.
SECRET = "whsec_" + base64.b64encode(b"readme-example-webhook-key-32-by").decode()
SIGNED = "NOTIFY_WEBHOOK_SECRET"  # an example that names it signs: it runs where one is set


@dataclass(frozen=True)
class Runner:
    url: str
    secret: str

    def post(self, route: str, body: dict) -> dict:
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.secret:
            digest = hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
            headers["X-Signature-256"] = "sha256=" + digest
        url = f"{self.url}{route}"  # the runner's, on loopback
        request = urllib.request.Request(url, raw, headers, method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            answer = response.read()
        return json.loads(answer) if answer else {}


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphStub]:
    """The directory the README's people example names: its group and Ada, on loopback."""
    stub = GraphStub().start()
    readme = README.read_text()
    for group_id in set(re.findall(r'"groups": \["([0-9a-f-]{36})"\]', readme)):
        stub.add_group(group_id, [stub.add_user(str(uuid.uuid4()))["id"]])
    for upn in set(re.findall(r'"userIds": \["([^"@]+@[^"]+)"\]', readme)):
        stub.add_user(str(uuid.uuid4()), upn)
    yield stub
    stub.stop()


def serve(azurite, channel_stub, graph, log: Path, secret: str = "") -> Iterator[Runner]:
    """The app as `make run` serves it, with one Teams conversation stored to send to and
    Microsoft Graph on loopback."""
    env = {
        **os.environ,
        **emulator_settings(azurite.connection_string),
        "NOTIFY_SCHEDULE": "0 0 0 1 1 *",  # the README runs the timer on demand
        "NOTIFY_WEBHOOK_SECRET": secret,
        "GRAPH_ENDPOINT": graph.url,
        "TEAMS_APP_ID": "readme-catalog-app",
        "TEAMS_SERVICE_URL": channel_stub.url,
        # The callback example's host; no event is made in these runs, so nothing calls it.
        "CALLBACK_SECRET": "readme-callback-key",
        "CALLBACK_ALLOWED_HOSTS": "hooks.contoso.example",
    }
    process, url = start_devhost(REPO_ROOT, env, log)
    try:
        runner = Runner(url, secret)
        runner.post("/api/messages", bot_added(channel_stub.url, "a:readme-reader"))
        yield runner
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def plain_runner(azurite, channel_stub, graph, tmp_path_factory) -> Iterator[Runner]:
    log = tmp_path_factory.mktemp("readme") / "plain.log"
    yield from serve(azurite, channel_stub, graph, log)


@pytest.fixture(scope="module")
def signed_runner(azurite, channel_stub, graph, tmp_path_factory) -> Iterator[Runner]:
    log = tmp_path_factory.mktemp("readme") / "signed.log"
    yield from serve(azurite, channel_stub, graph, log, SECRET)


def test_every_curl_call_in_the_readme_is_run_here():
    run_here = sum(e.text.count("curl ") for e in readme_examples())
    sh_blocks = re.findall(r"^\s*```sh\n(.*?)^\s*```", _readme(), re.DOTALL | re.MULTILINE)
    lines = [line for block in sh_blocks for line in block.splitlines()]
    in_readme = sum(line.count("curl ") for line in lines if not line.lstrip().startswith("#"))
    assert run_here == in_readme > 0


def test_no_readme_example_holds_a_fixed_date_that_will_pass():
    assert not [e.line for e in EXAMPLES if re.search(r'"sendAt":\s*"\d{4}-', e.text)]


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"README.md:{e.line}" for e in EXAMPLES])
def test_a_readme_example_gets_the_answer_the_readme_says(
    example: Example, request, channel, tmp_path
):
    if shutil.which("curl") is None:
        pytest.skip("the README's examples call curl, and there is none here")
    runner: Runner = request.getfixturevalue(
        "signed_runner" if example.uses(SIGNED) else "plain_runner"
    )
    env = {**os.environ, "APP": runner.url, "KEY": "local-function-key", SIGNED: runner.secret}
    if example.uses("id") and not example.sets("id"):
        # `$id` stands for the id an earlier POST /api/notify answered.
        env["id"] = runner.post("/api/notify", {"text": "An earlier notification"})["id"]

    answers = run_example(example, runner.url, env, tmp_path)

    for command, statuses in zip(example.commands, answers.statuses, strict=True):
        if "curl " not in command.text:
            continue
        assert statuses, f"{command.text}\n{answers.output}"
        for status in statuses:
            assert 200 <= status < 300, f"{command.text}\n{answers.output}"
            if command.promised is not None:
                assert status == command.promised, f"{command.text}\n{answers.output}"


def _readme() -> str:
    return README.read_text(encoding="utf-8")
