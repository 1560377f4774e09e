"""Record a local run's telemetry for tools/render_workbook.py: the data behind docs/workbook.svg.

One in-process instance (the real notify_http and notify_queue, on Azurite and the loopback
channel, at the default limit of 50 sends per second per tenant) sends a notification to 1,800
conversations in three tenants, with OTEL_EXPORTER_OTLP_ENDPOINT pointing at the loopback
collector. The channel answers as Teams does now and then: a few conversations blocked the bot
(403), a few are gone (404 twice), and one tenant gets a burst of 429s with Retry-After. Then a
small notification is sent inline. The collector writes every span and metric point to CAPTURE,
and tools/render_workbook.py draws docs/workbook.svg from it, following the large notification.

    python tools/workbook_capture.py capture.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.teams import listening
from devhost.azurite import Azurite
from shared.app import get_app, reset_app
from shared.telemetry.current import telemetry
from testbed.channel_stub import ChannelStub
from testbed.otlp_collector import OtlpCollector
from tests.support.app_settings import emulator_settings
from tests.support.functions import get_status, post_notify
from tests.support.references import store_conversations

RENDER = Path(__file__).resolve().parent / "render_workbook.py"
TENANTS = ("contoso", "fabrikam", "northwind")
PER_TENANT = 600


async def capture(out: Path) -> None:
    stub = ChannelStub(latency_seconds=0.02).start()
    azurite = Azurite.all_services().start()
    with OtlpCollector() as otlp:
        try:
            os.environ.update(emulator_settings(azurite.connection_string))
            os.environ.update(
                NOTIFY_TIMER_TEXT="",
                OTEL_EXPORTER_OTLP_ENDPOINT=otlp.url,
                OTEL_SERVICE_NAME="proactive-notify-local",
                OTEL_BSP_SCHEDULE_DELAY="500",
                OTEL_METRIC_EXPORT_INTERVAL="2000",
            )
            app = get_app()
            for tenant in TENANTS:
                ids = [f"{tenant}-{n:04d}" for n in range(PER_TENANT)]
                await store_conversations(app, stub.url, ids, tenant_id=tenant)
            for n in range(3):
                stub.answer(f"contoso-{n * 97:04d}", 403, "ConversationBlockedByUser", "blocked")
            for n in range(2):
                stub.answer(f"northwind-{n * 89:04d}", 404, "ConversationNotFound", "gone")
            for n in range(40):
                stub.answer(
                    f"fabrikam-{100 + n:04d}", 429, "TooManyRequests", times=1,
                    headers={"Retry-After": "1"},
                )  # fmt: skip
            async with listening(app):
                answer = await post_notify({"text": "Maintenance tonight at 22:00"})
                assert answer.status == 202, answer.body
                started = time.monotonic()
                while (await get_status(answer.body["id"])).body["state"] != "done":
                    assert time.monotonic() - started < 300, "not done in 5 minutes"
                    await asyncio.sleep(0.5)
                inline = await post_notify(
                    {"text": "Thanks", "to": {"conversationIds": ["contoso-0001", "contoso-0002"]}}
                )
                assert inline.status == 200, inline.body
            # Everything exported while the collector still listens.
            await asyncio.to_thread(telemetry().shutdown)
            otlp.dump(out)
            print(
                f"{answer.body['id']}: done in {time.monotonic() - started:.1f} s; "
                f"{len(otlp.spans)} spans, {len(otlp.metric_points)} metric points in {out}"
            )
            render = [sys.executable, str(RENDER), str(out), "--notification", answer.body["id"]]
            await asyncio.to_thread(subprocess.run, render, check=True)
        finally:
            await reset_app()
            azurite.stop()
            stub.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture", type=Path)
    asyncio.run(capture(parser.parse_args().capture))


if __name__ == "__main__":
    main()
