"""POST /api/messages: Bot Framework activities in; the Bot Framework token authenticates them."""

import azure.functions as func

from shared.app import respond


async def main(req: func.HttpRequest, context: func.Context = None) -> func.HttpResponse:
    return await respond(
        lambda app: app.activities.handle(req.get_body(), req.headers), req, context
    )
