"""People of a directory, one to one: a notification to `to.groups` or to people named by e-mail,
a page of people per run.

Each `PeopleItem` reads one page: up to 999 transitive user members of one group (Graph's
`@odata.nextLink` carries on), or up to NAMED_PER_PAGE of the people named (user principal names
and e-mail addresses resolved through Graph's $batch, 20 a request; Entra object ids as they
are). A person named several ways, or in several groups, is reached once: through the first page
that lists them (the ListedMembers rows `to.teamMembersOf` uses). Each person's 1:1 with the bot
is the one the personal-chat index knows by their object id; else the app is installed for them
(TEAMS_APP_ID) and the chat it opens is stored, as the SDK would build its reference, and
indexed, so the next notification is one send. The page's chats go on the queue as chunk items,
then the next page's item. Whoever cannot be reached is one `failed` target keyed by their
object id (or by the name Graph did not know, or by a group that does not exist).

Every step may run twice: an install repeated answers 409 and the same chat, chunks are named by
their keys and claimed once, and a page is counted once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

from shared.channel.service_urls import ServiceUrlPolicy
from shared.delivery.chat_opening import ChatKeeper
from shared.delivery.outcomes import Outcome, TargetResult
from shared.graph.client import MAX_BATCH_REQUESTS, GraphBusyError, GraphClient, GraphError
from shared.graph.installs import AppInstaller
from shared.notifications.people import PeopleAudience, is_object_id
from shared.notifications.request import parse_notify_request
from shared.sending.context import WorkContext
from shared.sending.team_members import ListedMembers
from shared.sending.unreached import record_unreached
from shared.sending.work_items import PeopleItem, chunk_items
from shared.storage.keys import encode_key
from shared.storage.personal_chats import PersonalChatIndex
from shared.storage.references import StoredReference
from shared.teams import PERSONAL, TEAMS

logger = logging.getLogger(__name__)

MEMBERS_PER_PAGE = 999  # the most Graph serves a page of a group's members
NAMED_PER_PAGE = 100  # people named by the request, resolved per run (5 $batch requests)
INSTALLS_AT_ONCE = 8
NO_APP_ID = "TeamsAppIdNotSet: TEAMS_APP_ID is needed to install the app for people without a 1:1"


@dataclass(frozen=True)
class Directory:
    """What reaching the people of a tenant's directory needs besides Graph."""

    home_tenant: str  # MicrosoftAppTenantId: the directory when the request names none
    app_id: str  # the bot's app id, its account in a new 1:1's reference
    teams_service_url: str  # where Teams is reached for a tenant with no stored conversation
    service_urls: ServiceUrlPolicy


class People:
    def __init__(
        self,
        context: WorkContext,
        graph: GraphClient,
        installer: AppInstaller | None,
        chats: PersonalChatIndex,
        keeper: ChatKeeper,
        listed: ListedMembers,
        directory: Directory,
    ) -> None:
        self._context = context
        self._graph = graph
        self._installer = installer
        self._chats = chats
        self._keeper = keeper
        self._listed = listed
        self._directory = directory

    async def run(self, item: PeopleItem, redelivered: bool) -> None:
        context = self._context
        started = context.clock()
        notification = await context.notifications.to_split(
            item.notification_id, item.page, redelivered
        )
        if notification is None:
            return
        people = parse_notify_request(notification.request).people
        if people is None or not 0 <= item.source < people.sources:
            logger.error("Work item %s names no source of people of its notification", item)
            return
        tenant_id = people.tenant_id or self._directory.home_tenant
        persons, failures, continuation = await self._page(people, tenant_id, item)
        persons = list(dict.fromkeys(persons))  # named twice on one page (by e-mail and by id)
        if people.sources > 1 or continuation is not None or item.continuation is not None:
            # Listed by an earlier page (another group, or the same person named again)?
            listed = await self._listed.first_listed(
                item.notification_id, item.page, [{"id": p} for p in persons]
            )
            persons = [m["id"] for m in listed]
        reached, unreached = await self._reach(item.notification_id, tenant_id, persons)
        failures += unreached
        await record_unreached(context, item.notification_id, item.page, failures, redelivered)
        keys = sorted({(encode_key(TEAMS), encode_key(chat)) for chat in reached})
        work = [c.to_json() for c in chunk_items(item.notification_id, item.page, keys)]
        last = continuation is None and item.source + 1 >= people.sources
        if continuation is not None:
            following = PeopleItem(item.notification_id, item.source, item.page + 1, continuation)
            work.append(following.to_json())
        elif not last:
            work.append(PeopleItem(item.notification_id, item.source + 1, item.page + 1).to_json())
        for put in work:
            await context.queue.put(put)
        matched = len(reached) + len(failures)
        await context.notifications.record_page(notification, item.page, matched, last, started)
        logger.info(
            "Notification %s: people page %d (source %d): %d reached, %d not",
            item.notification_id,
            item.page,
            item.source,
            len(reached),
            len(failures),
        )

    async def give_up(self, item: PeopleItem) -> None:
        """The host gave up on the item (poisoned): the people past it can no longer be known."""
        logger.error(
            "Notification %s: people page %d was poisoned", item.notification_id, item.page
        )
        await self._context.notifications.fail(
            item.notification_id,
            f"page {item.page + 1} of the people could not be read (work item poisoned); people "
            "before it are sent and counted, later ones were never matched",
        )

    async def _page(
        self, people: PeopleAudience, tenant_id: str, item: PeopleItem
    ) -> tuple[list[str], list[TargetResult], str | None]:
        """The page's people (Entra object ids), who could not be named, and where the source
        goes on (None: its last page)."""
        if item.source < len(people.groups):
            group = people.groups[item.source]
            try:
                members, next_link = await self._graph.page(
                    tenant_id,
                    f"groups/{group}/transitiveMembers/microsoft.graph.user",
                    {"$select": "id,userPrincipalName", "$top": str(MEMBERS_PER_PAGE)},
                    item.continuation,
                )
            except GraphBusyError:
                raise  # Graph throttled or down: the host runs the item again
            except GraphError as error:
                return [], [_failure(group, tenant_id, error)], None
            ids = [m["id"] for m in members if is_object_id(m.get("id"))]
            return [i.lower() for i in ids], [], next_link
        offset = int(item.continuation or 0)
        named = people.people[offset : offset + NAMED_PER_PAGE]
        following = offset + NAMED_PER_PAGE
        persons, failures = await self._resolve(tenant_id, named)
        return persons, failures, str(following) if following < len(people.people) else None

    async def _resolve(
        self, tenant_id: str, named: Sequence[str]
    ) -> tuple[list[str], list[TargetResult]]:
        """Each name's Entra object id (an object id is its own); a failed target for each name
        Graph does not know."""
        persons = [n for n in named if is_object_id(n)]
        names = [n for n in named if not is_object_id(n)]
        failures: list[TargetResult] = []
        for start in range(0, len(names), MAX_BATCH_REQUESTS):
            batch = names[start : start + MAX_BATCH_REQUESTS]
            requests = [
                (str(i), f"/users/{quote(n, safe='@')}?$select=id,userPrincipalName")
                for i, n in enumerate(batch)
            ]
            answers = await self._graph.batch(tenant_id, requests)
            for i, name in enumerate(batch):
                status, body = answers.get(str(i), (0, {}))
                if 200 <= status < 300 and is_object_id(body.get("id")):
                    persons.append(body["id"].lower())
                    continue
                error = body.get("error") if isinstance(body.get("error"), dict) else {}
                refusal = GraphError(
                    status, str(error.get("code", "")), str(error.get("message", ""))
                )
                failures.append(_failure(name, tenant_id, refusal))
        return persons, failures

    async def _reach(
        self, notification_id: str, tenant_id: str, persons: Sequence[str]
    ) -> tuple[list[str], list[TargetResult]]:
        """Each person's 1:1 chat id (the app installed where none is known), and a failed (or
        cancelled) outcome for each person who cannot be reached."""
        known = await self._chats.find(tenant_id, persons)
        reached = [known[p] for p in persons if p in known]
        to_install = [p for p in persons if p not in known]
        if not to_install:
            return reached, []
        if self._installer is None:
            return reached, [_not_reached(p, tenant_id, NO_APP_ID) for p in to_install]
        base = await self._tenant_base(tenant_id)
        installer = self._installer
        watch = self._context.cancel_watch
        slots = asyncio.Semaphore(INSTALLS_AT_ONCE)

        async def install(person: str) -> tuple[str, str | TargetResult]:
            async with slots:
                if await watch.cancelled(notification_id):
                    return person, TargetResult(
                        TEAMS, person, Outcome.CANCELLED, tenant_id=tenant_id
                    )
                try:
                    chat = await installer.chat_with(tenant_id, person)
                except GraphBusyError:
                    raise
                except GraphError as error:
                    return person, _failure(person, tenant_id, error)
                await self._keeper.keep(_person_target(base, person), chat)
                return person, chat

        failures: list[TargetResult] = []
        for _, result in await asyncio.gather(*(install(p) for p in to_install)):
            if isinstance(result, str):
                reached.append(result)
            else:
                failures.append(result)
        return reached, failures

    async def _tenant_base(self, tenant_id: str) -> StoredReference:
        """The tenant's serviceUrl and the bot's account: a stored conversation's in the
        tenant, else TEAMS_SERVICE_URL and the bot's app id."""
        stored = await self._context.references.in_tenant(tenant_id)
        if stored is not None and self._directory.service_urls.allows(stored.service_url):
            return stored
        bot = ChannelAccount(id=f"28:{self._directory.app_id}")
        reference = ConversationReference(
            bot=bot,
            conversation=ConversationAccount(conversation_type=PERSONAL, tenant_id=tenant_id),
            channel_id=TEAMS,
            service_url=self._directory.teams_service_url,
        )
        return StoredReference(
            reference_json=reference.serialize(),
            channel_id=TEAMS,
            conversation_id="",
            user_id="",
            tenant_id=tenant_id,
            conversation_type=PERSONAL,
            service_url=self._directory.teams_service_url,
        )


def _person_target(base: StoredReference, person: str) -> StoredReference:
    """The person as ChatKeeper's member target: the tenant's serviceUrl and bot, and their
    Entra object id (Graph gives no `29:` id: the first message from them fills it in)."""
    user = ChannelAccount(aad_object_id=person).serialize()
    return StoredReference(
        reference_json={**base.reference_json, "user": user},
        channel_id=TEAMS,
        conversation_id=person,
        user_id="",
        tenant_id=base.tenant_id,
        conversation_type=PERSONAL,
        service_url=base.service_url,
    )


def _failure(key: str, tenant_id: str, error: GraphError) -> TargetResult:
    return _not_reached(
        key, tenant_id, f"{error.code or 'GraphError'}: {error.message}", error.status
    )


def _not_reached(key: str, tenant_id: str, why: str, status: int | None = None) -> TargetResult:
    return TargetResult(TEAMS, key, Outcome.FAILED, status=status, error=why, tenant_id=tenant_id)
