"""POST /api/notify: send a proactive message to the stored conversations a webhook names."""

import azure.functions as func

from shared.app import get_app


async def main(req: func.HttpRequest) -> func.HttpResponse:
    result = await get_app().notify.handle(req.get_body(), req.headers)
    return result.to_response()
