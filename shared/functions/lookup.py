"""A notification named in a route (/api/notify/{id}...): one answer for each way it goes wrong.

A malformed or unknown id is a 404, a fixable problem of the request its 4xx, and storage that
cannot be reached a 503 the caller may retry: the same for status, targets, cancel and revise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from shared.http import STORAGE_UNAVAILABLE, HttpResult, error_result
from shared.notifications.notification_store import (
    NoSuchNotification,
    Notification,
    NotificationStore,
)
from shared.request_errors import RequestError
from shared.storage.tables import StorageUnavailableError

NOT_FOUND = HttpResult(404, {"error": "no notification with this id"})


def status_path(notification_id: str) -> str:
    """Where a notification's status is served (the Location of a 202)."""
    return f"/api/notify/{notification_id}"


async def answer_about(
    notification_id: str, answer: Callable[[], Awaitable[HttpResult]]
) -> HttpResult:
    """`answer()`, which raises NoSuchNotification when the notification is not (or no longer)
    there; or the answer to what went wrong."""
    if not Notification.is_id(notification_id):
        return NOT_FOUND
    try:
        return await answer()
    except NoSuchNotification:
        return NOT_FOUND
    except RequestError as error:
        return error_result(error)
    except StorageUnavailableError:
        return STORAGE_UNAVAILABLE


async def existing(notifications: NotificationStore, notification_id: str) -> Notification:
    """The notification, or NoSuchNotification (see answer_about)."""
    notification = await notifications.get(notification_id)
    if notification is None:
        raise NoSuchNotification(notification_id)
    return notification
