"""PATCH and DELETE /api/notify/{id}: update or recall, everywhere, what a notification sent."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from shared.functions.signature import signature_is_valid
from shared.functions.status import NOT_FOUND, status_path
from shared.http import (
    STORAGE_UNAVAILABLE,
    HttpResult,
    RequestError,
    check_body_size,
    parse_json_object,
)
from shared.notifications.notification_store import Notification
from shared.sending.revisions import NoSuchNotification, Revised, Revisions
from shared.storage.tables import StorageUnavailableError

logger = logging.getLogger(__name__)


class ReviseEndpoint:
    def __init__(self, revisions: Revisions, webhook_secret: str) -> None:
        self._revisions = revisions
        self._webhook_secret = webhook_secret

    async def update(
        self, notification_id: str, body: bytes, headers: Mapping[str, str]
    ) -> HttpResult:
        """PATCH: new text and/or attachments, signed like POST /api/notify (they reach people)."""

        async def update() -> Revised:
            check_body_size(body)
            if self._webhook_secret and not signature_is_valid(self._webhook_secret, body, headers):
                raise RequestError(401, "missing or invalid X-Signature-256")
            return await self._revisions.update(notification_id, parse_json_object(body))

        return await _answered(notification_id, update)

    async def recall(self, notification_id: str) -> HttpResult:
        """DELETE: cancel what is pending, delete what was sent."""
        return await _answered(notification_id, lambda: self._revisions.recall(notification_id))


async def _answered(notification_id: str, revise: Callable[[], Awaitable[Revised]]) -> HttpResult:
    if not Notification.is_id(notification_id):
        return NOT_FOUND
    try:
        return _answer(await revise())
    except RequestError as error:
        return error.to_result()
    except NoSuchNotification:
        return NOT_FOUND
    except StorageUnavailableError:
        return STORAGE_UNAVAILABLE


def _answer(revised: Revised) -> HttpResult:
    """202 and where to follow a revision; 200 and the notification if it was changed before
    anything was sent."""
    status = revised.record.to_status()
    if revised.queued:
        return HttpResult(202, status, {"Location": status_path(revised.record.id)})
    return HttpResult(200, status)
