"""Every member of a team, one to one: a notification to `to.teamMembersOf`, a roster page per run.

Each `RosterItem` reads one page (up to 500 members) of one team's roster and finds each member's
1:1 conversation with the bot: the one the personal-chat index knows, else one opened now within
the channel's limits (opening counts as a send) and stored like any other reference, so the next
notification sends straight to it. The page's conversations go on the queue as chunk items (the
path every audience is sent on), then the item for the next page (this team's next, or the next
team's first), and the page's members are counted as matched. A team must be installed: one the
bot has no stored conversation in is one target recorded `failed` (keyed by the team id), and a
member whose chat could not be opened is one target recorded `failed` keyed by the member's user
id, since neither has a conversation. A member of two of the named teams is reached once, through
the first.

Every step may run twice: Teams gives the same conversation for the same user, chunks are named
by their keys and claimed once, and a page is counted once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

from shared.channel.connector import ChannelError
from shared.channel.error_codes import Verdict
from shared.delivery.chat_opening import member_target, opened
from shared.delivery.member_chats import ChatOpener
from shared.delivery.outcomes import Outcome, TargetResult
from shared.sending.context import TeamsAccess, WorkContext
from shared.sending.team_steps import TeamSteps
from shared.sending.unreached import record_unreached
from shared.sending.work_items import RosterItem, chunk_items
from shared.storage import transactions
from shared.storage.keys import encode_key
from shared.storage.personal_chats import PersonalChatIndex
from shared.storage.references import StoredReference
from shared.storage.tables import MAX_TRANSACTION_OPERATIONS, Table
from shared.storage.transactions import Insert, TransactionRejected
from shared.teams import TEAMS

logger = logging.getLogger(__name__)

ROSTER_PAGE_SIZE = 500  # the most members Teams serves a page
NOT_OPENED = "PersonalChatNotOpened"  # the error a member whose 1:1 could not be opened gets


class TeamMembers:
    def __init__(
        self,
        context: WorkContext,
        teams: TeamsAccess,
        chats: PersonalChatIndex,
        opener: ChatOpener,
        listed: ListedMembers,
    ) -> None:
        self._context = context
        self._notifications = context.notifications
        self._listed = listed
        self._store = context.references
        self._chats = chats
        self._opener = opener
        self._steps = TeamSteps(context, teams)
        self._connector = teams.connector
        self._service_urls = teams.service_urls
        self._cancel_watch = context.cancel_watch
        self._queue = context.queue
        self._clock = context.clock

    async def run(self, item: RosterItem, redelivered: bool) -> None:
        started = self._clock()  # before the page's unreached members' outcomes
        step = await self._steps.step(item, redelivered)
        if step is None:
            return
        team, team_id = step.team, step.team_id
        failures: list[TargetResult] = []
        members: list[dict[str, Any]] = []
        continuation = None
        if step.problem or team is None:
            failures.append(step.unreached())
        else:
            try:
                members, continuation = await self._connector.paged_members(
                    team.service_url, team_id, ROSTER_PAGE_SIZE, item.continuation
                )
            except ChannelError as error:
                if error.verdict is Verdict.RETRY:
                    raise  # busy or no answer: the host runs the item again
                failures.append(_team_failure(team, team_id, error))
            # Each member once: two outcomes for one would never add up to the matched count.
            members = list(
                {m["id"]: m for m in members if isinstance(m, dict) and _has_id(m)}.values()
            )
            if len(step.teams.team_ids) > 1:
                members = await self._listed.first_listed(item.notification_id, item.page, members)
        reached: list[str] = []
        if team is not None and members:
            reached, unreached = await self._reach(item.notification_id, team, members)
            failures += unreached
        await record_unreached(
            self._context, item.notification_id, item.page, failures, redelivered
        )
        keys = sorted({(encode_key(TEAMS), encode_key(c)) for c in reached})
        work = [chunk.to_json() for chunk in chunk_items(item.notification_id, item.page, keys)]
        last_team = step.last
        if continuation is not None:
            work.append(
                RosterItem(item.notification_id, item.team, item.page + 1, continuation).to_json()
            )
        elif not last_team:
            work.append(RosterItem(item.notification_id, item.team + 1, item.page + 1).to_json())
        for put in work:
            await self._queue.put(put)
        matched = len(reached) + len(failures)
        await self._notifications.record_page(
            step.notification, item.page, matched, continuation is None and last_team, started
        )
        logger.info(
            "Notification %s: team %d roster page %d: %d member(s), %d reached, %d not",
            item.notification_id,
            item.team,
            item.page,
            len(members),
            len(reached),
            len(failures),
        )

    async def give_up(self, item: RosterItem) -> None:
        """The host gave up on the item (poisoned): the members past it can no longer be known."""
        logger.error(
            "Notification %s: roster page %d (team %d) was poisoned",
            item.notification_id,
            item.page,
            item.team,
        )
        await self._notifications.fail(
            item.notification_id,
            f"roster page {item.page + 1} (team {item.team + 1}) could not be read (work item "
            "poisoned); members before it are sent and counted, later ones were never matched",
        )

    async def _reach(
        self, notification_id: str, team: StoredReference, members: Sequence[dict[str, Any]]
    ) -> tuple[list[str], list[TargetResult]]:
        """The page's members' 1:1 conversation ids (opened where none is known), and a failed
        (or cancelled) outcome for each member whose conversation could not be opened."""
        known = await self._chats.find(team.tenant_id, [m["id"] for m in members])
        to_open = {m["id"]: member_target(team, m) for m in members if m["id"] not in known}

        async def stopped() -> bool:
            return await self._cancel_watch.cancelled(notification_id)

        results = await self._opener.open(to_open, stopped)
        reached = [*known.values(), *(results[u].sent_in for u in to_open if opened(results[u]))]
        unreached = [_member_failure(results[u]) for u in to_open if not opened(results[u])]
        return reached, unreached


class ListedMembers:
    """Which members earlier teams of a notification listed: one small row per member in the
    notification's own partition, inserted by the first roster page that lists them. A page read
    again after a crash finds its own rows (same page) and keeps those members."""

    def __init__(self, table: Table) -> None:
        self._table = table

    async def first_listed(
        self, notification_id: str, page: int, members: Sequence[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The members no earlier page listed; this page is marked as theirs."""
        partition = f"listed-{notification_id}"
        by_row = {hashlib.sha256(str(m["id"]).encode()).hexdigest(): m for m in members}
        rows = [Insert({"PartitionKey": partition, "RowKey": row, "Page": page}) for row in by_row]
        kept = set(by_row)
        for start in range(0, len(rows), MAX_TRANSACTION_OPERATIONS):
            batch = rows[start : start + MAX_TRANSACTION_OPERATIONS]
            while batch:
                try:
                    await transactions.submit(self._table, batch)
                    break
                except TransactionRejected as error:
                    if error.status_code != 409 or error.index is None:
                        raise
                    row = batch[error.index].entity["RowKey"]
                    earlier = await self._table.get(partition, row, select=["Page"])
                    if earlier is None or earlier.get("Page") != page:
                        kept.discard(row)
                    batch = batch[: error.index] + batch[error.index + 1 :]
        return [m for row, m in by_row.items() if row in kept]


def _has_id(member: dict[str, Any]) -> bool:
    return isinstance(member.get("id"), str) and bool(member["id"])


def _member_failure(result: TargetResult) -> TargetResult:
    """A member whose chat was not opened: failed with the channel's answer (removed or
    suspended say nothing here: there was no reference to remove), or cancelled."""
    if result.outcome is Outcome.CANCELLED:
        return result
    return TargetResult(
        result.channel_id,
        result.conversation_id,
        Outcome.FAILED,
        status=result.status,
        error=f"{NOT_OPENED}: {result.error or 'no conversation id in the answer'}",
        attempts=result.attempts,
        tenant_id=result.tenant_id,
        service_url=result.service_url,
    )


def _team_failure(team: StoredReference, team_id: str, error: ChannelError) -> TargetResult:
    """The roster was refused for good (the bot is no longer in the team, say)."""
    return TargetResult(
        TEAMS,
        team_id,
        Outcome.FAILED,
        status=error.status,
        error=f"{error.code}: {error.message}",
        tenant_id=team.tenant_id,
        service_url=team.service_url,
    )
