"""Requests to the app over real HTTP, as a channel or a webhook sender makes them."""

from __future__ import annotations

import aiohttp


async def post(url: str, body: object) -> tuple[int, object]:
    """POST `body` as JSON; the status and the JSON answer (None when empty)."""
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        payload = await response.json(content_type=None) if response.content_length else None
        return response.status, payload
