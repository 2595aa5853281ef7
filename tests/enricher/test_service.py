"""The service shell on the in-memory bus: publishes results keyed correctly, dead-letters poison."""

from __future__ import annotations

import asyncio
import contextlib

from services.enricher.service import consumer_loop
from shared.bus import MemoryBus
from shared.contracts import EnrichedArticle, StanceObservation
from shared.observability import Metrics
from shared.topics import Topics
from tests.enricher.conftest import article
from tests.support import wait_until

TEXT = "Vladimir Putin said a summit with Donald Trump would be premature. He ruled out any ceasefire before a deal."


async def test_articles_become_enriched_articles_and_keyed_observations(enricher):
    bus, topics, metrics = MemoryBus(), Topics(prefix="unit."), Metrics()
    await bus.start()
    await bus.ensure_topics(topics.all())
    await bus.publish(topics.articles.name, article(TEXT, article_id="m1"), key="m1")
    await bus.publish(topics.articles.name, article("Nothing to see at the bakery today.", article_id="m2"), key="m2")
    stop = asyncio.Event()
    loop = consumer_loop(enricher, bus, topics, metrics, group_id="unit-enricher")
    task = asyncio.create_task(loop.run(stop))
    try:
        await wait_until(lambda: len(bus.records(topics.enriched.name)) == 2, timeout=10)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    enriched = {r.key: r.decode(EnrichedArticle) for r in bus.records(topics.enriched.name)}
    assert set(enriched) == {"m1", "m2"}
    assert enriched["m2"].observations == []
    observations = [r for r in bus.records(topics.observations.name)]
    keys = {r.key for r in observations}
    assert "putin:putin-summit" in keys and "putin:ceasefire-now" in keys
    for r in observations:
        obs = r.decode(StanceObservation)
        assert r.key == f"{obs.actor}:{obs.topic}" and obs.article_id == "m1"
    assert "stancewatch_articles_enriched_total 2" in metrics.render()


async def test_undecodable_message_goes_to_the_dead_letter_topic(enricher):
    bus, topics = MemoryBus(), Topics(prefix="unit2.")
    await bus.start()
    await bus.ensure_topics(topics.all())
    await bus.publish(topics.articles.name, b"\xff\xfe not json", key="bad")
    await bus.publish(topics.articles.name, article(TEXT, article_id="ok"), key="ok")
    stop = asyncio.Event()
    loop = consumer_loop(enricher, bus, topics, Metrics(), group_id="unit-enricher-2")
    task = asyncio.create_task(loop.run(stop))
    try:
        await wait_until(lambda: len(bus.records(topics.enriched.name)) == 1, timeout=10)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(task, 5)
    (dead,) = bus.records(topics.dead_letters.name)
    assert dead.key == "bad" and dead.header("error_kind") == "poison"
    assert "decode RawArticle" in (dead.header("error") or "")


async def test_an_article_with_a_one_megabyte_title_is_enriched_with_its_title_cut_and_the_loop_goes_on(enricher):
    bus, topics = MemoryBus(), Topics(prefix="unit3.")
    await bus.start()
    await bus.ensure_topics(topics.all())
    hostile = article(TEXT, article_id="huge").model_copy(update={"title": "Trump " * 160_000})
    await bus.publish(topics.articles.name, hostile, key="huge")
    await bus.publish(topics.articles.name, article(TEXT, article_id="next"), key="next")
    stop = asyncio.Event()
    loop = consumer_loop(enricher, bus, topics, Metrics(), group_id="unit-enricher-3")
    task = asyncio.create_task(loop.run(stop))
    try:
        await wait_until(lambda: len(bus.records(topics.enriched.name)) == 2, timeout=20)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    enriched = {r.key: r.decode(EnrichedArticle) for r in bus.records(topics.enriched.name)}
    assert len(enriched["huge"].article.title) == 1_000
    assert bus.records(topics.dead_letters.name) == []
