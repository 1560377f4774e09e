"""`python -m bench --chaos`: the queue path under the faults a large send meets, end to end.

Each scenario runs the app as Functions instances run it (devhost processes sharing one queue,
one Azurite and the loopback channel), POSTs one notification and breaks something mid-send: an
instance killed with SIGKILL while a second shares the queue, Table Storage answering 503 for a
while, `$batch` connections dropped after the write landed, the channel answering 429 to every
first send. It prints, per scenario: people never reached (lost), messages beyond the first
(repeats) against the bound (NOTIFY_CONCURRENCY + 99 per instance that dies; 0 otherwise), rows
in the export (one per target), targets flagged `possibleDuplicate`, and how long until the
status said `done`: from the fault for the faults, from the kill for the kill (the dead
instance's items come back after DEVHOST_QUEUE_LEASE_SECONDS here, 10 minutes on Azure).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass

import aiohttp

from bench.instance import Instance
from bench.queued import QueuedBench, Target, checked_target
from bench.seed import conversation_id
from shared.notifications.outcome_writer import UNRECORDED_LIMIT

CONCURRENCY = 32
LEASE_SECONDS = 5  # how soon a dead instance's items come back (devhost's test knob)
TENANTS = 3


@dataclass(frozen=True)
class Outcome:
    scenario: str
    targets: int
    lost: int
    repeats: int
    bound: int
    exported: int
    flagged: int
    unflagged_repeats: int  # people who got it twice without `possibleDuplicate`: must be 0
    recovery_seconds: float


async def run_chaos(args, bench: QueuedBench) -> list[Target]:
    # The killed instance's half-sent requests reach the loopback channel cut off: expected here.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    print(
        f"\nChaos: one notification each, through devhost instances, {CONCURRENCY} in flight per "
        f"instance, channel latency {args.latency_ms:g} ms, rate limits off, lease "
        f"{LEASE_SECONDS} s"
    )
    print(
        f"  {'scenario':<44} {'targets':>7} {'lost':>5} {'repeats':>7} {'bound':>5} "
        f"{'export':>6} {'flagged':>7} {'unflagged':>9} {'recovered in':>12}"
    )
    outcomes = [
        await _scenario(
            bench,
            "kill -9 of one of two instances mid-fan-out",
            3000,
            _kill,
            tables_through_proxy=False,
        ),
        await _scenario(bench, "Table $batch answers 503 for 6 s (> retries)", 1000, _outage),
        await _scenario(bench, "$batch answers lost after landing (x3)", 1000, _lost_answers),
        await _scenario(
            bench,
            "every first send answered 429 Retry-After 1",
            1000,
            _storm,
            before_post=_429_to_every_first_send,
        ),
    ]
    targets = []
    for o in outcomes:
        print(
            f"  {o.scenario:<44} {o.targets:>7} {o.lost:>5} {o.repeats:>7} {o.bound:>5} "
            f"{o.exported:>6} {o.flagged:>7} {o.unflagged_repeats:>9} "
            f"{o.recovery_seconds:>10.1f} s"
        )
        met = (
            o.lost == 0
            and o.repeats <= o.bound
            and o.exported == o.targets
            and o.unflagged_repeats == 0
        )
        targets.append(
            checked_target(
                f"chaos: {o.scenario}",
                float(met),
                f"{o.lost} lost, {o.repeats} rep.",
                f"0 lost, <= {o.bound}",
                bool,
            )
        )
    return targets + await cancel_mid_send(bench) + await cancel_mid_send(bench, 20000, 50, 20)


async def _scenario(
    bench: QueuedBench,
    name: str,
    n: int,
    fault,
    *,
    tables_through_proxy: bool = True,  # the Table faults need the proxy in front of the tables
    before_post=None,
) -> Outcome:
    references = await bench.references(n, TENANTS, mixed=True)
    env = bench.env(
        references,
        CONCURRENCY,
        0,
        counted=tables_through_proxy,
        NOTIFY_SCHEDULE="0 0 0 1 1 *",
        DEVHOST_QUEUE_LEASE_SECONDS=str(LEASE_SECONDS),
    )
    bench.stub.reset()
    bench.proxy.reset()
    if before_post is not None:
        before_post(bench, n)
    instances: list[Instance] = []
    try:
        async with aiohttp.ClientSession() as session:
            instances.append(await Instance(env, bench.log_dir).start(session))
            async with session.post(f"{instances[0].url}/api/notify", json={"text": name}) as r:
                if r.status != 202:
                    raise SystemExit(f"{name}: POST answered {r.status}: {await r.text()}")
                notification_id = (await r.json())["id"]
            survivor, bound, fault_at = await fault(bench, session, env, instances, n)
            status = await _settled(session, survivor.url, notification_id, instances)
            recovered = time.monotonic() - fault_at
            exported = await _exported(session, survivor.url, notification_id)
    finally:
        for instance in instances:
            await instance.stop()
    deliveries = Counter(r.conversation_id for r in bench.stub.received if 200 <= r.status < 300)
    await bench.drop([references, env["NOTIFICATIONS_TABLE"]], env["NOTIFY_QUEUE"])
    flagged = {row["conversationId"] for row in exported if row["possibleDuplicate"]}
    if status["state"] != "done":
        raise SystemExit(f"{name}: the status did not converge: {status}")
    return Outcome(
        scenario=name,
        targets=n,
        lost=n - len(deliveries),
        repeats=sum(deliveries.values()) - len(deliveries),
        bound=bound,
        exported=len({row["conversationId"] for row in exported}) if exported else 0,
        flagged=len(flagged),
        unflagged_repeats=len({c for c, k in deliveries.items() if k > 1} - flagged),
        recovery_seconds=recovered,
    )


async def _kill(bench, session, env, instances, n):
    instances.append(await Instance(env, bench.log_dir).start(session))
    await _until(lambda: len(bench.stub.received) >= 0.3 * n, "30 % of the sends", instances)
    instances[0].kill()
    return instances[1], CONCURRENCY + UNRECORDED_LIMIT, time.monotonic()


async def _outage(bench, session, env, instances, n):
    await _until(lambda: len(bench.stub.received) >= 0.2 * n, "20 % of the sends", instances)
    bench.proxy.fail("$batch", drop="", status=503, seconds=6)
    # Longer than a run tries (about 3.5 s): it fails, and its rerun repeats what it had not
    # written, as a run that died would.
    return instances[0], CONCURRENCY + UNRECORDED_LIMIT, time.monotonic()


async def _lost_answers(bench, session, env, instances, n):
    await _until(lambda: len(bench.stub.received) >= 0.2 * n, "20 % of the sends", instances)
    bench.proxy.fail("$batch", times=3, drop="after")  # within a write's tries: nothing repeats
    return instances[0], 0, time.monotonic()


async def _storm(bench, session, env, instances, n):
    # Scripted before the POST (_429_to_every_first_send): here it is already raging.
    return instances[0], 0, time.monotonic()


def _429_to_every_first_send(bench: QueuedBench, n: int) -> None:
    for index in range(n):
        bench.stub.answer(
            conversation_id(index, TENANTS, mixed=True),
            429,
            times=1,
            headers={"Retry-After": "1"},
        )


async def _until(condition, what: str, instances: list[Instance], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"waited for {what}:\n" + "\n".join(i.tail() for i in instances))
        await asyncio.sleep(0.02)


def _ended(status: dict) -> bool:
    return status["state"] in ("done", "failed", "cancelled")


def _cancel_settled(status: dict) -> bool:
    return status["state"] == "cancelled" and status["counts"]["pending"] == 0


async def _settled(
    session, url: str, notification_id: str, instances, settled=_ended, timeout: float = 180
) -> dict:
    """The status once `settled` says so (polled every 0.1 s); fails the bench after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        async with session.get(f"{url}/api/notify/{notification_id}") as response:
            status = await response.json()
        if settled(status):
            return status
        if time.monotonic() > deadline:
            tails = "\n".join(i.tail() for i in instances)
            raise SystemExit(f"not settled after {timeout} s: {status}\n{tails}")
        await asyncio.sleep(0.1)


async def _exported(session, url: str, notification_id: str) -> list[dict]:
    rows: list[dict] = []
    target = f"{url}/api/notify/{notification_id}/targets?limit=1000"
    while target:
        async with session.get(target) as response:
            page = await response.json()
        rows += page["targets"]
        target = f"{url}{page['next']}" if page.get("next") else ""
    return rows


async def cancel_mid_send(
    bench: QueuedBench, n: int = 6000, rps: int = 50, tenants: int = TENANTS
) -> list[Target]:
    """Two instances send to 3 tenants within their budget; the cancel is POSTed to one of them
    once a fifth has gone out: how fast it answers, whether its counts and the final status say
    what the channel received, and when the last send arrived."""
    references = await bench.references(n, tenants, mixed=True)
    env = bench.env(references, CONCURRENCY, rps, counted=False, NOTIFY_SCHEDULE="0 0 0 1 1 *")
    bench.stub.reset()
    instances: list[Instance] = []

    def delivered() -> int:
        return sum(1 for r in bench.stub.received if 200 <= r.status < 300)

    try:
        async with aiohttp.ClientSession() as session:
            instances += [await Instance(env, bench.log_dir).start(session) for _ in range(2)]
            async with session.post(f"{instances[0].url}/api/notify", json={"text": "x"}) as r:
                notification_id = (await r.json())["id"]
            await _until(lambda: delivered() >= n // 5, "a fifth of the sends", instances)
            before, asked = delivered(), time.monotonic()
            async with session.post(f"{instances[1].url}/api/notify/{notification_id}/cancel") as r:
                answered, answer = time.monotonic() - asked, await r.json()
            after = delivered()
            status = await _settled(
                session, instances[1].url, notification_id, instances, _cancel_settled
            )
    finally:
        for instance in instances:
            await instance.stop()
    last_send = max(r.at for r in bench.stub.received) - asked
    final = delivered()
    await bench.drop([references, env["NOTIFICATIONS_TABLE"]], env["NOTIFY_QUEUE"])
    counts = status["counts"]
    print(
        f"\nCancel mid-send: N={n} in {tenants} tenants, {rps}/s each, two instances\n"
        f"  answered in {answered:.2f} s; its counts: sent {answer['counts']['sent']} while the "
        f"channel had {before}..{after}\n"
        f"  settled: sent {counts['sent']} (channel {final}), cancelled {counts['cancelled']}, "
        f"matched {counts['matched']}, pending {counts['pending']}; last send "
        f"{last_send:+.2f} s after the cancel"
    )
    return [
        checked_target(
            "cancel answered within 1 s", answered, f"{answered:.2f} s", "<= 1 s", lambda s: s <= 1
        ),
        checked_target(
            "cancelled status: sent = channel, all matched",
            float(counts["sent"] == final and counts["matched"] == n and counts["pending"] == 0),
            f"{counts['sent']} / {final}",
            "equal",
            bool,
        ),
    ]
