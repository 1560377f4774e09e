"""GET /api/notify/{id}: a notification's state, delivery report and answers."""

import azure.functions as func

from shared.app import get_app


async def main(req: func.HttpRequest) -> func.HttpResponse:
    result = await get_app().status.handle(req.route_params.get("id", ""))
    return result.to_response()
