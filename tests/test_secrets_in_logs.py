"""Secrets and tokens never reach the logs, at any level, from our code or the libraries'."""

from __future__ import annotations

import logging

from devhost.azurite import ACCOUNT_KEY
from shared.functions.signature import sign
from testbed.activities import activity
from tests.support.credentials import APP_PASSWORD
from tests.support.functions import post_activity, post_notify

WEBHOOK_SECRET = "whsec-never-log-me-8d2f"


async def test_no_secret_or_token_appears_in_any_log_line(
    secured_env, app_with, identity_server, channel, caplog
):
    caplog.set_level(logging.DEBUG)
    await app_with(NOTIFY_WEBHOOK_SECRET=WEBHOOK_SECRET)
    channel_token = identity_server.channel_token(channel.url)
    accepted = await post_activity(
        activity(channel.url, "conv-1"), {"Authorization": f"Bearer {channel_token}"}
    )
    forged = identity_server.channel_token(channel.url, aud="someone-else")
    rejected = await post_activity(
        activity(channel.url, "conv-2"), {"Authorization": f"Bearer {forged}"}
    )
    body = b'{"text": "signed and sent"}'
    signature = sign(WEBHOOK_SECRET, body)
    sent = await post_notify(body, {"X-Signature-256": signature})
    unsigned = await post_notify(body, {"X-Signature-256": "sha256=" + "0" * 64})

    assert (accepted.status, rejected.status, sent.status, unsigned.status) == (200, 401, 200, 401)
    outbound_tokens = {r.headers["Authorization"].split(" ", 1)[1] for r in channel.received}
    secrets = {
        "app password": APP_PASSWORD,
        "webhook secret": WEBHOOK_SECRET,
        "storage account key": ACCOUNT_KEY,
        "channel token": channel_token,
        "forged token": forged,
        "webhook signature": signature[7:],
        **{f"bot token {n}": token for n, token in enumerate(outbound_tokens)},
    }
    logged = caplog.text
    assert len(caplog.records) > 10  # the flows above did log: an empty log would prove nothing
    assert outbound_tokens
    leaked = [name for name, secret in secrets.items() if secret in logged]
    assert leaked == []
