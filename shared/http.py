"""HTTP plumbing shared by the HTTP functions: JSON bodies in, JSON results and errors out."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func

# Bot Framework activities and notify requests are a few KiB; anything near this is not one.
MAX_BODY_BYTES = 256 * 1024


class RequestError(Exception):
    """A problem the caller can fix; becomes `{"error": ..., "detail": ...}` with a 4xx status."""

    def __init__(self, status: int, error: str, detail: Any = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail

    def to_result(self) -> HttpResult:
        body: dict[str, Any] = {"error": self.error}
        if self.detail is not None:
            body["detail"] = self.detail
        return HttpResult(self.status, body)


def field_error(field: str, problem: str) -> RequestError:
    return RequestError(400, f"{field} {problem}", {"field": field})


# C0 controls (NUL, tab, CR, LF, ...), DEL and C1 controls (NEL, ...). No channel puts one in an
# id; an id holding one cannot travel in a header (x-ms-conversation-id) and splits a log line.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def has_control_characters(text: str) -> bool:
    return _CONTROL_CHARACTERS.search(text) is not None


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
