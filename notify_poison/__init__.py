"""Queue trigger (%NOTIFY_QUEUE%-poison): a work item the host gave up on, recorded as such."""

import azure.functions as func

from shared.app import get_app


async def main(msg: func.QueueMessage) -> None:
    await get_app().work.handle_poisoned(msg.get_body())
