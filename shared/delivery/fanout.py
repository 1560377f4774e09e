"""Fan-out: one proactive message to many stored conversations, and the report of how it went."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass, field

from shared.channel.connector import BotConnector, ChannelError
from shared.channel.service_urls import ServiceUrlPolicy
from shared.delivery.outbound import OutboundMessage, ProactivePayloads
from shared.delivery.rate_limits import RateLimits
from shared.delivery.retry_policy import RetryPolicy
from shared.storage.reference_store import ReferenceStore
from shared.storage.references import StoredReference
from shared.storage.tables import StorageUnavailableError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryFailure:
    conversation_id: str
    status: int | None
    error: str
    removed: bool

    def to_dict(self) -> dict:
        return {
            "conversationId": self.conversation_id,
            "status": self.status,
            "error": self.error,
            "removed": self.removed,
        }


@dataclass
class DeliveryReport:
    """Every matched target ends in exactly one of sent, failed or removed."""

    matched: int = 0
    sent: int = 0
    failed: int = 0
    removed: int = 0
    failures: list[DeliveryFailure] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "matched": self.matched,
            "sent": self.sent,
            "failed": self.failed,
            "removed": self.removed,
            "failures": [failure.to_dict() for failure in self.failures],
        }


class Delivery:
    """Bounded-concurrency fan-out within the channel's rate limits, retrying what may pass later.

    One instance serves the whole process, so NOTIFY_CONCURRENCY and the rate limits hold across
    concurrent notify calls and timer runs.
    """

    def __init__(
        self,
        connector: BotConnector,
        store: ReferenceStore,
        service_urls: ServiceUrlPolicy,
        rate_limits: RateLimits,
        retry_policy: RetryPolicy,
        concurrency: int = 32,
    ) -> None:
        self._connector = connector
        self._store = store
        self._service_urls = service_urls
        self._rate_limits = rate_limits
        self._retry_policy = retry_policy
        self._concurrency = concurrency
        self._sending = asyncio.Semaphore(concurrency)

    async def send(
        self,
        message: OutboundMessage,
        targets: AsyncIterable[StoredReference],
        on_sent: Callable[[StoredReference], Awaitable[None]] | None = None,
    ) -> DeliveryReport:
        """Send to every target; `on_sent` runs after each successful send (e.g. a prompt)."""
        report = DeliveryReport()
        payloads = ProactivePayloads(message)
        # Targets waiting on a rate limit or a retry hold no request slot, so a few more than
        # `concurrency` are kept open; the bound keeps memory flat however many targets stream in.
        open_targets = asyncio.Semaphore(self._concurrency * 4)
        in_flight: set[asyncio.Task] = set()
        try:
            # Sending starts while later pages of targets are still being read.
            async for target in targets:
                report.matched += 1
                await open_targets.acquire()
                task = asyncio.create_task(self._deliver_one(payloads, target, report, on_sent))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                task.add_done_callback(lambda _: open_targets.release())
        finally:
            # Even when reading targets fails, what was started is finished and counted.
            if in_flight:
                await asyncio.gather(*in_flight)
        logger.info(
            "Delivery done: matched=%d sent=%d failed=%d removed=%d",
            report.matched,
            report.sent,
            report.failed,
            report.removed,
        )
        return report

    async def _deliver_one(
        self,
        payloads: ProactivePayloads,
        target: StoredReference,
        report: DeliveryReport,
        on_sent: Callable[[StoredReference], Awaitable[None]] | None,
    ) -> None:
        if not self._service_urls.allows(target.reference_json.get("serviceUrl")):
            self._fail(report, target, None, "serviceUrl is not on the allow-list")
            return
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._send_within_limits(payloads, target)
            except ChannelError as error:
                if error.target_gone:
                    await self._remove(report, target, error)
                    return
                delay = self._retry_policy.delay_before_retry(error, attempt)
                if delay is None:
                    detail = f"{error.code}: {error.message} (attempts: {attempt})"
                    self._fail(report, target, error.status, detail)
                    return
                await asyncio.sleep(delay)
            except Exception:
                logger.exception("Unexpected error sending to %s", target.conversation_id)
                self._fail(report, target, None, "internal error")
                return
            else:
                report.sent += 1
                if on_sent is not None:
                    await self._after_send(on_sent, target)
                return

    @staticmethod
    async def _after_send(
        on_sent: Callable[[StoredReference], Awaitable[None]], target: StoredReference
    ) -> None:
        try:
            await on_sent(target)
        except Exception:
            # The message went out; what follows it must not turn that into a failure.
            logger.exception("After-send step failed for %s", target.conversation_id)

    async def _send_within_limits(
        self, payloads: ProactivePayloads, target: StoredReference
    ) -> None:
        async with self._sending:
            # The turn is taken while holding the slot, right before the request, so the
            # recorded send times are the real ones.
            key = (target.channel_id, target.conversation_id)
            await self._rate_limits.wait_turn(key, target.tenant_id)
            await self._connector.send(payloads.for_reference(target.reference_json))

    async def _remove(
        self, report: DeliveryReport, target: StoredReference, error: ChannelError
    ) -> None:
        try:
            await self._store.delete(target.channel_id, target.conversation_id)
        except StorageUnavailableError:
            self._fail(report, target, error.status, f"{error.code}; reference not removed")
            return
        logger.info(
            "Removed reference %s/%s: channel answered %s %s",
            target.channel_id,
            target.conversation_id,
            error.status,
            error.code,
        )
        report.removed += 1
        report.failures.append(
            DeliveryFailure(target.conversation_id, error.status, error.code, removed=True)
        )

    @staticmethod
    def _fail(
        report: DeliveryReport, target: StoredReference, status: int | None, error: str
    ) -> None:
        logger.warning("Delivery to %s failed: %s %s", target.conversation_id, status, error)
        report.failed += 1
        report.failures.append(
            DeliveryFailure(target.conversation_id, status, error, removed=False)
        )
