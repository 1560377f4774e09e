"""What a channel's refusal means for the conversation it was sent to, as the Teams docs list it.

Not every 403 means gone: a conversation the bot was removed from or that blocked it is gone for
good (its reference is removed); one whose tenant admin disabled the app may come back (it is kept
but suspended until it talks to the bot again); a forbidden operation or an oversized message says
nothing about the conversation (it fails, kept). Busy and unavailable answers may pass later.
"""

from __future__ import annotations

from enum import Enum


class Verdict(str, Enum):
    RETRY = "retry"  # the same request may pass later
    REMOVE = "remove"  # the conversation is gone for good
    SUSPEND = "suspend"  # the app is disabled there for now: skip it until it talks again
    FAIL = "fail"  # this message cannot go; the conversation stays as it is
    MESSAGE_GONE = "message_gone"  # the message to update or delete is no longer there

    def __str__(self) -> str:
        return self.value


# 412 PreconditionFailed, 429 throttled (honour Retry-After), 502/503/504 the service is busy.
RETRYABLE_STATUSES = frozenset({412, 429, 502, 503, 504})
# Codes compare case-insensitively: the docs, the SDKs and the service spell some differently.
GONE_CODES = frozenset(
    code.lower()
    for code in (
        "BotNotInConversationRoster",  # 403: the bot was removed or uninstalled
        "ConversationBlockedByUser",  # 403: the user blocked the bot
        "MessageWritesBlocked",  # 403 sub-code: blocked or uninstalled
        "ConversationNotFound",  # 404: the conversation was deleted
    )
)
SUSPENDING_CODES = frozenset({"BotDisabledByAdmin".lower()})  # 403: the tenant admin disabled it
# 404 to an update or delete: the user deleted the message, or it was recalled already.
MESSAGE_GONE_CODES = frozenset({"ActivityNotFoundInConversation".lower()})


def verdict(status: int | None, code: str) -> Verdict:
    """What to do after the channel answered `status` with error `code` (no status: no answer)."""
    if status is None or status in RETRYABLE_STATUSES:
        return Verdict.RETRY
    folded = code.lower()
    if folded in GONE_CODES:
        return Verdict.REMOVE
    if folded in SUSPENDING_CODES:
        return Verdict.SUSPEND
    if folded in MESSAGE_GONE_CODES:
        return Verdict.MESSAGE_GONE
    return Verdict.FAIL
