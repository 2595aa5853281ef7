"""The observation path: decode, detect, enqueue deliveries, publish alert and position, then commit.

Order matters for at-least-once: delivery tasks first (idempotent ids), then the alert, then the
position. A crash anywhere in between replays the observation: the same alert id is produced,
suppressed if already on the alerts topic, and duplicate delivery tasks are skipped by the worker.
Only the state is committed after everything is acknowledged (ConsumerLoop commits the offset).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from services.alerter.deliver import immediate_task
from services.alerter.detect import ShiftDetector
from services.alerter.digest import held_task, release_at
from services.alerter.routing import Routing, channels_for
from services.alerter.state import PositionStore
from shared.bus import Bus, Record
from shared.contracts import DeliveryTask, PositionChange, StanceObservation, utc_now
from shared.observability import Metrics
from shared.topics import Topics

log = logging.getLogger("stancewatch.alerter")


def tasks_for(alert: PositionChange, routing: Routing, now: datetime) -> list[DeliveryTask]:
    """One task per routed channel: immediate, or held until its digest window / quiet hours end."""
    tasks = []
    for name in channels_for(alert, routing):
        release = release_at(routing.channels[name], now)
        tasks.append(immediate_task(name, alert, now) if release is None else held_task(name, alert, release))
    return tasks


class ObservationHandler:
    def __init__(
        self,
        bus: Bus,
        topics: Topics,
        detector: ShiftDetector,
        store: PositionStore,
        routing: Routing,
        *,
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.bus = bus
        self.topics = topics
        self.detector = detector
        self.store = store
        self.routing = routing
        self.clock = clock
        m = metrics or Metrics()
        self._observations = m.counter("observations_total", "Observations handled by result", ["result"])
        self._alerts = m.counter("alerts_total", "Alerts raised", ["severity", "kind"])
        self._routed = m.counter("alerts_routed_total", "Delivery tasks queued", ["channel", "mode"])

    async def __call__(self, rec: Record) -> None:
        obs = rec.decode(StanceObservation)
        await self.store.ensure_loaded(rec.partition)
        detection = self.detector.detect(obs)
        if detection.duplicate:
            self._observations.inc(result="duplicate")
            return
        for alert in detection.alerts:
            for task in tasks_for(alert, self.routing, self.clock()):
                await self.bus.publish(self.topics.deliveries.name, task, key=task.channel)
                self._routed.inc(channel=task.channel, mode="held" if task.digest else "immediate")
            await self.bus.publish(self.topics.alerts.name, alert, key=alert.key, headers={"event": "alert"})
            self._alerts.inc(severity=alert.severity, kind=alert.kind)
            log.info(
                "shift %s -> %s",
                alert.from_stance,
                alert.to_stance,
                extra={
                    "alert_id": alert.alert_id,
                    "actor": alert.actor,
                    "topic": alert.topic,
                    "article_id": alert.article_id,
                },
            )
        for alert in detection.corroborated:
            await self.bus.publish(self.topics.alerts.name, alert, key=alert.key, headers={"event": "corroboration"})
        await self.store.save(detection.position, rec.partition)
        self.detector.apply(detection)
        for alert in [*detection.alerts, *detection.corroborated]:
            self.store.remember(alert)
        result = "alert" if detection.alerts else "corroboration" if detection.corroborated else "recorded"
        self._observations.inc(result=result)
