"""HTTP plumbing shared by the HTTP functions: JSON bodies in, JSON results and errors out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func

from shared.request_errors import RequestError

# Bot Framework activities and notify requests are a few KiB; anything near this is not one.
MAX_BODY_BYTES = 256 * 1024
JSON_MEDIA_TYPE = "application/json"
# A duplicate key is named in the error, cut to this many characters (a key may be 200 KiB).
MAX_KEY_SHOWN = 100


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


def check_content_type(
    headers: Mapping[str, str], accepted: tuple[str, ...] = (JSON_MEDIA_TYPE,)
) -> None:
    """A 415 unless the body is declared as one of `accepted` (parameters such as charset aside):
    text/plain or a form is not taken for JSON, and a missing Content-Type is not either."""
    content_type = headers.get("Content-Type") or ""
    if content_type.split(";", 1)[0].strip().lower() not in accepted:
        raise RequestError(
            415,
            f"Content-Type must be {' or '.join(accepted)}",
            {"field": "Content-Type", "accepted": list(accepted)},
        )


def parse_json_object(body: bytes) -> dict[str, Any]:
    check_body_size(body)
    try:
        payload = json.loads(body, object_pairs_hook=_object_without_duplicate_keys)
    except (ValueError, RecursionError):
        raise RequestError(400, "request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise RequestError(400, "request body must be a JSON object")
    return payload


def _object_without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Each JSON object, refused if it names a key twice: json.loads would keep the last value
    silently (two `to` keys, and the one the sender meant may be the first). The common case
    costs one length comparison; large bodies parse as fast as without the hook."""
    payload = dict(pairs)
    if len(payload) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                shown = key[:MAX_KEY_SHOWN]
                raise RequestError(
                    400,
                    f"request body has the key {json.dumps(shown)} twice in one object",
                    {"duplicateKey": shown},
                )
            seen.add(key)
    return payload
