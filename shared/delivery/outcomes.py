"""How one target of a notification ended, and the report that adds them up."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from shared.storage.references import StoredReference

# Why a target was skipped: what a status or export shows beside the outcome.
REFERENCE_GONE = (
    "the conversation's reference was deleted before its turn (unsubscribed or removed)"
)


class Outcome(str, Enum):
    SENT = "sent"
    FAILED = "failed"  # the channel kept refusing or failing; the reference is kept
    REMOVED = "removed"  # the conversation is gone for good; its reference was deleted
    SKIPPED = "skipped"  # its reference was gone by the time its turn came (unsubscribed)
    SUSPENDED = "suspended"  # the app is disabled there (BotDisabledByAdmin): held back, kept
    CANCELLED = "cancelled"  # the notification was cancelled before its turn came

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class TargetResult:
    """One target's single outcome, with what the channel said."""

    channel_id: str
    conversation_id: str
    outcome: Outcome
    status: int | None = None
    error: str = ""
    attempts: int = 0
    activity_id: str = ""  # the channel's id for the sent message: to update or delete it
    tenant_id: str = ""
    service_url: str = ""  # where the message went, to update or delete it there
    sent_in: str = ""  # the conversation the message is in: a channel post's own thread
    reopened: bool = False  # sent after the 1:1 answered 404 and was opened again
    # Sent by a run that took over from one that died or failed, which may have sent it too.
    possible_duplicate: bool = False

    @classmethod
    def of(cls, target: StoredReference, outcome: Outcome, **details: Any) -> TargetResult:
        return cls(
            target.channel_id,
            target.conversation_id,
            outcome,
            tenant_id=target.tenant_id,
            service_url=target.service_url,
            **details,
        )

    @property
    def is_failure(self) -> bool:
        return self.outcome in (Outcome.FAILED, Outcome.REMOVED, Outcome.SUSPENDED)

    def failure_dict(self) -> dict[str, Any]:
        return {
            "conversationId": self.conversation_id,
            "status": self.status,
            "error": self.error,
            "removed": self.outcome is Outcome.REMOVED,
            "suspended": self.outcome is Outcome.SUSPENDED,
        }


@dataclass
class DeliveryReport:
    """Every matched target ends in exactly one outcome; `counts` adds them up."""

    matched: int = 0
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    failures: list[dict[str, Any]] = field(default_factory=list)
    reopened: int = 0  # sent after opening a 1:1 again (see TargetResult.reopened)

    def add(self, result: TargetResult) -> None:
        self.counts[result.outcome] += 1
        self.reopened += result.reopened
        if result.is_failure:
            self.failures.append(result.failure_dict())

    def to_dict(self) -> dict[str, Any]:
        report: dict[str, Any] = {"matched": self.matched}
        for outcome in (Outcome.SENT, Outcome.FAILED, Outcome.REMOVED):
            report[outcome.value] = self.counts[outcome]
        # Rarer outcomes are shown when they happened.
        for outcome in (Outcome.SUSPENDED, Outcome.SKIPPED, Outcome.CANCELLED):
            if self.counts[outcome]:
                report[outcome.value] = self.counts[outcome]
        if self.reopened:
            report["reopened"] = self.reopened
        report["failures"] = self.failures
        return report
