"""Builders for inbound Bot Framework activities as a channel would POST them."""

from __future__ import annotations

import itertools
from typing import Any

BOT_ID = "28:bot-app-id"
BOT_NAME = "Proactive Bot"

_ids = itertools.count(1)


def activity(
    service_url: str,
    conversation_id: str,
    *,
    type: str = "message",
    text: str | None = "hello",
    channel_id: str = "msteams",
    user_id: str = "29:user-1",
    tenant_id: str | None = "tenant-1",
    conversation_type: str = "personal",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type,
        "id": f"activity-{next(_ids)}",
        "timestamp": "2026-11-23T09:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": channel_id,
        "from": {"id": user_id, "name": "Ada", "aadObjectId": "aad-" + user_id},
        "conversation": {"id": conversation_id, "conversationType": conversation_type},
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "locale": "en-US",
    }
    if text is not None and type == "message":
        body["text"] = text
    if tenant_id is not None:
        body["conversation"]["tenantId"] = tenant_id
        body["channelData"] = {"tenant": {"id": tenant_id}}
    body.update(extra)
    return body


def bot_added(service_url: str, conversation_id: str, **kwargs: Any) -> dict[str, Any]:
    return activity(
        service_url,
        conversation_id,
        type="conversationUpdate",
        membersAdded=[{"id": BOT_ID}],
        **kwargs,
    )


def bot_removed(service_url: str, conversation_id: str, **kwargs: Any) -> dict[str, Any]:
    return activity(
        service_url,
        conversation_id,
        type="conversationUpdate",
        membersRemoved=[{"id": BOT_ID}],
        **kwargs,
    )
