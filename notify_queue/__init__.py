"""Queue trigger (%NOTIFY_QUEUE%): one work item of a queued notification, on any instance.

`work` is a queue output binding to the same queue: a run that put work there (chunks, the next
window) writes a WakeItem through it, and the host wakes its own listener at once for it.
"""

import azure.functions as func

from shared.app import get_app


async def main(msg: func.QueueMessage, work: func.Out[str], context: func.Context = None) -> None:
    await get_app().work.handle_message(msg, work.set, context)
