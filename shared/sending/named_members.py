"""`to.userIds` naming members of teams the bot is in who never talked to it.

Such a user has no stored conversation for `userIds` to match. Before a notify request is sent or
scheduled, each named id (a `29:` id or an aadObjectId) the personal-chat index does not know, in
any tenant, is looked up in the stored teams (`GET /v3/conversations/{teamId}/members/{userId}`,
which Teams answers by either id); a member found gets a 1:1 conversation opened and stored, as
`to.teamMembersOf` does. The request's `userIds` then also hold each named member's `29:` id, the
id stored references carry, so an aadObjectId finds its member's conversation too.

Which teams are asked: an id the index knows is asked of none (its chat is known, whichever
tenant it is in); with `to.tenantIds`, only teams of those tenants (a member of another could
not be sent to); and each id of the teams in turn until one has it. Once found, its chat is
indexed, so the next notification asks nobody.

Bounded: only explicit lists of at most MAX_NAMED_USERS ids, only ids shaped like Teams' own, and
at most MAX_TEAMS_ASKED stored teams are asked, each lookup within the tenant's rate limit. An id
no team knows is left as it was: it matches what it matched before.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from shared.channel.connector import ChannelError
from shared.delivery.chat_opening import member_target, opened
from shared.delivery.member_chats import ChatOpener
from shared.delivery.rate_limits import RateLimits
from shared.notifications.request import NotifyRequest
from shared.sending.context import TeamsAccess
from shared.sending.team_steps import unreachable
from shared.storage.personal_chats import PersonalChat, PersonalChatIndex
from shared.storage.reference_store import ReferenceStore
from shared.storage.references import StoredReference
from shared.teams import TEAMS, is_member_id

logger = logging.getLogger(__name__)

MAX_NAMED_USERS = 100  # a longer list is matched against stored conversations only
MAX_TEAMS_ASKED = 10  # stored teams asked about each unknown id
LOOKUPS_AT_ONCE = 8


class NamedMembers:
    def __init__(
        self,
        references: ReferenceStore,
        teams: TeamsAccess,
        chats: PersonalChatIndex,
        opener: ChatOpener,
        rate_limits: RateLimits,
    ) -> None:
        self._store = references
        self._chats = chats
        self._opener = opener
        self._connector = teams.connector
        self._service_urls = teams.service_urls
        self._rate_limits = rate_limits

    async def resolved(self, request: NotifyRequest) -> NotifyRequest:
        """The request, its `userIds` extended with the `29:` id of each named team member (whose
        1:1 conversation is then stored)."""
        named = request.audience.user_ids
        if request.teams is not None or not named or len(named) > MAX_NAMED_USERS:
            return request
        candidates = sorted(i for i in named if is_member_id(i))
        if not candidates:
            return request
        # named id -> the member's 29: id
        member_of = _member_ids(await self._chats.lookup_anywhere(candidates))
        unknown = [i for i in candidates if i not in member_of]
        teams = await self._teams_to_ask(request.audience.tenant_ids) if unknown else []
        for tenant_id in dict.fromkeys(t.tenant_id for t in teams):
            # Chats indexed before the index kept its rows under no tenant too.
            member_of.update(_member_ids(await self._chats.lookup(tenant_id, unknown)))
        unknown = [i for i in unknown if i not in member_of]
        slots = asyncio.Semaphore(LOOKUPS_AT_ONCE)

        async def ask(user_id: str) -> tuple[str, StoredReference | None]:
            async with slots:
                return user_id, await self._find_member(teams, user_id)

        targets: dict[str, StoredReference] = {}
        for user_id, target in await asyncio.gather(*(ask(u) for u in unknown)):
            if target is not None:
                targets.setdefault(target.user_id, target)
                member_of[user_id] = target.user_id
        results = await self._opener.open(targets)
        failed = {u for u, r in results.items() if not opened(r)}
        added = {m for m in member_of.values() if m not in failed} - named
        if not added:
            return request
        logger.info("userIds: %d named team member(s) resolved to their 1:1s", len(added))
        user_ids = named | added
        to = {**request.payload["to"], "userIds": sorted(user_ids)}
        return replace(
            request,
            audience=replace(request.audience, user_ids=frozenset(user_ids)),
            payload={**request.payload, "to": to},
        )

    async def _teams_to_ask(self, tenant_ids: frozenset[str] | None) -> list[StoredReference]:
        """The stored teams that can be asked, of the named tenants when the request names some."""
        return [
            t
            for t in await self._store.teams(TEAMS, MAX_TEAMS_ASKED)
            if not unreachable(t, self._service_urls)
            and (tenant_ids is None or t.tenant_id in tenant_ids)
        ]

    async def _find_member(
        self, teams: list[StoredReference], user_id: str
    ) -> StoredReference | None:
        """The user as a member of the first stored team that has them, as a target to open a
        1:1 with; None if none does (or none answered)."""
        for team in teams:
            await self._rate_limits.wait_turn((TEAMS, f"members:{user_id}"), team.tenant_id)
            try:
                member = await self._connector.member(team.service_url, team.team_id, user_id)
            except ChannelError as error:
                if error.status != 404:
                    logger.warning(
                        "Looking up %s in team %s: %s", user_id, team.team_id, error.code
                    )
                continue
            if isinstance(member.get("id"), str) and member["id"]:
                return member_target(team, member)
        return None


def _member_ids(found: dict[str, PersonalChat]) -> dict[str, str]:
    """Each id's member `29:` id, where the index row names it."""
    return {user_id: chat.member_id for user_id, chat in found.items() if chat.member_id}
