"""GET /api/notify/{id}/targets: a queued notification's per-target outcomes, a page at a time.

JSON by default; CSV (one header row, then a row per target) when the caller accepts
`text/csv`, as people export these for audits. `?outcome=failed` keeps one kind;
`?continuation=` (from the previous page's body, or its `X-Continuation` header for CSV) gives the
next page; `?limit=` takes up to 1000 per page.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from shared.delivery.outcomes import Outcome
from shared.functions.lookup import answer_about, existing, status_path
from shared.http import HttpResult
from shared.notifications.notification_store import NotificationStore
from shared.notifications.outcome_store import PAGE_SIZE, InvalidContinuationError, OutcomeStore
from shared.request_errors import field_error
from shared.storage.tables import StorageRequestError

CSV = "text/csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's list for CSV injection
COLUMNS = (
    "channelId",
    "conversationId",
    "tenantId",
    "outcome",
    "status",
    "error",
    "attempts",
    "activityId",
    "sentIn",
    "reopened",
    "possibleDuplicate",
    "serviceUrl",
    "at",
    "readAt",
    "reactions",
    "actions",
)


class TargetsEndpoint:
    def __init__(self, notifications: NotificationStore, outcomes: OutcomeStore) -> None:
        self._notifications = notifications
        self._outcomes = outcomes

    async def handle(
        self, notification_id: str, params: Mapping[str, str], accept: str
    ) -> HttpResult:
        return await answer_about(
            notification_id, lambda: self._page(notification_id, params, accept)
        )

    async def _page(
        self, notification_id: str, params: Mapping[str, str], accept: str
    ) -> HttpResult:
        outcome, limit, continuation = _query(params)
        await existing(self._notifications, notification_id)
        try:
            rows, following = await self._outcomes.page(
                notification_id, outcome, continuation, limit
            )
        except InvalidContinuationError as error:
            raise field_error("continuation", str(error).removeprefix("continuation ")) from None
        except StorageRequestError:
            # Table Storage refused the position inside a token that decoded fine.
            raise field_error("continuation", "is not a token this API gave") from None
        next_link = _next_link(notification_id, params, following)
        if CSV in accept.lower():
            headers = {"Content-Disposition": f'attachment; filename="{notification_id}.csv"'}
            if following:
                headers.update({"X-Continuation": following, "Link": f'<{next_link}>; rel="next"'})
            return HttpResult(200, _csv(rows), headers, mimetype=CSV)
        body = {
            "id": notification_id,
            "targets": rows,
            "continuation": following,
            "next": next_link,
        }
        return HttpResult(200, body)


def _query(params: Mapping[str, str]) -> tuple[Outcome | None, int, str | None]:
    outcome = None
    if raw := params.get("outcome"):
        try:
            outcome = Outcome(raw)
        except ValueError:
            kinds = ", ".join(o.value for o in Outcome)
            raise field_error("outcome", f"must be one of {kinds}") from None
    limit = PAGE_SIZE
    if raw := params.get("limit"):
        if not raw.isdigit() or not 1 <= int(raw) <= PAGE_SIZE:
            raise field_error("limit", f"must be a whole number from 1 to {PAGE_SIZE}")
        limit = int(raw)
    return outcome, limit, params.get("continuation") or None


def _next_link(notification_id: str, params: Mapping[str, str], following: str | None) -> Any:
    if not following:
        return None
    query = {k: v for k, v in params.items() if k in ("outcome", "limit")}
    query["continuation"] = following
    return f"{status_path(notification_id)}/targets?{urlencode(query)}"


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        value = json.dumps(value) if value else ""
    # A spreadsheet runs a cell that starts like a formula; error texts come from the channel.
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value
