"""The work queue's messages: split an audience, send a chunk, or settle a poisoned item."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from shared.sending.chunk_delivery import ChunkDelivery
from shared.sending.expansion import AudienceExpansion
from shared.sending.poisoned_work import PoisonedWork
from shared.sending.work_items import (
    ChannelsItem,
    ExpandItem,
    MalformedItemError,
    RosterItem,
    WorkItem,
    parse_work_item,
)

if TYPE_CHECKING:
    from shared.sending.team_channels import TeamChannelPosts
    from shared.sending.team_members import TeamMembers

logger = logging.getLogger(__name__)


class WorkEndpoint:
    def __init__(
        self,
        expansion: AudienceExpansion,
        chunks: ChunkDelivery,
        poisoned: PoisonedWork,
        # Built on first use: only a team audience's items need them.
        team_members: Callable[[], TeamMembers],
        team_channels: Callable[[], TeamChannelPosts],
    ) -> None:
        self._expansion = expansion
        self._chunks = chunks
        self._poisoned = poisoned
        self._team_members = team_members
        self._team_channels = team_channels

    async def handle(self, body: bytes, dequeue_count: int) -> None:
        """Run one work item. Raising hands it back to the host, which retries it and after
        maxDequeueCount tries moves it to the poison queue."""
        item = _parse(body)
        # The host redelivers only after a run failed or died; 0 is an admin-API invocation.
        redelivered = dequeue_count > 1
        if isinstance(item, ExpandItem):
            await self._expansion.run(item, redelivered)
        elif isinstance(item, RosterItem):
            await self._team_members().run(item, redelivered)
        elif isinstance(item, ChannelsItem):
            await self._team_channels().run(item, redelivered)
        else:
            await self._chunks.run(item, redelivered)

    async def handle_poisoned(self, body: bytes) -> None:
        try:
            item = _parse(body)
        except MalformedItemError as error:
            # Not ours to settle: nothing was recorded for it, so nothing is left half-done.
            logger.error("Dropping a poisoned message that is not a work item: %s", error)
            return
        if isinstance(item, RosterItem):
            await self._team_members().give_up(item)
        elif isinstance(item, ChannelsItem):
            await self._team_channels().give_up(item)
        else:
            await self._poisoned.run(item)


def _parse(body: bytes) -> WorkItem:
    try:
        payload = json.loads(body)
    except ValueError:
        raise MalformedItemError("not JSON") from None
    return parse_work_item(payload)
