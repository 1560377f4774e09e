"""The work queue's messages (notify_queue) and the ones the host gave up on (notify_poison)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import shared.telemetry.names as names
from shared.sending.handlers import WorkHandlers
from shared.sending.work_items import (
    HANDS_ON_WORK,
    RECORDS_OUTCOMES,
    MalformedItemError,
    WakeItem,
    WorkItem,
    parse_work_item,
)
from shared.storage.queues import TRACE_CONTEXT
from shared.telemetry.current import CONSUMER, telemetry
from shared.telemetry.invocations import invocation_traceparent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    """What the host says of the queue message beside its body."""

    message_id: str = ""
    inserted_at: datetime | None = None
    # The host's own invocation, as a W3C traceparent (the trace a queue trigger starts).
    invocation: str | None = None


class WorkRunner:
    def __init__(
        self,
        handlers: WorkHandlers,
        after_outcomes: Callable[[str, bool], Awaitable[None]] | None = None,
        queue_name: str = "",
    ) -> None:
        self._handlers = handlers
        self._queue_name = queue_name
        # Told of each run that may have recorded a notification's last outcomes (the `done`
        # callback event).
        self._after_outcomes = after_outcomes

    async def handle_message(
        self, message: Any, wake: Callable[[str], None] | None = None, context: Any = None
    ) -> None:
        """`handle` for the queue trigger's message (func.QueueMessage) and invocation context."""
        received = Received(
            message.id or "", message.insertion_time, invocation_traceparent(context)
        )
        await self.handle(message.get_body(), message.dequeue_count or 0, wake, received)

    async def handle(
        self,
        body: bytes,
        dequeue_count: int,
        wake: Callable[[str], None] | None = None,
        received: Received | None = None,
    ) -> None:
        """Run one work item; raising hands it back to the host (see WorkHandler.run). `wake` is
        the function's queue output binding: once a run put work on the queue, a WakeItem there
        has this instance's listener take it at once.

        The run is a CONSUMER span in the trace of the run that put the item (its traceparent
        travels inside the message), linked to the host's own invocation."""
        payload = _json(body)
        kind = str(payload.get("kind", "")) if isinstance(payload, dict) else ""
        parent = payload.get(TRACE_CONTEXT) if isinstance(payload, dict) else None
        received = received or Received()
        attributes = {
            names.MESSAGING_SYSTEM: names.AZURE_QUEUE,
            names.MESSAGING_DESTINATION: self._queue_name,
            names.MESSAGING_OPERATION: names.PROCESS,
            names.MESSAGING_DELIVERY_COUNT: dequeue_count,
            names.WORK_KIND: kind,
        }
        if received.message_id:
            attributes[names.MESSAGING_MESSAGE_ID] = received.message_id
        with telemetry().span(
            f"{names.PROCESS} {kind or 'unknown'}",
            CONSUMER,
            attributes,
            parent=parent if isinstance(parent, str) else None,
            link=received.invocation,
        ) as span:
            item = parse_work_item(payload)
            # The host redelivers only after a run failed or died; 0 is an admin-API invocation.
            redelivered = dequeue_count > 1
            span.set(
                {names.NOTIFICATION_ID: item.notification_id, names.WORK_REDELIVERED: redelivered}
            )
            if received.inserted_at is not None:
                inserted_at = received.inserted_at
                if inserted_at.tzinfo is None:  # the worker's parse of a time without a zone
                    inserted_at = inserted_at.replace(tzinfo=timezone.utc)
                # The wall clock, not the app's: the queue service stamped the insertion time.
                age = (datetime.now(timezone.utc) - inserted_at).total_seconds()
                span.set({names.WORK_AGE: round(age, 3)})
                telemetry().record_queue_age(kind, age)
            await self._handlers.of(item).run(item, redelivered)
            if self._after_outcomes is not None and isinstance(item, RECORDS_OUTCOMES):
                await self._after_outcomes(item.notification_id, redelivered)
            if wake is not None and isinstance(item, HANDS_ON_WORK):
                wake(WakeItem(item.notification_id).message())

    async def handle_poisoned(self, body: bytes) -> None:
        try:
            item = _parse(body)
        except MalformedItemError as error:
            # Not ours to settle: nothing was recorded for it, so nothing is left half-done.
            logger.error("Dropping a poisoned message that is not a work item: %s", error)
            return
        await self._handlers.of(item).give_up(item)


def _parse(body: bytes) -> WorkItem:
    return parse_work_item(_json(body))


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise MalformedItemError("not JSON") from None
