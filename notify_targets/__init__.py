"""GET /api/notify/{id}/targets: per-target outcomes, as JSON or CSV pages."""

import azure.functions as func

from shared.app import get_app


async def main(req: func.HttpRequest) -> func.HttpResponse:
    result = await get_app().targets.handle(
        req.route_params.get("id", ""), req.params, req.headers.get("Accept", "")
    )
    return result.to_response()
