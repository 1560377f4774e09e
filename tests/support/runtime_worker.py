"""The function app run by Azure's own Python worker runtime, `azure-functions-runtime-v1`.

From Python 3.13 Azure runs function.json apps like this: the Functions host talks gRPC to a proxy
worker that ships in the host image, and the proxy hands each message, as received, to the
runtime package's five entry points (`worker_init_request`, `functions_metadata_request`,
`function_load_request`, `invocation_request`, ...), wrapped with the `protos` module the answer
is built with. The runtime package has no gRPC of its own, and the proxy is not on PyPI, so this
class plays the host and the proxy together: it sends the runtime the messages the host sends,
each serialized to protobuf wire bytes and parsed back as a gRPC hop does, and turns the answers
into what the host would make of them (an HTTP response, a completed or failed invocation).

What the host puts in each message follows its conversion code (GrpcMessageConversionExtensions):
HTTP headers lower-cased with repeated values joined by ",", the query without empty values,
route values as strings, the body as bytes (the runtime asks for raw bytes), a timer's TimerInfo
as JSON, a queue message's text as a string with its metadata (`DequeueCount` and the times as
JSON, `Id` and `PopReceipt` as strings).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func
import azure_functions_runtime_v1 as runtime

from devhost.host import read_host_json, route_prefix
from devhost.routes import RouteTemplate, compile_route, full_route
from tests.support.function_rpc import protos

logger = logging.getLogger(__name__)

HOST_VERSION = "4.1040.0"
HOST_ADDRESS = "127.0.0.1:7071"
# A mapping, or (name, value) pairs where a header repeats.
Headers = Mapping[str, str] | Iterable[tuple[str, str]]
_DIRECTION = protos.BindingInfo.Direction
_DATA_TYPE = protos.BindingInfo.DataType


class WorkerError(AssertionError):
    """The runtime answered a request with a Failure status."""


@dataclass(frozen=True)
class WorkerRequest:
    """What the proxy worker hands each runtime entry point (its `WorkerRequest`)."""

    name: str
    request: Any
    properties: dict[str, Any] | None = None


@dataclass(frozen=True)
class HttpAnswer:
    """An HTTP response as the host writes it from the worker's RpcHttp."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class LoadedFunction:
    function_id: str
    name: str
    trigger_name: str
    trigger_type: str
    route: RouteTemplate | None
    methods: tuple[str, ...] | None


def _wire(message: Any) -> Any:
    """The message as the other end of a gRPC stream gets it: serialized and parsed back."""
    return type(message).FromString(message.SerializeToString())


def _checked(name: str, response: Any) -> Any:
    if response.result.status != protos.StatusResult.Success:
        raise WorkerError(f"{name} failed: {response.result.exception.message}")
    return response


@dataclass
class RuntimeWorker:
    """The app under azure_functions_runtime_v1, driven as the host and proxy worker drive it."""

    app_root: Path
    functions: dict[str, LoadedFunction] = field(default_factory=dict)
    capabilities: dict[str, str] = field(default_factory=dict)
    # The output bindings the last HTTP invocation set (the host writes them; this does not).
    last_outputs: dict[str, Any] = field(default_factory=dict)

    async def start(self) -> None:
        """Init the worker, ask for metadata, load every function.json, as the host does."""
        # The proxy worker puts the app's directory on sys.path (absolute imports of shared code)
        # and starts the runtime's thread pool before it passes the init request on.
        if str(self.app_root) not in sys.path:
            sys.path.append(str(self.app_root))
        runtime.start_threadpool_executor()
        init = await self._call(
            runtime.worker_init_request,
            "WorkerInitRequest",
            "worker_init_response",
            properties={"protos": protos, "host": HOST_ADDRESS.split(":")[0]},
            worker_init_request=protos.WorkerInitRequest(
                host_version=HOST_VERSION,
                function_app_directory=str(self.app_root),
                worker_directory=str(Path(runtime.__file__).parent),
            ),
        )
        self.capabilities = dict(init.capabilities)
        metadata = await self._call(
            runtime.functions_metadata_request,
            "WorkerMetadataRequest",
            "function_metadata_response",
            functions_metadata_request=protos.FunctionsMetadataRequest(
                function_app_directory=str(self.app_root)
            ),
        )
        # The folder model: the runtime leaves indexing to the host, which reads function.json.
        assert metadata.use_default_metadata_indexing
        prefix = route_prefix(read_host_json(self.app_root, {}))
        for directory, spec in function_configs(self.app_root):
            await self._load(directory, spec, prefix)

    def stop(self) -> None:
        runtime.stop_threadpool_executor()

    async def _load(self, directory: Path, spec: dict[str, Any], prefix: str) -> None:
        bindings = spec["bindings"]
        trigger = next(b for b in bindings if b["type"].endswith("Trigger"))
        function_id = str(uuid.uuid4())
        metadata = protos.RpcFunctionMetadata(
            name=directory.name,
            function_id=function_id,
            directory=str(directory),
            script_file=str(directory / spec.get("scriptFile", "__init__.py")),
            entry_point=spec.get("entryPoint", ""),
            bindings={
                b["name"]: protos.BindingInfo(
                    type=b["type"],
                    direction=_DIRECTION.Value(b.get("direction", "in")),
                    data_type=_DATA_TYPE.Value(b.get("dataType", "undefined")),
                )
                for b in bindings
            },
            raw_bindings=[json.dumps(b) for b in bindings],
        )
        await self._call(
            runtime.function_load_request,
            "FunctionLoadRequest",
            "function_load_response",
            function_load_request=protos.FunctionLoadRequest(
                function_id=function_id, metadata=metadata
            ),
        )
        is_http = trigger["type"] == "httpTrigger"
        methods = trigger.get("methods")
        self.functions[directory.name] = LoadedFunction(
            function_id=function_id,
            name=directory.name,
            trigger_name=trigger["name"],
            trigger_type=trigger["type"],
            route=compile_route(full_route(prefix, trigger.get("route") or directory.name))
            if is_http
            else None,
            methods=tuple(m.upper() for m in methods) if methods else None,
        )

    async def _call(self, entry_point, name: str, answer: str, properties=None, **content) -> Any:
        request = _wire(protos.StreamingMessage(request_id=str(uuid.uuid4()), **content))
        response = await entry_point(WorkerRequest(name, request, properties))
        streamed = _wire(
            protos.StreamingMessage(request_id=request.request_id, **{answer: response})
        )
        return _checked(name, getattr(streamed, answer))

    async def invoke(
        self, name: str, trigger: Any, trigger_metadata: dict[str, Any] | None = None
    ) -> Any:
        """Invoke function `name` with its trigger bound to `trigger` (a TypedData); the
        InvocationResponse, raising WorkerError if the invocation failed."""
        function = self.functions[name]
        return await self._call(
            runtime.invocation_request,
            "FunctionInvocationRequest",
            "invocation_response",
            invocation_request=protos.InvocationRequest(
                invocation_id=str(uuid.uuid4()),
                function_id=function.function_id,
                input_data=[protos.ParameterBinding(name=function.trigger_name, data=trigger)],
                trigger_metadata=trigger_metadata or {},
                trace_context=protos.RpcTraceContext(trace_parent=_trace_parent()),
                retry_context=protos.RetryContext(retry_count=0, max_retry_count=0),
            ),
        )

    async def http(
        self, method: str, target: str, headers: Headers = (), body: bytes = b""
    ) -> HttpAnswer:
        """One HTTP request to the app (`target` is the path and query), answered as the host
        answers: 404 / 405 from routing, a bare 500 for a failed invocation."""
        path = target.partition("?")[0]
        allowed: set[str] = set()
        for function in self.functions.values():
            if function.route is None or (params := function.route.match(path)) is None:
                continue
            if function.methods and method not in function.methods:
                allowed.update(function.methods)
                continue
            request = host_rpc_http(method, target, headers, body, params)
            try:
                response = await self.invoke(function.name, protos.TypedData(http=request))
            except WorkerError as error:
                logger.error("%s", error)  # the host logs it and answers a bare 500
                return HttpAnswer(500, {}, b"")
            self.last_outputs = {b.name: b.data for b in response.output_data}
            return host_http_answer(response.return_value)
        return HttpAnswer(405 if allowed else 404, {}, b"")

    async def timer(self, name: str, past_due: bool = False) -> Any:
        return await self.invoke(name, protos.TypedData(json=host_timer_info(past_due)))

    async def queue(self, name: str, message: func.QueueMessage) -> Any:
        """Invoke a queue function with `message` as the host delivers a received message."""
        text, metadata = host_queue_message(message)
        return await self.invoke(name, protos.TypedData(string=text), metadata)


def function_configs(app_root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Each function folder under `app_root` with its parsed function.json, as the host reads
    them (folders starting with "." or "_" and node_modules are not functions)."""
    return [
        (config.parent, json.loads(config.read_text(encoding="utf-8")))
        for config in sorted(app_root.glob("*/function.json"))
        if not config.parent.name.startswith((".", "_")) and config.parent.name != "node_modules"
    ]


def _trace_parent() -> str:
    return f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"


def _joined(pairs: Iterable[tuple[str, str]], lower: bool = False) -> dict[str, str]:
    # ASP.NET's StringValues.ToString() joins repeated values with ",".
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name.lower() if lower else name, []).append(value)
    return {name: ",".join(each) for name, each in values.items()}


def host_rpc_http(
    method: str, target: str, headers: Headers, body: bytes, route_params: dict[str, str]
) -> Any:
    """The RpcHttp the host builds from an HTTP request (ToRpcHttp)."""
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    pairs.insert(0, ("Host", HOST_ADDRESS))
    if body:
        pairs.append(("Content-Length", str(len(body))))
    query = _joined(parse_qsl(urlsplit(target).query, keep_blank_values=True))
    rpc = protos.RpcHttp(
        method=method,
        url=f"http://{HOST_ADDRESS}{target}",
        headers=_joined(pairs, lower=True),
        # A parameter whose value is empty is left out.
        query={name: value for name, value in query.items() if value},
        params={k: v for k, v in route_params.items() if v is not None},
    )
    # Only a body with a length is passed; the runtime asked for it as raw bytes.
    if body:
        rpc.body.CopyFrom(protos.TypedData(bytes=body))
    return rpc


def host_http_answer(value: Any) -> HttpAnswer:
    """What the host writes for the worker's HTTP return value."""
    kind = value.WhichOneof("data")
    if kind == "string":
        return HttpAnswer(200, {}, value.string.encode("utf-8"))
    assert kind == "http", f"unexpected HTTP return value {kind}"
    http = value.http
    body_kind = http.body.WhichOneof("data")
    body = {
        "bytes": lambda: http.body.bytes,
        "string": lambda: http.body.string.encode("utf-8"),
        None: lambda: b"",
    }[body_kind]()
    return HttpAnswer(int(http.status_code or 200), dict(http.headers), body)


def _json_time(moment: dt.datetime | None) -> Any:
    # Newtonsoft's DateTimeOffset: ISO 8601 with the offset, as a JSON string.
    return protos.TypedData(json=json.dumps(moment.isoformat() if moment else None))


def host_queue_message(message: func.QueueMessage) -> tuple[str, dict[str, Any]]:
    """The string trigger value and trigger metadata the host sends for a queue message."""
    text = message.get_body().decode("utf-8")
    metadata = {
        "QueueTrigger": protos.TypedData(string=text),
        "DequeueCount": protos.TypedData(json=json.dumps(message.dequeue_count)),
        "ExpirationTime": _json_time(message.expiration_time),
        "InsertionTime": _json_time(message.insertion_time),
        "NextVisibleTime": _json_time(message.time_next_visible),
    }
    if message.id is not None:
        metadata["Id"] = protos.TypedData(string=message.id)
    if message.pop_receipt is not None:
        metadata["PopReceipt"] = protos.TypedData(string=message.pop_receipt)
    return text, metadata


def host_timer_info(past_due: bool, now: dt.datetime | None = None) -> str:
    """The TimerInfo JSON the host sends a timer function (schedule monitoring on)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return json.dumps(
        {
            "Schedule": {"AdjustForDST": True},
            "ScheduleStatus": {
                "Last": (now - dt.timedelta(minutes=1)).isoformat(),
                "Next": now.isoformat(),
                "LastUpdated": now.isoformat(),
            },
            "IsPastDue": past_due,
        }
    )
