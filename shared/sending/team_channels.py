"""A new post in teams' channels: a notification to `to.teamChannels`, one team per work item.

Each `ChannelsItem` finds its team's stored conversation (for the serviceUrl, bot and tenant),
takes the team's General channel (its id is the team's) or lists every channel, and posts the
message as a new thread in each (`POST /v3/conversations`, isGroup), within the channel's limits
like any send. Each channel is one target: its outcome names the thread the post started (`19:...;
messageid=...`) and the post's activity id, to update or recall it later. A team the bot has no
stored conversation in is one target recorded `failed` (keyed by the team id). Then the next
team's item goes on the queue and the team's targets are counted as matched.

The team's posts are claimed as one chunk, so a copy of the item run at the same time posts
nothing; a run after a crash posts again only where no outcome was recorded.
"""

from __future__ import annotations

import hashlib
import logging

from shared.channel.connector import ChannelError
from shared.channel.error_codes import Verdict
from shared.delivery.actions import PostInChannel
from shared.delivery.fanout import Delivery
from shared.delivery.outcomes import Outcome, TargetResult
from shared.notifications.request import NotifyRequest
from shared.sending.context import TeamsAccess, WorkContext
from shared.sending.team_steps import TeamSteps
from shared.sending.work_items import ChannelsItem
from shared.storage.references import StoredReference
from shared.teams import CHANNEL, GENERAL, TEAMS

logger = logging.getLogger(__name__)


class TeamChannelPosts:
    def __init__(
        self,
        context: WorkContext,
        teams: TeamsAccess,
        delivery: Delivery,
    ) -> None:
        self._notifications = context.notifications
        self._outcomes = context.outcomes
        self._store = context.references
        self._steps = TeamSteps(context, teams)
        self._connector = teams.connector
        self._service_urls = teams.service_urls
        self._delivery = delivery
        self._prompts = context.prompts
        self._cancel_watch = context.cancel_watch
        self._queue = context.queue
        self._clock = context.clock

    async def run(self, item: ChannelsItem, redelivered: bool) -> None:
        started = self._clock()  # before the posts, whose outcomes come first
        step = await self._steps.step(item, redelivered)
        if step is None:
            return
        team, team_id, channels = step.team, step.team_id, step.teams.channels or GENERAL
        targets: list[StoredReference] = []
        failure: TargetResult | None = None
        if step.problem or team is None:
            failure = step.unreached()
        else:
            try:
                teams_channel_ids = await self._teams_channel_ids(team, team_id, channels)
            except ChannelError as error:
                if error.verdict is Verdict.RETRY:
                    raise  # busy or no answer: the host runs the item again
                teams_channel_ids = []
                failure = TargetResult.of(
                    channel_target(team, team_id),
                    Outcome.FAILED,
                    status=error.status,
                    error=f"{error.code}: {error.message}",
                )
            targets = [channel_target(team, c) for c in teams_channel_ids]
        if failure is not None:
            await self._post(item, [], [failure], redelivered, step.request)
        else:
            await self._post(item, targets, [], redelivered, step.request)
        last = step.last
        if not last:
            await self._queue.put(ChannelsItem(item.notification_id, item.team + 1).to_json())
        matched = len(targets) + (failure is not None)
        await self._notifications.record_page(step.notification, item.page, matched, last, started)
        logger.info(
            "Notification %s: team %d: %d channel(s)%s",
            item.notification_id,
            item.team,
            len(targets),
            f"; {failure.error}" if failure is not None else "",
        )

    async def _teams_channel_ids(
        self, team: StoredReference, team_id: str, channels: str
    ) -> list[str]:
        if channels == GENERAL:
            return [team_id]
        listed = await self._connector.team_channels(team.service_url, team_id)
        ids = [c.get("id") for c in listed if isinstance(c, dict)]
        # General first, as Teams lists it; every channel once.
        return list(dict.fromkeys([team_id, *(i for i in ids if isinstance(i, str) and i)]))

    async def _post(
        self,
        item: ChannelsItem,
        targets: list[StoredReference],
        failures: list[TargetResult],
        redelivered: bool,
        request: NotifyRequest,
    ) -> None:
        """Post in each channel and record each one's outcome (or record the failures), under
        one claim named by the team's targets."""
        names = "\n".join(
            [*(t.conversation_id for t in targets), *(f.conversation_id for f in failures)]
        )
        digest = hashlib.sha256(names.encode()).hexdigest()[:12]
        claim = await self._outcomes.claim_chunk(
            item.notification_id, f"{item.page}-channels-{digest}", self._clock(), redelivered
        )
        if claim is None:
            return  # posted already, or another copy of the item holds it
        results = list(enumerate(failures))
        if targets:
            position = {t.conversation_id: p for p, t in enumerate(targets)}
            pending = [t for p, t in enumerate(targets) if p not in claim.recorded]

            async def on_result(result: TargetResult) -> None:
                results.append((position[result.conversation_id], result))

            async def stopped() -> bool:
                return await self._cancel_watch.cancelled(item.notification_id)

            message = request.message
            await self._delivery.send(
                PostInChannel(message, item.notification_id),
                pending,
                on_sent=self._prompts.after_send(item.notification_id, message),
                on_result=on_result,
                stopped=stopped,
            )
        await self._outcomes.record(item.notification_id, claim, results, self._clock(), done=True)

    async def give_up(self, item: ChannelsItem) -> None:
        """The host gave up on the item (poisoned): the team's channels were never reached."""
        logger.error(
            "Notification %s: team %d's posts were poisoned", item.notification_id, item.team
        )
        await self._notifications.fail(
            item.notification_id,
            f"team {item.team + 1}'s channels could not be posted in (work item poisoned); "
            "earlier teams are posted and counted, later ones were never matched",
        )


def channel_target(team: StoredReference, teams_channel_id: str) -> StoredReference:
    """A channel of the team as a fan-out target: the team's serviceUrl, bot and tenant. The
    channel need not be stored; one that is gone (404, the bot removed) is forgotten if it was."""
    return StoredReference(
        reference_json={
            "serviceUrl": team.service_url,
            "channelId": TEAMS,
            "bot": team.reference_json.get("bot") or {},
            "conversation": {"id": teams_channel_id, "conversationType": CHANNEL},
        },
        channel_id=TEAMS,
        conversation_id=teams_channel_id,
        user_id="",
        tenant_id=team.tenant_id,
        conversation_type=CHANNEL,
        service_url=team.service_url,
        team_id=team.team_id,
    )
