"""POST /api/notify: an external system asks for a proactive message to stored conversations."""

from __future__ import annotations

import logging

from shared.delivery import Delivery, DeliveryReport
from shared.http import HttpResult, RequestError, parse_json_object
from shared.notify_request import NotifyRequest, parse_notify_request
from shared.reference_store import ReferenceStore, StorageUnavailableError

logger = logging.getLogger(__name__)


class Notifier:
    """Sends one message to every stored conversation the audience matches."""

    def __init__(self, store: ReferenceStore, delivery: Delivery) -> None:
        self._store = store
        self._delivery = delivery

    async def notify(self, request: NotifyRequest) -> DeliveryReport:
        return await self._delivery.send(request.message, self._store.find(request.audience))


class NotifyEndpoint:
    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    async def handle(self, body: bytes) -> HttpResult:
        try:
            request = parse_notify_request(parse_json_object(body))
        except RequestError as error:
            return error.to_result()
        try:
            report = await self._notifier.notify(request)
        except StorageUnavailableError as error:
            logger.error("Notify failed: %s", error)
            return HttpResult(503, {"error": "storage unavailable, retry later"})
        return HttpResult(200, report.to_dict())
