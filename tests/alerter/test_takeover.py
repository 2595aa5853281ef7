"""Taking partitions over from an instance that died: what the survivor must load when they are assigned.

Two instances share one in-memory bus here; the first handles records and is then dropped without a
word (as ``kill -9`` leaves it), the second is told of the assignment as a rebalance would tell it.
The same on a real broker with real processes: ``tests/faults/test_alerter_failover.py``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
from pydantic import SecretStr

from services.alerter.channels import WebhookChannel
from services.alerter.deliver import Deliverer, RetryPolicy, immediate_task
from services.alerter.detect import ShiftDetector
from services.alerter.digest import held_task
from services.alerter.handle import ObservationHandler
from services.alerter.lanes import DeliveryLane
from services.alerter.routing import ChannelConfig, Route, Routing
from services.alerter.state import PositionStore
from shared.bus import MemoryBus, Record
from shared.contracts import PositionChange, StanceObservation
from shared.topics import Topics

from .factories import T0, alert, obs
from .fakes import scripted

GRACE = timedelta(seconds=30)
ROUTING = Routing(channels={"hook": ChannelConfig(type="console")}, routes=[Route(channels=["hook"])])


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Instance:
    """One alerter's observation path (grace 30 s) on a shared bus."""

    def __init__(self, bus: MemoryBus, topics: Topics, clock: Clock) -> None:
        self.bus = bus
        self.topics = topics
        self.detector = ShiftDetector(clock=clock, grace=GRACE)
        self.store = PositionStore(bus, topics, self.detector)
        self.handler = ObservationHandler(bus, topics, self.detector, self.store, ROUTING, clock=clock)

    async def handle(self, o: StanceObservation) -> int:
        """Publish ``o`` and handle it as its consumer would; returns its partition (the key's)."""
        written = await self.bus.publish(self.topics.observations.name, o, key=o.key)
        assert written is not None
        rec = Record(self.topics.observations.name, written.partition, written.offset, o.key, o.to_json_bytes())
        await self.handler(rec)
        return written.partition


ALL = set(range(Topics().observations.partitions))


async def test_changes_in_their_grace_on_a_dead_instance_s_partition_are_made_final_by_the_one_it_goes_to() -> None:
    bus, topics, clock = MemoryBus(), Topics(prefix="k."), Clock()
    await bus.start()
    await bus.ensure_topics(topics.all())
    dead, survivor = Instance(bus, topics, clock), Instance(bus, topics, clock)
    await dead.store.rebuild()
    p = await dead.handle(obs("a1", "support"))
    await survivor.store.rebuild()  # started with the other, holding every partition but the key's
    await survivor.handler.assigned(ALL - {p})
    clock.now += GRACE * 2
    await dead.handle(obs("a2", "oppose", hours=5))  # in its grace when the instance dies
    assert bus.records(topics.alerts.name) == []

    await survivor.handler.revoked(ALL - {p})  # the rebalance after the session timeout
    await survivor.handler.assigned(ALL)
    clock.now += GRACE
    assert await survivor.handler.flush_due() == 1  # no further observation of the key was needed
    (sent,) = [PositionChange.from_json_bytes(r.value or b"") for r in bus.records(topics.alerts.name)]
    assert (sent.from_stance, sent.to_stance, sent.article_id) == ("support", "oppose", "a2")


async def test_partitions_moved_away_are_forgotten_so_their_grace_is_not_finished_twice() -> None:
    bus, topics, clock = MemoryBus(), Topics(prefix="k."), Clock()
    await bus.start()
    await bus.ensure_topics(topics.all())
    one = Instance(bus, topics, clock)
    await one.store.rebuild()
    await one.handler.assigned(ALL)
    p = await one.handle(obs("a1", "support"))
    clock.now += GRACE * 2
    await one.handle(obs("a2", "oppose", hours=5))
    await one.handler.revoked(ALL)
    await one.handler.assigned(ALL - {p})  # another instance joined and took the key's partition
    clock.now += GRACE
    assert await one.handler.flush_due() == 0
    assert p not in one.store.loaded and one.detector.positions == {}


class Lane:
    """One instance's lane for channel ``hook`` on a shared bus, with its own receiver."""

    def __init__(self, bus: MemoryBus, topics: Topics) -> None:
        self.seen: list[httpx.Request] = []
        self.client = httpx.AsyncClient(transport=scripted([200], self.seen))
        ch = WebhookChannel("hook", SecretStr("https://hooks.test/in"), None, self.client)
        deliverer = Deliverer({"hook": ch}, RetryPolicy(max_attempts=3), rand=lambda: 0.0)
        self.lane = DeliveryLane(
            "hook", bus, topics, deliverer, stop=asyncio.Event(), max_age=timedelta(hours=1), clock=lambda: T0
        )


async def test_a_lane_taken_over_sends_only_what_the_dead_instance_had_not_delivered() -> None:
    bus, topics = MemoryBus(), Topics(prefix="k.")
    await bus.start()
    await bus.ensure_topics(topics.all())
    dead, survivor = Lane(bus, topics), Lane(bus, topics)
    for n in range(3):
        await dead.lane.enqueue(immediate_task("hook", alert(f"a{n + 2}"), T0))
    records = bus.records(topics.deliveries.name)
    for rec in records[:2]:
        await dead.lane.handle(rec)  # delivered, then killed before committing
    assert len(dead.seen) == 2

    await survivor.lane.assigned({(topics.deliveries.name, records[0].partition)})
    for rec in records:  # the survivor reads from the last commit: all three again
        await survivor.lane.handle(rec)
    assert len(survivor.seen) == 1
    assert survivor.seen[0].headers["webhook-id"] == alert("a4").alert_id
    await dead.client.aclose()
    await survivor.client.aclose()


async def test_only_the_instance_running_a_lane_flushes_its_digests_and_the_taker_keeps_what_was_held() -> None:
    bus, topics = MemoryBus(), Topics(prefix="k.")
    await bus.start()
    await bus.ensure_topics(topics.all())
    first, second = Lane(bus, topics), Lane(bus, topics)
    await first.lane.enqueue(held_task("hook", alert("a2"), T0 + timedelta(minutes=10)))
    (rec,) = bus.records(topics.deliveries.name)
    await first.lane.handle(rec)  # held for the digest
    later = lambda: T0 + timedelta(minutes=11)  # noqa: E731
    other = (rec.partition + 1) % topics.deliveries.partitions

    await second.lane.assigned({(topics.deliveries.name, other)})  # the lane runs elsewhere
    second.lane.clock = later
    assert second.lane.holds is False and await second.lane.flush_digests() == 0

    await second.lane.assigned({(topics.deliveries.name, rec.partition)})  # the first one died
    assert await second.lane.flush_digests() == 1
    digest = bus.records(topics.deliveries.name)[-1]
    assert digest.key == "hook" and b'"digest":true' in (digest.value or b"")
    await first.client.aclose()
    await second.client.aclose()
