"""When and how long to wait before sending to a channel again."""

from __future__ import annotations

import random
from dataclasses import dataclass

from shared.channel.connector import ChannelError
from shared.channel.error_codes import Verdict

# A Retry-After longer than this would hold a Functions run hostage; give up and report instead.
MAX_RETRY_AFTER_SECONDS = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 8.0

    def delay_before_retry(self, error: ChannelError, attempt: int) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to give up."""
        if attempt >= self.max_attempts or error.verdict is not Verdict.RETRY:
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= MAX_RETRY_AFTER_SECONDS else None
        # Exponential backoff with "equal jitter": spreads retries out, never waits ~0.
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto
