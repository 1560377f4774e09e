"""`python -m bench.engagement`: what engagement bookkeeping costs in Table operations.

A notification to N stored 1:1 chats (10,000 by default), sent through the queue by one
in-process instance (the real notify_queue), every Table request counted through a loopback
proxy. Then a third of the people read it (Teams' read receipt) and a tenth react (a
messageReaction), each told to the real messages function and recorded by the queue's runs; and
as many receipts again come from chats no notification reached. Printed: the Table operations
the sent-message index adds to the send, per target; and those of recording a read, a reaction
and an unmatched receipt, each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from bench.teams import listening
from devhost.azurite import Azurite, connection_string
from shared.app import get_app, reset_app
from shared.chat.engagement_events import READ_RECEIPT
from testbed.activities import activity
from testbed.channel_stub import ChannelStub
from testbed.counting_proxy import CountingProxy, Forwarded
from tests.support.app_settings import emulator_settings
from tests.support.functions import get_status, post_activity, post_notify
from tests.support.references import store_conversations
from tests.support.work_queue import queued_messages

POLL_SECONDS = 0.5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.engagement", description=__doc__)
    parser.add_argument("--n", type=int, default=10_000, help="targets (10000)")
    return parser.parse_args()


def counted(proxy: CountingProxy, since: int) -> list[Forwarded]:
    """Table requests since `since` (a $batch is one)."""
    return proxy.forwarded[since:]


def by_kind(requests: list[Forwarded], kind: Callable[[Forwarded], str]) -> Counter:
    return Counter(kind(r) for r in requests)


def index_write(request: Forwarded) -> bool:
    return request.resource == "$batch" and (request.partition_key or "").startswith("sent-")


async def until(done: Callable[[], Awaitable[bool]]) -> None:
    while True:
        if await done():
            return
        await asyncio.sleep(POLL_SECONDS)


async def _state_is(notification_id: str, state: str) -> bool:
    return (await get_status(notification_id)).body["state"] == state


async def _queue_empty(app) -> bool:
    return await queued_messages(app) == 0


async def told(bodies: list[dict]) -> None:
    slots = asyncio.Semaphore(16)

    async def tell(body: dict) -> None:
        async with slots:
            answer = await post_activity(body)
            assert answer.status == 200, answer.body

    await asyncio.gather(*(tell(b) for b in bodies))


async def main() -> None:
    args = parse_args()
    stub = ChannelStub().start()
    azurite = Azurite.all_services().start()
    proxy = CountingProxy(azurite.ports["table"]).start()
    try:
        storage = connection_string({"queue": azurite.ports["queue"], "table": proxy.port})
        os.environ.update(emulator_settings(storage))
        os.environ.update(NOTIFY_MAX_RPS_PER_TENANT="0", NOTIFY_TIMER_TEXT="")
        app = get_app()
        chats = [f"a:person-{n:06d}" for n in range(args.n)]
        await store_conversations(app, stub.url, chats)
        print(f"Engagement bookkeeping: one notification to {args.n} 1:1 chats, one instance")
        async with listening(app):
            start = len(proxy.forwarded)
            began = time.monotonic()
            answer = await post_notify({"text": "All hands at 3"})
            assert answer.status == 202, answer.body
            notification_id = answer.body["id"]
            await until(
                lambda: _state_is(notification_id, "done"),
            )
            send = counted(proxy, start)
            sent_ids = {r.conversation_id: r.activity_id for r in stub.received}
            index = sum(index_write(r) for r in send)
            print(
                f"  send: {len(send)} Table operations in {time.monotonic() - began:.1f} s, "
                f"{len(send) / args.n:.4f}/target; the sent-message index {index} of them "
                f"({index / args.n:.4f}/target)"
            )

            readers = chats[: args.n // 3]
            reactors = chats[args.n // 3 : args.n // 3 + args.n // 10]
            for what, bodies in (
                (
                    "read receipts",
                    [
                        activity(
                            stub.url,
                            chat,
                            type="event",
                            name=READ_RECEIPT,
                            value={"lastReadMessageId": sent_ids[chat]},
                        )
                        for chat in readers
                    ],
                ),
                (
                    "reactions",
                    [
                        activity(
                            stub.url,
                            chat,
                            type="messageReaction",
                            replyToId=sent_ids[chat],
                            reactionsAdded=[{"type": "like"}],
                        )
                        for chat in reactors
                    ],
                ),
                (
                    "receipts from chats no notification reached",
                    [
                        activity(
                            stub.url,
                            f"a:stranger-{n}",
                            type="event",
                            name=READ_RECEIPT,
                            value={"lastReadMessageId": str(10**13 + n)},
                        )
                        for n in range(len(readers))
                    ],
                ),
            ):
                start = len(proxy.forwarded)
                began = time.monotonic()
                await told(bodies)
                await until(lambda: _queue_empty(app))
                requests = counted(proxy, start)
                kinds = by_kind(requests, lambda r: f"{r.method} {r.resource}")
                print(
                    f"  {len(bodies)} {what}: {len(requests)} Table operations in "
                    f"{time.monotonic() - began:.1f} s, {len(requests) / len(bodies):.2f} each "
                    f"({', '.join(f'{k} {n}' for k, n in kinds.most_common(4))})"
                )
            engagement = (await get_status(notification_id)).body["engagement"]
            print(f"  status: {engagement}")
    finally:
        await reset_app()
        proxy.stop()
        azurite.stop()
        stub.stop()


if __name__ == "__main__":
    asyncio.run(main())
