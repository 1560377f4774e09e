"""Who a notification goes to: the optional `to` filters of a notify request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.storage.references import StoredReference
from shared.storage.string_queries import quoted
from shared.storage.tables import MAX_FILTER_COMPARISONS

_FIELDS = (
    ("conversation_ids", "ConversationId", "conversation_id"),
    ("user_ids", "UserId", "user_id"),
    ("channel_ids", "ChannelId", "channel_id"),
    ("tenant_ids", "TenantId", "tenant_id"),
)


@dataclass(frozen=True)
class Audience:
    """A reference matches when, for each field given, its value is one of the listed values.

    A field left out places no condition; a field given as an empty list matches nothing, so a
    caller whose computed recipient list came out empty never broadcasts to everyone by accident.
    """

    conversation_ids: frozenset[str] | None = None
    user_ids: frozenset[str] | None = None
    channel_ids: frozenset[str] | None = None
    tenant_ids: frozenset[str] | None = None

    @property
    def is_everyone(self) -> bool:
        return all(getattr(self, field) is None for field, _, _ in _FIELDS)

    @property
    def is_nobody(self) -> bool:
        return any(getattr(self, field) == frozenset() for field, _, _ in _FIELDS)

    def matches(self, stored: StoredReference) -> bool:
        for field, _, attribute in _FIELDS:
            wanted = getattr(self, field)
            if wanted is not None and getattr(stored, attribute) not in wanted:
                return False
        return True

    def matches_row(self, row: Mapping[str, Any]) -> bool:
        """`matches` for a stored row read without its reference (only the ids)."""
        for field, prop, _ in _FIELDS:
            wanted = getattr(self, field)
            if wanted is not None and row.get(prop, "") not in wanted:
                return False
        return True

    def table_filter(self) -> str | None:
        """An OData filter that narrows the scan, or None to read every row."""
        if self.is_everyone:
            return None
        clauses: list[str] = []
        comparisons = 0
        for field, prop, _ in _FIELDS:
            wanted = getattr(self, field)
            if wanted is None:
                continue
            comparisons += len(wanted)
            clauses.append(
                "(" + " or ".join(f"{prop} eq {quoted(v)}" for v in sorted(wanted)) + ")"
            )
        # Past the limit the filters apply as the rows stream in.
        if comparisons > MAX_FILTER_COMPARISONS:
            return None
        return " and ".join(clauses)
