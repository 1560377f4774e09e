"""HTTP trigger and output bindings: aiohttp request → azure.functions → aiohttp response."""

from __future__ import annotations

from typing import Any

import azure.functions as func
from aiohttp import web
from multidict import CIMultiDict

# Recomputed by the server for the body actually sent.
_HOP_HEADERS = {"content-length", "transfer-encoding", "connection"}


async def to_function_request(
    request: web.Request, route_params: dict[str, str]
) -> func.HttpRequest:
    """The `azure.functions.HttpRequest` the worker would build for `request`."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    params: dict[str, str] = {}
    for name, value in request.query.items():
        params.setdefault(name, value)
    return func.HttpRequest(
        method=request.method,
        url=str(request.url),
        headers=headers,
        params=params,
        route_params=route_params,
        body=await request.read(),
    )


def to_web_response(result: Any) -> web.Response:
    """Encode a main's return value as the HTTP output binding does.

    An `HttpResponse` keeps its status, headers and body, with a Content-Type from its
    mimetype/charset unless a header sets one; a `str` is a 200 text/plain body. Anything else
    cannot be encoded, which fails the invocation (the worker's "unable to encode outgoing
    TypedData").
    """
    if isinstance(result, str):
        return web.Response(
            status=200,
            body=result.encode(),
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
    if not isinstance(result, func.HttpResponse):
        raise TypeError(
            f"unable to encode outgoing TypedData: {type(result).__name__} returned to an HTTP "
            "output binding; return azure.functions.HttpResponse or str"
        )
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in result.headers.items():
        if name.lower() not in _HOP_HEADERS:
            headers.add(name, value)
    if "Content-Type" not in headers:
        mimetype = result.mimetype
        headers["Content-Type"] = (
            f"{mimetype}; charset={result.charset}" if mimetype.startswith("text/") else mimetype
        )
    return web.Response(status=result.status_code, headers=headers, body=result.get_body())
