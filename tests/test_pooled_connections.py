"""A pooled connection is reused while it is fresh and dropped once it has been idle for
POOLED_IDLE_SECONDS: below the keep-alive of the servers the app talks to (Node's 5 s default, as
Azurite has it), so no request goes out on a connection the server already closed, where a POST
would meet a reset the SDK cannot retry. Seen from the servers' side: a new connection, a new
client port.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from devhost.azurite import connection_string
from shared.pooling import POOLED_IDLE_SECONDS
from shared.storage.tables import Table
from testbed.counting_proxy import CountingProxy
from tests.support.functions import post_notify
from tests.support.references import store_conversations


@pytest.fixture
async def table(table_proxy: CountingProxy) -> AsyncIterator[Table]:
    opened = Table.from_connection_string(
        connection_string({"table": table_proxy.port}), "p" + uuid.uuid4().hex[:16]
    )
    yield opened
    await opened.close()


@pytest.mark.parametrize(
    ("idle", "connections"), [(POOLED_IDLE_SECONDS / 4, 1), (POOLED_IDLE_SECONDS + 0.5, 2)]
)
async def test_table_storage_connections_are_reused_only_while_fresh(
    table, table_proxy, idle, connections
):
    await table.get("p", "r")  # creates the table, then reads
    table_proxy.reset()

    await table.get("p", "r")
    await asyncio.sleep(idle)
    await table.get("p", "r")

    assert len({f.client_port for f in table_proxy.forwarded}) == connections


@pytest.mark.parametrize(
    ("idle", "connections"), [(POOLED_IDLE_SECONDS / 4, 1), (POOLED_IDLE_SECONDS + 0.5, 2)]
)
async def test_channel_connections_are_reused_only_while_fresh(app, channel, idle, connections):
    await store_conversations(app, channel.url, ["c1"])

    assert (await post_notify({"text": "first"})).status == 200
    await asyncio.sleep(idle)
    assert (await post_notify({"text": "second"})).status == 200

    assert len({r.client_port for r in channel.received}) == connections
