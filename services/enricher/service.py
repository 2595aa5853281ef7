"""The thin async shell around ``Enricher.enrich``: consume articles, publish results, then commit.

Everything an article yields (each observation, keyed ``actor:topic``, and the enriched article,
keyed by article id) is acknowledged by the broker before the handler returns, and the consumer
loop commits only after that: at-least-once, nothing lost. Undecodable messages are poison and
go to the dead-letter topic with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import time

from services.enricher.extract import Enricher
from shared.bus import Bus, ConsumerLoop, Record
from shared.contracts import RawArticle
from shared.observability import Metrics
from shared.supervision import Watchdog
from shared.topics import Topics

log = logging.getLogger("stancewatch.enricher")


class EnrichHandler:
    """Handles one ``articles`` record. The CPU work runs in a worker thread so health checks answer."""

    def __init__(self, enricher: Enricher, bus: Bus, topics: Topics, metrics: Metrics) -> None:
        self.enricher = enricher
        self.bus = bus
        self.topics = topics
        self._enriched = metrics.counter("articles_enriched_total", "Articles enriched and published")
        self._skipped = metrics.counter("articles_skipped_total", "Articles that yielded nothing", ["reason"])
        self._observations = metrics.counter("observations_total", "Stance observations published", ["topic"])
        self._seconds = metrics.histogram("enrich_seconds", "Time to enrich one article")

    async def __call__(self, rec: Record) -> None:
        article = rec.decode(RawArticle)
        t0 = time.perf_counter()
        enriched = await asyncio.to_thread(self.enricher.enrich, article)
        self._seconds.observe(time.perf_counter() - t0)
        for obs in enriched.observations:
            await self.bus.publish(self.topics.observations.name, obs, key=obs.key)
            self._observations.inc(topic=obs.topic)
            log.info(
                "observation %s (%.2f)",
                obs.stance,
                obs.confidence,
                extra={"article_id": obs.article_id, "actor": obs.actor, "topic": obs.topic},
            )
        await self.bus.publish(self.topics.enriched.name, enriched, key=article.id)
        self._enriched.inc()
        if enriched.skipped_reason:
            self._skipped.inc(reason=enriched.skipped_reason.split(":")[0])
            log.info("article skipped: %s", enriched.skipped_reason, extra={"article_id": article.id})
        else:
            log.debug(
                "article enriched",
                extra={"article_id": article.id, "observations": len(enriched.observations)},
            )


def consumer_loop(
    enricher: Enricher,
    bus: Bus,
    topics: Topics,
    metrics: Metrics,
    group_id: str = "stancewatch-enricher",
    watchdog: Watchdog | None = None,
) -> ConsumerLoop:
    handler = EnrichHandler(enricher, bus, topics, metrics)
    return ConsumerLoop(
        bus,
        [topics.articles.name],
        group_id,
        handler,
        dead_letter_topic=topics.dead_letters.name,
        metrics=metrics,
        watchdog=watchdog,
    )
