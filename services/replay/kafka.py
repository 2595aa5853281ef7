"""``stancewatch replay --bus kafka``: the same replay through the real topics and the services' code.

The enricher and alerter service bodies run in this process against the broker, on a fresh topic
prefix; articles are published one at a time, each after the enricher committed the previous one,
so the stream order is the file order exactly as in the in-memory replay, and the outputs are read
back from the ``enriched`` and ``alerts`` topics.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    CoordinatorLoadInProgressError,
    GroupCoordinatorNotAvailableError,
    NotCoordinatorForGroupError,
)

from services.alerter.service import body as alerter_body
from services.alerter.settings import AlerterSettings
from services.enricher.__main__ import make_body as enricher_body
from services.enricher.extract import Enricher
from shared.bus import KafkaBus, KafkaSecurity
from shared.contracts import EnrichedArticle, PositionChange, RawArticle, StanceObservation
from shared.errors import BusError
from shared.runtime import serve
from shared.settings import ServiceSettings, load_settings
from shared.topics import Topics

ENRICHER_GROUP = "replay-enricher"
_announced: set[str] = set()
ALERTER_GROUP = "replay-alerter"


class ReplayTimeout(BusError):
    """The services did not catch up in time."""


#: A freshly formatted broker has no group coordinator until it has created ``__consumer_offsets``.
COORDINATOR_PENDING = (GroupCoordinatorNotAvailableError, CoordinatorLoadInProgressError, NotCoordinatorForGroupError)


async def _committed(admin: AIOKafkaAdminClient, group: str, topic: str) -> int:
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    except COORDINATOR_PENDING:
        if group not in _announced:
            _announced.add(group)
            print(f"replay: waiting for the broker's group coordinator for {group} (a fresh broker is starting up)")
        return 0  # nothing committed yet; the caller's deadline bounds the wait
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


async def _end_total(bus: KafkaBus, topic: str) -> int:
    return len(await bus.read_all(topic))


async def _wait_committed(
    admin: AIOKafkaAdminClient, group: str, topic: str, target: int, timeout: float, what: str
) -> None:
    deadline = time.monotonic() + timeout
    while await _committed(admin, group, topic) < target:
        if time.monotonic() > deadline:
            raise ReplayTimeout(f"replay: {what} did not catch up within {timeout:.0f}s")
        await asyncio.sleep(0.02)


async def replay_on_kafka(
    articles: Iterable[RawArticle],
    enricher: Enricher,
    base: ServiceSettings,
    *,
    timeout_per_article: float = 60.0,
) -> tuple[list[StanceObservation], list[PositionChange]]:
    """Run the stream through Kafka; return observations and alerts in stream order."""
    prefix = f"replay{uuid.uuid4().hex[:8]}."
    topics = Topics(prefix=prefix)
    common = {
        "topic_prefix": prefix,
        "http_host": "127.0.0.1",
        "http_port": 0,
        "bus": "kafka",
        "log_level": base.log_level,
        "kafka_bootstrap_servers": base.kafka_bootstrap_servers,
    }
    # Replay never notifies anyone by itself: no channels here (``--deliver`` sends afterwards).
    alerter_settings = load_settings(
        AlerterSettings,
        webhook_url=None,
        webhook_secret=None,
        slack_webhook_url=None,
        routing=None,
        console_alerts=False,
        group_id=ALERTER_GROUP,
        delivery_group_id="replay-delivery",
        # A replay ends with its input: decide each record as it comes, as the in-memory replay does.
        alert_grace=timedelta(0),
        **common,
    )
    enricher_settings = base.model_copy(update=common)
    bus = KafkaBus(
        base.kafka_bootstrap_servers, client_id="stancewatch-replay", security=KafkaSecurity.from_settings(base)
    )
    await bus.start()
    admin = await bus.admin("replay")
    stop = asyncio.Event()
    services = [
        asyncio.create_task(serve("enricher", enricher_settings, enricher_body(enricher, ENRICHER_GROUP), stop=stop)),
        asyncio.create_task(serve("alerter", alerter_settings, alerter_body, stop=stop)),
    ]
    try:
        await bus.ensure_topics(topics.all())
        order: list[str] = []
        for article in articles:
            order.append(article.id)
            await bus.publish(topics.articles.name, article, key=article.id)
            await _wait_committed(
                admin, ENRICHER_GROUP, topics.articles.name, len(order), timeout_per_article, "the enricher"
            )
            if failed := [t for t in services if t.done()]:
                await failed[0]  # surfaces the service's error
        n_obs = await _end_total(bus, topics.observations.name)
        await _wait_committed(admin, ALERTER_GROUP, topics.observations.name, n_obs, timeout_per_article, "the alerter")
        enriched = {
            a.article.id: a for a in (r.decode(EnrichedArticle) for r in await bus.read_all(topics.enriched.name))
        }
        alerts = [
            r.decode(PositionChange)
            for r in await bus.read_all(topics.alerts.name)
            if r.header("event") != "corroboration"
        ]
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.gather(*services)
        await admin.close()
        await bus.stop()

    observations = [obs for aid in order if aid in enriched for obs in enriched[aid].observations]
    rank = {(o.article_id, o.actor, o.topic): i for i, o in enumerate(observations)}
    alerts.sort(key=lambda a: rank.get((a.article_id, a.actor, a.topic), len(rank)))
    return observations, alerts
