"""Problems a caller can fix, as any layer raises them; shared.http answers each as a 4xx JSON body.

Kept apart from shared.http so that validating a request (a notify body, a card, a revision)
needs neither HTTP nor azure.functions.
"""

from __future__ import annotations

import re
from typing import Any


class RequestError(Exception):
    """A problem the caller can fix: `{"error": ..., "detail": ...}` with the 4xx `status`."""

    def __init__(self, status: int, error: str, detail: Any = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error}
        if self.detail is not None:
            body["detail"] = self.detail
        return body


def field_error(field: str, problem: str) -> RequestError:
    return RequestError(400, f"{field} {problem}", {"field": field})


# C0 controls (NUL, tab, CR, LF, ...), DEL and C1 controls (NEL, ...). No channel puts one in an
# id; an id holding one cannot travel in a header (x-ms-conversation-id) and splits a log line.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def has_control_characters(text: str) -> bool:
    return _CONTROL_CHARACTERS.search(text) is not None
