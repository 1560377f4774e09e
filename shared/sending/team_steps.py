"""One team of a notification to teams: the first step of a roster page and of channel posts.

Each work item of `to.teamMembersOf` or `to.teamChannels` names one team by its index in the
request. Both read the notification's record (counted once per page), find the team's stored
conversation, and say why nobody in it can be reached when that is so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.channel.service_urls import ServiceUrlPolicy
from shared.delivery.outcomes import Outcome, TargetResult
from shared.notifications.notification_store import Notification
from shared.notifications.request import NotifyRequest, TeamAudience, parse_notify_request
from shared.sending.context import TeamsAccess, WorkContext
from shared.sending.work_items import ChannelsItem, RosterItem
from shared.storage.references import StoredReference
from shared.teams import TEAMS

logger = logging.getLogger(__name__)

TEAM_NOT_FOUND = "TeamNotFound: the bot has no stored conversation in this team"


@dataclass(frozen=True)
class TeamStep:
    """The team a work item names, as its notification's request and the store know it."""

    notification: Notification
    request: NotifyRequest
    teams: TeamAudience
    index: int  # the team's place in the request's team ids
    team_id: str
    team: StoredReference | None  # its stored conversation, if any
    problem: str  # why nobody in the team can be reached, or ""

    @property
    def last(self) -> bool:
        """No team follows this one in the request."""
        return self.index + 1 >= len(self.teams.team_ids)

    def unreached(self) -> TargetResult:
        """The whole team as one failed target, keyed by its id: it has no conversation."""
        return TargetResult(TEAMS, self.team_id, Outcome.FAILED, error=self.problem)


class TeamSteps:
    def __init__(self, context: WorkContext, teams: TeamsAccess) -> None:
        self._notifications = context.notifications
        self._references = context.references
        self._service_urls = teams.service_urls

    async def step(self, item: RosterItem | ChannelsItem, redelivered: bool) -> TeamStep | None:
        """The item's team, or None when the item's page is split already (or the notification
        is over) or the item names no team of its notification."""
        notification = await self._notifications.to_split(
            item.notification_id, item.page, redelivered
        )
        if notification is None:
            return None
        request = parse_notify_request(notification.request)
        teams = request.teams
        in_channels = isinstance(item, ChannelsItem)
        if (
            teams is None
            or (teams.channels is not None) is not in_channels
            or not 0 <= item.team < len(teams.team_ids)
        ):
            logger.error("Work item %s names no team of its notification", item)
            return None
        team_id = teams.team_ids[item.team]
        team = await self._references.in_team(TEAMS, team_id)
        problem = unreachable(team, self._service_urls)
        return TeamStep(notification, request, teams, item.team, team_id, team, problem)


def unreachable(team: StoredReference | None, service_urls: ServiceUrlPolicy) -> str:
    """Why nobody in the team can be reached through its stored conversation, or ""."""
    if team is None:
        return TEAM_NOT_FOUND
    if not service_urls.allows(team.service_url):
        return "the team's serviceUrl is not on the allow-list"
    if not team.tenant_id:
        return "TenantUnknown: the team's stored conversation names no tenant"
    return ""
