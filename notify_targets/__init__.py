"""GET /api/notify/{id}/targets: per-target outcomes, as JSON or CSV pages."""

import azure.functions as func

from shared.app import respond


async def main(req: func.HttpRequest, context: func.Context = None) -> func.HttpResponse:
    return await respond(
        lambda app: app.targets.handle(
            req.route_params.get("id", ""), req.params, req.headers.get("Accept", "")
        ),
        req,
        context,
    )
