"""POST /api/notify: send a proactive message to the stored conversations a webhook names.

`work` is a queue output binding to the work queue: the host wakes its own listener on that
queue at once for a message written there (see WakeItem), so a queued notification's first
chunks start on this instance without waiting out the listener's polling back-off.
"""

import azure.functions as func

from shared.app import respond


async def main(
    req: func.HttpRequest, work: func.Out[str], context: func.Context = None
) -> func.HttpResponse:
    return await respond(
        lambda app: app.notify.handle(req.get_body(), req.headers, work.set), req, context
    )
