"""GET /api/notify/{id}: a notification's state, delivery report and answers."""

import azure.functions as func

from shared.app import respond


async def main(req: func.HttpRequest, context: func.Context = None) -> func.HttpResponse:
    return await respond(
        lambda app: app.status.handle(req.route_params.get("id", "")), req, context
    )
