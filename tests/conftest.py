"""Real components for every test: an in-memory Azurite (tables and queues) and a loopback Bot
Connector stub."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from devhost.azurite import Azurite
from shared.app import App, get_app, reset_app, use_app
from shared.settings import Settings
from testbed.channel_stub import ChannelStub
from testbed.counting_proxy import CountingProxy
from tests.support.app_settings import emulator_settings
from tests.support.credentials import APP_ID, APP_PASSWORD
from tests.support.devhost_process import start_devhost
from tests.support.identity_server import CHANNEL_ISSUER, IdentityServer


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    with Azurite.all_services() as running:
        yield running


@pytest.fixture
def table_proxy(azurite: Azurite) -> Iterator[CountingProxy]:
    """A counting proxy in front of Azurite's table service: it sees every Table request and,
    on cue, fails some (see CountingProxy.fail)."""
    proxy = CountingProxy(azurite.ports["table"]).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="session")
def channel_stub() -> Iterator[ChannelStub]:
    stub = ChannelStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def channel(channel_stub: ChannelStub) -> ChannelStub:
    channel_stub.reset()
    return channel_stub


APP_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def identity_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdentityServer]:
    server = IdentityServer(tmp_path_factory.mktemp("identity"), APP_ID, APP_PASSWORD).start()
    yield server
    server.stop()


@pytest.fixture
def secured_env(
    app_env: dict[str, str],
    identity_server: IdentityServer,
    channel_stub: ChannelStub,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """Settings with an app id: inbound tokens checked, outbound tokens fetched, all on loopback."""
    env = {
        "MicrosoftAppId": APP_ID,
        "MicrosoftAppPassword": APP_PASSWORD,
        "ToChannelFromBotLoginUrl": identity_server.login_url,
        "ToChannelFromBotOAuthScope": "https://api.botframework.com",
        "ToBotFromChannelTokenIssuer": CHANNEL_ISSUER,
        "ToBotFromChannelOpenIdMetadataUrl": identity_server.openid_metadata_url,
        "ToBotFromEmulatorOpenIdMetadataUrl": identity_server.openid_metadata_url,
        # With auth on, loopback is allowed only when listed, like any host.
        "ALLOWED_SERVICE_URLS": "127.0.0.1",
        # Trust the identity server's self-signed certificate (requests/MSAL and aiohttp).
        "REQUESTS_CA_BUNDLE": str(identity_server.cert_path),
        "SSL_CERT_FILE": str(identity_server.cert_path),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    identity_server.token_requests = 0
    return {**app_env, **env}


@pytest.fixture
async def secured_app(secured_env: dict[str, str], app_with: AppWith) -> App:
    return await app_with()


@pytest.fixture
def app_env(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Settings for one test: Emulator mode (no app id) and tables of its own."""
    env = {
        **emulator_settings(azurite.connection_string),
        "NOTIFY_TIMER_TEXT": "Daily reminder: stand-up at 10:00.",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


AppWith = Callable[..., Awaitable[App]]


@pytest.fixture
async def app_with(
    app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AppWith]:
    """`await app_with(**settings)`: the process-wide app rebuilt on `app_env` plus these settings.

    Each call closes the app before and builds a fresh one, as a new process would; the last is
    closed when the test ends, whatever its outcome.
    """

    async def build(**settings: object) -> App:
        for name, value in settings.items():
            monkeypatch.setenv(name, str(value))
        await reset_app()
        return get_app()

    yield build
    await reset_app()


@pytest.fixture
async def app(app_with: AppWith) -> App:
    return await app_with()


@dataclass(frozen=True)
class LocalRunner:
    url: str
    env: dict[str, str]
    log: Path


@pytest.fixture(scope="session")
def local_runner(
    azurite: Azurite, channel_stub: ChannelStub, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalRunner]:
    """The real app served over HTTP by `python -m devhost`, as `make run` serves it."""
    env = {
        **os.environ,
        **emulator_settings(azurite.connection_string),
        "NOTIFY_SCHEDULE": "0 0 0 1 1 *",  # once a year: tests trigger it on demand
        "NOTIFY_TIMER_TEXT": "Scheduled hello from the timer",
    }
    log = tmp_path_factory.mktemp("runner") / "runner.log"
    process, url = start_devhost(APP_ROOT, env, log)
    yield LocalRunner(url, env, log)
    process.terminate()
    process.wait(10)


class FakeClock:
    """The app's clock, moved by hand: scheduled things become due without sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def clock(
    app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FakeClock]:
    """An app whose clock the test controls, installed as the process-wide one."""
    fake = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc))
    monkeypatch.setenv("BROADCAST_SCHEDULE", "0 0 12 * * *")  # the broadcast: daily at noon UTC
    await reset_app()
    use_app(App.create(Settings.from_env(), clock=fake))
    yield fake
    await reset_app()
