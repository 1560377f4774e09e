"""Each kind of work item has one handler: `run` it, or `give_up` on it once the host has.

The queue function looks an item's handler up here by the item's type; adding a kind of work is
one item class in work_items and one line below. Handlers for team audiences are built on first
use: most notifications name no team, and a cold start would pay for what they import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from shared.sending.work_items import (
    CallbackItem,
    ChannelsItem,
    ChunkItem,
    EngagementItem,
    ExpandItem,
    PeopleItem,
    RosterItem,
    WakeItem,
    WorkItem,
)


class WorkHandler(Protocol):
    async def run(self, item: Any, redelivered: bool) -> None:
        """Do the item's work. Raising hands it back to the host, which runs it again and, after
        maxDequeueCount tries, moves it to the poison queue. `redelivered`: an earlier run of this
        item failed or died, so what it claimed may be taken over."""

    async def give_up(self, item: Any) -> None:
        """The item is poisoned: record what it leaves undone, so nothing is lost silently."""


class WorkHandlers:
    def __init__(
        self,
        expand: Callable[[], WorkHandler],
        chunk: Callable[[], WorkHandler],
        roster: Callable[[], WorkHandler],
        channels: Callable[[], WorkHandler],
        people: Callable[[], WorkHandler],
        engagement: Callable[[], WorkHandler],
        callback: Callable[[], WorkHandler],
    ) -> None:
        self._by_kind: dict[type[WorkItem], Callable[[], WorkHandler]] = {
            ExpandItem: expand,
            ChunkItem: chunk,
            RosterItem: roster,
            ChannelsItem: channels,
            PeopleItem: people,
            EngagementItem: engagement,
            CallbackItem: callback,
            WakeItem: _Awake,
        }

    def of(self, item: WorkItem) -> WorkHandler:
        return self._by_kind[type(item)]()


class _Awake:
    """A WakeItem's handler: being run was its whole purpose."""

    async def run(self, item: WakeItem, redelivered: bool) -> None:
        pass

    async def give_up(self, item: WakeItem) -> None:
        pass
