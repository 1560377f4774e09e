"""Team members' 1:1 conversations opened through the fan-out, a page of members at a time.

Opening counts against the same limits as a send, so a member is a fan-out target whose action
opens the chat (see chat_opening); each chat opened is stored and indexed while the others open.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from shared.delivery.chat_opening import ChatKeeper, OpenPersonalChat, opened
from shared.delivery.fanout import Delivery
from shared.delivery.outcomes import TargetResult
from shared.storage.references import StoredReference

WRITES_AT_ONCE = 16  # references and index rows of opened chats written at once


class ChatOpener:
    """Opens members' 1:1 conversations through the fan-out (its limits, retries and
    concurrency) and stores each one's reference and index rows as it opens."""

    def __init__(self, delivery: Delivery, keeper: ChatKeeper) -> None:
        self._delivery = delivery
        self._keeper = keeper

    async def open(
        self,
        targets: Mapping[str, StoredReference],
        stopped: Callable[[], Awaitable[bool]] | None = None,
    ) -> dict[str, TargetResult]:
        """Each target's (by user id, see member_target) result: `sent` with the conversation
        in `sent_in`, or why not. Every opened conversation is stored before this returns."""
        results: dict[str, TargetResult] = {}
        slots = asyncio.Semaphore(WRITES_AT_ONCE)
        keeping: list[asyncio.Task[None]] = []

        async def keep(target: StoredReference, conversation_id: str) -> None:
            async with slots:
                await self._keeper.keep(target, conversation_id)

        async def on_result(result: TargetResult) -> None:
            results[result.conversation_id] = result
            if opened(result):
                # Stored while the other chats are opened: the opens wait on the tenant's limit
                # anyway, and sending starts sooner.
                target = targets[result.conversation_id]
                keeping.append(asyncio.create_task(keep(target, result.sent_in)))

        if not targets:
            return results
        try:
            await self._delivery.send(
                OpenPersonalChat(), targets.values(), on_result=on_result, stopped=stopped
            )
        finally:
            # A write that failed fails the caller's run: run again, it opens (gets back) the
            # same conversations and writes them again.
            await asyncio.gather(*keeping)
        return results
