"""Queue trigger (%NOTIFY_QUEUE%): one work item of a queued notification, on any instance."""

import azure.functions as func

from shared.app import get_app


async def main(msg: func.QueueMessage) -> None:
    await get_app().work.handle(msg.get_body(), msg.dequeue_count or 0)
