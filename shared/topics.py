"""Every topic, declared once: name, partitions, cleanup policy, key, payload model.

Compose, the Kubernetes/Strimzi manifests and the code are checked against this table by tests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from shared.contracts import (
    DeliveryOutcome,
    DeliveryTask,
    EnrichedArticle,
    Feedback,
    FeedState,
    Position,
    PositionChange,
    RawArticle,
    SeenArticle,
    StanceObservation,
)
from shared.contracts.base import Contract

#: Partitions for everything keyed by ``actor:topic``; must be equal so those topics are co-partitioned.
POSITION_PARTITIONS = 6


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    model: type[Contract] | None
    key: str
    compacted: bool = False
    retention_ms: int | None = None
    extra_config: dict[str, str] = field(default_factory=dict)

    def config(self) -> dict[str, str]:
        cfg = {"cleanup.policy": "compact" if self.compacted else "delete"}
        if self.compacted:
            # Let the cleaner compact promptly on a small local broker as well as on a cluster.
            cfg["min.cleanable.dirty.ratio"] = "0.1"
            cfg["segment.ms"] = str(6 * 3600 * 1000)
        if self.retention_ms is not None:
            cfg["retention.ms"] = str(self.retention_ms)
        cfg.update(self.extra_config)
        return cfg


WEEK_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class Topics:
    """The topic table, optionally under another prefix (each integration test has its own)."""

    prefix: str = "stancewatch."

    def _spec(self, name: str, **kw: object) -> TopicSpec:
        return TopicSpec(name=f"{self.prefix}{name}", **kw)  # type: ignore[arg-type]

    @property
    def articles(self) -> TopicSpec:
        return self._spec("articles", partitions=6, model=RawArticle, key="article id", retention_ms=WEEK_MS)

    @property
    def enriched(self) -> TopicSpec:
        return self._spec("enriched", partitions=6, model=EnrichedArticle, key="article id", retention_ms=WEEK_MS)

    @property
    def observations(self) -> TopicSpec:
        return self._spec(
            "observations",
            partitions=POSITION_PARTITIONS,
            model=StanceObservation,
            key="actor:topic",
            retention_ms=4 * WEEK_MS,
        )

    @property
    def positions(self) -> TopicSpec:
        return self._spec(
            "positions", partitions=POSITION_PARTITIONS, model=Position, key="actor:topic", compacted=True
        )

    @property
    def alerts(self) -> TopicSpec:
        return self._spec(
            "alerts",
            partitions=POSITION_PARTITIONS,
            model=PositionChange,
            key="actor:topic",
            retention_ms=4 * WEEK_MS,
        )

    @property
    def deliveries(self) -> TopicSpec:
        return self._spec("deliveries", partitions=3, model=DeliveryTask, key="channel", retention_ms=WEEK_MS)

    @property
    def delivery_outcomes(self) -> TopicSpec:
        return self._spec(
            "delivery-outcomes", partitions=3, model=DeliveryOutcome, key="delivery id", retention_ms=WEEK_MS
        )

    @property
    def feed_state(self) -> TopicSpec:
        return self._spec("feed-state", partitions=3, model=FeedState, key="feed url", compacted=True)

    @property
    def seen_articles(self) -> TopicSpec:
        return self._spec("seen-articles", partitions=3, model=SeenArticle, key="article id", compacted=True)

    @property
    def feedback(self) -> TopicSpec:
        # Kept for good: corrections are the judge's future training data. Co-partitioned with positions
        # so the alerter instance that owns a figure's position also reads the corrections to it.
        return self._spec(
            "feedback",
            partitions=POSITION_PARTITIONS,
            model=Feedback,
            key="actor:topic",
            retention_ms=-1,
        )

    @property
    def dead_letters(self) -> TopicSpec:
        return self._spec("dead-letters", partitions=1, model=None, key="source key", retention_ms=4 * WEEK_MS)

    def all(self) -> list[TopicSpec]:
        return [
            self.articles,
            self.enriched,
            self.observations,
            self.positions,
            self.alerts,
            self.deliveries,
            self.delivery_outcomes,
            self.feed_state,
            self.seen_articles,
            self.feedback,
            self.dead_letters,
        ]


def topics_from_env() -> Topics:
    return Topics(prefix=os.environ.get("STANCEWATCH_TOPIC_PREFIX", "stancewatch."))
