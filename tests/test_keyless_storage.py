"""Storage without an account key: the `AzureWebJobsStorage__*` settings the Functions host reads
for an identity-based connection, the credential each form chooses, and no azure-identity import
for an app on a connection string. Azurite stays on its connection string; the identity is asked
for its token at a loopback endpoint speaking App Service's managed-identity protocol."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from shared.app import App
from shared.settings import Settings, SettingsError, StorageAccount
from shared.storage.credentials import storage_credential
from testbed.loopback_server import LoopbackServer

ROOT = Path(__file__).resolve().parent.parent
STORAGE_SCOPE = "https://storage.azure.com/.default"


def account(**settings: str) -> StorageAccount:
    return StorageAccount.from_env(lambda name: settings.get(name, ""))


def test_a_connection_string_is_used_as_it_is_and_wins_over_the_keyless_forms() -> None:
    found = account(
        AzureWebJobsStorage="UseDevelopmentStorage=true", AzureWebJobsStorage__accountName="prod"
    )

    assert found == StorageAccount(connection_string="UseDevelopmentStorage=true")
    assert not found.keyless


def test_an_account_name_means_its_public_cloud_endpoints() -> None:
    found = account(AzureWebJobsStorage__accountName="notifyprod01")

    assert found.keyless
    assert found.table_endpoint == "https://notifyprod01.table.core.windows.net"
    assert found.queue_endpoint == "https://notifyprod01.queue.core.windows.net"
    assert (found.credential, found.client_id) == ("", "")


def test_service_uris_name_the_endpoints_of_any_cloud() -> None:
    found = account(
        AzureWebJobsStorage__tableServiceUri="https://acct.table.core.usgovcloudapi.net/",
        AzureWebJobsStorage__queueServiceUri="https://acct.queue.core.usgovcloudapi.net",
        AzureWebJobsStorage__credential="ManagedIdentity",
        AzureWebJobsStorage__clientId="6f6c2a1e-client",
    )

    assert found.table_endpoint == "https://acct.table.core.usgovcloudapi.net"
    assert found.queue_endpoint == "https://acct.queue.core.usgovcloudapi.net"
    assert (found.credential, found.client_id) == ("managedidentity", "6f6c2a1e-client")


@pytest.mark.parametrize(
    ("settings", "setting"),
    [
        ({}, "AzureWebJobsStorage"),
        (
            {"AzureWebJobsStorage__accountName": "Not_An_Account"},
            "AzureWebJobsStorage__accountName",
        ),
        (
            {"AzureWebJobsStorage__tableServiceUri": "https://acct.table.core.windows.net"},
            "AzureWebJobsStorage__queueServiceUri",
        ),
        (
            {
                "AzureWebJobsStorage__tableServiceUri": "http://acct.table.core.windows.net",
                "AzureWebJobsStorage__queueServiceUri": "https://acct.queue.core.windows.net",
            },
            "AzureWebJobsStorage__tableServiceUri",
        ),
        (
            {"AzureWebJobsStorage__accountName": "acct", "AzureWebJobsStorage__credential": "key"},
            "AzureWebJobsStorage__credential",
        ),
    ],
)
def test_a_keyless_form_that_cannot_work_names_its_setting(settings, setting) -> None:
    with pytest.raises(SettingsError) as refused:
        account(**settings)

    assert refused.value.setting == setting


class IdentityEndpoint(LoopbackServer):
    """App Service's managed-identity endpoint (IDENTITY_ENDPOINT, 2019-08-01): what the
    Functions host offers an app, and what azure-identity asks there."""

    HEADER = "identity-header-secret"

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[dict[str, str]] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/msi/token", self._token)

    async def _token(self, request: web.Request) -> web.Response:
        if request.headers.get("X-IDENTITY-HEADER") != self.HEADER:
            return web.json_response({"error": "bad header"}, status=401)
        self.asked.append(dict(request.query))
        return web.json_response(
            {
                "access_token": "token-for-" + request.query.get("client_id", "system"),
                "expires_on": str(int(time.time()) + 3600),
                "resource": request.query["resource"],
                "token_type": "Bearer",
            }
        )


@pytest.fixture
def identity_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[IdentityEndpoint]:
    endpoint = IdentityEndpoint().start()
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"http://127.0.0.1:{endpoint.port}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", IdentityEndpoint.HEADER)
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "MSI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    yield endpoint
    endpoint.stop()


@pytest.mark.parametrize(
    ("credential", "client_id", "asked_for"),
    [
        ("managedidentity", "", None),  # the app's system-assigned identity
        ("managedidentity", "user-assigned-1", "user-assigned-1"),
        ("", "user-assigned-2", "user-assigned-2"),  # the default chain reaches the same identity
    ],
)
async def test_the_credential_asks_the_hosts_identity_endpoint_for_a_storage_token(
    identity_endpoint: IdentityEndpoint, credential: str, client_id: str, asked_for: str | None
) -> None:
    settings = {"AzureWebJobsStorage__accountName": "acct"}
    if credential:
        settings["AzureWebJobsStorage__credential"] = credential
    if client_id:
        settings["AzureWebJobsStorage__clientId"] = client_id
    chosen = storage_credential(account(**settings))
    assert chosen is not None
    try:
        token = await chosen.get_token(STORAGE_SCOPE)
    finally:
        await chosen.close()

    assert token.token == "token-for-" + (asked_for or "system")
    [asked] = identity_endpoint.asked
    assert asked["resource"] == "https://storage.azure.com"
    assert asked.get("client_id") == asked_for


def test_a_connection_string_needs_no_credential() -> None:
    assert storage_credential(account(AzureWebJobsStorage="UseDevelopmentStorage=true")) is None


async def test_a_keyless_app_reaches_its_tables_and_queue_at_the_accounts_endpoints(
    app_env: dict[str, str], identity_endpoint: IdentityEndpoint
) -> None:
    env = {k: v for k, v in app_env.items() if k != "AzureWebJobsStorage"}
    env.update(
        AzureWebJobsStorage__accountName="notifyprod01",
        AzureWebJobsStorage__credential="managedidentity",
    )
    app = App.create(Settings.from_env(env))
    try:
        assert app.settings.storage_connection_string == ""
        assert app.storage_credential is not None
        for table in app.tables:
            assert table._client.url.startswith("https://notifyprod01.table.core.windows.net")
            assert table._client.credential is app.storage_credential
    finally:
        await app.close()  # the credential too: no session left unclosed


def test_an_app_on_a_connection_string_never_imports_azure_identity() -> None:
    """Cold start: the identity library costs its import time only to keyless apps."""
    script = (
        "import json, sys\n"
        "from shared.app import App\n"
        "from shared.settings import Settings\n"
        "App.create(Settings.from_env({'AzureWebJobsStorage': 'UseDevelopmentStorage=true'}))\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('azure.identity'))))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert json.loads(run.stdout.strip().splitlines()[-1]) == []
