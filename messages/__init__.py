"""POST /api/messages: Bot Framework activities in; the Bot Framework token authenticates them."""

import azure.functions as func

from shared.app import get_app


async def main(req: func.HttpRequest) -> func.HttpResponse:
    result = await get_app().messages.handle(req.get_body(), req.headers.get("Authorization", ""))
    return result.to_response()
