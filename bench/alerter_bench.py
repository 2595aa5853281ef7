"""Micro-benchmark of the alerter's hot paths (no broker, no network).

    .venv/bin/python bench/alerter_bench.py [--observations 100000] [--keys 2000]

Reports observations/s through the pure detector, through the full observation handler on the
in-memory bus (detect + route + publish position/alert/deliveries), and signed webhook bodies/s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import time
from datetime import UTC, datetime, timedelta

from services.alerter.channels.slack import slack_message
from services.alerter.channels.webhook import webhook_body
from services.alerter.detect import ShiftDetector
from services.alerter.handle import ObservationHandler
from services.alerter.routing import ChannelConfig, Route, Routing
from services.alerter.signing import sign_headers
from services.alerter.state import PositionStore
from shared.bus import MemoryBus, Record
from shared.contracts import ArticleRef, Evidence, ExtractorInfo, StanceObservation
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
        msg_id, body = webhook_body([a], delivery_id=a.alert_id, digest=False)
        sign_headers(secret, msg_id, body)
    signed = len(alerts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for a in alerts:
        slack_message([a], digest=False)
    return signed, len(alerts) / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/alerter_bench.py")
    parser.add_argument("--observations", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=2_000)
    args = parser.parse_args(argv)
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
