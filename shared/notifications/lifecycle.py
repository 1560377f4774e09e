"""The states a claimed record goes through, and how long a claim may last.

Notification records and Idempotency-Key records are claimed the same way: an ETag-conditional
write marks them `sending`, and the claimant finishes them. A claim that outlives any Functions run
belongs to an instance that died, and the next run may take it over.
"""

from __future__ import annotations

from datetime import timedelta
from enum import Enum

# host.json's functionTimeout (the Consumption plan's maximum); a test holds the two together.
FUNCTION_RUN_LIMIT = timedelta(minutes=10)
# A few minutes past the run limit, so a slow run's claim is never taken over while it lives.
CLAIM_EXPIRES_AFTER = FUNCTION_RUN_LIMIT + timedelta(minutes=5)


class State(str, Enum):
    SCHEDULED = "scheduled"  # waiting for its sendAt
    QUEUED = "queued"  # on the work queue: its targets are sent by queue-triggered runs
    SENDING = "sending"  # claimed by one run
    DONE = "done"  # finished, with its report
    FAILED = "failed"  # storage gave out mid-send, or its audience could not be read
    CANCELLED = "cancelled"  # no new send starts; what was sent stays reported

    def __str__(self) -> str:
        return self.value
