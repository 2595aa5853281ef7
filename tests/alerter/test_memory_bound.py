"""Bounded memory: at most ``max_positions`` positions are held; evicted ones are read back unchanged.

An evicted key's next observation must decide exactly what it would have decided had the position never
left memory: same alerts (ids, content, corroborations), same positions written, same deliveries.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.alerter.detect import ShiftDetector
from services.alerter.handle import ObservationHandler
from services.alerter.routing import ChannelConfig, Route, Routing
from services.alerter.state import PositionStore, evictions
from shared.bus import KafkaBus, MemoryBus, Record
from shared.contracts import DeliveryTask, Position, PositionChange, StanceObservation
from shared.topics import Topics

from .factories import T0, obs

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "event_time.yaml").read_text(encoding="utf-8"))
ROUTING = Routing(channels={"hook": ChannelConfig(type="console")}, routes=[Route(channels=["hook"])])


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Alerter:
    """The observation path on its own in-memory bus, with an injected clock."""

    def __init__(
        self, max_positions: int | None, *, grace: timedelta = timedelta(0), instant: float | None = 0.8
    ) -> None:
        self.clock = Clock()
        self.bus = MemoryBus(read_batch=3)
        self.topics = Topics(prefix="m.")
        self.detector = ShiftDetector(clock=self.clock, grace=grace, instant_confidence=instant)
        self.store = PositionStore(self.bus, self.topics, self.detector, max_positions=max_positions)
        self.handler = ObservationHandler(self.bus, self.topics, self.detector, self.store, ROUTING, clock=self.clock)
        self.offset = 0
        self.reloads = 0
        ensure_key = self.store.ensure_key

        async def counting(key: str) -> None:
            self.reloads += key in self.store.spilled
            await ensure_key(key)

        self.store.ensure_key = counting  # type: ignore[method-assign]

    async def start(self) -> None:
        await self.bus.start()
        await self.bus.ensure_topics(self.topics.all())
        await self.store.rebuild()

    async def feed(self, o: StanceObservation, *, seconds: float = 10) -> None:
        self.clock.now += timedelta(seconds=seconds)
        p = self.topics.observations.partitions
        await self.handler(
            Record(self.topics.observations.name, hash(o.key) % p, self.offset, o.key, o.to_json_bytes())
        )
        self.offset += 1
        await self.handler.flush_due()

    async def settle(self, seconds: float = 3600) -> None:
        self.clock.now += timedelta(seconds=seconds)
        await self.handler.flush_due()

    def outputs(self) -> dict[str, dict[str | None, list[bytes | None]]]:
        """Every record published, in order per key (one grace tick may write several keys in any order)."""
        out: dict[str, dict[str | None, list[bytes | None]]] = {}
        for t in ("m.alerts", "m.positions", "m.deliveries"):
            for r in self.bus.records(t):
                out.setdefault(t, {}).setdefault(r.key, []).append(r.value)
        return out


def filler(i: int) -> StanceObservation:
    """An observation of another figure, enough of them to push the case's position out of memory."""
    return obs(f"f{i}", "support", actor=f"other{i % 5}", topic="filler", hours=i)


# --- the policy ---------------------------------------------------------------------------------


def test_nothing_is_evicted_within_the_bound_or_without_one() -> None:
    assert evictions(["a", "b"], 2, 2, lambda k: False) == []
    assert evictions(["a", "b", "c"], 3, None, lambda k: False) == []


def test_the_least_recently_updated_keys_beyond_the_bound_are_evicted_oldest_first() -> None:
    assert evictions(["a", "b", "c", "d"], 4, 2, lambda k: False) == ["a", "b"]


def test_a_key_within_its_grace_period_is_never_evicted_even_if_the_bound_is_then_exceeded() -> None:
    assert evictions(["a", "b", "c"], 3, 1, lambda k: k == "a") == ["b", "c"]
    assert evictions(["a", "b"], 2, 0, lambda k: True) == []


# --- the bound ------------------------------------------------------------------------------------


async def test_held_positions_stay_at_the_bound_with_ten_times_more_keys_and_after_a_rebuild() -> None:
    alerter = Alerter(max_positions=10)
    await alerter.start()
    for i in range(100):
        o = obs(f"a{i}", "support", actor=f"figure{i}", hours=i)
        await alerter.feed(o)
        assert len(alerter.detector.positions) <= 10
    for i in range(100):  # every key flips: each is read back, decided, and evicted again
        await alerter.feed(obs(f"b{i}", "oppose", actor=f"figure{i}", hours=200 + i))
        assert len(alerter.detector.positions) <= 10
        assert sum(len(v) for v in alerter.detector.recent_alerts.values()) <= 10
    assert len(alerter.store.held) == 10
    assert len(alerter.store.spilled) == 90
    assert alerter.reloads == 100  # figure90-99 were pushed out by figure0-9 before their turn came
    assert len(alerter.bus.records("m.alerts")) == 100  # every reversal raised, once

    # A restart streams the topics and holds no more than the bound while it does.
    detector = ShiftDetector(clock=alerter.clock)
    peak = 0
    load = detector.load_position

    def counting(position: Any) -> None:
        nonlocal peak
        load(position)
        peak = max(peak, len(detector.positions))

    detector.load_position = counting  # type: ignore[method-assign]
    store = PositionStore(alerter.bus, alerter.topics, detector, max_positions=10)
    assert await store.rebuild() == (200, 100)
    assert len(detector.positions) == 10
    assert peak <= 11  # one loaded before the oldest is evicted
    assert len(store.spilled) == 90
    assert sum(len(s.alerts) for s in store.spilled.values()) == 90  # where each evicted key's alert is


# --- correctness of evicted-and-reloaded keys -------------------------------------------------------


def case_stream(case: dict[str, Any]) -> list[StanceObservation]:
    return [
        obs(article, stance, confidence=confidence, source=source, hours=hours)
        for article, stance, confidence, source, hours in case["steps"]
    ]


async def run(case_obs: list[StanceObservation], max_positions: int | None, grace: timedelta, instant: Any) -> Alerter:
    alerter = Alerter(max_positions, grace=grace, instant=instant)
    await alerter.start()
    for i, o in enumerate(case_obs):
        # Between every other pair of steps the grace passes (the key settles and is evicted); between the
        # others it does not (the key is pinned, and the late record is folded in within the grace).
        for j in range(3):
            await alerter.feed(filler(10 * i + j), seconds=1 if i % 2 else 15)
        await alerter.feed(o, seconds=1)
    await alerter.feed(case_obs[0], seconds=1)  # a redelivery, after the key was evicted again
    await alerter.settle()
    return alerter


@pytest.mark.parametrize("grace", [timedelta(0), timedelta(seconds=30)], ids=["no-grace", "grace-30s"])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
async def test_an_evicted_key_decides_exactly_what_it_would_have_decided_in_memory(
    case: dict[str, Any], grace: timedelta
) -> None:
    said = case_stream(case)
    for order in (said, list(reversed(said))):
        unbounded = await run(order, None, grace, case.get("instant"))
        bounded = await run(order, 1, grace, case.get("instant"))
        assert bounded.reloads > 0, "the case's key was never evicted"
        assert bounded.outputs() == unbounded.outputs()
        key = said[0].key
        await bounded.store.ensure_key(key)
        assert bounded.detector.positions[key] == unbounded.detector.positions[key]


async def test_a_reversal_after_an_eviction_raises_the_same_alert_and_a_repeat_only_corroborates_it() -> None:
    runs = []
    for bound in (None, 1):
        alerter = Alerter(bound, instant=None)
        await alerter.start()
        await alerter.feed(obs("a1", "support"))
        await alerter.feed(filler(1))
        await alerter.feed(obs("a2", "oppose", hours=5))
        await alerter.feed(filler(2))
        await alerter.feed(obs("a3", "oppose", hours=6, source="Other Wire"))
        await alerter.feed(filler(3))
        await alerter.feed(obs("a2", "oppose", hours=5))  # redelivered
        runs.append(alerter)
    unbounded, bounded = runs
    assert bounded.reloads == 3
    alerts = [r.value for r in bounded.bus.records("m.alerts")]
    assert alerts == [r.value for r in unbounded.bus.records("m.alerts")]
    assert len(alerts) == 2  # the alert, then its corroboration by a3; the redelivery adds nothing
    assert len({r.key for r in bounded.bus.records("m.deliveries")}) == 1
    events = [[DeliveryTask.from_json_bytes(r.value or b"").event for r in a.bus.records("m.deliveries")] for a in runs]
    assert events[0] == events[1] == ["alert.created", "alert.corroborated"]


# --- on the real broker: the evicted record is read back by where it was written ------------------


async def test_on_the_broker_an_evicted_position_is_read_back_from_where_it_was_written(
    kafka_bus: KafkaBus, topics: Topics
) -> None:
    detector = ShiftDetector(clock=lambda: T0)
    store = PositionStore(kafka_bus, topics, detector, max_positions=1)
    await store.rebuild()
    handler = ObservationHandler(kafka_bus, topics, detector, store, ROUTING, clock=lambda: T0)
    stream = [
        obs("a1", "support"),
        obs("b1", "support", actor="other"),
        obs("a2", "oppose", hours=5),  # rutte was evicted by other: read back, then it reverses
        obs("b2", "support", actor="other", hours=6),
        obs("a3", "oppose", hours=7, source="Other Wire"),  # evicted again: read back with its alert
    ]
    for i, o in enumerate(stream):
        await handler(Record(topics.observations.name, 0, i, o.key, o.to_json_bytes()))
        assert len(detector.positions) == 1
    alerts = [PositionChange.from_json_bytes(r.value or b"") for r in await kafka_bus.read_all(topics.alerts.name)]
    assert [(a.article_id, a.from_stance, a.to_stance, [c.id for c in a.corroborations]) for a in alerts] == [
        ("a2", "support", "oppose", []),
        ("a2", "support", "oppose", ["a3"]),  # the same alert, corroborated: not a new one
    ]

    # A restart streams both topics, bound applied, and knows where the evicted key and its alert are.
    fresh = PositionStore(kafka_bus, topics, ShiftDetector(clock=lambda: T0), max_positions=1)
    assert await fresh.rebuild() == (5, 2)
    assert len(fresh.detector.positions) == 1
    ((key, spilled),) = fresh.spilled.items()
    await fresh.ensure_key(key)
    latest = {r.key: Position.from_json_bytes(r.value or b"") for r in await kafka_bus.read_all(topics.positions.name)}
    assert fresh.detector.positions == latest
    assert [a.alert_id for a in fresh.detector.recent_alerts["rutte:tomahawks"]] == [alerts[-1].alert_id]
    assert fresh.detector.recent_alerts["rutte:tomahawks"] == [alerts[-1]]
    assert await kafka_bus.read_at(topics.positions.name, spilled.at.partition, [10**6]) == []
