"""The consumer loop's guarantees, on the in-memory bus (fast, no broker)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from shared.bus import ConsumerLoop, MemoryBus, Record
from shared.contracts import RawArticle
from shared.errors import BusError
from shared.observability import Metrics
from tests.support import wait_until

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def no_sleep(_: float) -> None:
    return None


async def start_loop(loop: ConsumerLoop) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    await asyncio.wait_for(loop.started.wait(), 5)
    return stop, task


async def test_a_failing_message_is_retried_then_dead_lettered_and_the_loop_moves_on() -> None:
    bus = MemoryBus()
    await bus.start()
    seen: list[str] = []
    attempts: dict[str, int] = {}

    async def handler(rec: Record) -> None:
        art = rec.decode(RawArticle)
        attempts[art.id] = attempts.get(art.id, 0) + 1
        if art.id == "bad":
            raise RuntimeError("downstream refused")
        seen.append(art.id)

    for i in ("a", "bad", "b"):
        await bus.publish("in", RawArticle(id=i, published=T0), key=i)
    metrics = Metrics()
    loop = ConsumerLoop(
        bus, ["in"], "g", handler, dead_letter_topic="dlq", max_attempts=3, sleep=no_sleep, metrics=metrics
    )
    stop, task = await start_loop(loop)
    await wait_until(lambda: len(seen) == 2, 5)
    stop.set()
    await task

    assert seen == ["a", "b"]
    assert attempts["bad"] == 3
    (dead,) = bus.records("dlq")
    assert dead.key == "bad"
    assert dead.header("error") == "RuntimeError: downstream refused"
    assert dead.header("source_topic") == "in"
    assert dead.header("source_offset") == "1"
    assert dead.header("attempts") == "3"
    assert "messages_dead_lettered_total" in metrics.render()


async def test_an_undecodable_message_goes_to_the_dead_letter_topic_without_retries() -> None:
    bus = MemoryBus()
    await bus.start()
    calls = 0

    async def handler(rec: Record) -> None:
        nonlocal calls
        calls += 1
        rec.decode(RawArticle)

    await bus.publish("in", b"\x00\xffnot json", key="k")
    loop = ConsumerLoop(bus, ["in"], "g", handler, dead_letter_topic="dlq", sleep=no_sleep)
    stop, task = await start_loop(loop)
    await wait_until(lambda: bus.records("dlq"), 5)
    stop.set()
    await task
    assert calls == 1
    assert bus.records("dlq")[0].header("error_kind") == "poison"
    assert bus.records("dlq")[0].value == b"\x00\xffnot json"


async def test_offsets_are_committed_only_after_the_handler_finished() -> None:
    bus = MemoryBus()
    await bus.start()
    release = asyncio.Event()
    entered = asyncio.Event()

    async def handler(rec: Record) -> None:
        entered.set()
        await release.wait()

    await bus.publish("in", RawArticle(id="x", published=T0), key="x")
    loop = ConsumerLoop(bus, ["in"], "g", handler, dead_letter_topic="dlq")
    stop, task = await start_loop(loop)
    await asyncio.wait_for(entered.wait(), 5)
    assert bus._committed.get(("g", "in", 0)) is None  # in flight: nothing committed yet
    stop.set()  # a graceful stop waits for the message in flight ...
    await asyncio.sleep(0.05)
    assert not task.done()
    release.set()
    await task
    assert bus._committed[("g", "in", 0)] == 1  # ... then commits it


async def test_a_cancelled_consumer_leaves_the_in_flight_message_uncommitted() -> None:
    bus = MemoryBus()
    await bus.start()
    entered = asyncio.Event()

    async def hang(rec: Record) -> None:
        entered.set()
        await asyncio.Event().wait()

    await bus.publish("in", RawArticle(id="x", published=T0), key="x")
    loop = ConsumerLoop(bus, ["in"], "g", hang, dead_letter_topic="dlq")
    _, task = await start_loop(loop)
    await asyncio.wait_for(entered.wait(), 5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    got: list[str] = []

    async def collect(rec: Record) -> None:
        got.append(rec.decode(RawArticle).id)

    again = ConsumerLoop(bus, ["in"], "g", collect, dead_letter_topic="dlq")
    stop, task = await start_loop(again)
    await wait_until(lambda: got, 5)
    stop.set()
    await task
    assert got == ["x"]


async def test_a_revocation_commits_what_was_done_then_tells_the_owner() -> None:
    bus = MemoryBus()
    await bus.start()
    told: list[tuple[set[tuple[str, int]], int | None]] = []
    done = asyncio.Event()

    async def handler(rec: Record) -> None:
        done.set()

    loop = ConsumerLoop(
        bus,
        ["in"],
        "g",
        handler,
        dead_letter_topic="dlq",
        on_revoked=lambda parts: told.append((parts, bus._committed.get(("g", "in", 0)))),
    )
    await bus.publish("in", RawArticle(id="x", published=T0), key="x")
    stop, task = await start_loop(loop)
    await asyncio.wait_for(done.wait(), 5)
    await loop._on_revoke({("in", 0)})  # what the broker's rebalance listener calls
    stop.set()
    await task
    assert told == [({("in", 0)}, 1)]  # the offset was committed before the owner heard of it


class FlakyBus(MemoryBus):
    """Publishes to ``out`` fail with a broker error until ``heal`` is set: an outage, in memory."""

    def __init__(self) -> None:
        super().__init__()
        self.heal = asyncio.Event()
        self.refused = 0

    async def publish(self, topic: str, value: object, *, key: str, headers: object = None) -> None:  # type: ignore[override]
        if topic == "out" and not self.heal.is_set():
            self.refused += 1
            raise BusError("publish out: broker unavailable")
        await super().publish(topic, value, key=key, headers=headers)  # type: ignore[arg-type]


async def test_a_broker_outage_holds_the_record_uncommitted_and_it_is_handled_when_the_broker_is_back() -> None:
    bus = FlakyBus()
    await bus.start()

    async def handler(rec: Record) -> None:
        await bus.publish("out", rec.value, key=rec.key or "")

    for i in ("a", "b"):
        await bus.publish("in", RawArticle(id=i, published=T0), key=i)
    loop = ConsumerLoop(bus, ["in"], "g", handler, dead_letter_topic="dlq", broker_backoff_s=0.01)
    stop, task = await start_loop(loop)
    await wait_until(lambda: bus.refused >= 5, 5)  # tried again and again, with backoff ...
    assert not task.done(), "the loop must not end because the broker is away"
    assert bus.committed("g") == {}, "nothing is committed while the record is not handled"
    assert bus.records("dlq") == [], "a broker outage is not the record's fault"
    bus.heal.set()
    await wait_until(lambda: len(bus.records("out")) == 2, 5)  # ... and handled once it is back
    await wait_until(lambda: bus.committed("g") == {("in", 0): 2}, 5)
    stop.set()
    await task
    assert [r.key for r in bus.records("out")] == ["a", "b"]


async def test_stopping_during_an_outage_ends_the_loop_without_committing_the_record() -> None:
    bus = FlakyBus()
    await bus.start()

    async def handler(rec: Record) -> None:
        await bus.publish("out", rec.value, key=rec.key or "")

    await bus.publish("in", RawArticle(id="a", published=T0), key="a")
    loop = ConsumerLoop(bus, ["in"], "g", handler, dead_letter_topic="dlq", broker_backoff_s=0.01)
    stop, task = await start_loop(loop)
    await wait_until(lambda: bus.refused >= 2, 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert bus.committed("g") == {}


async def test_an_output_too_large_for_the_bus_dead_letters_its_record_at_once_and_the_loop_moves_on() -> None:
    bus = MemoryBus()
    await bus.start()
    attempts: dict[str, int] = {}

    async def handler(rec: Record) -> None:
        art = rec.decode(RawArticle)
        attempts[art.id] = attempts.get(art.id, 0) + 1
        size = 2_000_000 if art.id == "huge" else 10  # e.g. an enriched event that grew past the limit
        await bus.publish("out", art.model_copy(update={"text": "x" * size}), key=art.id)

    for i in ("huge", "next"):
        await bus.publish("in", RawArticle(id=i, published=T0), key=i)
    loop = ConsumerLoop(bus, ["in"], "g", handler, dead_letter_topic="dlq", sleep=no_sleep, broker_backoff_s=0.01)
    stop, task = await start_loop(loop)
    await wait_until(lambda: len(bus.records("out")) == 1, 5)
    stop.set()
    await task
    assert attempts == {"huge": 1, "next": 1}, "the same record would build the same output: no retry"
    (dead,) = bus.records("dlq")
    assert dead.key == "huge" and dead.header("error_kind") == "poison"
    assert "exceeds 1000000" in (dead.header("error") or "")
    assert bus.committed("g") == {("in", 0): 2}
