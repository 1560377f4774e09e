"""Fan-out: one proactive message to many stored conversations, and the report of how it went."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack, nullcontext
from dataclasses import dataclass
from datetime import datetime

import shared.telemetry.names as names
from shared.channel.connector import BotConnector, ChannelError, Sent
from shared.channel.error_codes import Verdict
from shared.channel.service_urls import ServiceUrlPolicy
from shared.delivery.actions import ChannelAction, SendMessage
from shared.delivery.chat_opening import OpenPersonalChat, personal_reference
from shared.delivery.live_references import LiveReferences, WatchedTargets
from shared.delivery.not_found import NotFoundPolicy
from shared.delivery.outcomes import REFERENCE_GONE, DeliveryReport, Outcome, TargetResult
from shared.delivery.rate_limits import RateLimits
from shared.delivery.retry_policy import RetryPolicy
from shared.storage.reference_store import ReferenceStore
from shared.storage.references import StoredReference
from shared.storage.tables import StorageUnavailableError
from shared.telemetry.current import telemetry

logger = logging.getLogger(__name__)


class ReferenceGone(Exception):
    """The target's reference was deleted while it waited for its turn."""


@dataclass(frozen=True)
class DeliveryLimits:
    """How hard one instance pushes the channel: its windows, its retries, its sends in flight."""

    rate_limits: RateLimits
    retry_policy: RetryPolicy
    concurrency: int = 32


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
        live: LiveReferences,
        limits: DeliveryLimits,
        not_found: NotFoundPolicy,
    ) -> None:
        self._connector = connector
        self._store = store
        self._service_urls = service_urls
        self._rate_limits = limits.rate_limits
        self._retry_policy = limits.retry_policy
        self._concurrency = limits.concurrency
        self._sending = asyncio.Semaphore(limits.concurrency)
        self._live = live
        self._not_found = not_found

    async def send(
        self,
        action: ChannelAction,
        targets: AsyncIterable[StoredReference] | Iterable[StoredReference],
        on_sent: Callable[[StoredReference], Awaitable[None]] | None = None,
        on_result: Callable[[TargetResult], Awaitable[None]] | None = None,
        stopped: Callable[[], Awaitable[bool]] | None = None,
        read_at: datetime | None = None,
    ) -> DeliveryReport:
        """Act on every target (send a message, change or recall one sent before); `on_sent` runs
        after each success (e.g. a question's prompt),
        `on_result` gets each target's outcome, and once `stopped` answers True no new send
        starts: the targets left are `cancelled`. Given when the targets were read from the
        store (`read_at`), those whose reference was deleted since are `skipped` at their turn."""
        watching = nullcontext() if read_at is None else self._live.watching(read_at)
        with watching as live:
            return await self._send_all(action, targets, on_sent, on_result, stopped, live)

    async def _send_all(
        self,
        action: ChannelAction,
        targets: AsyncIterable[StoredReference] | Iterable[StoredReference],
        on_sent: Callable[[StoredReference], Awaitable[None]] | None,
        on_result: Callable[[TargetResult], Awaitable[None]] | None,
        stopped: Callable[[], Awaitable[bool]] | None,
        live: WatchedTargets | None,
    ) -> DeliveryReport:
        report = DeliveryReport()
        # A step after a send that fails (recording outcomes, say) fails the whole delivery: no
        # new request starts, targets still waiting are let go (the run's redelivery sends
        # them), requests already out are answered and reported, and only then is it raised.
        # Nothing started here outlives the call.
        failures: list[BaseException] = []
        out: set[asyncio.Task] = set()  # tasks whose request has left

        def abandon(error: BaseException) -> None:
            if not failures:
                for waiting in in_flight - out - {asyncio.current_task()}:
                    waiting.cancel()
            failures.append(error)

        async def stop_check() -> bool:
            if failures:
                raise _Abandoned
            if stopped is None:
                return False
            try:
                return await stopped()
            except Exception as error:
                # The caller's own step failed (writing outcomes, say): as a failing step after
                # a send, it fails the delivery, not this target.
                abandon(error)
                raise _Abandoned from error

        async def deliver(target: StoredReference) -> None:
            try:
                result = await self._deliver_one(action, target, stop_check, live, out)
            except _Abandoned:
                return
            report.add(result)
            if result.outcome is Outcome.SENT and on_sent is not None:
                await self._after_send(on_sent, target)
            if on_result is not None:
                await on_result(result)

        def settled(task: asyncio.Task) -> None:
            in_flight.discard(task)
            open_targets.release()
            if not task.cancelled() and task.exception() is not None:
                abandon(task.exception())

        # Targets waiting on a rate limit or a retry hold no request slot, so a few more than
        # `concurrency` are kept open; the bound keeps memory flat however many targets stream in.
        open_targets = asyncio.Semaphore(self._concurrency * 4)
        in_flight: set[asyncio.Task] = set()
        try:
            # Sending starts while later pages of targets are still being read.
            async for target in _streamed(targets):
                if failures:
                    break
                report.matched += 1
                await open_targets.acquire()
                task = asyncio.create_task(deliver(target))
                in_flight.add(task)
                task.add_done_callback(settled)
        except BaseException as error:
            # Cut off (the host cancels an invocation it gives up on) or the targets could not
            # be read: as after a failed step, no new request starts.
            abandon(error)
            raise
        finally:
            # Even when reading targets fails, what was started is finished and counted.
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
        if failures:
            raise failures[0]
        logger.info("Delivery done: matched=%d %s", report.matched, _counts(report))
        telemetry().annotate(_span_counts(report))
        return report

    async def _deliver_one(
        self,
        action: ChannelAction,
        target: StoredReference,
        stopped: Callable[[], Awaitable[bool]] | None,
        live: WatchedTargets | None,
        out: set[asyncio.Task] | None = None,
    ) -> TargetResult:
        if not self._service_urls.allows(target.reference_json.get("serviceUrl")):
            return _failed(target, None, "serviceUrl is not on the allow-list", attempts=0)
        if target.suspended:
            return TargetResult.of(target, Outcome.SUSPENDED, error=target.suspended)
        failed_attempts = 0
        while True:
            try:
                sent = await self._send_within_limits(action, target, stopped, live, out)
            except ChannelError as error:
                failed_attempts += 1
                if error.verdict is Verdict.MESSAGE_GONE:
                    return TargetResult.of(
                        target,
                        Outcome.SKIPPED,
                        status=error.status,
                        error=error.code,
                        attempts=failed_attempts,
                    )
                if error.verdict is Verdict.NOT_FOUND:
                    return await self._conversation_not_found(
                        action, target, error, failed_attempts, stopped, out
                    )
                if error.verdict is Verdict.REMOVE:
                    return await self._settle(target, error, failed_attempts, Outcome.REMOVED)
                if error.verdict is Verdict.SUSPEND:
                    return await self._settle(target, error, failed_attempts, Outcome.SUSPENDED)
                if error.status == 429:
                    telemetry().count_throttled(target.tenant_id, names.CONNECTOR)
                    if error.retry_after:
                        await self._pause_tenant(target.tenant_id, error.retry_after)
                delay = self._retry_policy.delay_before_retry(error, failed_attempts)
                if delay is None:
                    detail = f"{error.code}: {error.message} (attempts: {failed_attempts})"
                    return _failed(target, error.status, detail, failed_attempts)
                telemetry().count_retry(target.tenant_id, error.status)
                await asyncio.sleep(delay)
                continue
            except _Abandoned:
                raise
            except ReferenceGone:
                return TargetResult.of(
                    target, Outcome.SKIPPED, error=REFERENCE_GONE, attempts=failed_attempts
                )
            except StorageUnavailableError:
                # The tenant's shared budget could not be read: sending anyway could overrun it.
                return _failed(target, None, "storage unavailable", failed_attempts)
            except Exception:
                logger.exception("Unexpected error sending to %s", target.conversation_id)
                return _failed(target, None, "internal error", failed_attempts + 1)
            if sent is None:
                return TargetResult.of(target, Outcome.CANCELLED, attempts=failed_attempts)
            if target.unreachable is not None:
                await self._found_again(target)
            return _sent(target, sent, failed_attempts + 1)

    async def _conversation_not_found(
        self,
        action: ChannelAction,
        target: StoredReference,
        error: ChannelError,
        attempts: int,
        stopped: Callable[[], Awaitable[bool]] | None,
        out: set[asyncio.Task] | None,
    ) -> TargetResult:
        """A 404 for the conversation (see not_found): a 1:1 is opened again; a new message to
        any other conversation counts against it, which is forgotten only when gone for good."""
        if self._not_found.reopens(action, target):
            return await self._reopen(action, target, attempts, stopped, out)
        detail = f"{error.code}: {error.message}"
        if not isinstance(action, SendMessage):
            # A change to a message sent before says nothing of the conversation's future.
            return _failed(target, error.status, detail, attempts)
        try:
            unreachable = await self._store.mark_unreachable(target, self._not_found.clock())
        except StorageUnavailableError:
            return _failed(target, error.status, f"{detail} (not counted: storage down)", attempts)
        if self._not_found.gone(unreachable):
            return await self._settle(target, error, attempts, Outcome.REMOVED)
        since = unreachable.since.date().isoformat()
        kept = f"not found {unreachable.failures} time(s) in a row since {since}; kept"
        return _failed(target, error.status, f"{error.code}: {kept}", attempts)

    async def _reopen(
        self,
        action: ChannelAction,
        target: StoredReference,
        attempts: int,
        stopped: Callable[[], Awaitable[bool]] | None,
        out: set[asyncio.Task] | None,
    ) -> TargetResult:
        """Open the person's 1:1 again (within the limits, as a send) and send there once."""
        keeper = self._not_found.keeper
        assert keeper is not None  # reopens() says so
        try:
            opened = await self._send_within_limits(OpenPersonalChat(), target, stopped, None, out)
        except ChannelError as error:
            attempts += 1
            if error.verdict is Verdict.REMOVE:
                return await self._settle(target, error, attempts, Outcome.REMOVED)
            if error.verdict is Verdict.SUSPEND:
                return await self._settle(target, error, attempts, Outcome.SUSPENDED)
            detail = f"{error.code}: {error.message} (opening the 1:1 again)"
            return _failed(target, error.status, detail, attempts)
        if opened is None:
            return TargetResult.of(target, Outcome.CANCELLED, attempts=attempts)
        attempts += 1
        reached = target
        if opened.conversation_id and opened.conversation_id != target.conversation_id:
            try:
                reached = await keeper.move(target, opened.conversation_id)
            except StorageUnavailableError:
                # Sent there all the same; the next notification opens it again.
                reached = personal_reference(
                    target, opened.conversation_id, self._not_found.clock()
                )
        try:
            sent = await self._send_within_limits(action, reached, stopped, None, out)
        except ChannelError as error:
            detail = f"{error.code}: {error.message} (after opening the 1:1 again)"
            return _failed(target, error.status, detail, attempts + 1)
        if sent is None:
            return TargetResult.of(target, Outcome.CANCELLED, attempts=attempts)
        logger.info("Reopened 1:1 %s as %s", target.conversation_id, reached.conversation_id)
        return _sent(target, sent, attempts + 1, reopened=True)

    async def _found_again(self, target: StoredReference) -> None:
        try:
            await self._store.clear_unreachable(target)
        except StorageUnavailableError:
            logger.warning("Could not clear the not-found count of %s", target.conversation_id)

    async def _pause_tenant(self, tenant_id: str, seconds: float) -> None:
        """The channel said the tenant is over its limit: every instance holds off."""
        try:
            await self._rate_limits.pause_tenant(tenant_id, seconds)
        except StorageUnavailableError:
            logger.warning("Tenant %s paused here only: storage unavailable", tenant_id)

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
        self,
        action: ChannelAction,
        target: StoredReference,
        stopped: Callable[[], Awaitable[bool]] | None,
        live: WatchedTargets | None,
        out: set[asyncio.Task] | None = None,
    ) -> Sent | None:
        """What the channel answered; None if `stopped` said so before the request went out.
        Raises ReferenceGone if `live` says the target unsubscribed while it waited."""
        key = (target.channel_id, target.conversation_id)
        waiting_since = time.perf_counter()
        while True:
            async with AsyncExitStack() as request_slot:
                async with self._rate_limits.line(target.tenant_id):
                    await self._rate_limits.until_free(key, target.tenant_id)
                    await request_slot.enter_async_context(self._sending)
                    # Asked once the slot is ours, right before the request: a stop seen while
                    # this target waited still holds it back.
                    if stopped is not None and await stopped():
                        return None
                    ticket = self._rate_limits.try_take(key, target.tenant_id)
                if ticket is None:
                    continue  # the tenant's share changed while this one waited for a slot
                telemetry().record_budget_wait(
                    target.tenant_id, time.perf_counter() - waiting_since
                )
                try:
                    # Out of the tenant's line: a re-read this check may wait for holds back
                    # this send only, not the tenant's others. A target found gone counts as a
                    # send in the windows: never more than the limit, at worst a little less.
                    if live is not None and not await live.still_there(target):
                        raise ReferenceGone
                    return await _performed(action, self._connector, target, out)
                finally:
                    self._rate_limits.done(ticket)

    async def _settle(
        self, target: StoredReference, error: ChannelError, attempts: int, outcome: Outcome
    ) -> TargetResult:
        """The conversation is gone for good (REMOVED: its reference is deleted) or the app is
        disabled there for now (SUSPENDED: its reference is marked)."""
        try:
            if outcome is Outcome.REMOVED:
                await self._store.delete(target.channel_id, target.conversation_id)
            else:
                await self._store.suspend(target, error.code)
        except StorageUnavailableError:
            detail = f"{error.code}; reference not {outcome}"
            return _failed(target, error.status, detail, attempts)
        logger.info(
            "Reference %s/%s %s: channel answered %s %s",
            target.channel_id,
            target.conversation_id,
            outcome,
            error.status,
            error.code,
        )
        return TargetResult.of(
            target, outcome, status=error.status, error=error.code, attempts=attempts
        )


async def _performed(
    action: ChannelAction,
    connector: BotConnector,
    target: StoredReference,
    out: set[asyncio.Task] | None,
) -> Sent:
    """The action's answer. From the moment the request leaves until its target's outcome is
    reported, the task is in `out`, which a failing delivery never cancels: a message that went
    out is always recorded as sent, never left for the redelivery to send again."""
    task = asyncio.current_task()
    if out is not None and task is not None:
        out.add(task)
    try:
        with telemetry().tenant(target.tenant_id):
            return await action.perform(connector, target)
    except BaseException:
        if out is not None and task is not None:
            out.discard(task)  # refused or unanswered: whatever follows may be let go
        raise


class _Abandoned(Exception):
    """The delivery failed: this target's send never started, and is left to the redelivery."""


async def _streamed(
    targets: AsyncIterable[StoredReference] | Iterable[StoredReference],
) -> AsyncIterator[StoredReference]:
    if isinstance(targets, AsyncIterable):
        async for target in targets:
            yield target
    else:
        for target in targets:
            yield target


def _sent(
    target: StoredReference, sent: Sent, attempts: int, reopened: bool = False
) -> TargetResult:
    return TargetResult.of(
        target,
        Outcome.SENT,
        status=sent.status,
        attempts=attempts,
        activity_id=sent.activity_id,
        sent_in=sent.conversation_id,
        reopened=reopened,
    )


def _failed(target: StoredReference, status: int | None, error: str, attempts: int) -> TargetResult:
    logger.warning("Delivery to %s failed: %s %s", target.conversation_id, status, error)
    return TargetResult.of(target, Outcome.FAILED, status=status, error=error, attempts=attempts)


def _span_counts(report: DeliveryReport) -> dict[str, int]:
    counts = {names.DELIVERY_MATCHED: report.matched}
    for outcome, count in report.counts.items():
        counts[names.DELIVERY_OUTCOME_PREFIX + outcome.value] = count
    return counts


def _counts(report: DeliveryReport) -> str:
    return " ".join(f"{outcome}={count}" for outcome, count in report.counts.items() if count)
