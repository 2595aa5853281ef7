"""Liveness: /healthz fails when a task the service owns has died or stopped turning, and only then."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx

from shared.bus import ConsumerLoop, MemoryBus, Record
from shared.contracts import RawArticle
from shared.observability import HealthServer, Metrics
from shared.supervision import Watchdog
from tests.shared.test_consumer_loop import FlakyBus
from tests.support import wait_until

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_heartbeat_quiet_for_longer_than_its_limit_is_a_stall_and_a_beat_clears_it() -> None:
    clock = FakeClock()
    dog = Watchdog(stall_after_s=60, clock=clock)
    beat = dog.heartbeat("consumer g")
    clock.now += 59
    assert dog.problems() == []
    clock.now += 2
    (problem,) = dog.problems()
    assert problem.task == "consumer g"
    assert problem.reason.startswith("stalled: no progress for 61s")
    beat.beat()
    assert dog.problems() == []


async def test_a_task_that_ended_is_dead_with_its_error_unless_the_service_is_stopping() -> None:
    stopping = {"now": False}
    dog = Watchdog(stall_after_s=60)
    dog.stopping_when(lambda: stopping["now"])

    async def fails() -> None:
        raise RuntimeError("leader not available")

    async def returns() -> None:
        return None

    failed = asyncio.create_task(fails())
    returned = asyncio.create_task(returns())
    dog.watch("observations", failed)
    dog.watch("digests", returned)
    await asyncio.gather(failed, returned, return_exceptions=True)
    assert {(p.task, p.reason) for p in dog.problems()} == {
        ("observations", "ended: RuntimeError: leader not available"),
        ("digests", "ended"),
    }
    stopping["now"] = True
    assert dog.problems() == [], "tasks that end because the service stops are not dead"


async def serve_health(dog: Watchdog) -> tuple[HealthServer, str]:
    server = HealthServer(Metrics(), port=0, problems=lambda: [p.as_dict() for p in dog.problems()])
    port = await server.start()
    return server, f"http://127.0.0.1:{port}/healthz"


async def test_a_consumer_stuck_in_one_record_fails_healthz_and_recovers_when_it_moves_on() -> None:
    bus = MemoryBus()
    await bus.start()
    release = asyncio.Event()
    entered = asyncio.Event()
    handled: list[str] = []

    async def handler(rec: Record) -> None:
        entered.set()
        await release.wait()  # a handler hung on something that never answers
        handled.append(rec.decode(RawArticle).id)

    await bus.publish("in", RawArticle(id="a", published=T0), key="a")
    dog = Watchdog(stall_after_s=0.3)
    loop = ConsumerLoop(bus, ["in"], "g", handler, dead_letter_topic="dlq", watchdog=dog)
    server, url = await serve_health(dog)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        async with httpx.AsyncClient() as client:
            await asyncio.wait_for(entered.wait(), 5)
            await wait_until(lambda: dog.problems() != [], 5)
            resp = await client.get(url)
            assert resp.status_code == 503
            (problem,) = resp.json()["problems"]
            assert problem["task"] == "consumer g" and problem["reason"].startswith("stalled")
            release.set()
            await wait_until(lambda: handled == ["a"], 5)
            assert (await client.get(url)).status_code == 200
    finally:
        stop.set()
        release.set()
        await task
        await server.stop()


async def test_an_idle_consumer_and_one_waiting_for_the_broker_stay_alive() -> None:
    bus = FlakyBus()
    await bus.start()

    async def forward(rec: Record) -> None:
        await bus.publish("out", rec.value, key=rec.key or "")

    await bus.publish("in", RawArticle(id="a", published=T0), key="a")
    dog = Watchdog(stall_after_s=0.5)
    idle = ConsumerLoop(bus, ["quiet"], "idle", forward, dead_letter_topic="dlq", watchdog=dog)
    waiting = ConsumerLoop(
        bus,
        ["in"],
        "waiting",
        forward,
        dead_letter_topic="dlq",
        watchdog=dog,
        broker_backoff_s=0.1,
        max_broker_backoff_s=0.1,
    )
    stop = asyncio.Event()
    tasks = [asyncio.create_task(idle.run(stop)), asyncio.create_task(waiting.run(stop))]
    seen: list[object] = []
    clock = asyncio.get_running_loop().time
    until = clock() + 1.5  # three stall limits: one loop has nothing to do, the other cannot publish

    def watched_long_enough() -> bool:
        seen.extend(dog.problems())
        return clock() > until

    try:
        await wait_until(watched_long_enough, 5)
        assert bus.refused >= 5, "the second loop was waiting for the broker all along"
        assert seen == []
    finally:
        stop.set()
        await asyncio.gather(*tasks)
