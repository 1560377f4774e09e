"""POST /api/notify: an external system asks for a proactive message to stored conversations."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import shared.telemetry.names as names
from shared.functions.idempotency import AnsweredOnce, idempotency_key
from shared.functions.lookup import status_path
from shared.functions.signature import WebhookSignatures
from shared.http import (
    STORAGE_UNAVAILABLE,
    HttpResult,
    check_body_size,
    check_content_type,
    error_result,
    parse_json_object,
)
from shared.notifications.callback import CallbackPolicy
from shared.notifications.idempotency_store import IdempotencyStore
from shared.notifications.request import NotifyRequest, parse_notify_request
from shared.request_errors import RequestError, field_error
from shared.sending.notifier import Notifier
from shared.sending.work_items import WakeItem
from shared.storage.tables import StorageUnavailableError
from shared.telemetry.current import telemetry
from shared.telemetry.names import INLINE, QUEUED

if TYPE_CHECKING:
    from shared.sending.named_members import NamedMembers

logger = logging.getLogger(__name__)


class NotifyEndpoint:
    def __init__(
        self,
        notifier: Notifier,
        idempotency_keys: IdempotencyStore,
        webhook_secret: str,
        clock: Callable[[], datetime],
        # Built on first use: only a request naming userIds may need it (see NamedMembers).
        named_members: Callable[[], NamedMembers] | None = None,
        home_tenant: str = "",
        callbacks: CallbackPolicy | None = None,
    ) -> None:
        self._notifier = notifier
        self._home_tenant = home_tenant
        self._callbacks = callbacks or CallbackPolicy("", (), allow_loopback=False)
        self._named_members = named_members
        self._once = AnsweredOnce(idempotency_keys)
        self._signatures = WebhookSignatures(webhook_secret, clock)
        self._clock = clock

    async def handle(
        self,
        body: bytes,
        headers: Mapping[str, str],
        wake: Callable[[str], None] | None = None,
    ) -> HttpResult:
        """The answer to a POST. `wake` is the function's queue output binding: a queued
        notification's WakeItem goes there, so this instance's listener takes its chunks at once."""
        try:
            check_body_size(body)
            # The signature is checked before the body is parsed: unsigned input gets no further.
            self._signatures.check(body, headers)
            check_content_type(headers)
            request = parse_notify_request(parse_json_object(body), now=self._clock())
            if request.people is not None and not (request.people.tenant_id or self._home_tenant):
                raise field_error(
                    "to.tenantIds",
                    "must name the directory's tenant: the bot has no MicrosoftAppTenantId",
                )
            self._callbacks.check(request.callback)
            key = idempotency_key(headers)
            return await self._once.answer(key, body, lambda: self._notify(request, wake))
        except RequestError as error:
            return error_result(error)
        except StorageUnavailableError as error:
            logger.error("Notify failed: %s", error)
            return STORAGE_UNAVAILABLE

    async def _notify(
        self, request: NotifyRequest, wake: Callable[[str], None] | None
    ) -> HttpResult:
        if self._named_members is not None and request.audience.user_ids:
            request = await self._named_members().resolved(request)
        if request.send_at is not None:
            scheduled = await self._notifier.schedule(request)
            telemetry().annotate({names.NOTIFICATION_ID: scheduled["id"]})
            return _accepted(scheduled)
        started = time.perf_counter()
        inline, body = await self._notifier.send_now(request)
        telemetry().annotate(
            {
                names.NOTIFICATION_ID: body["id"],
                names.NOTIFICATION_PATH: INLINE if inline else QUEUED,
            }
        )
        if inline:
            telemetry().record_notification_duration(
                time.perf_counter() - started, str(body.get("state", "done"))
            )
            return HttpResult(200, body)
        if wake is not None:
            wake(WakeItem(body["id"]).message())
        return _accepted(body)


def _accepted(status: dict[str, Any]) -> HttpResult:
    """202: it will be sent later; Location is where to follow it."""
    return HttpResult(202, status, {"Location": status_path(status["id"])})
