"""POST /api/notify: send a proactive message to the stored conversations a webhook names."""

import azure.functions as func

from shared.app import respond


async def main(req: func.HttpRequest) -> func.HttpResponse:
    return await respond(lambda app: app.notify.handle(req.get_body(), req.headers))
