"""Call the function folders' real `main` entry points with real azure.functions objects."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import azure.functions as func
from azure.functions.timer import TimerRequest

import messages
import notify_cancel
import notify_http
import notify_revise
import notify_status
import notify_targets
import notify_timer
from devhost.functions import parse_function_json
from devhost.host import read_host_json
from devhost.outputs import QueueWriter, called_with_outputs
from devhost.queues import read_queue_options
from tests.support.devhost_process import REPO_ROOT

_QUEUE_OPTIONS = read_queue_options(read_host_json(REPO_ROOT, {}), {})


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: dict[str, str]


def _request(route: str, body: bytes | str | dict | list, headers: dict | None) -> func.HttpRequest:
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    return func.HttpRequest(
        method="POST",
        url=f"http://127.0.0.1:7071/api/{route}",
        headers={"Content-Type": "application/json", **(headers or {})},
        params={},
        route_params={},
        body=body,
    )


def _response(response: func.HttpResponse) -> Response:
    raw = response.get_body()
    if response.mimetype == "application/json":
        body = json.loads(raw) if raw else None
    else:
        body = raw.decode("utf-8")
    headers = dict(response.headers)
    headers.setdefault("Content-Type", response.mimetype)
    return Response(response.status_code, body, headers)


async def post_activity(body: Any, headers: dict | None = None) -> Response:
    return _response(await messages.main(_request("messages", body, headers)))


async def _with_outputs(function: str, call: Callable[..., Awaitable[Any]]) -> Any:
    """Call a function's main with its queue output bindings; what it sets on them is then
    written to the queue as the host writes it (devhost's QueueWriter), once it returned."""
    outputs = parse_function_json(REPO_ROOT / function).queue_outputs
    writer = QueueWriter(os.environ, _QUEUE_OPTIONS.message_encoding)
    try:
        return await called_with_outputs(outputs, writer, call)
    finally:
        await writer.close()


async def post_notify(body: Any, headers: dict | None = None) -> Response:
    request = _request("notify", body, headers)
    return _response(
        await _with_outputs("notify_http", lambda **out: notify_http.main(request, **out))
    )


async def run_timer(past_due: bool = False) -> None:
    timer = TimerRequest(past_due=past_due)
    await _with_outputs("notify_timer", lambda **out: notify_timer.main(timer, **out))


def _on_notification(
    method: str,
    notification_id: str,
    suffix: str = "",
    params: dict | None = None,
    headers: dict | None = None,
    body: bytes = b"",
) -> func.HttpRequest:
    return func.HttpRequest(
        method=method,
        url=f"http://127.0.0.1:7071/api/notify/{notification_id}{suffix}",
        headers=headers or {},
        params=params or {},
        route_params={"id": notification_id},
        body=body,
    )


async def get_status(notification_id: str) -> Response:
    return _response(await notify_status.main(_on_notification("GET", notification_id)))


async def get_targets(
    notification_id: str, accept: str = "application/json", **params: str
) -> Response:
    request = _on_notification("GET", notification_id, "/targets", params, {"Accept": accept})
    return _response(await notify_targets.main(request))


async def all_targets(notification_id: str, **params: str) -> list[dict]:
    """Every target row of a notification, following `continuation` from page to page."""
    rows, continuation = [], None
    while True:
        page = await get_targets(
            notification_id, **params, **({"continuation": continuation} if continuation else {})
        )
        assert page.status == 200
        rows += page.body["targets"]
        continuation = page.body["continuation"]
        if continuation is None:
            return rows


async def cancel(notification_id: str) -> Response:
    return _response(await notify_cancel.main(_on_notification("POST", notification_id, "/cancel")))


async def patch_notification(
    notification_id: str, change: Any, headers: dict | None = None
) -> Response:
    body = change if isinstance(change, bytes) else json.dumps(change).encode("utf-8")
    request = _on_notification(
        "PATCH",
        notification_id,
        headers={"Content-Type": "application/json", **(headers or {})},
        body=body,
    )
    return _response(
        await _with_outputs("notify_revise", lambda **out: notify_revise.main(request, **out))
    )


async def recall(notification_id: str) -> Response:
    request = _on_notification("DELETE", notification_id)
    return _response(
        await _with_outputs("notify_revise", lambda **out: notify_revise.main(request, **out))
    )
