"""Typing, shown only while a message turn is slow, and stopped however the turn ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from botbuilder.core import Middleware, TurnContext
from botbuilder.schema import Activity, ActivityTypes

logger = logging.getLogger(__name__)


class TypingWhileSlow(Middleware):
    """Sends typing once a message turn has run `delay` seconds, then every `period` seconds.

    botbuilder's ShowTypingMiddleware stops its timer only after a turn that returns: a turn
    that raises (storage down, answered 503) would leave it sending typing for ever.
    """

    def __init__(self, delay: float = 0.5, period: float = 2.0) -> None:
        self._delay = delay
        self._period = period

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        if context.activity.type != ActivityTypes.message:
            await logic()
            return
        typing = asyncio.create_task(self._keep_typing(context))
        try:
            await logic()
        finally:
            typing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await typing

    async def _keep_typing(self, context: TurnContext) -> None:
        await asyncio.sleep(self._delay)
        while True:
            try:
                await context.send_activity(Activity(type=ActivityTypes.typing))
            except Exception as error:  # typing is a courtesy: never fail the turn for it
                logger.debug("Typing not sent: %s", type(error).__name__)
                return
            await asyncio.sleep(self._period)
