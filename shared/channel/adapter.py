"""The Bot Framework adapter that authenticates and runs inbound turns, and its error handler."""

from __future__ import annotations

import logging

from botbuilder.core import CloudAdapterBase, TurnContext
from botbuilder.schema import Activity, ErrorResponseException, ResourceResponse
from botframework.connector.auth import BotFrameworkAuthentication

from shared.channel.typing_indicator import TypingWhileSlow
from shared.storage.references import InvalidReferenceError
from shared.storage.tables import StorageUnavailableError

logger = logging.getLogger(__name__)

# Typing shows only when a turn runs past this long: quick answers stay free of typing noise.
TYPING_DELAY_SECONDS = 0.5
TYPING_PERIOD_SECONDS = 2.0


class ChannelAdapter(CloudAdapterBase):
    """CloudAdapterBase, taking a channel's empty 204 to a reply as sent.

    botbuilder's ConnectorClient expects 200, 201 or 202 and reads a 204 as an error, so the
    turn would fail and the person get an apology for a reply that reached them. Local channels
    (Direct Line emulators) answer 204; proactive sends take any 2xx already (see connector).
    """

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        responses: list[ResourceResponse] = []
        for activity in activities:
            try:
                responses += await super().send_activities(context, [activity])
            except ErrorResponseException as error:
                if getattr(error.response, "status_code", None) != 204:
                    raise
                responses.append(ResourceResponse(id=""))
        return responses


def create_adapter(authentication: BotFrameworkAuthentication) -> CloudAdapterBase:
    adapter = ChannelAdapter(authentication)
    adapter.use(TypingWhileSlow(delay=TYPING_DELAY_SECONDS, period=TYPING_PERIOD_SECONDS))
    adapter.on_turn_error = _on_turn_error
    return adapter


async def _on_turn_error(context: TurnContext, error: Exception) -> None:
    if isinstance(error, (StorageUnavailableError, InvalidReferenceError)):
        # The HTTP layer answers these (503: the channel retries; 400: bad input); an apology
        # now would be sent again on the retry.
        raise error
    activity = context.activity
    logger.error(
        "Turn failed for %s/%s: %s",
        activity.channel_id,
        getattr(activity.conversation, "id", None),
        type(error).__name__,
        exc_info=error,
    )
    try:
        await context.send_activity("Sorry, something went wrong on my side. Please try again.")
    except Exception as send_error:  # the channel itself may be what failed
        logger.warning("Could not tell the user about the error: %s", type(send_error).__name__)
