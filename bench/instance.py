"""One devhost process as a Functions instance: it serves the app's HTTP functions and polls its
work queue, on the settings it is given. The bench's fault and latency parts start their own."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
import uuid
from pathlib import Path

import aiohttp

from bench.measure import ROOT
from devhost.azurite import free_port


class Instance:
    """One devhost process: a Functions instance serving the app and polling its queue."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = env
        self._log = log_dir / f"instance-{uuid.uuid4().hex[:8]}.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, session: aiohttp.ClientSession) -> Instance:
        command = [
            *("-m", "devhost", "--app-root", str(ROOT), "--no-azurite", "--no-local-settings"),
            *("--port", str(self.port)),
        ]
        with self._log.open("wb") as sink:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *command,
                cwd=ROOT,
                env=self._env,
                stdout=sink,
                stderr=sink,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                # Serving, and the app built (clients, tables): between notifications, not cold.
                async with session.get(f"{self.url}/api/notify/{'0' * 32}") as warm_up:
                    if warm_up.status != 404:
                        raise SystemExit(f"warm-up answered {warm_up.status}:\n{self.tail()}")
                    return self
            except aiohttp.ClientConnectionError:
                if self.process.returncode is not None or time.monotonic() > deadline:
                    raise SystemExit(f"an instance did not start:\n{self.tail()}") from None
                await asyncio.sleep(0.05)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def kill(self) -> None:
        if self.running:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.running:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 30)

    def tail(self) -> str:
        return self._log.read_text(errors="replace")[-3000:]
