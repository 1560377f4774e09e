"""Real components for every test: an in-memory Azurite and a loopback Bot Connector stub."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from devhost.azurite import Azurite
from shared.app import App, get_app, reset_app
from shared.references import StoredReference
from tests.support.channel_stub import ChannelStub


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    with Azurite.table_only() as running:
        yield running


@pytest.fixture(scope="session")
def channel_stub() -> Iterator[ChannelStub]:
    stub = ChannelStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def channel(channel_stub: ChannelStub) -> ChannelStub:
    channel_stub.reset()
    return channel_stub


@pytest.fixture
def app_env(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Settings for one test: Emulator mode (no app id) and a table of its own."""
    env = {
        "AzureWebJobsStorage": azurite.connection_string,
        "CONVERSATION_TABLE": "t" + uuid.uuid4().hex[:16],
        "MicrosoftAppId": "",
        "MicrosoftAppPassword": "",
        "MicrosoftAppType": "MultiTenant",
        "MicrosoftAppTenantId": "",
        "NOTIFY_TIMER_TEXT": "Daily reminder: stand-up at 10:00.",
        "ALLOWED_SERVICE_URLS": "",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
async def app(app_env: dict[str, str]) -> AsyncIterator[App]:
    await reset_app()
    yield get_app()
    await reset_app()


async def stored_references(app: App) -> list[StoredReference]:
    from shared.audience import Audience

    return [stored async for stored in app.store.find(Audience())]
