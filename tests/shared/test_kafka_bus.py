"""The bus on the real broker: round trips, dead letters, commit-after-processing, graceful SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.bus import Consumer, ConsumerLoop, KafkaBus, Record
from shared.contracts import RawArticle
from shared.topics import Topics
from tests.shared.test_contracts import sample_models
from tests.support import wait_until

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def collect(bus: KafkaBus, topic: str, group: str, n: int, timeout: float = 30) -> list[Record]:
    got: list[Record] = []
    stop = asyncio.Event()

    async def handler(rec: Record) -> None:
        got.append(rec)
        if len(got) >= n:
            stop.set()

    loop = ConsumerLoop(bus, [topic], group, handler, dead_letter_topic=f"{topic}.unused")
    await asyncio.wait_for(loop.run(stop), timeout)
    return got


async def test_every_event_model_round_trips_through_the_broker(kafka_bus: KafkaBus, topics: Topics) -> None:
    models = sample_models()
    for i, model in enumerate(models):
        await kafka_bus.publish(topics.enriched.name, model, key=f"k{i}", headers={"model": type(model).__name__})
    got = await collect(kafka_bus, topics.enriched.name, "roundtrip", len(models))
    by_key = {r.key: r for r in got}
    for i, model in enumerate(models):
        rec = by_key[f"k{i}"]
        assert rec.header("model") == type(model).__name__
        assert rec.decode(type(model)) == model


async def test_a_poison_message_is_dead_lettered_with_its_origin_and_the_rest_flow(
    kafka_bus: KafkaBus, topics: Topics
) -> None:
    src = topics.articles.name
    await kafka_bus.publish(src, RawArticle(id="ok1", published=T0), key="ok1")
    await kafka_bus.publish(src, b"{not json", key="ok1")  # same key -> same partition, after ok1
    await kafka_bus.publish(src, RawArticle(id="ok2", published=T0), key="ok1")
    done: list[str] = []
    stop = asyncio.Event()

    async def handler(rec: Record) -> None:
        done.append(rec.decode(RawArticle).id)
        if len(done) == 2:
            stop.set()

    loop = ConsumerLoop(kafka_bus, [src], "poison", handler, dead_letter_topic=topics.dead_letters.name)
    await asyncio.wait_for(loop.run(stop), 30)
    assert done == ["ok1", "ok2"]
    (dead,) = await kafka_bus.read_all(topics.dead_letters.name)
    assert dead.value == b"{not json"
    assert dead.header("source_topic") == src
    assert dead.header("source_offset") == "1"
    assert dead.header("error_kind") == "poison"
    assert "decode RawArticle" in (dead.header("error") or "")


def spawn_consumer(bootstrap: str, topics: Topics, group: str, log: Path, delay: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.shared.consumer_process",
            bootstrap,
            topics.articles.name,
            group,
            topics.dead_letters.name,
            str(log),
            str(delay),
        ],
        cwd=ROOT,
    )


def lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


async def test_a_consumer_killed_before_commit_leaves_the_message_for_the_next_one(
    kafka_bus: KafkaBus, topics: Topics, kafka_bootstrap: str, tmp_path: Path
) -> None:
    await kafka_bus.publish(topics.articles.name, RawArticle(id="m1", published=T0), key="m1")
    log = tmp_path / "first.log"
    proc = spawn_consumer(kafka_bootstrap, topics, "killed", log, delay=60)
    try:
        await wait_until(lambda: "start m1" in lines(log), 30)
    finally:
        proc.kill()  # SIGKILL mid-work: no chance to commit
        proc.wait(10)
    assert "done m1" not in lines(log)

    log2 = tmp_path / "second.log"
    proc2 = spawn_consumer(kafka_bootstrap, topics, "killed", log2, delay=0)
    try:
        await wait_until(lambda: "done m1" in lines(log2), 60)
    finally:
        proc2.send_signal(signal.SIGTERM)
        proc2.wait(30)


async def test_sigterm_finishes_the_message_in_flight_commits_and_exits(
    kafka_bus: KafkaBus, topics: Topics, kafka_bootstrap: str, tmp_path: Path
) -> None:
    for i in ("g1", "g2"):
        await kafka_bus.publish(topics.articles.name, RawArticle(id=i, published=T0), key="same")
    log = tmp_path / "term.log"
    proc = spawn_consumer(kafka_bootstrap, topics, "graceful", log, delay=1.5)
    try:
        await wait_until(lambda: "start g1" in lines(log), 30)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert lines(log) == ["start g1", "done g1", "exited"]

    # The same group resumes after g1: it was committed on the way out, g2 was not started.
    got = await collect(kafka_bus, topics.articles.name, "graceful", 1)
    assert [r.decode(RawArticle).id for r in got] == ["g2"]


async def test_topic_bootstrap_is_idempotent_and_applies_the_declared_config(
    kafka_bootstrap: str, topics: Topics
) -> None:
    bus = KafkaBus(kafka_bootstrap)
    created = await bus.ensure_topics(topics.all())
    assert sorted(created) == sorted(s.name for s in topics.all())
    assert await bus.ensure_topics(topics.all()) == []

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        (resp,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topics.positions.name)])
        entries = {e[0]: e[1] for res in resp.resources for e in res[4]}
        assert entries["cleanup.policy"] == "compact"
        meta = await admin.describe_topics([topics.observations.name])
        assert len(meta[0]["partitions"]) == topics.observations.partitions
    finally:
        await admin.close()


async def test_read_all_rebuilds_the_latest_value_per_key_from_a_compacted_topic(
    kafka_bus: KafkaBus, topics: Topics
) -> None:
    name = topics.seen_articles.name
    await kafka_bus.publish(name, b"v1", key="a")
    await kafka_bus.publish(name, b"v2", key="a")
    await kafka_bus.publish(name, b"v1", key="b")
    await kafka_bus.publish(name, None, key="b")  # tombstone
    latest: dict[str, bytes | None] = {}
    for rec in await kafka_bus.read_all(name):
        latest[rec.key or ""] = rec.value
    assert latest == {"a": b"v2", "b": None}


async def test_members_of_one_group_own_the_same_partitions_of_co_partitioned_topics(
    kafka_bus: KafkaBus, topics: Topics
) -> None:
    # The alerter reads observations and feedback in one group: the member owning a position must get its
    # corrections. Four members on 2 x 6 partitions: round robin alone would split them differently.
    names = [topics.observations.name, topics.feedback.name]
    consumers = [kafka_bus.consumer(names, f"{topics.prefix}copart") for _ in range(4)]
    stop = asyncio.Event()

    async def poll(consumer: Consumer) -> None:
        await consumer.start()
        try:
            while not stop.is_set():
                await consumer.getmany(timeout_ms=200)
        finally:
            await consumer.stop()

    def settled() -> bool:
        owned = [c.assignment() for c in consumers]
        return all(owned) and sum(len(o) for o in owned) == 12 and len(set().union(*owned)) == 12

    pollers = [asyncio.create_task(poll(c)) for c in consumers]
    try:
        await wait_until(lambda: settled() or any(p.done() for p in pollers), timeout=60)
        for consumer in consumers:
            owned = consumer.assignment()
            by_topic = [{p for t, p in owned if t == name} for name in names]
            assert by_topic[0] == by_topic[1] and by_topic[0], owned
    finally:
        stop.set()
        await asyncio.gather(*pollers)
