"""The app's long-lived objects, created once per worker process and reused by every invocation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING

import azure.functions as func

import shared.telemetry.names as names
from shared.channel.auth import OutboundTokens, create_authentication
from shared.channel.connector import BotConnector
from shared.channel.service_urls import ServiceUrlPolicy
from shared.chat.reminders.book import next_reminder
from shared.delivery.chat_opening import ChatKeeper
from shared.delivery.fanout import Delivery, DeliveryLimits
from shared.delivery.live_references import LiveReferences
from shared.delivery.not_found import NotFoundPolicy
from shared.delivery.rate_limits import RateLimits
from shared.delivery.retry_policy import RetryPolicy
from shared.delivery.tenant_budget import SharedTenantBudget
from shared.engagement.sent_index import SentIndex
from shared.engagement.store import EngagementStore
from shared.feedback.done_event import DoneEvents
from shared.functions.cancel import CancelEndpoint
from shared.functions.notify import NotifyEndpoint
from shared.functions.status import StatusEndpoint
from shared.functions.targets import TargetsEndpoint
from shared.functions.timer import TimerJob
from shared.functions.work import WorkRunner
from shared.http import HttpResult
from shared.notifications.broadcast_schedule import BroadcastSchedule
from shared.notifications.callback import CallbackPolicy, Callbacks
from shared.notifications.idempotency_store import IdempotencyStore
from shared.notifications.notification_store import NotificationStore
from shared.notifications.outcome_store import OutcomeStore
from shared.notifications.outcome_writer import OutcomeWriter
from shared.notifications.prompt_store import PromptStore
from shared.sending.cancellation import CancelWatch
from shared.sending.chunk_delivery import ChunkDelivery
from shared.sending.context import TeamsAccess, WorkContext
from shared.sending.expansion import AudienceExpansion
from shared.sending.handlers import WorkHandlers
from shared.sending.notifier import Notifier
from shared.settings import Settings, SettingsError
from shared.storage.credentials import storage_credential
from shared.storage.deletion_log import DeletionLog
from shared.storage.personal_chats import PersonalChatIndex
from shared.storage.queues import WorkQueue
from shared.storage.reference_store import ReferenceStore
from shared.storage.tables import Table
from shared.storage.tenant_index import TenantIndex
from shared.telemetry.current import SERVER, telemetry
from shared.telemetry.current import use as use_telemetry
from shared.telemetry.invocations import invocation_traceparent, route_template

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from botframework.connector.auth import BotFrameworkAuthentication

    from shared.delivery.member_chats import ChatOpener
    from shared.feedback.callbacks import CallbackDelivery
    from shared.feedback.recording import EngagementRecording
    from shared.functions.activities import ActivitiesEndpoint
    from shared.functions.revise import ReviseEndpoint
    from shared.graph.client import GraphClient
    from shared.notifications.callback import Callbacks
    from shared.sending.named_members import NamedMembers
    from shared.sending.people import People
    from shared.sending.team_channels import TeamChannelPosts
    from shared.sending.team_members import TeamMembers

# azure-core logs every storage request and response at INFO; one line per event is ours to write.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class App:
    settings: Settings
    store: ReferenceStore
    tables: tuple[Table, ...]
    queue: WorkQueue
    rate_limits: RateLimits
    connector: BotConnector
    notifications: NotificationStore
    notify: NotifyEndpoint
    status: StatusEndpoint
    targets: TargetsEndpoint
    cancel: CancelEndpoint
    work: WorkRunner
    timer_job: TimerJob
    build_activities: Callable[[], ActivitiesEndpoint] = field(repr=False)  # see `activities`
    build_revise: Callable[[], ReviseEndpoint] = field(repr=False)  # see `revise`
    # Closes what was built on first use (see BuiltOnFirstUse.close).
    close_built: Callable[[], Awaitable[None]] = field(repr=False)
    # The Entra credential of a keyless storage account (None with a connection string).
    storage_credential: AsyncTokenCredential | None = None

    @cached_property
    def activities(self) -> ActivitiesEndpoint:
        """POST /api/messages. Only the messages function talks with people, so the chat layer
        (the bot, reminders and their languages, the adapter) is built, and imported, on its
        first use: the other functions' cold starts do not pay for it."""
        return self.build_activities()

    @cached_property
    def revise(self) -> ReviseEndpoint:
        """PATCH and DELETE /api/notify/{id}, built (and imported) on first use, as `activities`."""
        return self.build_revise()

    @classmethod
    def create(cls, settings: Settings, clock: Callable[[], datetime] = utc_now) -> App:
        """The app's parts, each built once, bottom floor first."""
        authentication = create_authentication(settings)
        service_urls = ServiceUrlPolicy(
            settings.allowed_service_hosts, allow_loopback=not settings.auth_enabled
        )
        storage = Storage.open(settings)
        deletions = DeletionLog(storage.coordination, clock)
        tenant_index = TenantIndex(storage.tenant_index, storage.references)
        references = ReferenceStore(storage.references, deletions, tenant_index)
        connector = BotConnector(
            OutboundTokens(authentication, settings.app_id),
            timeout_seconds=settings.notify_send_timeout_seconds,
        )
        chats = PersonalChatIndex(storage.personal_chats)
        keeper = ChatKeeper(references, chats, clock)
        rate_limits = RateLimits(
            per_tenant=settings.notify_max_rps_per_tenant,
            tenant_budget=SharedTenantBudget(
                storage.coordination, settings.notify_max_rps_per_tenant
            ),
        )
        delivery = Delivery(
            connector,
            references,
            service_urls,
            LiveReferences(deletions, clock),
            DeliveryLimits(
                rate_limits,
                RetryPolicy(max_attempts=settings.notify_max_attempts),
                settings.notify_concurrency,
            ),
            NotFoundPolicy(
                keeper,
                delete_after_failures=settings.unreachable_delete_after_failures,
                delete_after=timedelta(days=settings.unreachable_delete_after_days),
                clock=clock,
            ),
        )
        notifications = NotificationStore(storage.notifications)
        prompt_expiry = timedelta(hours=settings.prompt_expiry_hours)
        outcomes = OutcomeStore(storage.notifications)
        context = WorkContext(
            notifications=notifications,
            outcomes=outcomes,
            outcome_writer=OutcomeWriter(outcomes, SentIndex(storage.notifications), clock),
            prompts=PromptStore(storage.notifications, clock, prompt_expiry),
            references=references,
            queue=storage.queue,
            cancel_watch=CancelWatch(notifications),
            clock=clock,
        )
        expansion = AudienceExpansion(context)
        callbacks = Callbacks(notifications)  # which events each notification's caller wants
        done_events = DoneEvents(
            callbacks,
            notifications,
            outcomes,
            EngagementStore(storage.notifications),
            storage.queue,
            clock,
        )
        notifier = Notifier(
            context,
            delivery,
            expansion,
            settings.notify_inline_max_targets,
            next_in_series=next_reminder,
            after_outcomes=done_events.after,
        )
        chunks = ChunkDelivery(context, delivery)
        later = BuiltOnFirstUse(
            settings,
            authentication,
            storage,
            context,
            TeamsAccess(connector, service_urls),
            chats,
            keeper,
            delivery,
            expansion,
            rate_limits,
            callbacks,
        )
        return cls(
            settings=settings,
            store=references,
            tables=storage.tables,
            queue=storage.queue,
            rate_limits=rate_limits,
            connector=connector,
            notifications=notifications,
            notify=NotifyEndpoint(
                notifier,
                IdempotencyStore(storage.notifications, clock),
                settings.notify_webhook_secret,
                clock,
                lambda: later.named_members,
                settings.app_tenant_id,
                CallbackPolicy(
                    settings.callback_secret,
                    settings.callback_allowed_hosts,
                    allow_loopback=not settings.auth_enabled,
                ),
            ),
            status=StatusEndpoint(
                notifications,
                context.outcomes,
                EngagementStore(storage.notifications),
                context.prompts,
                clock,
            ),
            targets=TargetsEndpoint(notifications, context.outcomes),
            cancel=CancelEndpoint(notifications, context.outcomes, clock),
            work=WorkRunner(
                WorkHandlers(
                    expand=lambda: expansion,
                    chunk=lambda: chunks,
                    roster=lambda: later.team_members,
                    channels=lambda: later.team_channels,
                    people=lambda: later.people,
                    engagement=lambda: later.engagement,
                    callback=lambda: later.callback_delivery,
                ),
                after_outcomes=done_events.after,
                queue_name=settings.notify_queue,
            ),
            timer_job=TimerJob(
                notifier,
                settings.notify_timer_text,
                BroadcastSchedule(settings.broadcast_schedule, storage.notifications),
                deletions,
                tenant_index,
                clock,
            ),
            storage_credential=storage.credential,
            build_activities=lambda: later.activities,
            build_revise=lambda: later.revise,
            close_built=later.close,
        )

    async def close(self) -> None:
        """Close every client, each even when closing another failed (the failure is raised once
        all are closed): no HTTP session is left for aiohttp to report unclosed."""
        async with contextlib.AsyncExitStack() as closing:
            # Callbacks run last pushed, first run: the credential closes after the clients that
            # use it, and the tables close last of those.
            if self.storage_credential is not None:
                closing.push_async_callback(self.storage_credential.close)
            for table in self.tables:
                closing.push_async_callback(table.close)
            closing.push_async_callback(self.rate_limits.close)  # its rows are in a table
            closing.push_async_callback(self.queue.close)
            closing.push_async_callback(self.connector.close)
            closing.push_async_callback(self.close_built)
            # First of all, spans and metrics of the runs so far leave before the process may.
            # In a thread: an exporter's request must not wait on this loop.
            closing.push_async_callback(asyncio.to_thread, telemetry().flush)


@dataclass(frozen=True)
class Storage:
    """The app's tables and work queue in its storage account, one client each."""

    references: Table
    notifications: Table
    coordination: Table
    personal_chats: Table
    tenant_index: Table
    queue: WorkQueue
    # The Entra credential of a keyless storage account (None with a connection string).
    credential: AsyncTokenCredential | None

    @classmethod
    def open(cls, settings: Settings) -> Storage:
        credential = storage_credential(settings.storage)
        try:
            return cls(
                *(
                    Table.for_account(settings.storage, name, credential)
                    for name in (
                        settings.conversation_table,
                        settings.notifications_table,
                        settings.coordination_table,
                        settings.personal_chats_table,
                        settings.tenant_index_table,
                    )
                ),
                queue=WorkQueue(settings.storage, settings.notify_queue, credential),
                credential=credential,
            )
        except ValueError as error:
            # The SDK's message says what is missing without repeating the (secret) string.
            raise SettingsError("AzureWebJobsStorage", f"is not usable: {error}") from None

    @property
    def tables(self) -> tuple[Table, ...]:
        return (
            self.references,
            self.notifications,
            self.coordination,
            self.personal_chats,
            self.tenant_index,
        )


@dataclass
class BuiltOnFirstUse:
    """The parts only some invocations need, built, and imported, on their first use: most
    notifications name no team, only the messages function talks with people, and every
    function's cold start would pay for them."""

    settings: Settings
    authentication: BotFrameworkAuthentication
    storage: Storage
    context: WorkContext
    teams: TeamsAccess
    chats: PersonalChatIndex
    keeper: ChatKeeper
    delivery: Delivery
    expansion: AudienceExpansion
    rate_limits: RateLimits
    callbacks: Callbacks

    @cached_property
    def opener(self) -> ChatOpener:
        from shared.delivery.member_chats import ChatOpener

        return ChatOpener(self.delivery, self.keeper)

    @cached_property
    def team_members(self) -> TeamMembers:
        from shared.sending.team_members import ListedMembers, TeamMembers

        listed = ListedMembers(self.storage.notifications)
        return TeamMembers(self.context, self.teams, self.chats, self.opener, listed)

    @cached_property
    def team_channels(self) -> TeamChannelPosts:
        from shared.sending.team_channels import TeamChannelPosts

        return TeamChannelPosts(self.context, self.teams, self.delivery)

    @cached_property
    def people(self) -> People:
        from shared.graph.installs import AppInstaller
        from shared.sending.people import Directory, People
        from shared.sending.team_members import ListedMembers

        settings = self.settings
        installer = (
            AppInstaller(self.graph, settings.graph_endpoint, settings.teams_app_id)
            if settings.teams_app_id
            else None
        )
        directory = Directory(
            settings.app_tenant_id,
            settings.app_id,
            settings.teams_service_url,
            self.teams.service_urls,
        )
        listed = ListedMembers(self.storage.notifications)
        return People(
            self.context, self.graph, installer, self.chats, self.keeper, listed, directory
        )

    @cached_property
    def engagement(self) -> EngagementRecording:
        from shared.feedback.recording import EngagementRecording

        table = self.storage.notifications
        return EngagementRecording(
            EngagementStore(table), SentIndex(table), self.callbacks, self.context.queue
        )

    @cached_property
    def callback_delivery(self) -> CallbackDelivery:
        from shared.feedback.callbacks import CallbackDelivery

        settings = self.settings
        return CallbackDelivery(
            EngagementStore(self.storage.notifications),
            self.callbacks,
            self.context.queue,
            settings.callback_secret,
            settings.callback_max_attempts,
            settings.callback_retry_seconds,
        )

    @cached_property
    def graph(self) -> GraphClient:
        from shared.graph.client import GraphClient
        from shared.graph.tokens import GraphTokens

        settings = self.settings
        rps = settings.graph_max_rps_per_tenant
        budget = RateLimits(
            per_conversation=rps,
            per_tenant=rps,
            tenant_budget=SharedTenantBudget(self.storage.coordination, rps),
        )
        return GraphClient(settings.graph_endpoint, GraphTokens(settings), budget)

    async def close(self) -> None:
        """Close what was built (Graph's session and its shared budget, the callbacks')."""
        if "graph" in self.__dict__:
            await self.graph.close()
        if "callback_delivery" in self.__dict__:
            await self.callback_delivery.close()

    @cached_property
    def named_members(self) -> NamedMembers:
        from shared.sending.named_members import NamedMembers

        return NamedMembers(
            self.context.references, self.teams, self.chats, self.opener, self.rate_limits
        )

    @cached_property
    def revise(self) -> ReviseEndpoint:
        from shared.functions.revise import ReviseEndpoint
        from shared.sending.revisions import Revisions

        revisions = Revisions(self.context, self.expansion)
        return ReviseEndpoint(
            revisions,
            IdempotencyStore(self.storage.notifications, self.context.clock),
            self.settings.notify_webhook_secret,
            self.context.clock,
        )

    @cached_property
    def activities(self) -> ActivitiesEndpoint:
        from shared.channel.adapter import create_adapter
        from shared.chat.bot import ProactiveBot
        from shared.chat.engagement_events import EngagementEvents
        from shared.chat.installed_chats import InstalledChats
        from shared.chat.prompt_replies import PromptReplies
        from shared.chat.reminders.book import ReminderBook
        from shared.chat.reminders.dialog import ReminderDialog
        from shared.chat.reminders.questions import ReminderQuestions
        from shared.chat.welcome import Welcome
        from shared.functions.activities import ActivitiesEndpoint

        clock, prompts = self.context.clock, self.context.prompts
        installed = InstalledChats(self.chats)
        dialog = ReminderDialog(
            ReminderBook(self.context.notifications),
            ReminderQuestions(self.storage.notifications, clock),
            prompts,
            clock,
        )
        engagement = EngagementEvents(
            SentIndex(self.storage.notifications), self.context.queue, clock
        )
        bot = ProactiveBot(
            self.context.references,
            dialog,
            PromptReplies(prompts, self.context.notifications, clock, installed, engagement),
            self.chats,
            Welcome(self.settings.welcome_text, self.storage.notifications, clock),
            clock,
            installed,
            engagement,
        )
        adapter = create_adapter(self.authentication)
        return ActivitiesEndpoint(
            adapter, self.authentication, bot, self.teams.service_urls, self.settings.app_id
        )


_app: App | None = None
_closer: asyncio.Task[None] | None = None


def get_app() -> App:
    """The process-wide App, built from the environment on first use."""
    if _app is None:
        settings = Settings.from_env()
        if settings.telemetry.configured:
            from shared.telemetry.exporters import configure

            use_telemetry(configure(settings.telemetry))
        use_app(App.create(settings))
        logging.getLogger(__name__).info("App ready: %r", _app.settings)
    assert _app is not None
    return _app


def check_environment() -> None:
    """Build the app from the environment once: a bad setting raises SettingsError naming it.

    The local runner calls this before serving (`--preflight`), so a bad setting stops it at once.
    """
    App.create(Settings.from_env())


async def respond(
    handle: Callable[[App], Awaitable[HttpResult]],
    request: func.HttpRequest | None = None,
    context: func.Context | None = None,
) -> func.HttpResponse:
    """An HTTP function's answer: `handle`'s result, or a JSON 500 naming a bad app setting
    (the host's own answer to an exception is an empty 500 that tells the caller nothing).

    With `request`, the answer is made in a SERVER span continuing the host's invocation (or
    the caller's `traceparent` header)."""
    try:
        app = get_app()
    except SettingsError as error:
        logging.getLogger(__name__).error("App setting %s", error)
        body = {"error": "the app is misconfigured", "setting": error.setting}
        return HttpResult(500, {**body, "detail": error.problem}).to_response()
    if request is None:
        return (await handle(app)).to_response()
    method, route = request.method or "POST", route_template(request)
    with telemetry().span(
        f"{method} {route}",
        SERVER,
        {names.HTTP_METHOD: method, names.HTTP_ROUTE: route},
        parent=invocation_traceparent(context) or request.headers.get("traceparent"),
    ) as span:
        result = await handle(app)
        span.set({names.HTTP_STATUS: result.status})
        if result.status >= 500:
            span.fail(str(result.status))
        return result.to_response()


def use_app(app: App) -> None:
    """Make `app` the process-wide App (tests use this to give it a clock of their own)."""
    global _app, _closer
    if _closer is not None:
        _closer.cancel()
    _app = app
    _closer = _close_when_the_loop_ends(app)


async def reset_app() -> None:
    """Close and forget the App so the next get_app() re-reads settings (tests use this)."""
    global _app, _closer
    app, closer = _app, _closer
    _app, _closer = None, None
    if closer is not None:
        closer.cancel()
    if app is not None:
        await app.close()


def _close_when_the_loop_ends(app: App) -> asyncio.Task[None] | None:
    """A task that closes the app's clients when the worker's event loop shuts down.

    The folder model has no shutdown hook (azure-functions-python-worker#1521). A loop that ends
    cleanly (asyncio.run; the local runner as it stops) cancels its tasks first, so this one closes
    the HTTP and Table clients instead of leaving aiohttp to warn about unclosed sessions.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None  # built outside the worker's loop: whoever built it closes it

    async def wait_then_close() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            if _app is app:
                await app.close()
            raise

    return loop.create_task(wait_then_close())
