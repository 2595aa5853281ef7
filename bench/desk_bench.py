"""Benchmark of the desk: page render times over a full store, and ingestion from a real broker.

    .venv/bin/python bench/desk_bench.py [--observations 100000] [--alerts 5000] [--requests 40]
        [--database-url postgresql://…] [--kafka 127.0.0.1:9092 --ingest 20000]

Fills a fresh store (SQLite in a temporary folder, or the PostgreSQL database named) with
``--observations`` observations over 20 figures × 10 topics (a position per pair) and ``--alerts``
alerts, serves the desk on 127.0.0.1 and times full HTTP requests (p50 / p95) of the overview, a timeline
(one pair, its first page of 200 observations with their alerts) and the alerts inbox. With ``--kafka``,
it publishes ``--ingest`` observations to a fresh topic prefix and times the desk's consumer loop
storing them all (records/s).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiohttp import web

from services.desk.auth import Keyring, Sessions
from services.desk.ingest import Ingest
from services.desk.store import Store, make_store
from services.desk.web import DeskApp, DeskConfig
from shared.bus import ConsumerLoop, KafkaBus
from shared.contracts import (
    ArticleRef,
    Evidence,
    ExtractorInfo,
    HistoryRecord,
    ObservationRecord,
    Position,
    PositionChange,
    StanceObservation,
    alert_id_for,
)
from shared.topics import Topics

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EXTRACTOR = ExtractorInfo(version="bench", config_hash="bench", judge="combined-bench")
FIGURES, TOPICS = 20, 10
STANCES = ("support", "oppose", "undecided")


def make_observation(i: int, rng: random.Random) -> StanceObservation:
    pair = i % (FIGURES * TOPICS)
    actor, topic = f"figure{pair % FIGURES}", f"topic{pair // FIGURES}"
    text = f"Figure {pair % FIGURES} said “statement {i} on topic {pair // FIGURES}” to reporters."
    return StanceObservation(
        article_id=f"art{i}",
        actor=actor,
        topic=topic,
        stance=rng.choice(STANCES),
        confidence=rng.uniform(0.5, 1.0),
        evidence=[Evidence(text=text, start=0, end=len(text))],
        article=ArticleRef(
            id=f"art{i}",
            title=f"Story {i}",
            source=f"Outlet {i % 13}",
            url=f"https://bench.example/{i}",
            published=T0 + timedelta(minutes=i),
        ),
        extractor=EXTRACTOR,
        actor_name=f"Figure {pair % FIGURES}",
        topic_label=f"Topic {pair // FIGURES}",
    )


def record(obs: StanceObservation) -> ObservationRecord:
    return ObservationRecord(
        stance=obs.stance, confidence=obs.confidence, evidence=obs.evidence, article=obs.article, observed_at=T0
    )


async def fill(store: Store, n_obs: int, n_alerts: int) -> float:
    rng = random.Random(11)
    t0 = time.perf_counter()
    observations = [make_observation(i, rng) for i in range(n_obs)]
    for i, obs in enumerate(observations):
        await store.apply_observation(obs, 0, i)
    by_pair: dict[tuple[str, str], list[StanceObservation]] = {}
    for obs in observations:
        by_pair.setdefault((obs.actor, obs.topic), []).append(obs)
    for j, ((actor, topic), items) in enumerate(by_pair.items()):
        history = [HistoryRecord(**record(o).model_dump(), actor_name=o.actor_name) for o in items[-20:]]
        position = Position(actor=actor, topic=topic, established="support", latest=items[-1].stance, history=history)
        await store.apply_position(position.key, position, 0, j)
    for k in range(n_alerts):
        after = observations[(k * 19) % n_obs]
        before = observations[max(0, (k * 19) % n_obs - FIGURES * TOPICS)]
        alert = PositionChange(
            alert_id=alert_id_for(after.actor, after.topic, "support", "oppose", after.article_id),
            actor=after.actor,
            topic=after.topic,
            **{"from": "support", "to": "oppose"},
            severity="reversal",
            kind="cross-article",
            article_id=after.article_id,
            before=record(before),
            after=record(after),
            extractor=EXTRACTOR,
            created_at=after.article.published,
            actor_name=after.actor_name,
            topic_label=after.topic_label,
        )
        await store.apply_alert(alert, 0, k)
    return time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def time_pages(store: Store, requests: int) -> dict[str, list[float]]:
    keyring = Keyring({})
    config = DeskConfig(keyring=keyring, sessions=Sessions(b"b" * 32, keyring, timedelta(hours=1)))

    async def nowhere(_: object) -> None:
        raise RuntimeError("the benchmark publishes nothing")

    runner = web.AppRunner(DeskApp(store, nowhere, config, clock=lambda: T0).app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    pages = {
        "overview": "/",
        "timeline (first 200 of a pair)": "/timeline?actor=figure3&topic=topic4",
        "alerts inbox (50 of all)": "/alerts",
        "alerts inbox, text search": "/alerts?q=statement+1",
    }
    times: dict[str, list[float]] = {name: [] for name in pages}
    try:
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}", trust_env=False, timeout=60) as http:
            for name, path in pages.items():
                (await http.get(path)).raise_for_status()  # warm
                for _ in range(requests):
                    t0 = time.perf_counter()
                    response = await http.get(path)
                    response.raise_for_status()
                    times[name].append(time.perf_counter() - t0)
    finally:
        await runner.cleanup()
    return times


async def ingest_rate(bootstrap: str, n: int, store: Store) -> tuple[float, float]:
    topics = Topics(prefix=f"bench{uuid.uuid4().hex[:8]}.")
    bus = KafkaBus(bootstrap, client_id="desk-bench")
    await bus.start()
    try:
        await bus.ensure_topics(topics.all())
        rng = random.Random(5)
        observations = [make_observation(i, rng) for i in range(n)]
        t0 = time.perf_counter()
        for start in range(0, n, 500):
            chunk = observations[start : start + 500]
            await asyncio.gather(*(bus.publish(topics.observations.name, o, key=o.key) for o in chunk))
        published = time.perf_counter() - t0
        ingest = Ingest(store, topics)
        loop = ConsumerLoop(
            bus, ingest.topic_names, "desk-bench", ingest, dead_letter_topic=topics.dead_letters.name, batch_size=500
        )
        stop = asyncio.Event()
        task = asyncio.create_task(loop.run(stop))
        # Timed from the first record stored, so the consumer group's join is not counted.
        first: tuple[float, int] | None = None
        while (count := (await store.counts())["observations"]) < n:
            if first is None and count > 0:
                first = (time.perf_counter(), count)
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - (first[0] if first else time.perf_counter())
        stop.set()
        await task
        return (n - (first[1] if first else 0)) / max(elapsed, 1e-9), n / published
    finally:
        await bus.stop()


async def main() -> None:
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=100_000)
    parser.add_argument("--alerts", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--database-url", help="a PostgreSQL database to fill (its tables are emptied first)")
    parser.add_argument("--kafka", help="bootstrap servers: also measure ingestion from this broker")
    parser.add_argument("--ingest", type=int, default=20_000)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="desk-bench-"))
    try:
        store = make_store(args.database_url, folder)
        await store.open()
        await store.reset()
        print(f"store: {store.description}")
        seconds = await fill(store, args.observations, args.alerts)
        print(f"filled {await store.counts()} in {seconds:.1f} s (one transaction per record)")
        for name, values in (await time_pages(store, args.requests)).items():
            print(f"{name:34s} p50 {pct(values, 0.5) * 1000:7.1f} ms   p95 {pct(values, 0.95) * 1000:7.1f} ms")
        await store.close()
        if args.kafka:
            target = make_store(args.database_url, folder / "ingest")
            await target.open()
            await target.reset()
            rate, pub = await ingest_rate(args.kafka, args.ingest, target)
            print(
                f"ingestion from Kafka: {rate:,.0f} observations/s into {target.description} "
                f"({args.ingest} records, published beforehand at {pub:,.0f}/s)"
            )
            await target.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
