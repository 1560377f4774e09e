"""POST /api/notify/{id}/cancel: no new send starts for this notification."""

import azure.functions as func

from shared.app import get_app


async def main(req: func.HttpRequest) -> func.HttpResponse:
    result = await get_app().cancel.handle(req.route_params.get("id", ""))
    return result.to_response()
