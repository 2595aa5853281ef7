"""Poison on every input topic: each record lands in dead-letters with a reason, and the work goes on.

The enricher and the alerter run as processes on the real broker. Into each topic they consume
(``articles``, ``observations``, ``deliveries``, ``feedback``) the test writes garbage bytes, JSON cut
off in the middle, a record missing its required fields, and a record of the right shape but hostile
size (a text near the bus's 1 MB bound — a 5 MB one cannot enter the bus: producers and broker refuse
it, and the ingester skips an article the bus refuses —, 150,000 repetitions of a tracked figure's name); then good
records. Every poison record must reach ``dead-letters`` naming its origin and why, or be handled
within its bounds; every good record after it must still come out; no process may exit or go unhealthy.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from services.demo.__main__ import Pipeline, free_port, new_secret, service_env
from services.demo.receiver import WebhookReceiver
from shared.bus import KafkaBus, Record
from shared.contracts import EnrichedArticle, RawArticle, utc_now
from shared.topics import Topics
from tests.alerter.factories import obs
from tests.support import wait_until

GARBAGE = b"\xff\xfe\x00\x9c not json at all \x00"
CUT_OFF = b'{"id": "cut", "published": "2026-01-0'


def missing_fields(topic: str) -> bytes:
    return json.dumps({"schema_version": 1, "note": f"a {topic} record without its fields"}).encode()


def article(article_id: str, text: str) -> RawArticle:
    return RawArticle(
        id=article_id,
        source="Poison Wire",
        url=f"https://poison.example/{article_id}",
        published=utc_now(),
        title=f"Report {article_id}",
        text=text,
    )


async def healthy(port: int) -> bool:
    async with httpx.AsyncClient() as client:
        try:
            return (await client.get(f"http://127.0.0.1:{port}/healthz", timeout=2)).status_code == 200
        except httpx.HTTPError:
            return False


@pytest.mark.slow
async def test_poison_on_every_input_topic_is_dead_lettered_with_a_reason_and_later_records_flow(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    topics = Topics(prefix=topic_prefix)
    secret = new_secret()
    receiver = WebhookReceiver(secret).start()
    pipeline = Pipeline(tmp_path)
    bus = KafkaBus(kafka_bootstrap, client_id="poison-test")
    await bus.start()
    await bus.ensure_topics(topics.all())
    poison: dict[str, list[bytes]] = {
        t.name: [GARBAGE, CUT_OFF, missing_fields(t.name)]
        for t in (topics.articles, topics.observations, topics.deliveries, topics.feedback)
    }
    dead: list[Record] = []
    try:
        for name in ("enricher", "alerter"):
            env = service_env(
                name,
                bootstrap=kafka_bootstrap,
                prefix=topic_prefix,
                port=free_port(),
                feeds_file=tmp_path / "none",
                webhook_url=receiver.url,
                secret=secret,
                poll_interval=1.0,
                alert_grace="0s",
            )
            pipeline.start(name, env)
        for topic, records in poison.items():
            for n, value in enumerate(records):
                await bus.publish(topic, value, key=f"poison-{n}")
        # Right shape, hostile size: handled within the enricher's bounds, not dead-lettered.
        await bus.publish(topics.articles.name, article("huge", "word " * 190_000), key="huge")
        await bus.publish(topics.articles.name, article("names", "Trump " * 150_000), key="names")
        good = article(
            "good",
            "President Donald Trump said on Monday that he supports sending Tomahawk "
            "missiles to Ukraine. Officials declined to comment.",
        )
        await bus.publish(topics.articles.name, good, key=good.id)
        for hours_ago, o in ((2, obs("o1", "support", actor="putin")), (1, obs("o2", "oppose", actor="putin"))):
            when = utc_now() - timedelta(hours=hours_ago)
            o = o.model_copy(update={"article": o.article.model_copy(update={"published": when})})
            await bus.publish(topics.observations.name, o, key=o.key)

        async def read_dead() -> bool:
            dead[:] = await bus.read_all(topics.dead_letters.name)
            return sum(len(v) for v in poison.values()) <= len(dead)

        async def enriched_ids() -> set[str]:
            recs = await bus.read_all(topics.enriched.name)
            return {EnrichedArticle.from_json_bytes(r.value or b"").article.id for r in recs}

        async def good_article_enriched() -> bool:
            return {"good", "huge", "names"} <= await enriched_ids()

        await wait_until(read_dead, 180)
        await wait_until(good_article_enriched, 180)
        await wait_until(lambda: len(receiver.stats.accepted) >= 1, 60)
        for name in ("enricher", "alerter"):
            assert await healthy(pipeline.ports[name]), f"{name} unhealthy: {pipeline.tail(name)}"
        assert pipeline.dead() == [], f"exited: {pipeline.dead()}"
    finally:
        pipeline.stop()
        receiver.stop()
        enriched = {}
        for r in await bus.read_all(topics.enriched.name):
            e = EnrichedArticle.from_json_bytes(r.value or b"")
            enriched[e.article.id] = e
        await bus.stop()

    by_origin = {(r.header("source_topic"), r.value) for r in dead}
    for topic, records in poison.items():
        for value in records:
            assert (topic, value) in by_origin, f"not dead-lettered from {topic}: {value[:40]!r}"
    assert len(dead) == sum(len(v) for v in poison.values()), "only the poison is dead-lettered"
    assert all(r.header("error") and r.header("error_kind") == "poison" for r in dead)
    assert [o.actor for o in enriched["good"].observations] == ["trump"]
    (alert,) = [r.alert for r in receiver.stats.accepted if r.type == "alert.created"]
    assert (alert.actor, alert.from_stance, alert.to_stance) == ("putin", "support", "oppose")
