"""Running one function invocation the way the host and Python worker do.

Async mains run on the host's single event loop; sync mains run in a thread pool so they cannot
block it. Every invocation is logged as the host logs it and tracked, so shutdown can wait.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func

from devhost.functions import CONTEXT_PARAMETER, LoadedFunction
from devhost.outputs import QueueWriter, called_with_outputs

logger = logging.getLogger("devhost.host")

HOST_API_REASON = "This function was programmatically called via the host APIs."
_TRACEPARENT = re.compile(r"00-(?P<trace>[0-9a-f]{32})-[0-9a-f]{16}-(?P<flags>[0-9a-f]{2})")


# Duck-typed: azure.functions exports Context but not the TraceContext/RetryContext bases.
@dataclass(frozen=True)
class _TraceContext:
    trace_parent: str = ""
    trace_state: str = ""
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _RetryContext:
    # devhost has no retry policies (host.json `retry`); a queue message's redelivery is not one.
    retry_count: int = 0
    max_retry_count: int = 0
    exception: None = None


def invocation_trace_parent(trigger_value: Any) -> str:
    """The host's span for an invocation, as the worker is told it: a request's continues the
    caller's W3C `traceparent` header when it has a valid one; any other starts a trace."""
    trace_id, flags = uuid.uuid4().hex, "01"
    if isinstance(trigger_value, func.HttpRequest):
        caller = _TRACEPARENT.fullmatch(trigger_value.headers.get("traceparent", "").strip())
        if caller is not None and caller["trace"] != "0" * 32:
            trace_id, flags = caller["trace"], caller["flags"]
    return f"00-{trace_id}-{uuid.uuid4().hex[:16]}-{flags}"


class InvocationContext(func.Context):
    """The `context` argument: azure.functions.Context is abstract, the worker supplies one."""

    def __init__(
        self,
        invocation_id: str,
        function_name: str,
        function_directory: str,
        trace_context: _TraceContext | None = None,
    ) -> None:
        self._invocation_id = invocation_id
        self._trace_context = trace_context or _TraceContext()
        self._function_name = function_name
        self._function_directory = function_directory
        self._thread_local_storage = threading.local()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def thread_local_storage(self) -> Any:
        return self._thread_local_storage

    @property
    def trace_context(self) -> Any:
        return self._trace_context

    @property
    def retry_context(self) -> Any:
        return _RetryContext()


class Invoker:
    """Runs invocations on the current loop and keeps track of the ones in flight."""

    def __init__(self, executor: ThreadPoolExecutor, outputs: QueueWriter | None = None) -> None:
        self._executor = executor
        self._outputs = outputs
        self._in_flight: set[asyncio.Task[Any]] = set()

    async def invoke(
        self,
        function: LoadedFunction,
        trigger_value: Any,
        reason: str,
        convert: Callable[[Any], Any] | None = None,
        details: str | None = None,
    ) -> Any:
        """Run `function` with its trigger bound to `trigger_value`; return its result.

        `convert` turns the result into the output binding inside the invocation, so a result the
        worker could not encode fails the invocation as it would on Azure. `details` is the
        host's "Trigger Details" line, where it logs one. Failures are logged here and re-raised.
        """
        task = asyncio.create_task(self._run(function, trigger_value, reason, convert, details))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        # Shielded: a caller that goes away (client disconnect, shutdown) does not cut the
        # function short; shutdown waits for it instead.
        return await asyncio.shield(task)

    async def drain(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for invocations in flight, then cancel the rest."""
        if not self._in_flight:
            return
        logger.info("Waiting for %d invocation(s) in flight", len(self._in_flight))
        _, pending = await asyncio.wait(set(self._in_flight), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            logger.warning(
                "Cancelled %d invocation(s) still running after %.0f s", len(pending), timeout
            )
            await asyncio.wait(pending)

    async def _run(
        self,
        function: LoadedFunction,
        trigger_value: Any,
        reason: str,
        convert: Callable[[Any], Any] | None,
        details: str | None,
    ) -> Any:
        spec = function.spec
        invocation_id = str(uuid.uuid4())
        kwargs: dict[str, Any] = {spec.trigger_name: trigger_value}
        if function.wants_context:
            kwargs[CONTEXT_PARAMETER] = InvocationContext(
                invocation_id,
                spec.name,
                str(spec.directory),
                _TraceContext(invocation_trace_parent(trigger_value)),
            )
        logger.info(
            "Executing 'Functions.%s' (Reason='%s', Id=%s)", spec.name, reason, invocation_id
        )
        if details:
            logger.info("Trigger Details: %s", details)
        started = time.perf_counter()
        outcome = "Failed"

        async def call(**outputs: Any) -> Any:
            if function.is_async:
                result = await function.main(**kwargs, **outputs)
            else:
                run = functools.partial(function.main, **kwargs, **outputs)
                result = await asyncio.get_running_loop().run_in_executor(
                    self._executor, contextvars.copy_context().run, run
                )
            if result is not None and "$return" not in spec.binding_names:
                # As the worker does: a value with nowhere to go fails the invocation.
                raise RuntimeError(
                    f"function {spec.name!r} without a $return binding returned a non-None value"
                )
            return result if convert is None else convert(result)

        try:
            # What the function set on its queue bindings is written within the invocation,
            # once its result is checked, as the host writes it: a failed write fails it.
            result = await called_with_outputs(spec.queue_outputs, self._outputs, call)
            outcome = "Succeeded"
            return result
        except Exception:
            logger.exception("Exception while executing function: Functions.%s", spec.name)
            raise
        finally:
            logger.info(
                "Executed 'Functions.%s' (%s, Id=%s, Duration=%dms)",
                spec.name,
                outcome,
                invocation_id,
                (time.perf_counter() - started) * 1000,
            )
