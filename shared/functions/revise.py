"""PATCH and DELETE /api/notify/{id}: update or recall, everywhere, what a notification sent."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from shared.functions.lookup import answer_about, status_path
from shared.functions.signature import signature_is_valid
from shared.http import (
    HttpResult,
    check_body_size,
    parse_json_object,
)
from shared.request_errors import RequestError
from shared.sending.revisions import Revised, Revisions

logger = logging.getLogger(__name__)


class ReviseEndpoint:
    def __init__(self, revisions: Revisions, webhook_secret: str) -> None:
        self._revisions = revisions
        self._webhook_secret = webhook_secret

    async def update(
        self, notification_id: str, body: bytes, headers: Mapping[str, str]
    ) -> HttpResult:
        """PATCH: new text and/or attachments, signed like POST /api/notify (they reach people)."""

        async def update() -> HttpResult:
            check_body_size(body)
            if self._webhook_secret and not signature_is_valid(self._webhook_secret, body, headers):
                raise RequestError(401, "missing or invalid X-Signature-256")
            return _answer(await self._revisions.update(notification_id, parse_json_object(body)))

        return await answer_about(notification_id, update)

    async def recall(self, notification_id: str) -> HttpResult:
        """DELETE: cancel what is pending, delete what was sent."""

        async def recall() -> HttpResult:
            return _answer(await self._revisions.recall(notification_id))

        return await answer_about(notification_id, recall)


def _answer(revised: Revised) -> HttpResult:
    """202 and where to follow a revision; 200 and the notification if it was changed before
    anything was sent."""
    status = revised.record.to_status()
    if revised.queued:
        return HttpResult(202, status, {"Location": status_path(revised.record.id)})
    return HttpResult(200, status)
