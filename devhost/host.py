"""A small stand-in for the Functions host: HTTP, timer and queue triggers and the admin API.

Everything runs on one asyncio event loop, as in the Python worker, because the app creates its
clients once per process bound to that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import json
import logging
import os
import re
import signal
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from azure.functions import QueueMessage

from devhost.functions import LoadedFunction, discover_functions, load_function
from devhost.httpbinding import to_function_request, to_web_response
from devhost.invoke import HOST_API_REASON, Invoker
from devhost.outputs import QueueWriter
from devhost.queues import (
    QueueListener,
    QueueOptions,
    on_demand_message,
    read_lease,
    read_queue_options,
    resolve_queue_name,
    storage_connection_string,
)
from devhost.routes import RouteTemplate, compile_route, full_route
from devhost.timers import (
    previous_occurrence,
    resolve_schedule,
    run_timer,
    timer_request,
    utc_now,
)

logger = logging.getLogger("devhost.host")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7071
DEFAULT_ROUTE_PREFIX = "api"
# The host accepts request bodies up to 100 MB.
MAX_REQUEST_BYTES = 100 * 1024 * 1024
_ADMIN_INVOKE = re.compile(r"/admin/functions/([^/]+)/?")


class PortInUseError(RuntimeError):
    """Something else already listens on the address the host was to serve on."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"Port {port} on {host} is already in use")
        self.host = host
        self.port = port


# An app setting named AzureFunctionsJobHost__extensions__queues__batchSize overrides that
# host.json value, as the host reads its configuration (keys are case-insensitive).
HOST_SETTING_PREFIX = "azurefunctionsjobhost__"


def read_host_json(app_root: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """The parsed host.json (empty when there is none: every setting at its default), with the
    `AzureFunctionsJobHost__...` app settings applied over it."""
    path = app_root / "host.json"
    if path.is_file():
        config = json.loads(path.read_text(encoding="utf-8"))
    else:
        logger.warning("No host.json in %s: using defaults", app_root)
        config = {}
    for name, value in environ.items():
        if name.lower().startswith(HOST_SETTING_PREFIX):
            _override(config, name[len(HOST_SETTING_PREFIX) :].split("__"), value)
    return config


def _override(config: dict[str, Any], path: list[str], value: str) -> None:
    *sections, leaf = path
    for section in sections:
        key = next((k for k in config if k.lower() == section.lower()), section)
        if not isinstance(config.get(key), dict):
            config[key] = {}
        config = config[key]
    for key in [k for k in config if k.lower() == leaf.lower()]:
        del config[key]
    config[leaf] = value


def route_prefix(host_config: dict[str, Any]) -> str:
    """`extensions.http.routePrefix` from parsed host.json ("api" when absent)."""
    prefix = host_config.get("extensions", {}).get("http", {}).get("routePrefix")
    return DEFAULT_ROUTE_PREFIX if prefix is None else str(prefix)


def _error(status: int, error: str, detail: Any = None) -> web.Response:
    return web.json_response({"error": error, "detail": detail}, status=status)


class DevHost:
    """Loads the functions under `app_root` and serves them on `host:port` until stopped."""

    def __init__(
        self,
        app_root: Path,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        environ: Mapping[str, str] | None = None,
        shutdown_grace: float = 10.0,
    ) -> None:
        self.app_root = app_root.resolve()
        self.host = host
        self.port = port
        self.shutdown_grace = shutdown_grace
        self._environ = os.environ if environ is None else environ
        # Sync mains run in this pool; the worker sizes it from the same app setting.
        threads = int(self._environ.get("PYTHON_THREADPOOL_THREAD_COUNT") or 0) or None
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="devhost-sync")
        self._outputs = QueueWriter(self._environ, "base64", self._wake_listeners)
        self._invoker = Invoker(self._executor, self._outputs)
        self._functions: dict[str, LoadedFunction] = {}
        self._routes: list[tuple[RouteTemplate, LoadedFunction]] = []
        self._schedules: dict[str, str] = {}
        self._timer_locks: dict[str, asyncio.Lock] = {}
        self._listeners: dict[str, QueueListener] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._stopping = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Load every function, then listen: the port opens only once the functions are ready."""
        self._load()
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await self._site.start()
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            raise PortInUseError(self.host, self.port) from error
        for name, expression in self._schedules.items():
            function = self._functions[name]
            self._spawn(
                run_timer(
                    name,
                    expression,
                    function.spec.run_on_startup,
                    self._timer_locks[name],
                    lambda request, fired, f=function: self._invoker.invoke(
                        f, request, f"Timer fired at {fired.isoformat()}"
                    ),
                )
            )
        for listener in self._listeners.values():
            self._spawn(listener.run())
        self._log_banner()
        logger.info("Host started. Serving on %s", self.url)

    async def stop(self) -> None:
        """Stop accepting and polling, give invocations in flight a grace period, close."""
        if self._stopping:
            return
        self._stopping = True
        logger.info("Stopping host")
        if self._site is not None:
            await self._site.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(
            self._invoker.drain(self.shutdown_grace),
            *(listener.drain(self.shutdown_grace) for listener in self._listeners.values()),
        )
        await self._outputs.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._executor.shutdown(wait=False, cancel_futures=True)
        logger.info("Host stopped")

    async def serve(self) -> None:
        """Start, run until SIGINT or SIGTERM, then stop gracefully.

        The main coroutine of its own loop (`asyncio.run`): once stopped, it ends the tasks the
        functions left on the loop, as the worker's loop does when it ends.
        """
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()

        def request_stop() -> None:
            if stop_requested.is_set():
                logger.info(
                    "Already stopping: what the functions still run gets up to %.0f s to finish",
                    self.shutdown_grace,
                )
            stop_requested.set()

        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {signum: signal.getsignal(signum) for signum in signals}
        for signum in signals:
            loop.add_signal_handler(signum, request_stop)
        try:
            await self.start()
            await stop_requested.wait()
        finally:
            await self.stop()
            # Here, not in asyncio.run's own clean-up: a second Ctrl-C would cut that short,
            # leaving what the app closes when its loop ends (its HTTP and storage clients) open.
            await self._end_tasks_left_on_the_loop()
            for signum in signals:
                loop.remove_signal_handler(signum)
                # It leaves SIGTERM at SIG_DFL: a second one would kill us before Azurite stops.
                if previous[signum] is not None:
                    signal.signal(signum, previous[signum])

    async def _end_tasks_left_on_the_loop(self) -> None:
        """Cancel every other task on the loop and give them shutdown_grace seconds to finish."""
        left = asyncio.all_tasks() - {asyncio.current_task()}
        if not left:
            return
        for task in left:
            task.cancel()
        done, pending = await asyncio.wait(left, timeout=self.shutdown_grace)
        for task in done:
            if not task.cancelled() and (error := task.exception()) is not None:
                logger.error("A task the functions left failed as it ended", exc_info=error)
        if pending:
            logger.warning(
                "%d task(s) the functions left running did not end within %.0f s of being "
                "cancelled",
                len(pending),
                self.shutdown_grace,
            )

    def _load(self) -> None:
        host_config = read_host_json(self.app_root, self._environ)
        queue_options: QueueOptions | None = None
        lease = read_lease(self._environ)
        for spec in discover_functions(self.app_root, self._environ):
            function = load_function(spec, self.app_root)
            self._functions[spec.name] = function
            if spec.is_http:
                route = full_route(route_prefix(host_config), spec.route or spec.name)
                self._routes.append((compile_route(route), function))
            elif spec.is_timer:
                self._schedules[spec.name] = resolve_schedule(
                    spec.name, spec.schedule, self._environ
                )
                self._timer_locks[spec.name] = asyncio.Lock()
            elif spec.is_queue:
                queue_options = queue_options or read_queue_options(host_config, self._environ)
                self._listeners[spec.name] = self._queue_listener(function, queue_options, lease)
            if spec.queue_outputs:
                # Output bindings encode as the extension's messageEncoding says, as triggers read.
                queue_options = queue_options or read_queue_options(host_config, self._environ)
                self._outputs.encoding = queue_options.message_encoding
            for output in spec.queue_outputs:
                # As the host indexing the function: a queue name or connection setting that is
                # missing stops startup, not the first invocation that writes.
                resolve_queue_name(output, self._environ)
                storage_connection_string(output, self._environ)
        self._routes.sort(key=lambda entry: entry[0].precedence)

    def _wake_listeners(self, queue_name: str) -> None:
        for listener in self._listeners.values():
            if listener.queue_name == queue_name:
                listener.notify()

    def _queue_listener(
        self, function: LoadedFunction, options: QueueOptions, lease: dt.timedelta
    ) -> QueueListener:
        spec = function.spec
        queue_name = resolve_queue_name(spec, self._environ)
        reason = f"New queue message detected on '{queue_name}'."

        async def invoke(message: QueueMessage, details: str) -> object:
            return await self._invoker.invoke(function, message, reason, details=details)

        return QueueListener(
            spec.name,
            queue_name,
            storage_connection_string(spec, self._environ),
            options,
            invoke,
            lease=lease,
        )

    def _log_banner(self) -> None:
        logger.info("Functions:")
        for name, function in sorted(self._functions.items()):
            spec = function.spec
            if spec.is_http:
                template = next(t for t, f in self._routes if f is function).template
                methods = ",".join(spec.methods or ("ALL",))
                logger.info("  %s: [%s] %s/%s", name, methods, self.url, template)
            elif spec.is_timer:
                logger.info("  %s: %s (%s)", name, spec.trigger_type, self._schedules[name])
            else:
                queue_name = self._listeners[name].queue_name
                logger.info("  %s: %s (queue '%s')", name, spec.trigger_type, queue_name)
        keyed = [
            n
            for n, f in sorted(self._functions.items())
            if f.spec.auth_level in ("function", "admin")
        ]
        if keyed:
            logger.info(
                "Keys are not checked locally (as with Core Tools); function/admin level: %s",
                ", ".join(keyed),
            )

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        # A timer loop that dies would silently stop firing: say so loudly.
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("Background task failed", exc_info=error)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.rel_url.raw_path
        if admin := _ADMIN_INVOKE.fullmatch(path):
            return await self._admin_invoke(request, unquote(admin.group(1)))
        allowed: set[str] = set()
        for template, function in self._routes:
            route_params = template.match(path)
            if route_params is None:
                continue
            methods = function.spec.methods
            if methods is None or request.method in methods:
                return await self._http_invoke(request, function, route_params)
            allowed.update(methods)
        if allowed:
            return web.Response(status=405, headers={"Allow": ", ".join(sorted(allowed))})
        return web.Response(status=404)

    async def _http_invoke(
        self, request: web.Request, function: LoadedFunction, route_params: dict[str, str]
    ) -> web.StreamResponse:
        function_request = await to_function_request(request, route_params)
        try:
            return await self._invoker.invoke(
                function, function_request, HOST_API_REASON, convert=to_web_response
            )
        except Exception:
            # Logged by the invoker; the host answers an unhandled error with a bare 500.
            return web.Response(status=500)

    async def _admin_invoke(self, request: web.Request, name: str) -> web.StreamResponse:
        """`POST /admin/functions/<name>`: run a non-HTTP function now, as Core Tools does."""
        if request.method != "POST":
            return web.Response(status=405, headers={"Allow": "POST"})
        function = next((f for n, f in self._functions.items() if n.lower() == name.lower()), None)
        if function is None:
            return web.Response(status=404)
        if function.spec.is_http:
            return _error(
                400,
                f"'{function.spec.name}' is HTTP-triggered: call its route instead",
                {"route": next(t.template for t, f in self._routes if f is function)},
            )
        raw = await request.read()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            return _error(400, 'The body must be JSON like {"input": ""}')
        if not isinstance(body, dict):
            return _error(400, 'The body must be JSON like {"input": ""}')
        if not function.spec.is_queue:
            now = utc_now()
            last = previous_occurrence(self._schedules[function.spec.name], now)
            trigger_value: Any = timer_request(False, last, now, now)
        elif isinstance(value := body.get("input", ""), (dict, list)):
            return _error(400, "The input must be a string, number or boolean", {"input": value})
        else:
            # Straight to the function, not through the queue: no retries, no poison queue.
            text = value if isinstance(value, str) else json.dumps(value)
            trigger_value = on_demand_message(text)
        self._spawn(self._run_on_demand(function, trigger_value))
        return web.Response(status=202)

    async def _run_on_demand(self, function: LoadedFunction, trigger_value: Any) -> None:
        # A timer's own lock: an on-demand run never overlaps a scheduled one.
        async with self._timer_locks.get(function.spec.name) or contextlib.nullcontext():
            if self._stopping:
                return
            with contextlib.suppress(Exception):  # logged by the invoker
                await self._invoker.invoke(function, trigger_value, HOST_API_REASON)
