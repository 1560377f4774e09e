"""HTTP plumbing shared by the HTTP functions: JSON bodies in, JSON results and errors out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func

from shared.request_errors import RequestError

# Bot Framework activities and notify requests are a few KiB; anything near this is not one.
MAX_BODY_BYTES = 256 * 1024


@dataclass(frozen=True)
class HttpResult:
    status: int
    body: Any = None  # JSON, or text already in `mimetype`
    headers: dict[str, str] = field(default_factory=dict)
    mimetype: str = "application/json"

    def to_response(self) -> func.HttpResponse:
        if self.body is None:
            return func.HttpResponse(status_code=self.status, headers=self.headers)
        text = self.body if isinstance(self.body, str) else json.dumps(self.body)
        return func.HttpResponse(
            text, status_code=self.status, headers=self.headers, mimetype=self.mimetype
        )


def error_result(error: RequestError) -> HttpResult:
    return HttpResult(error.status, error.to_json())


# How long a caller told "not now" (storage down, a request still in progress) should wait.
RETRY_AFTER = {"Retry-After": "5"}
# Table Storage could not be reached: nothing was half-done, so the caller (a channel, a webhook
# sender) may safely send the same request again.
STORAGE_UNAVAILABLE = HttpResult(503, {"error": "storage unavailable, retry later"}, RETRY_AFTER)


def check_body_size(body: bytes) -> None:
    if len(body) > MAX_BODY_BYTES:
        raise RequestError(
            413, "request body is too large", {"limitBytes": MAX_BODY_BYTES, "bytes": len(body)}
        )


def parse_json_object(body: bytes) -> dict[str, Any]:
    check_body_size(body)
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise RequestError(400, "request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise RequestError(400, "request body must be a JSON object")
    return payload
