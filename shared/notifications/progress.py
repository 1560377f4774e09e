"""Where a notification stands: its state, counts and times, as GET /api/notify/{id} shows them.

A queued notification's record holds how much of the audience was matched; its claim rows hold
the outcomes. It is `queued` until a chunk is claimed, `sending` until every matched target has
an outcome, then `done`; `cancelled` and `failed` come from the record. An inline notification
has its report on the record instead. Chunks held by an instance that died show as `stalled`,
with by when the host gives their items to another.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.delivery.outcomes import Outcome
from shared.notifications.lifecycle import State
from shared.notifications.notification_store import Notification
from shared.notifications.outcome_store import HEARTBEAT_SECONDS, Totals

# The host hides a queue message while a run holds it, renewing that at half-time: the item of an
# instance that died comes back at most this long after it last renewed.
HOST_LEASE = timedelta(minutes=10)
HEARTBEAT = timedelta(seconds=HEARTBEAT_SECONDS)
# A chunk whose claim row was not written for this long is held by an instance that died.
QUIET_AFTER = 2 * HEARTBEAT


def queued_state(notification: Notification, totals: Totals) -> State:
    """The state of a queued notification, with what its outcomes say."""
    if notification.state is not State.QUEUED:
        return notification.state
    if notification.expanded and totals.recorded >= notification.matched:
        return State.DONE
    if totals.chunks_claimed == 0 and notification.matched == 0:
        return State.QUEUED
    return State.SENDING


def progress(
    notification: Notification, totals: Totals, now: datetime | None = None
) -> dict[str, Any]:
    """The status body: the record's own fields, plus state, counts and times; and, seen at
    `now`, the chunks held by an instance that died, and by when the host hands them on."""
    status = notification.to_status()
    if notification.report is not None:
        return {**status, **_inline(notification)}
    state = queued_state(notification, totals)
    counts: dict[str, Any] = {"matched": notification.matched}
    counts.update({o.value: totals.counts[o] for o in Outcome})
    counts["pending"] = max(notification.matched - totals.recorded, 0)
    if totals.possible_duplicates:
        counts["possibleDuplicates"] = totals.possible_duplicates
    # Started when its first run began, as the record or the first claimed chunk says: runs on
    # instances whose clocks differ a little may stamp a chunk before the record.
    started_at = _earliest(notification.started_at, totals.started_at)
    if state is State.CANCELLED:
        # Its last outcome, the targets never split included, recorded `cancelled` after it.
        finished_at = _latest(notification.cancelled_at, totals.last_at, started_at)
    elif state is State.DONE:
        # The last outcome recorded; an audience of nobody is done as it starts.
        finished_at = _latest(totals.last_at, started_at)
    else:
        finished_at = None
    status.update(
        state=state.value,
        counts=counts,
        startedAt=_iso(started_at),
        finishedAt=_iso(finished_at),
    )
    quiet = [t for t in totals.unfinished_last_written if now and now - t > QUIET_AFTER]
    if quiet and state in (State.SENDING, State.CANCELLED):
        # Each came back at the latest a host lease after its instance died, and it died
        # within a heartbeat of its last write.
        status["stalled"] = {
            "chunks": len(quiet),
            "quietSince": _iso(min(quiet)),
            "resumesBy": _iso(max(quiet) + HEARTBEAT + HOST_LEASE),
        }
    return status


def _inline(notification: Notification) -> dict[str, Any]:
    report = notification.report or {}
    counts = {"matched": report.get("matched", 0)}
    counts.update({o.value: report.get(o.value, 0) for o in Outcome})
    counts["pending"] = 0
    return {
        "counts": counts,
        "startedAt": _iso(notification.claimed_at),
        "finishedAt": _iso(notification.finished_at),
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _earliest(*times: datetime | None) -> datetime | None:
    return min((t for t in times if t is not None), default=None)


def _latest(*times: datetime | None) -> datetime | None:
    return max((t for t in times if t is not None), default=None)
