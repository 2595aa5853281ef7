"""Integration: the enricher service shell on the real broker, with this test's own topics and group."""

from __future__ import annotations

import asyncio

import pytest

from services.enricher.__main__ import make_body
from services.enricher.settings import EnricherSettings
from shared.bus import KafkaBus
from shared.contracts import EnrichedArticle, StanceObservation
from shared.runtime import serve
from tests.enricher.conftest import article
from tests.support import wait_until

TEXT = (
    "Donald Trump said on Monday he would impose new sanctions on Russian oil companies. "
    "He said he still wanted to meet Vladimir Putin soon."
)


@pytest.mark.timeout(90)
async def test_enricher_service_consumes_articles_and_publishes_results(enricher, kafka_bus, kafka_bootstrap, topics):
    settings = EnricherSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=topics.articles.name.removesuffix("articles"),
        http_host="127.0.0.1",
        http_port=0,
        create_topics=False,
    )
    await kafka_bus.publish(topics.articles.name, article(TEXT, article_id="k1"), key="k1")
    await kafka_bus.publish(topics.articles.name, b"not an article", key="k-bad")
    stop = asyncio.Event()
    service_bus = KafkaBus(kafka_bootstrap, client_id="enricher-it")
    task = asyncio.create_task(
        serve("enricher", settings, make_body(enricher, f"{topics.articles.name}-enricher"), bus=service_bus, stop=stop)
    )
    try:
        enriched: list = []
        observations: list = []
        dead: list = []

        async def arrived() -> bool:
            enriched[:] = await kafka_bus.read_all(topics.enriched.name)
            observations[:] = await kafka_bus.read_all(topics.observations.name)
            dead[:] = await kafka_bus.read_all(topics.dead_letters.name)
            return len(enriched) == 1 and len(observations) >= 2 and len(dead) == 1

        await wait_until(arrived, timeout=60, interval=0.5)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
    assert enriched[0].key == "k1" and enriched[0].decode(EnrichedArticle).article.id == "k1"
    by_key = {r.key: r.decode(StanceObservation) for r in observations}
    assert by_key["trump:russia-sanctions"].stance == "support"
    assert by_key["trump:putin-summit"].stance == "support"
    assert dead[0].key == "k-bad"
