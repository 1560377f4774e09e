"""Functions scale-out on one machine: several `python -m devhost` runners serving the real app
against one Azurite, one channel stub and one set of tables and queues."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from azure.data.tables.aio import TableClient

from shared.app import App
from shared.notifications.outcome_store import CLAIM_PREFIX, OutcomeStore, partition
from shared.settings import Settings
from shared.storage.tables import Table
from tests.support.app_settings import emulator_settings
from tests.support.devhost_process import REPO_ROOT, start_devhost
from tests.support.references import store_conversations

# "Delivery done: matched=15 sent=15": one line per chunk a runner finished sending.
_CHUNK_SENT = re.compile(r"Delivery done: matched=\d+.*?\bsent=(\d+)")


def runner_env(storage_connection_string: str, **settings: object) -> dict[str, str]:
    """What every runner of one test shares: Emulator mode, tables and queue of its own, and
    `settings`. The timer runs once a year: it must not broadcast in the middle of a test."""
    return {
        **os.environ,
        **emulator_settings(storage_connection_string),
        "NOTIFY_SCHEDULE": "0 0 0 1 1 *",
        **{name: str(value) for name, value in settings.items()},
    }


@dataclass(frozen=True)
class Runner:
    name: str
    process: subprocess.Popen
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: the instance dies mid-invocation, as a host instance that is recycled."""
        self.process.kill()
        self.process.wait(10)

    def chunk_sends(self) -> int:
        """Sends in the chunks this runner finished, from its log."""
        return sum(int(sent) for sent in _CHUNK_SENT.findall(self.output()))

    def tail(self, lines: int = 40) -> str:
        return f"--- {self.name} ---\n" + "\n".join(self.output().splitlines()[-lines:])


class Runners:
    """Runners started on demand, all stopped on exit (SIGTERM, then SIGKILL if they linger)."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self._log_dir = log_dir
        self.started: list[Runner] = []

    def start(self, count: int = 1) -> list[Runner]:
        """Start `count` runners at once; return when every one serves."""
        names = [f"runner-{len(self.started) + n + 1}" for n in range(count)]
        with ThreadPoolExecutor(count) as pool:
            runners = list(pool.map(self._start_one, names))
        self.started += runners
        return runners

    def _start_one(self, name: str) -> Runner:
        log = self._log_dir / f"{name}.log"
        process, url = start_devhost(REPO_ROOT, self.env, log)
        return Runner(name, process, url, log)

    def tails(self) -> str:
        return "\n".join(runner.tail() for runner in self.started)

    def __enter__(self) -> Runners:
        return self

    def __exit__(self, *exc_info: object) -> None:
        live = [r for r in self.started if r.process.poll() is None]
        for runner in live:
            runner.process.send_signal(signal.SIGTERM)
        for runner in live:
            try:
                runner.process.wait(15)
            except subprocess.TimeoutExpired:
                runner.kill()


async def store_audience(
    env: dict[str, str], service_url: str, audiences: dict[str, Iterable[str]]
) -> None:
    """Store a reference for each conversation id, under its tenant ({tenant: ids})."""
    app = App.create(Settings.from_env(env))
    try:
        for tenant_id, ids in audiences.items():
            await store_conversations(app, service_url, ids, tenant_id=tenant_id)
    finally:
        await app.close()


async def get_json(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json(content_type=None)


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)


async def status_when_settled(runner_url: str, notification_id: str, timeout: float) -> dict:
    """GET /api/notify/{id} until it is no longer queued or sending; that status."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = await get_json(f"{runner_url}/api/notify/{notification_id}")
        assert status == 200, body
        if body["state"] not in ("queued", "sending"):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"notification {notification_id} still {body} after {timeout} s")
        await asyncio.sleep(0.25)


async def exported_targets(runner_url: str, notification_id: str) -> list[dict]:
    """Every row of GET /api/notify/{id}/targets, page after page."""
    rows: list[dict] = []
    url = f"{runner_url}/api/notify/{notification_id}/targets"
    params: dict[str, str] = {}
    async with aiohttp.ClientSession() as session:
        while True:
            async with session.get(url, params=params) as response:
                page = await response.json(content_type=None)
                assert response.status == 200, page
            rows += page["targets"]
            if page["continuation"] is None:
                return rows
            params = {"continuation": page["continuation"]}


async def recorded_conversations(env: dict[str, str], notification_id: str) -> set[str]:
    """The conversations that have an outcome recorded, read straight from the table (for a
    moment when no runner is serving)."""
    table = Table.from_connection_string(env["AzureWebJobsStorage"], env["NOTIFICATIONS_TABLE"])
    outcomes = OutcomeStore(table)
    found: set[str] = set()
    continuation = None
    try:
        while True:
            rows, continuation = await outcomes.page(notification_id, continuation=continuation)
            found.update(row["conversationId"] for row in rows)
            if continuation is None:
                return found
    finally:
        await table.close()


async def partly_recorded_chunks(env: dict[str, str], notification_id: str) -> list[int]:
    """For each chunk that is claimed, not done, and has outcomes recorded: how many. Read from
    the claim rows (their `Recorded` bitmap of positions), as a runner taking a chunk over does."""
    query = "PartitionKey eq @p and RowKey ge @from and RowKey lt @to and Done eq false"
    parameters = {
        "p": partition(notification_id),
        "from": CLAIM_PREFIX,
        "to": CLAIM_PREFIX[:-1] + ".",  # just past every claim row
    }
    async with TableClient.from_connection_string(
        env["AzureWebJobsStorage"], env["NOTIFICATIONS_TABLE"]
    ) as table:
        rows = table.query_entities(query, parameters=parameters, select=["Recorded"])
        bitmaps = [row.get("Recorded") or b"" async for row in rows]
    counts = [sum(bin(byte).count("1") for byte in bitmap) for bitmap in bitmaps]
    return [n for n in counts if n]
