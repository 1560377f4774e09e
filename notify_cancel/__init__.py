"""POST /api/notify/{id}/cancel: no new send starts for this notification."""

import azure.functions as func

from shared.app import respond


async def main(req: func.HttpRequest, context: func.Context = None) -> func.HttpResponse:
    return await respond(
        lambda app: app.cancel.handle(req.route_params.get("id", "")), req, context
    )
