"""Topics -> store: one handler for the five topics the desk reads, each record an idempotent upsert."""

from __future__ import annotations

import logging

from services.desk.store import Store
from shared.bus.record import Record
from shared.contracts import DeliveryOutcome, Feedback, Position, PositionChange, StanceObservation
from shared.errors import PoisonMessage
from shared.observability import Metrics
from shared.topics import Topics

log = logging.getLogger("stancewatch.desk")


class Ingest:
    """Decodes a record by its topic and writes it; an undecodable one is poison (dead-lettered, counted)."""

    def __init__(self, store: Store, topics: Topics, metrics: Metrics | None = None) -> None:
        self.store = store
        self.names = {
            topics.positions.name: "positions",
            topics.observations.name: "observations",
            topics.alerts.name: "alerts",
            topics.delivery_outcomes.name: "delivery-outcomes",
            topics.feedback.name: "feedback",
        }
        m = metrics or Metrics()
        self._stored = m.counter("records_stored_total", "Records written to the desk's store", ["topic"])
        self._refused = m.counter(
            "records_refused_total", "Records the desk could not read (dead-lettered)", ["topic", "reason"]
        )

    @property
    def topic_names(self) -> list[str]:
        return list(self.names)

    async def __call__(self, rec: Record) -> None:
        kind = self.names.get(rec.topic)
        if kind is None:
            raise PoisonMessage(f"desk ingest: record from an unexpected topic {rec.topic!r}")
        try:
            await self._apply(kind, rec)
        except PoisonMessage as exc:
            self._refused.inc(topic=kind, reason="undecodable")
            log.warning("desk ingest %s: %s", kind, exc, extra={"source_topic": rec.topic, "offset": rec.offset})
            raise
        self._stored.inc(topic=kind)

    async def _apply(self, kind: str, rec: Record) -> None:
        if kind == "positions":
            if rec.value is None:  # a tombstone on the compacted topic
                await self.store.apply_position(rec.key or "", None, rec.partition, rec.offset)
            else:
                await self.store.apply_position(rec.key or "", rec.decode(Position), rec.partition, rec.offset)
        elif kind == "observations":
            await self.store.apply_observation(rec.decode(StanceObservation), rec.partition, rec.offset)
        elif kind == "alerts":
            await self.store.apply_alert(rec.decode(PositionChange), rec.partition, rec.offset)
        elif kind == "delivery-outcomes":
            await self.store.apply_delivery(rec.decode(DeliveryOutcome))
        else:
            await self.store.apply_feedback(rec.decode(Feedback))
