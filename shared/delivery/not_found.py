"""What a 404 "conversation not found" does: it heals a 1:1, and counts against a shared chat.

Teams answers 404 now and then for conversations that still exist, for about 1 % of users at a
time (botframework-sdk#6628), and a person whose chat truly broke is reached again by opening the
1:1 anew (BotFramework-Services#352). So a Teams personal chat that answers 404 to a new message
is opened again (`POST /v3/conversations`, within the tenant's limits) and sent to once more; if
Teams names another conversation, that one replaces the stored reference. Only a 403 to the
re-open (blocked, uninstalled) removes the person. Any other conversation (group chat, channel,
another channel's chat) is kept and marked; it is forgotten once it failed `delete_after_failures`
sends in a row spanning `delete_after`, or when the channel says it was removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.delivery.actions import ChannelAction, SendMessage
from shared.delivery.chat_opening import ChatKeeper
from shared.storage.references import StoredReference, Unreachable
from shared.teams import PERSONAL, TEAMS


@dataclass(frozen=True)
class NotFoundPolicy:
    keeper: ChatKeeper | None  # stores a reopened 1:1; None: no chat is opened again
    delete_after_failures: int
    delete_after: timedelta
    clock: Callable[[], datetime]

    def reopens(self, action: ChannelAction, target: StoredReference) -> bool:
        """Whether a 404 for this target opens its chat again: a new message to a Teams 1:1."""
        return (
            self.keeper is not None
            and isinstance(action, SendMessage)
            and target.channel_id == TEAMS
            and target.conversation_type == PERSONAL
            and bool(target.user_id and target.tenant_id)
        )

    def gone(self, unreachable: Unreachable) -> bool:
        """Whether a conversation not found this often, for this long, is gone for good."""
        return (
            unreachable.failures >= self.delete_after_failures
            and self.clock() - unreachable.since >= self.delete_after
        )
