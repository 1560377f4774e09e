"""Updates and recalls: changing or deleting, everywhere, the messages a notification sent.

A revision is a record of its own (kind `update` or `recall`, `revises` naming the notification)
that goes through the work queue like a large notification: its audience is the targets the
notification's message reached, read from their outcome rows (each holds the message's activity
id and conversation), and each gets one outcome of its own. A notification not yet sent is simply
changed (scheduled) or cancelled instead. One revision runs at a time per notification, so the
last update asked for is the one people see.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from shared.notifications.lifecycle import State
from shared.notifications.notification_store import (
    RECALL,
    REVISIONS,
    UPDATE,
    NoSuchNotification,
    Notification,
)
from shared.notifications.progress import queued_state
from shared.notifications.request import changed_request
from shared.request_errors import RequestError
from shared.sending.context import WorkContext
from shared.sending.expansion import AudienceExpansion
from shared.storage.tables import StorageUnavailableError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Revised:
    """What a PATCH or DELETE did: started a revision (`queued`), or changed the notification
    itself before anything was sent (`queued` False)."""

    record: Notification
    queued: bool


class Revisions:
    def __init__(
        self,
        context: WorkContext,
        expansion: AudienceExpansion,
    ) -> None:
        self._notifications = context.notifications
        self._outcomes = context.outcomes
        self._expansion = expansion
        self._clock = context.clock

    async def update(self, notification_id: str, change: dict[str, Any]) -> Revised:
        """Replace the text and/or attachments of what the notification sent (or will send)."""
        notification = await self._revisable(notification_id)
        request = changed_request(notification.request, change)
        if notification.state is State.SCHEDULED:
            changed = await self._notifications.replace_request(notification, request)
            if changed is None:
                raise _conflict("it started sending just now: try again", State.SENDING)
            return Revised(changed, queued=False)
        if not await self._sends_over(notification):
            raise _conflict(
                "it is still being sent: update it once it is done, or recall it",
                notification.state,
            )
        return Revised(await self._start(notification, UPDATE, request), queued=True)

    async def recall(self, notification_id: str) -> Revised:
        """Delete what the notification sent, after cancelling whatever it has not sent yet."""
        notification = await self._revisable(notification_id)
        if notification.state is State.SCHEDULED:
            cancelled = await self._notifications.cancel_delivery(notification.id, self._clock())
            if cancelled is not None and cancelled.state is State.CANCELLED:
                return Revised(cancelled, queued=False)
            raise _conflict("it started sending just now: try again", State.SENDING)
        if notification.state is State.QUEUED and not await self._sends_over(notification):
            # What is still to send is cancelled; the recall starts once no send is under way.
            cancelled = await self._notifications.cancel_delivery(notification.id, self._clock())
            if cancelled is None:
                raise NoSuchNotification(notification_id)
            notification = cancelled
        return Revised(await self._start(notification, RECALL, {}), queued=True)

    async def _revisable(self, notification_id: str) -> Notification:
        notification = await self._notifications.get(notification_id)
        if notification is None:
            raise NoSuchNotification(notification_id)
        if notification.kind in REVISIONS:
            raise _conflict("an update or a recall cannot itself be changed", notification.state)
        if notification.state is State.SENDING:
            raise _conflict(
                "it is being sent within its own request: try again when that answers",
                notification.state,
            )
        if notification.revisions:
            last = await self._notifications.get(notification.revisions[-1])
            if last is not None and last.kind == RECALL:
                raise _conflict("it was recalled: nothing it sent is left to change", State.DONE)
            if last is not None and not await self._sends_over(last):
                raise _conflict(
                    f"its previous {last.kind} ({last.id}) is still running: try again when it "
                    "is done",
                    last.state,
                )
        return notification

    async def _sends_over(self, notification: Notification) -> bool:
        if notification.state is not State.QUEUED:
            return True
        totals = await self._outcomes.totals(notification.id)
        return queued_state(notification, totals) is State.DONE

    async def _start(
        self, notification: Notification, kind: str, request: dict[str, Any]
    ) -> Notification:
        now = self._clock()
        revision = Notification(
            id=Notification.new_id(),
            state=State.QUEUED,
            request=request,
            created_at=now,
            claimed_at=now,
            kind=kind,
            revises=notification.id,
        )
        # Noting it on the notification first makes two revisions asked at once race for one
        # ETag: the second is refused instead of both running.
        if not await self._notifications.add_revision(notification, revision.id, request or None):
            raise _conflict("it changed meanwhile (another update or recall?): try again", None)
        revision = await self._notifications.add(revision)
        try:
            await self._expansion.start(revision.id)
        except StorageUnavailableError:
            with suppress(StorageUnavailableError):
                await self._notifications.fail(revision.id, "the work queue was unavailable")
            raise
        logger.info("Notification %s: %s %s queued", notification.id, kind, revision.id)
        return revision


def _conflict(why: str, state: State | None) -> RequestError:
    detail = {"state": state.value} if state is not None else None
    return RequestError(409, f"cannot change this notification now: {why}", detail)
