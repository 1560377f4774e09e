"""PATCH /api/notify/{id}: update what it sent; DELETE: recall it.

`work` is a queue output binding to the work queue: a revision that is queued writes a WakeItem
through it, and the host wakes its own listener at once for it.
"""

import azure.functions as func

from shared.app import respond


async def main(
    req: func.HttpRequest, work: func.Out[str], context: func.Context = None
) -> func.HttpResponse:
    notification_id = req.route_params.get("id", "")
    if req.method == "PATCH":
        return await respond(
            lambda app: app.revise.update(notification_id, req.get_body(), req.headers, work.set),
            req,
            context,
        )
    return await respond(lambda app: app.revise.recall(notification_id, work.set), req, context)
