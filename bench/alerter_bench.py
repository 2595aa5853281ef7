"""Micro-benchmark of the alerter's hot paths (no broker, no network).

    .venv/bin/python bench/alerter_bench.py [--observations 100000] [--keys 2000]
    .venv/bin/python bench/alerter_bench.py --pairs 20000 [--max-positions 5000]

Reports observations/s through the pure detector, through the full observation handler on the
in-memory bus (detect + route + publish position/alert/deliveries), and signed webhook bodies/s.
``--pairs N`` instead measures memory (tracemalloc): a restart rebuilding N (figure, topic) pairs, each
with a full history and one alert, as the code did before (the whole topic read, then every position
held), unbounded, and with ``--max-positions``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import time
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from services.alerter.channels.slack import slack_message
from services.alerter.channels.webhook import webhook_body
from services.alerter.deliver import immediate_task
from services.alerter.detect import ShiftDetector
from services.alerter.handle import ObservationHandler
from services.alerter.routing import ChannelConfig, Route, Routing
from services.alerter.signing import sign_headers
from services.alerter.state import PositionStore
from shared.bus import MemoryBus, Record
from shared.contracts import ArticleRef, Evidence, ExtractorInfo, Position, PositionChange, StanceObservation
from shared.topics import Topics

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EXTRACTOR = ExtractorInfo(version="bench", config_hash="bench")


def synthetic_stream(n: int, keys: int, seed: int = 7) -> list[StanceObservation]:
    """Random stances over ``keys`` (figure, topic) pairs; roughly one in six flips a position."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        k = rng.randrange(keys)
        stance = rng.choices(["support", "oppose", "undecided"], weights=[5, 1, 1])[0] if k % 2 else "support"
        text = f"Figure {k} made a statement number {i}."
        out.append(
            StanceObservation(
                article_id=f"art{i}",
                actor=f"figure{k % 97}",
                topic=f"topic{k // 97}",
                stance=stance,
                confidence=rng.uniform(0.3, 1.0),
                evidence=[Evidence(text=text, start=0, end=len(text))],
                article=ArticleRef(
                    id=f"art{i}",
                    title=f"Story {i}",
                    source="Bench",
                    url=f"https://b.test/{i}",
                    published=T0 + timedelta(minutes=i),
                ),
                extractor=EXTRACTOR,
            )
        )
    return out


def bench_detector(stream: list[StanceObservation]) -> tuple[float, int]:
    det = ShiftDetector(clock=lambda: T0)
    t0 = time.perf_counter()
    alerts = sum(len(det.observe(o)) for o in stream)
    return len(stream) / (time.perf_counter() - t0), alerts


async def bench_handler(stream: list[StanceObservation]) -> float:
    bus = MemoryBus()
    topics = Topics(prefix="bench.")
    await bus.start()
    await bus.ensure_topics(topics.all())
    det = ShiftDetector(clock=lambda: T0)
    store = PositionStore(bus, topics, det)
    await store.rebuild()
    routing = Routing(channels={"hook": ChannelConfig(type="console")}, routes=[Route(channels=["hook"])])
    handler = ObservationHandler(bus, topics, det, store, routing, clock=lambda: T0)
    records = [Record(topics.observations.name, 0, i, o.key, o.to_json_bytes()) for i, o in enumerate(stream)]
    t0 = time.perf_counter()
    for rec in records:
        await handler(rec)
    return len(records) / (time.perf_counter() - t0)


def bench_render(stream: list[StanceObservation], n: int = 2000) -> tuple[float, float]:
    det = ShiftDetector(clock=lambda: T0)
    alerts = [a for o in stream for a in det.observe(o)][:n]
    secret = "whsec_" + base64.b64encode(b"bench-key").decode()
    t0 = time.perf_counter()
    for a in alerts:
        msg_id, body = webhook_body(immediate_task("bench", a, T0))
        sign_headers(secret, msg_id, body)
    signed = len(alerts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for a in alerts:
        slack_message([a], digest=False)
    return signed, len(alerts) / (time.perf_counter() - t0)


class CopyingBus(MemoryBus):
    """Reads hand out fresh copies of the bytes, as records fetched from a broker are."""

    whole = False  # True: one batch, the whole topic (the rebuild before bounded memory)

    async def iter_all(self, topic: str, partitions: set[int] | None = None) -> AsyncIterator[list[Record]]:
        async for batch in super().iter_all(topic, partitions) if not self.whole else _one(self, topic, partitions):
            yield [_copy(r) for r in batch]

    async def read_at(self, topic: str, partition: int, offsets: list[int]) -> list[Record]:  # type: ignore[override]
        return [_copy(r) for r in await super().read_at(topic, partition, offsets)]


async def _one(bus: MemoryBus, topic: str, partitions: set[int] | None) -> AsyncIterator[list[Record]]:
    yield await bus.read_all(topic, partitions)


def _copy(rec: Record) -> Record:
    value = None if rec.value is None else bytes(bytearray(rec.value))
    return Record(rec.topic, rec.partition, rec.offset, rec.key, value, rec.headers)


def full_pair(history: int = 20) -> tuple[Position, PositionChange]:
    """One position with a full history (``history`` observations) and the reversal it raised."""
    det = ShiftDetector(clock=lambda: T0, history_limit=history)
    stream = synthetic_stream(history * 4, 1)
    raised = [a for o in stream[: history - 1] for a in det.observe(o)]
    flip = stream[history - 1].model_copy(update={"stance": "oppose", "confidence": 0.95})
    raised += det.observe(flip)
    (pos,) = det.positions.values()
    return pos, raised[-1]


async def filled_bus(pairs: int) -> tuple[CopyingBus, Topics]:
    bus = CopyingBus(default_partitions=6)
    topics = Topics(prefix="bench.")
    await bus.start()
    await bus.ensure_topics(topics.all())
    pos, alert = full_pair()
    for i in range(pairs):
        actor, topic = f"figure{i % 997}", f"topic{i // 997}"
        await bus.publish(
            topics.positions.name, pos.model_copy(update={"actor": actor, "topic": topic}), key=f"{actor}:{topic}"
        )
        a = alert.model_copy(update={"actor": actor, "topic": topic, "alert_id": f"alrt_{i:032d}"})
        await bus.publish(topics.alerts.name, a, key=a.key)
    return bus, topics


async def measure_rebuild(
    bus: CopyingBus, topics: Topics, max_positions: int | None, *, whole: bool
) -> tuple[int, int, int, int, int]:
    """Bytes held after the rebuild, peak bytes during it, positions held, and the bytes of the evicted keys'
    table (with ``partition_of``) and of the alert ids, measured by dropping them."""
    bus.whole = whole
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    store = PositionStore(bus, topics, ShiftDetector(clock=lambda: T0), max_positions=max_positions)
    await store.rebuild()
    current, peak = tracemalloc.get_traced_memory()
    held = len(store.detector.positions)
    spilled = set(store.spilled)
    for key in spilled:
        del store.partition_of[key]
    store.spilled.clear()
    after_spilled = tracemalloc.get_traced_memory()[0]
    store.detector.sent_ids.clear()
    after_ids = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del store
    return current - base, peak - base, held, current - after_spilled, after_spilled - after_ids


def bench_memory(pairs: int, max_positions: int) -> None:
    async def run() -> None:
        bus, topics = await filled_bus(pairs)
        print(f"memory, rebuilding {pairs:,} pairs (history 20, one alert each; tracemalloc):")
        for label, bound, whole in (
            ("before (whole topic read, all held)", None, True),
            ("unbounded, streamed", None, False),
            (f"max_positions={max_positions:,}", max_positions, False),
        ):
            held, peak, n, spilled, ids = await measure_rebuild(bus, topics, bound, whole=whole)
            print(f"  {label}: {n:,} held, {held / 1e6:,.1f} MB after, peak {peak / 1e6:,.1f} MB")
            if bound is None:
                print(f"    {(held - ids) / n / 1e3:,.1f} MB per 1,000 held pairs (with their alert, not the ids)")
            else:
                print(f"    {spilled / (pairs - n) / 1e3:,.2f} MB per 1,000 evicted pairs (where to read them back)")
            print(f"    alert ids (idempotency, never evicted): {ids / pairs / 1e3:,.2f} MB per 1,000 alerts")

    asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/alerter_bench.py")
    parser.add_argument("--observations", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=2_000)
    parser.add_argument("--pairs", type=int, default=0, help="measure memory of a restart with this many pairs")
    parser.add_argument("--max-positions", type=int, default=5_000)
    args = parser.parse_args(argv)
    if args.pairs:
        bench_memory(args.pairs, args.max_positions)
        return 0
    stream = synthetic_stream(args.observations, args.keys)
    rate, alerts = bench_detector(stream)
    print(f"detector: {rate:,.0f} observations/s ({len(stream):,} observations, {args.keys:,} keys, {alerts:,} alerts)")
    handler_stream = stream[: min(len(stream), 20_000)]
    print(
        f"handler on memory bus: {asyncio.run(bench_handler(handler_stream)):,.0f} observations/s "
        f"({len(handler_stream):,} observations)"
    )
    signed, slack = bench_render(stream)
    print(f"webhook body + signature: {signed:,.0f}/s; slack block kit: {slack:,.0f}/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
