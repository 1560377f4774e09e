"""Outcomes of targets found while sending that have no conversation to send to (a team the bot
is not in, a member whose 1:1 could not be opened, a person Graph does not know): recorded under
a claim of their own, named by them as a chunk is, so status and export count them as any other
and a page run twice records them once."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from shared.delivery.outcomes import TargetResult
from shared.sending.context import WorkContext


async def record_unreached(
    context: WorkContext,
    notification_id: str,
    page: int,
    failures: Sequence[TargetResult],
    redelivered: bool,
) -> None:
    if not failures:
        return
    names = "\n".join(f.conversation_id for f in failures)
    digest = hashlib.sha256(names.encode()).hexdigest()[:12]
    chunk = f"{page}-unreached-{digest}"
    claim = await context.outcomes.claim_chunk(
        notification_id, chunk, context.clock(), take_over=redelivered
    )
    if claim is None:
        return  # recorded already, or another copy of the item holds it
    await context.outcomes.record(
        notification_id, claim, list(enumerate(failures)), context.clock(), done=True
    )
