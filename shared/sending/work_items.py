"""The small JSON work items a large notification is split into on the queue.

An `ExpandItem` reads a window of the audience (see pages_in_window) and puts a
`ChunkItem` on the queue for each run of at most TARGETS_PER_CHUNK targets in it, then an
`ExpandItem` for the next window. A chunk names its targets by their reference keys (one channel
each, so one range query reads them back), never the references themselves: any item fits a
queue message.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from shared.notifications.callback import ACTION, ANSWERED, REACTION, READ
from shared.notifications.outcome_store import TARGETS_PER_CHUNK
from shared.storage.queues import MAX_MESSAGE_JSON_BYTES, with_trace_context

EXPAND, CHUNK, ROSTER, CHANNELS, PEOPLE, WAKE, ENGAGEMENT, CALLBACK = (
    "expand",
    "chunk",
    "roster",
    "channels",
    "people",
    "wake",
    "engagement",
    "callback",
)

# A page of the audience is read as whole chunks (within Table Storage's 1000 a page), so a page
# of a large audience leaves no small chunk behind to cost a claim, a read and a write of its own.
TARGETS_PER_PAGE = (1000 // TARGETS_PER_CHUNK) * TARGETS_PER_CHUNK
# Chunks are put on the queue a window at a time, spread over the window's tenants: an instance
# then holds several tenants' chunks at once even where conversation keys cluster by tenant.
PAGES_PER_WINDOW = 20
# The first window is one page: sending starts once a page is read, not twenty.
PAGES_IN_FIRST_WINDOW = 1


def pages_in_window(window: int) -> int:
    return PAGES_IN_FIRST_WINDOW if window == 0 else PAGES_PER_WINDOW


class MalformedItemError(ValueError):
    """A queue message that is not one of our work items."""


@dataclass(frozen=True)
class ExpandItem:
    notification_id: str
    page: int = 0
    # Where the window's read starts: a Table continuation, or a tenant index cursor.
    continuation: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": EXPAND,
            "notification": self.notification_id,
            "page": self.page,
            "continuation": self.continuation,
        }


@dataclass(frozen=True)
class ChunkItem:
    notification_id: str
    # "<page>-<index>-<digest of its keys>": the same for every copy of one chunk, and another
    # name if a page read again after a crash cuts differently (references came or went).
    chunk: str
    partition_key: str
    row_keys: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": CHUNK,
            "notification": self.notification_id,
            "chunk": self.chunk,
            "partitionKey": self.partition_key,
            "rowKeys": list(self.row_keys),
        }


@dataclass(frozen=True)
class RosterItem:
    """One roster page of one team of a `to.teamMembersOf` notification: its members reached one
    to one. `page` counts roster pages over all the teams (the record counts each once);
    `continuation` is the team's roster token for this page (None: its first)."""

    notification_id: str
    team: int  # index into the notification's team ids
    page: int = 0
    continuation: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": ROSTER,
            "notification": self.notification_id,
            "team": self.team,
            "page": self.page,
            "continuation": self.continuation,
        }


@dataclass(frozen=True)
class ChannelsItem:
    """One team of a `to.teamChannels` notification: a new post in its General channel or in
    each of its channels. `page` is the team's index too: one team is one page of the audience."""

    notification_id: str
    team: int

    @property
    def page(self) -> int:
        return self.team

    def to_json(self) -> dict[str, Any]:
        return {"kind": CHANNELS, "notification": self.notification_id, "team": self.team}


@dataclass(frozen=True)
class PeopleItem:
    """One page of the people of a `to.groups` (or e-mail named) notification: a page of a
    group's members, or of the people named, each reached one to one. `source` indexes the
    groups, then the people named; `page` counts pages over all of them; `continuation` is the
    group's `@odata.nextLink`, or the offset into the people named (None: its first page)."""

    notification_id: str
    source: int
    page: int = 0
    continuation: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": PEOPLE,
            "notification": self.notification_id,
            "source": self.source,
            "page": self.page,
            "continuation": self.continuation,
        }


@dataclass(frozen=True)
class WakeItem:
    """No work: written through a function's queue output binding once a run put work on the
    queue (the POST its first window, an expand item the next), because the host wakes its own
    queue listener at once for a message written through a binding (and for no other); that
    listener then takes the new chunks instead of waiting out its polling back-off."""

    notification_id: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": WAKE, "notification": self.notification_id}

    def message(self) -> str:
        """The text for a queue output binding (the host writes it to the queue as it is), in
        the trace of the run that wrote it, as WorkQueue.put's items are."""
        return json.dumps(with_trace_context(self.to_json()))


@dataclass(frozen=True)
class EngagementItem:
    """Something a person did with a notification's message, told by Teams to the bot and put
    on the queue before the bot answers (so a crash loses none of it): a read, reactions added
    and removed, a click on the notification's own card, or an answer to its question.
    `target` is the target's outcome row; `sent` the sent-message index row (partition, row
    key) a read marks; `activity` the id of Teams' activity that told it."""

    notification_id: str
    what: str
    target: str
    user_id: str
    at: str
    activity: str = ""
    sent: tuple[str, str] = ("", "")
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    # An action's {"verb", "data"}; an answer's {"choice", "conversationId"}.
    detail: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": ENGAGEMENT,
            "notification": self.notification_id,
            "what": self.what,
            "target": self.target,
            "user": self.user_id,
            "at": self.at,
            "activity": self.activity,
            "sent": list(self.sent),
            "added": list(self.added),
            "removed": list(self.removed),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class CallbackItem:
    """Deliver one callback event (see shared/feedback/callbacks.py): its id names its row."""

    notification_id: str
    event: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": CALLBACK, "notification": self.notification_id, "event": self.event}


WorkItem = (
    ExpandItem
    | ChunkItem
    | RosterItem
    | ChannelsItem
    | PeopleItem
    | WakeItem
    | EngagementItem
    | CallbackItem
)
# The kinds whose run puts more work on the queue (chunks, the next window or roster page).
HANDS_ON_WORK = (ExpandItem, RosterItem, ChannelsItem, PeopleItem)
# The kinds whose run may record a notification's last outcomes.
RECORDS_OUTCOMES = (ExpandItem, ChunkItem, RosterItem, ChannelsItem, PeopleItem)


def first_team_item(notification_id: str, posts_in_channels: bool) -> RosterItem | ChannelsItem:
    """A team audience's first item: its first team's first roster page, or its first team's
    channel posts."""
    if posts_in_channels:
        return ChannelsItem(notification_id, 0)
    return RosterItem(notification_id, 0)


def parse_work_item(payload: Any) -> WorkItem:
    try:
        kind = payload["kind"]
        notification_id = payload["notification"]
        if not isinstance(notification_id, str):
            raise TypeError("notification")
        if kind == EXPAND:
            continuation = payload.get("continuation")
            if continuation is not None and not isinstance(continuation, dict):
                raise TypeError("continuation")
            return ExpandItem(notification_id, int(payload["page"]), continuation)
        if kind == CHUNK:
            row_keys = tuple(payload["rowKeys"])
            if not all(isinstance(k, str) for k in row_keys):
                raise TypeError("rowKeys")
            return ChunkItem(
                notification_id, str(payload["chunk"]), str(payload["partitionKey"]), row_keys
            )
        if kind == ROSTER:
            continuation = payload.get("continuation")
            if continuation is not None and not isinstance(continuation, str):
                raise TypeError("continuation")
            return RosterItem(
                notification_id, int(payload["team"]), int(payload["page"]), continuation
            )
        if kind == CHANNELS:
            return ChannelsItem(notification_id, int(payload["team"]))
        if kind == PEOPLE:
            continuation = payload.get("continuation")
            if continuation is not None and not isinstance(continuation, str):
                raise TypeError("continuation")
            return PeopleItem(
                notification_id, int(payload["source"]), int(payload["page"]), continuation
            )
        if kind == WAKE:
            return WakeItem(notification_id)
        if kind == CALLBACK:
            event = payload["event"]
            if not isinstance(event, str) or not event:
                raise TypeError("event")
            return CallbackItem(notification_id, event)
        if kind == ENGAGEMENT:
            what = payload["what"]
            if what not in (READ, REACTION, ACTION, ANSWERED):
                raise ValueError(f"what {what!r}")
            texts = [payload[k] for k in ("target", "user", "at", "activity")]
            lists = [payload.get(k, []) for k in ("sent", "added", "removed")]
            if not all(isinstance(t, str) for t in texts) or not all(
                isinstance(v, list) and all(isinstance(x, str) for x in v) for v in lists
            ):
                raise TypeError("engagement fields")
            sent = tuple(lists[0]) if len(lists[0]) == 2 else ("", "")
            detail = payload.get("detail")
            if detail is not None and not isinstance(detail, dict):
                raise TypeError("detail")
            return EngagementItem(
                notification_id, what, *texts, sent, tuple(lists[1]), tuple(lists[2]), detail
            )
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedItemError(f"not a work item: {error}") from None
    raise MalformedItemError(f"unknown work item kind {kind!r}")


def chunk_items(
    notification_id: str, page: int, keys: Sequence[tuple[str, str]]
) -> Iterator[ChunkItem]:
    """A page's target keys cut into chunks: one partition each, at most TARGETS_PER_CHUNK, and
    small enough for a queue message however long the keys are."""
    index = 0
    start = 0
    while start < len(keys):
        partition_key = keys[start][0]
        chunk_name = f"{page}-{index}-{'0' * 12}"
        size = len(json.dumps(ChunkItem(notification_id, chunk_name, partition_key, ()).to_json()))
        end = start
        while (
            end < len(keys)
            and end - start < TARGETS_PER_CHUNK
            and keys[end][0] == partition_key
            and size + len(keys[end][1]) + 4 <= MAX_MESSAGE_JSON_BYTES
        ):
            size += len(keys[end][1]) + 4  # the quoted key and its comma
            end += 1
        row_keys = tuple(k[1] for k in keys[start:end])
        digest = hashlib.sha256("\n".join((partition_key, *row_keys)).encode()).hexdigest()[:12]
        yield ChunkItem(notification_id, f"{page}-{index}-{digest}", partition_key, row_keys)
        index += 1
        start = end


def spread_by_tenant(
    chunks: Iterable[ChunkItem], tenant_of: dict[tuple[str, str], str]
) -> list[ChunkItem]:
    """The chunks reordered round-robin over the tenants they start with (`tenant_of` maps a
    reference's partition and row key to its tenant), so the next items any instance takes are
    for different tenants rather than all waiting on one tenant's rate limit."""
    by_tenant: dict[str, deque[ChunkItem]] = {}
    for chunk in chunks:
        tenant = tenant_of.get((chunk.partition_key, chunk.row_keys[0]), "")
        by_tenant.setdefault(tenant, deque()).append(chunk)
    spread: list[ChunkItem] = []
    while by_tenant:
        for tenant in list(by_tenant):
            spread.append(by_tenant[tenant].popleft())
            if not by_tenant[tenant]:
                del by_tenant[tenant]
    return spread
