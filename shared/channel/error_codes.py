"""What a channel's refusal means for the conversation it was sent to, as the Teams docs list it.

A 404 "conversation not found" is not proof either: Teams answers it now and then for chats that
still exist (botframework-sdk#6628, BotFramework-Services#352), so it is a verdict of its own that
delivery heals (a 1:1 opened again) or counts (a shared conversation kept until it fails for days).
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
    NOT_FOUND = "not_found"  # the conversation was not found, perhaps for a while: see delivery

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
    )
)
# 404 for the conversation itself, named or not (a bare 404 from the conversations API).
NOT_FOUND_CODES = frozenset({"ConversationNotFound".lower(), "HttpError".lower(), ""})
SUSPENDING_CODES = frozenset({"BotDisabledByAdmin".lower()})  # 403: the tenant admin disabled it
# 404 to an update or delete: the user deleted the message, or it was recalled already.
MESSAGE_GONE_CODES = frozenset({"ActivityNotFoundInConversation".lower()})


def verdict(status: int | None, code: str) -> Verdict:
    """What to do after the channel answered `status` with error `code` (no status: no answer)."""
    if status is None or status in RETRYABLE_STATUSES:
        return Verdict.RETRY
    folded = code.lower()
    if status == 404 and folded in NOT_FOUND_CODES:
        return Verdict.NOT_FOUND
    if folded in GONE_CODES:
        return Verdict.REMOVE
    if folded in SUSPENDING_CODES:
        return Verdict.SUSPEND
    if folded in MESSAGE_GONE_CODES:
        return Verdict.MESSAGE_GONE
    return Verdict.FAIL
