"""App settings, read once from the environment (Functions app settings / local.settings.json)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# Where Bot Framework and Teams send from, in the public and US government clouds. A stored
# serviceUrl outside this list is never used, so the app cannot be steered at arbitrary hosts.
DEFAULT_ALLOWED_SERVICE_HOSTS = (
    "smba.trafficmanager.net",
    "*.botframework.com",
    "*.botframework.us",
    "*.botframework.azure.us",
    "smba.infra.gcc.teams.microsoft.com",
    "smba.infra.gov.teams.microsoft.us",
    "smba.infra.dod.teams.microsoft.us",
)

# Microsoft Graph's public cloud (national clouds have their own root), and where Teams' Bot
# Connector is reached for a tenant the app has no stored conversation in yet.
DEFAULT_GRAPH_ENDPOINT = "https://graph.microsoft.com"
DEFAULT_TEAMS_SERVICE_URL = "https://smba.trafficmanager.net/teams/"

_QUEUE_NAME = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]")

APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")

# What a conversation is told when the app is installed there, unless WELCOME_TEXT says otherwise
# (set and empty: nothing). infra/main.bicep deploys the same text (tests/test_infra.py checks).
DEFAULT_WELCOME_TEXT = (
    "Hi! I'm here to send you notifications in this conversation. "
    'You\'re subscribed; say "stop" any time to unsubscribe.'
)


# BotBuilder's own names for its authentication endpoints. Empty in the public cloud; set them all
# for a private cloud (and the tests point them at a loopback identity server).
AUTH_ENDPOINT_SETTINGS = {
    "channel_service": "ChannelService",
    "to_channel_from_bot_login_url": "ToChannelFromBotLoginUrl",
    "to_channel_from_bot_oauth_scope": "ToChannelFromBotOAuthScope",
    "to_bot_from_channel_token_issuer": "ToBotFromChannelTokenIssuer",
    "to_bot_from_channel_open_id_metadata_url": "ToBotFromChannelOpenIdMetadataUrl",
    "to_bot_from_emulator_open_id_metadata_url": "ToBotFromEmulatorOpenIdMetadataUrl",
}


# A Key Vault reference the platform could not resolve reaches the app as itself: taken for the
# value, a webhook secret would be the reference's text. Most often the identity's role on the
# vault has not reached Key Vault yet, minutes after `azd up`; the platform resolves references
# again when the app restarts.
UNRESOLVED_KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("
UNRESOLVED_PROBLEM = (
    "is a Key Vault reference the platform could not resolve: the app's identity cannot read the "
    "secret (yet: a new role takes minutes to apply); restart the app once it can"
)


# The storage connection's name; `<name>__accountName` etc. are the keyless (identity) forms the
# Functions host reads for it.
STORAGE = "AzureWebJobsStorage"
MANAGED_IDENTITY = "managedidentity"


class SettingsError(RuntimeError):
    """A setting is missing or malformed: `setting` names it, `problem` says why (no values of
    secrets, so the message may be logged and answered)."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting} {problem}")
        self.setting = setting
        self.problem = problem


@dataclass(frozen=True)
class StorageAccount:
    """Where the tables and the work queue live: a connection string (an account key, or Azurite),
    or, keyless, the services' endpoints reached with a Microsoft Entra token: the app's managed
    identity (`credential` managedidentity; `client_id` names a user-assigned one) or, without
    `credential`, azure-identity's default chain (a developer's sign-in, then managed identity)."""

    connection_string: str = ""
    table_endpoint: str = ""
    queue_endpoint: str = ""
    credential: str = ""
    client_id: str = ""

    @property
    def keyless(self) -> bool:
        return not self.connection_string

    @classmethod
    def from_env(cls, get: Callable[[str], str]) -> StorageAccount:
        connection_string = get(STORAGE)
        if connection_string:
            return cls(connection_string=connection_string)
        account = get(f"{STORAGE}__accountName")
        table = get(f"{STORAGE}__tableServiceUri")
        queue = get(f"{STORAGE}__queueServiceUri")
        if not (account or table or queue):
            raise SettingsError(
                STORAGE,
                f"is not set (use UseDevelopmentStorage=true locally, or {STORAGE}__accountName "
                "for a managed identity)",
            )
        if account and not re.fullmatch(r"[a-z0-9]{3,24}", account):
            raise SettingsError(
                f"{STORAGE}__accountName",
                f"must be 3-24 lower-case letters or digits, got {account!r}",
            )
        table = table or (f"https://{account}.table.core.windows.net" if account else "")
        queue = queue or (f"https://{account}.queue.core.windows.net" if account else "")
        for name, endpoint in (("tableServiceUri", table), ("queueServiceUri", queue)):
            if not endpoint:
                raise SettingsError(
                    f"{STORAGE}__{name}", f"is required without {STORAGE}__accountName"
                )
            if not re.fullmatch(r"https://[^/\s?#]+/?", endpoint):
                raise SettingsError(
                    f"{STORAGE}__{name}", f"must be an https:// service address, got {endpoint!r}"
                )
        credential = get(f"{STORAGE}__credential").lower()
        if credential not in ("", MANAGED_IDENTITY):
            raise SettingsError(
                f"{STORAGE}__credential", f"must be {MANAGED_IDENTITY} or unset, got {credential!r}"
            )
        return cls(
            table_endpoint=table.rstrip("/"),
            queue_endpoint=queue.rstrip("/"),
            credential=credential,
            client_id=get(f"{STORAGE}__clientId"),
        )


@dataclass(frozen=True)
class TelemetrySettings:
    """Where traces and metrics go (see shared.telemetry.exporters); nowhere when neither is set."""

    connection_string: str = ""  # APPLICATIONINSIGHTS_CONNECTION_STRING
    authentication_string: str = ""  # APPLICATIONINSIGHTS_AUTHENTICATION_STRING (no secret)
    otlp_endpoint: str = ""  # OTEL_EXPORTER_OTLP_ENDPOINT
    disabled: bool = False  # OTEL_SDK_DISABLED
    # A run traces its first this many outbound requests, then one in this many (see sampling).
    sends_traced_per_run: int = 20

    @property
    def configured(self) -> bool:
        return not self.disabled and bool(self.connection_string or self.otlp_endpoint)

    def __repr__(self) -> str:
        # The connection string names the component's ingestion key.
        return f"TelemetrySettings(configured={self.configured})"


@dataclass(frozen=True)
class Settings:
    app_id: str
    app_password: str
    app_type: str
    app_tenant_id: str
    storage: StorageAccount
    conversation_table: str
    notify_timer_text: str
    allowed_service_hosts: tuple[str, ...]
    auth_endpoints: dict[str, str] = field(default_factory=dict)
    notifications_table: str = "Notifications"
    coordination_table: str = "Coordination"
    personal_chats_table: str = "PersonalChats"
    notify_webhook_secret: str = ""
    broadcast_schedule: str = ""
    notify_concurrency: int = 32
    notify_max_rps_per_tenant: int = 50
    notify_max_attempts: int = 4
    notify_send_timeout_seconds: int = 30
    notify_queue: str = "notify-work"
    notify_inline_max_targets: int = 100
    prompt_expiry_hours: int = 168
    # A group chat or channel the channel keeps answering 404 "not found" is forgotten only
    # after this many sends in a row spanning this many days (Teams' 404s are often passing).
    unreachable_delete_after_failures: int = 3
    unreachable_delete_after_days: int = 7
    welcome_text: str = DEFAULT_WELCOME_TEXT
    # Microsoft Graph, for audiences of people (Entra groups, e-mail addresses) and installing
    # the app for those without a 1:1 (see shared/graph).
    graph_endpoint: str = DEFAULT_GRAPH_ENDPOINT
    teams_app_id: str = ""
    teams_service_url: str = DEFAULT_TEAMS_SERVICE_URL
    graph_max_rps_per_tenant: int = 30
    # Callbacks: events about a notification POSTed to the caller's own URL (shared/callbacks).
    callback_secret: str = ""
    callback_allowed_hosts: tuple[str, ...] = ()
    callback_max_attempts: int = 8
    callback_retry_seconds: int = 60  # the first retry's wait; later ones grow to about a day
    telemetry: TelemetrySettings = field(default_factory=TelemetrySettings)

    @property
    def storage_connection_string(self) -> str:
        """The connection string; empty when the account is reached without a key."""
        return self.storage.connection_string

    @property
    def tenant_index_table(self) -> str:
        """The conversation table's tenant index (see storage.tenant_index), named after it: two
        apps, or two conversation tables, in one account never share an index."""
        suffix = "ByTenant"
        return self.conversation_table[: 63 - len(suffix)] + suffix

    @property
    def auth_enabled(self) -> bool:
        # An empty app id is the Bot Framework Emulator / local mode: no inbound token check.
        return bool(self.app_id)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            value = env.get(name, default).strip()
            if value.startswith(UNRESOLVED_KEY_VAULT_REFERENCE):
                raise SettingsError(name, UNRESOLVED_PROBLEM)
            return value

        def get_int(name: str, default: int, minimum: int) -> int:
            raw = get(name)
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise SettingsError(name, f"must be a whole number, got {raw!r}") from None
            if value < minimum:
                raise SettingsError(name, f"must be at least {minimum}, got {value}")
            return value

        storage = StorageAccount.from_env(get)

        app_id = get("MicrosoftAppId")
        tenant_id = get("MicrosoftAppTenantId")
        # Azure has created only single-tenant and managed-identity bots since 31 July 2025: a
        # tenant without a type is a single-tenant bot's; neither, a multi-tenant bot from before.
        app_type = get("MicrosoftAppType") or ("SingleTenant" if tenant_id else "MultiTenant")
        if app_type not in APP_TYPES:
            raise SettingsError(
                "MicrosoftAppType", f"must be one of {', '.join(APP_TYPES)}, got {app_type!r}"
            )
        if app_id and app_type == "SingleTenant" and not tenant_id:
            raise SettingsError(
                "MicrosoftAppTenantId", "is required when MicrosoftAppType is SingleTenant"
            )

        def get_table_name(name: str, default: str) -> str:
            table = get(name) or default
            if not (3 <= len(table) <= 63 and table.isalnum() and table[0].isalpha()):
                raise SettingsError(
                    name, f"must be 3-63 letters or digits starting with a letter, got {table!r}"
                )
            return table

        def get_queue_name(name: str, default: str) -> str:
            queue = get(name) or default
            # The host appends "-poison" for the poison queue, which must be a legal name too.
            if not (3 <= len(queue) <= 63 - len("-poison") and _QUEUE_NAME.fullmatch(queue)):
                raise SettingsError(
                    name,
                    "must be 3-56 lower-case letters, digits and single dashes, "
                    f"starting and ending with a letter or digit, got {queue!r}",
                )
            return queue

        hosts = tuple(
            h.strip().lower() for h in get("ALLOWED_SERVICE_URLS").split(",") if h.strip()
        )

        return cls(
            app_id=app_id,
            app_password=get("MicrosoftAppPassword"),
            app_type=app_type,
            app_tenant_id=tenant_id,
            storage=storage,
            conversation_table=get_table_name("CONVERSATION_TABLE", "ConversationReferences"),
            notify_timer_text=get("NOTIFY_TIMER_TEXT"),
            allowed_service_hosts=hosts or DEFAULT_ALLOWED_SERVICE_HOSTS,
            auth_endpoints={
                parameter: get(name)
                for parameter, name in AUTH_ENDPOINT_SETTINGS.items()
                if get(name)
            },
            notifications_table=get_table_name("NOTIFICATIONS_TABLE", "Notifications"),
            coordination_table=get_table_name("COORDINATION_TABLE", "Coordination"),
            personal_chats_table=get_table_name("PERSONAL_CHATS_TABLE", "PersonalChats"),
            notify_webhook_secret=get("NOTIFY_WEBHOOK_SECRET"),
            broadcast_schedule=_ncrontab("BROADCAST_SCHEDULE", get("BROADCAST_SCHEDULE")),
            notify_concurrency=get_int("NOTIFY_CONCURRENCY", 32, minimum=1),
            notify_max_rps_per_tenant=get_int("NOTIFY_MAX_RPS_PER_TENANT", 50, minimum=0),
            notify_max_attempts=get_int("NOTIFY_MAX_ATTEMPTS", 4, minimum=1),
            notify_send_timeout_seconds=get_int("NOTIFY_SEND_TIMEOUT_SECONDS", 30, minimum=1),
            notify_queue=get_queue_name("NOTIFY_QUEUE", "notify-work"),
            notify_inline_max_targets=get_int("NOTIFY_INLINE_MAX_TARGETS", 100, minimum=0),
            prompt_expiry_hours=get_int("PROMPT_EXPIRY_HOURS", 168, minimum=1),
            unreachable_delete_after_failures=get_int(
                "UNREACHABLE_DELETE_AFTER_FAILURES", 3, minimum=1
            ),
            unreachable_delete_after_days=get_int("UNREACHABLE_DELETE_AFTER_DAYS", 7, minimum=0),
            # Unset is the default greeting; set, even to nothing, is what to say.
            welcome_text=get("WELCOME_TEXT", DEFAULT_WELCOME_TEXT),
            graph_endpoint=_service_root("GRAPH_ENDPOINT", get("GRAPH_ENDPOINT")),
            teams_app_id=get("TEAMS_APP_ID"),
            teams_service_url=_service_root(
                "TEAMS_SERVICE_URL", get("TEAMS_SERVICE_URL", DEFAULT_TEAMS_SERVICE_URL), "/"
            ),
            graph_max_rps_per_tenant=get_int("GRAPH_MAX_RPS_PER_TENANT", 30, minimum=1),
            callback_secret=get("CALLBACK_SECRET"),
            callback_allowed_hosts=tuple(
                h.strip().lower() for h in get("CALLBACK_ALLOWED_HOSTS").split(",") if h.strip()
            ),
            callback_max_attempts=get_int("CALLBACK_MAX_ATTEMPTS", 8, minimum=1),
            callback_retry_seconds=get_int("CALLBACK_RETRY_SECONDS", 60, minimum=1),
            telemetry=TelemetrySettings(
                connection_string=get("APPLICATIONINSIGHTS_CONNECTION_STRING"),
                authentication_string=get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING"),
                otlp_endpoint=get("OTEL_EXPORTER_OTLP_ENDPOINT"),
                disabled=get("OTEL_SDK_DISABLED").lower() == "true",
                sends_traced_per_run=get_int("TRACE_SENDS_PER_RUN", 20, minimum=0),
            ),
        )

    def __repr__(self) -> str:
        # Keep the password and storage key out of any log line that prints the settings.
        return (
            f"Settings(app_id={self.app_id!r}, app_type={self.app_type!r}, "
            f"conversation_table={self.conversation_table!r}, auth_enabled={self.auth_enabled})"
        )


def _service_root(name: str, value: str, keep: str = "") -> str:
    """An http(s) address to call (Graph's root, a serviceUrl): without a trailing slash, or
    with exactly one when `keep` is "/"."""
    value = value.strip() or (DEFAULT_GRAPH_ENDPOINT if name == "GRAPH_ENDPOINT" else "")
    if not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", value):
        raise SettingsError(name, f"must be an http(s) address, got {value!r}")
    return value.rstrip("/") + keep


def _ncrontab(name: str, expression: str) -> str:
    """`expression` if it is empty or a six-field NCRONTAB schedule, as the Functions host reads."""
    if not expression:
        return expression
    # Imported here: only apps that set a schedule pay croniter's import time.
    from croniter import croniter

    if len(expression.split()) != 6 or not croniter.is_valid(expression, second_at_beginning=True):
        raise SettingsError(
            name,
            f"is not a six-field NCRONTAB expression: {expression!r} (second minute hour "
            "day month day-of-week, e.g. '0 0 9 * * 1-5')",
        )
    return expression
