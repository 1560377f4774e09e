"""PATCH and DELETE /api/notify/{id}: update or recall, everywhere, what a notification sent."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from shared.functions.idempotency import AnsweredOnce, idempotency_key
from shared.functions.lookup import answer_about, status_path
from shared.functions.signature import WebhookSignatures
from shared.http import (
    JSON_MEDIA_TYPE,
    HttpResult,
    check_body_size,
    check_content_type,
    parse_json_object,
)
from shared.notifications.idempotency_store import IdempotencyStore
from shared.sending.revisions import Revised, Revisions
from shared.sending.work_items import WakeItem

logger = logging.getLogger(__name__)

# The body is a JSON merge patch (RFC 7396): its own media type is as welcome as plain JSON.
MERGE_PATCH_MEDIA_TYPE = "application/merge-patch+json"


class ReviseEndpoint:
    def __init__(
        self,
        revisions: Revisions,
        idempotency_keys: IdempotencyStore,
        webhook_secret: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._revisions = revisions
        self._once = AnsweredOnce(idempotency_keys)
        self._signatures = WebhookSignatures(webhook_secret, clock)

    async def update(
        self,
        notification_id: str,
        body: bytes,
        headers: Mapping[str, str],
        wake: Callable[[str], None] | None = None,
    ) -> HttpResult:
        """PATCH: new text and/or attachments, signed like POST /api/notify (they reach people),
        and answered once per Idempotency-Key or webhook-id like it."""

        async def update() -> HttpResult:
            check_body_size(body)
            self._signatures.check(body, headers)
            check_content_type(headers, (JSON_MEDIA_TYPE, MERGE_PATCH_MEDIA_TYPE))
            change = parse_json_object(body)
            key = idempotency_key(headers, scope=f"PATCH {notification_id}")

            async def revise() -> HttpResult:
                return _answer(await self._revisions.update(notification_id, change), wake)

            return await self._once.answer(key, body, revise)

        return await answer_about(notification_id, update)

    async def recall(
        self, notification_id: str, wake: Callable[[str], None] | None = None
    ) -> HttpResult:
        """DELETE: cancel what is pending, delete what was sent. `wake`: as for update."""

        async def recall() -> HttpResult:
            return _answer(await self._revisions.recall(notification_id), wake)

        return await answer_about(notification_id, recall)


def _answer(revised: Revised, wake: Callable[[str], None] | None) -> HttpResult:
    """202 and where to follow a revision (its work woken on this instance, see WakeItem); 200
    and the notification if it was changed before anything was sent."""
    status = revised.record.to_status()
    if revised.queued:
        if wake is not None:
            wake(WakeItem(revised.record.id).message())
        return HttpResult(202, status, {"Location": status_path(revised.record.id)})
    return HttpResult(200, status)
