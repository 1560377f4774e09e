"""The app settings every test starts from: Emulator mode (no app id) and tables of its own."""

from __future__ import annotations

import uuid


def emulator_settings(storage_connection_string: str) -> dict[str, str]:
    """No app id, no webhook secret, no service URL allow-list; fresh table and queue names each
    call."""
    return {
        "AzureWebJobsStorage": storage_connection_string,
        "CONVERSATION_TABLE": "t" + uuid.uuid4().hex[:16],
        "NOTIFICATIONS_TABLE": "n" + uuid.uuid4().hex[:16],
        "COORDINATION_TABLE": "b" + uuid.uuid4().hex[:16],
        "PERSONAL_CHATS_TABLE": "p" + uuid.uuid4().hex[:16],
        "NOTIFY_QUEUE": "q" + uuid.uuid4().hex[:16],
        "NOTIFY_WEBHOOK_SECRET": "",
        "MicrosoftAppId": "",
        "MicrosoftAppPassword": "",
        "MicrosoftAppType": "MultiTenant",
        "MicrosoftAppTenantId": "",
        "ALLOWED_SERVICE_URLS": "",
    }
