"""The local runner (`python -m devhost`) behaves like the Functions host for what the app uses.

Runs against a throwaway function app written to a temporary folder, not the real app.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.azurite import Azurite, free_port, is_local_dev_storage, port_open
from devhost.routes import compile_route
from devhost.timers import ScheduleError, next_occurrence, resolve_schedule
from tests.support.devhost_process import (
    REPO_ROOT,
    RunningHost,
    call,
    devhost_argv,
    start_host,
    stop_host,
    wait_for,
)

NEVER = "0 0 0 1 1 *"  # midnight on 1 January: not during a test run
UNUSED_FILES = {"TICK_FILE": "unused", "SLOW_FILE": "unused", "YEARLY_FILE": "unused"}
HTTP_OUT = {"type": "http", "direction": "out", "name": "$return"}

FUNCTIONS: dict[str, tuple[dict, str]] = {
    "items": (
        {
            "bindings": [
                {
                    "type": "httpTrigger",
                    "direction": "in",
                    "name": "req",
                    "authLevel": "function",
                    "methods": ["get", "put"],
                    "route": "items/{id:int}/{tag?}",
                },
                HTTP_OUT,
            ]
        },
        """
        import json
        import azure.functions as func

        def main(req: func.HttpRequest) -> func.HttpResponse:
            body = {"method": req.method, "route": dict(req.route_params)}
            body["query"] = dict(req.params)
            return func.HttpResponse(json.dumps(body), mimetype="application/json")
        """,
    ),
    "echo": (
        {
            "bindings": [
                {"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "anonymous"},
                HTTP_OUT,
            ]
        },
        """
        import json
        import os
        import azure.functions as func

        async def main(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
            body = {
                "body": req.get_body().decode(),
                "function": context.function_name,
                "GREETING": os.environ.get("GREETING"),
                "OVERRIDDEN": os.environ.get("OVERRIDDEN"),
            }
            return func.HttpResponse(json.dumps(body), status_code=201, headers={"X-Echo": "1"})
        """,
    ),
    "boom": (
        {
            "bindings": [
                {"type": "httpTrigger", "direction": "in", "name": "req", "route": "boom"},
                HTTP_OUT,
            ]
        },
        """
        def main(req):
            raise RuntimeError("boom")
        """,
    ),
    "switched_off": (
        {"bindings": [{"type": "httpTrigger", "direction": "in", "name": "req"}, HTTP_OUT]},
        """
        def main(req):
            return "should not run"
        """,
    ),
    "tick": (
        {
            "bindings": [
                {
                    "type": "timerTrigger",
                    "direction": "in",
                    "name": "timer",
                    "schedule": "%TICK_SCHEDULE%",
                }
            ]
        },
        """
        import os

        def main(timer):
            with open(os.environ["TICK_FILE"], "a") as ticks:
                ticks.write(f"{timer.past_due}\\n")
        """,
    ),
    "slow": (
        {
            "bindings": [
                {
                    "type": "timerTrigger",
                    "direction": "in",
                    "name": "timer",
                    "schedule": "%SLOW_SCHEDULE%",
                }
            ]
        },
        """
        import os
        import time

        def main(timer):
            started = time.time()
            time.sleep(1.2)
            with open(os.environ["SLOW_FILE"], "a") as runs:
                runs.write(f"{timer.past_due} {started} {time.time()}\\n")
        """,
    ),
    "yearly": (
        {
            "bindings": [
                {
                    "type": "timerTrigger",
                    "direction": "in",
                    "name": "timer",
                    "schedule": NEVER,
                }
            ]
        },
        """
        import os

        async def main(timer):
            with open(os.environ["YEARLY_FILE"], "a") as runs:
                runs.write(f"{timer.past_due}\\n")
        """,
    ),
}


def write_app(root: Path, values: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "host.json").write_text(
        json.dumps({"version": "2.0", "extensions": {"http": {"routePrefix": "api"}}})
    )
    (root / "local.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    for name, (config, code) in FUNCTIONS.items():
        folder = root / name
        folder.mkdir(exist_ok=True)
        (folder / "function.json").write_text(json.dumps(config))
        (folder / "__init__.py").write_text(textwrap.dedent(code).lstrip())
    return root


@pytest.fixture(scope="module")
def app_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("app")
    return write_app(
        root,
        {
            "FUNCTIONS_WORKER_RUNTIME": "python",
            "AzureWebJobsStorage": "UseDevelopmentStorage=true",
            "AzureWebJobs.switched_off.Disabled": "true",
            "TICK_SCHEDULE": "* * * * * *",
            "TICK_FILE": str(root / "ticks.txt"),
            "SLOW_SCHEDULE": "* * * * * *",
            "SLOW_FILE": str(root / "slow.txt"),
            "YEARLY_FILE": str(root / "yearly.txt"),
            "GREETING": "from-file",
            "OVERRIDDEN": "from-file",
        },
    )


@pytest.fixture(scope="module")
def host(app_root: Path) -> Iterator[RunningHost]:
    running = start_host(app_root, {"OVERRIDDEN": "from-env"})
    yield running
    if running.process.poll() is None:
        stop_host(running)


def test_route_template_parameters_reach_route_params(host: RunningHost) -> None:
    reply = call(f"{host.url}/api/items/42/blue?sort=asc")

    assert reply.status == 200
    assert reply.json() == {
        "method": "GET",
        "route": {"id": "42", "tag": "blue"},
        "query": {"sort": "asc"},
    }


def test_optional_route_parameter_may_be_left_out(host: RunningHost) -> None:
    reply = call(f"{host.url}/api/items/42", method="PUT", body=b"")

    assert reply.json()["route"] == {"id": "42"}


def test_undeclared_method_gets_405(host: RunningHost) -> None:
    reply = call(f"{host.url}/api/items/42", method="POST", body=b"{}")

    assert reply.status == 405


def test_unknown_path_gets_404(host: RunningHost) -> None:
    assert call(f"{host.url}/api/nothing-here").status == 404


def test_function_without_route_is_served_at_its_folder_name(host: RunningHost) -> None:
    reply = call(f"{host.url}/api/echo", method="POST", body=b"hello")

    assert reply.status == 201
    assert reply.json()["body"] == "hello"


def test_async_main_gets_a_context_and_its_response_headers_are_kept(host: RunningHost) -> None:
    reply = call(f"{host.url}/api/echo")

    assert reply.json()["function"] == "echo"
    assert reply.headers["X-Echo"] == "1"
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_unhandled_exception_gives_500_with_empty_body(host: RunningHost) -> None:
    reply = call(f"{host.url}/api/boom")

    assert (reply.status, reply.body) == (500, b"")
    assert "RuntimeError: boom" in host.output()


def test_invocations_are_logged_like_the_host(host: RunningHost) -> None:
    call(f"{host.url}/api/boom")

    assert "Executing 'Functions.boom' (Reason=" in host.output()
    assert "Executed 'Functions.boom' (Failed, Id=" in host.output()


def test_local_settings_values_reach_the_function_environment(host: RunningHost) -> None:
    assert call(f"{host.url}/api/echo").json()["GREETING"] == "from-file"


def test_with_no_local_settings_only_the_environment_counts(app_root: Path) -> None:
    port = free_port()
    values = json.loads((app_root / "local.settings.json").read_text())["Values"]
    values.pop("GREETING")
    # Its timers stay quiet: the module's host counts the runs in their files.
    quiet = {"TICK_SCHEDULE": NEVER, "SLOW_SCHEDULE": NEVER}
    env = {**os.environ, **values, **quiet, "PYTHONPATH": str(REPO_ROOT)}
    argv = [*devhost_argv(app_root, port), "--no-local-settings"]
    with (app_root / "no-settings.log").open("wb") as log:
        process = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
    try:
        while not port_open(port):
            assert process.poll() is None, (app_root / "no-settings.log").read_text()
            time.sleep(0.05)
        echoed = call(f"http://127.0.0.1:{port}/api/echo").json()
    finally:
        process.terminate()
        process.wait(10)

    assert echoed["GREETING"] is None
    assert echoed["OVERRIDDEN"] == "from-file"  # given in the environment


def test_tests_never_read_the_developers_local_settings() -> None:
    assert "--no-local-settings" in devhost_argv(REPO_ROOT, 7071)


def test_environment_wins_over_local_settings(host: RunningHost) -> None:
    assert call(f"{host.url}/api/echo").json()["OVERRIDDEN"] == "from-env"


def test_disabled_function_is_not_served(host: RunningHost) -> None:
    assert call(f"{host.url}/api/switched_off").status == 404


def test_timer_fires_on_schedule_and_is_not_past_due(host: RunningHost) -> None:
    ticks = host.root / "ticks.txt"

    assert wait_for(lambda: ticks.exists() and len(ticks.read_text().split()) >= 2)
    assert set(ticks.read_text().split()) == {"False"}


def test_timer_runs_never_overlap_and_a_missed_occurrence_runs_past_due(
    host: RunningHost,
) -> None:
    slow = host.root / "slow.txt"

    assert wait_for(lambda: slow.exists() and len(slow.read_text().splitlines()) >= 3, timeout=6)
    runs = [line.split() for line in slow.read_text().splitlines()]
    assert [past_due for past_due, _, _ in runs[:3]] == ["False", "True", "True"]
    spans = [(float(start), float(end)) for _, start, end in runs]
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))


def test_admin_endpoint_runs_a_timer_function_on_demand(host: RunningHost) -> None:
    runs = host.root / "yearly.txt"

    reply = call(f"{host.url}/admin/functions/yearly", method="POST", body=b'{"input": ""}')

    assert reply.status == 202
    # The file appears when the function opens it, a moment before its line is written.
    assert wait_for(lambda: runs.exists() and runs.read_text().endswith("\n"))
    assert runs.read_text() == "False\n"


def test_admin_endpoint_answers_404_for_an_unknown_function(host: RunningHost) -> None:
    reply = call(f"{host.url}/admin/functions/nope", method="POST", body=b'{"input": ""}')

    assert reply.status == 404


def test_admin_endpoint_refuses_an_http_function(host: RunningHost) -> None:
    reply = call(f"{host.url}/admin/functions/echo", method="POST", body=b'{"input": ""}')

    assert reply.status == 400
    assert "call its route" in reply.json()["error"]


def test_missing_schedule_setting_stops_startup_naming_it(tmp_path: Path) -> None:
    root = write_app(tmp_path / "app", {"SLOW_SCHEDULE": NEVER, **UNUSED_FILES})

    result = subprocess.run(
        devhost_argv(root, free_port()),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )

    assert result.returncode == 1
    assert "TICK_SCHEDULE" in result.stderr


def test_sigterm_stops_the_host_gracefully(tmp_path: Path) -> None:
    root = write_app(
        tmp_path / "app",
        {"TICK_SCHEDULE": NEVER, "SLOW_SCHEDULE": NEVER, **UNUSED_FILES},
    )
    running = start_host(root)

    assert stop_host(running) == 0
    assert "Host stopped" in running.output()


def test_dev_storage_connection_strings_are_recognised() -> None:
    assert is_local_dev_storage("UseDevelopmentStorage=true")
    assert is_local_dev_storage(Azurite.table_only(port=10002).connection_string)
    assert not is_local_dev_storage(
        "DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=x;EndpointSuffix=core.windows.net"
    )


def test_table_only_azurite_listens_until_stopped() -> None:
    azurite = Azurite.table_only()
    port = azurite.ports["table"]

    with azurite:
        assert port_open(port)
        endpoint = f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1"
        assert endpoint in azurite.connection_string

    assert not port_open(port)


def test_literal_route_wins_over_a_parameter_route() -> None:
    routes = sorted(
        [compile_route("api/items/{id}"), compile_route("api/items/latest")],
        key=lambda r: r.precedence,
    )

    assert routes[0].template == "api/items/latest"


def test_catch_all_route_parameter_takes_the_rest_of_the_path_decoded() -> None:
    route = compile_route("api/files/{*path}")

    assert route.match("/api/files/a/b%20c.txt") == {"path": "a/b c.txt"}


def test_five_field_cron_schedule_is_rejected() -> None:
    with pytest.raises(ScheduleError, match="six-field"):
        resolve_schedule("tick", "*/5 * * * *", {})


def test_schedule_needs_both_day_of_month_and_day_of_week_like_ncrontab() -> None:
    friday_13th = next_occurrence("0 0 0 13 * 5", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))

    assert (friday_13th.day, friday_13th.weekday()) == (13, 4)
