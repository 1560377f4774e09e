"""An aiohttp app served on 127.0.0.1 from a thread and event loop of its own.

Its own loop lets it answer whatever client the app uses, blocking ones included (botbuilder's
requests-based connector, MSAL), without depending on the test's event loop.
"""

from __future__ import annotations

import asyncio
import ssl
import threading

from aiohttp import web


class LoopbackServer:
    def __init__(self, port: int = 0) -> None:
        self.port = port  # 0: any free port, the one chosen set here once started
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def ssl_context(self) -> ssl.SSLContext | None:
        return None

    def start(self):
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _start(self) -> None:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, ssl_context=self.ssl_context())
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
