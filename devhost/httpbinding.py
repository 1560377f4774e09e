"""HTTP trigger and output bindings: aiohttp request → azure.functions → aiohttp response."""

from __future__ import annotations

import logging
from typing import Any

import azure.functions as func
from aiohttp import web
from multidict import CIMultiDict

logger = logging.getLogger("devhost.host")

# Recomputed by the server for the body actually sent.
_HOP_HEADERS = {"content-length", "transfer-encoding", "connection"}


async def to_function_request(
    request: web.Request, route_params: dict[str, str]
) -> func.HttpRequest:
    """The `azure.functions.HttpRequest` the worker builds from what the host sends for `request`.

    The host lower-cases header names and passes a repeated header or query parameter as its
    values joined by "," (ASP.NET's StringValues.ToString()); a query parameter whose value is
    empty is left out. It passes a body only when the request has a Content-Length: a chunked
    body never reaches a Python function (azure-functions-host#7930, "chunked requests are not
    supported for the out-of-process scenarios").
    """
    headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        headers.setdefault(name.lower(), []).append(value)
    query: dict[str, list[str]] = {}
    for name, value in request.query.items():
        query.setdefault(name, []).append(value)
    params = {name: ",".join(values) for name, values in query.items()}
    if not request.content_length and request.body_exists:
        logger.warning(
            "%s %s: the body came chunked (no Content-Length); like the Functions host, the "
            "function gets an empty body",
            request.method,
            request.path,
        )
    return func.HttpRequest(
        method=request.method,
        url=str(request.url),
        headers={name: ",".join(values) for name, values in headers.items()},
        params={name: value for name, value in params.items() if value},
        route_params=route_params,
        body=await request.read() if request.content_length else b"",
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
