"""PATCH /api/notify/{id}: update what it sent; DELETE: recall it."""

import azure.functions as func

from shared.app import respond


async def main(req: func.HttpRequest) -> func.HttpResponse:
    notification_id = req.route_params.get("id", "")
    if req.method == "PATCH":
        return await respond(
            lambda app: app.revise.update(notification_id, req.get_body(), req.headers)
        )
    return await respond(lambda app: app.revise.recall(notification_id))
