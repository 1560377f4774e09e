"""The Microsoft Entra credential a keyless storage account is reached with.

azure-identity is imported here only when the account has no connection string: an app on a
connection string (or Azurite) never pays its import time at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.settings import MANAGED_IDENTITY, StorageAccount

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential


def storage_credential(account: StorageAccount) -> AsyncTokenCredential | None:
    """None for a connection string; else the managed identity (`credential` managedidentity,
    user-assigned when `client_id` is set) or azure-identity's default chain, as the Functions
    host chooses for the same settings. Created once per process: it caches its tokens."""
    if not account.keyless:
        return None
    from azure.identity.aio import DefaultAzureCredential, ManagedIdentityCredential

    if account.credential == MANAGED_IDENTITY:
        return ManagedIdentityCredential(client_id=account.client_id or None)
    return DefaultAzureCredential(managed_identity_client_id=account.client_id or None)
