"""The observation path: decode, detect, enqueue deliveries, publish alert and position, then commit.

A new alert is delivered as ``alert.created``; a corroboration (a new independent source, see
:mod:`services.alerter.semantics`) publishes the updated alert and is delivered as ``alert.corroborated``
to the channels the alert is routed to.

Order matters for at-least-once: delivery tasks first (idempotent ids), then the alert, then the
position. A crash anywhere in between replays the observation: the same alert id is produced,
suppressed if already on the alerts topic, and duplicate delivery tasks are skipped by the worker.
Only the state is committed after everything is acknowledged (ConsumerLoop commits the offset).
A change still within its grace period is published by the tick (:meth:`flush_due`) once it is final.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime

from services.alerter.deliver import immediate_task
from services.alerter.detect import Detection, ShiftDetector
from services.alerter.digest import held_task, release_at
from services.alerter.routing import Routing, channels_for
from services.alerter.state import PositionStore
from shared.bus import Bus, Record
from shared.contracts import AlertEventType, DeliveryTask, PositionChange, StanceObservation, utc_now
from shared.errors import BusError
from shared.observability import Metrics
from shared.topics import Topics

log = logging.getLogger("stancewatch.alerter")


def tasks_for(
    alert: PositionChange, routing: Routing, now: datetime, event: AlertEventType = "alert.created"
) -> list[DeliveryTask]:
    """One task per routed channel: the event now, or the alert held until its digest window / quiet hours
    end (a digest carries each alert once, in its newest version: a held corroboration updates it)."""
    tasks = []
    for name in channels_for(alert, routing):
        release = release_at(routing.channels[name], now)
        if release is None:
            tasks.append(immediate_task(name, alert, now, event))
        else:
            tasks.append(held_task(name, alert, release))
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
        self._corroborations = m.counter(
            "alert_corroborations_total", "Alerts corroborated by a new independent source", ["severity"]
        )
        #: The observation path and the grace tick share the detector: one decision at a time.
        self._lock = asyncio.Lock()
        #: Partitions of ``observations`` this instance holds (None: not told, e.g. the in-memory bus).
        self.owned: set[int] | None = None

    async def __call__(self, rec: Record) -> None:
        obs = rec.decode(StanceObservation)
        async with self._lock:
            # Under the lock: a rebuild applies the memory bound, and must not evict a key mid-decision.
            await self.store.ensure_loaded(rec.partition)
            await self.store.ensure_key(obs.key)
            position = self.detector.positions.get(obs.key)
            if position is not None and position.rejection_of(obs.article_id, obs.stance) is not None:
                self._observations.inc(result="rejected")  # a person rejected it (see feedback)
                return
            detection = self.detector.detect(obs)
            if detection.duplicate:
                self._observations.inc(result="duplicate")
                return
            await self._publish(detection, rec.partition)
        result = "alert" if detection.alerts else "corroboration" if detection.corroborated else "recorded"
        self._observations.inc(result=result)

    async def assigned(self, partitions: set[int]) -> None:
        """A rebalance gave this instance ``partitions``: forget any others, load these now.

        Loaded at once, not on their next observation: a partition taken over from an instance that died
        holds changes still in their grace (on the positions topic, with the time their records arrived),
        and the grace tick can only make final what is loaded. A load the broker fails is retried by the tick.
        """
        async with self._lock:
            self.owned = set(partitions)
            self.store.release(self.store.loaded - self.owned)
            try:
                await self._load_owned()
            except BusError as exc:
                log.warning("loading assigned partitions failed, the grace tick retries: %s", exc)

    async def revoked(self, partitions: set[int]) -> None:
        """Partitions moved away: forget them, between two decisions (never during one)."""
        async with self._lock:
            if self.owned is not None:
                self.owned -= partitions
            self.store.release(partitions)

    async def _load_owned(self) -> None:
        missing = self.owned - self.store.loaded if self.owned is not None else set()
        if missing:
            t0 = time.perf_counter()
            n_pos, n_alerts = await self.store.rebuild(missing)
            seconds = round(time.perf_counter() - t0, 3)
            log.info(
                "partitions loaded: %s (%d positions, %d alerts) in %.2fs",
                sorted(missing),
                n_pos,
                n_alerts,
                seconds,
                extra={"partitions": sorted(missing), "seconds": seconds},
            )

    @property
    def lock(self) -> asyncio.Lock:
        """Held for each decision; corrections (``feedback``) take it too."""
        return self._lock

    async def publish(self, detection: Detection, partition: int) -> None:
        """Publish a decision's outputs and commit it; the caller holds :attr:`lock`."""
        await self._publish(detection, partition)

    async def flush_due(self) -> int:
        """Publish the changes whose grace period has passed since their records arrived; returns alerts sent."""
        sent = 0
        async with self._lock:
            await self._load_owned()
            for detection in self.detector.due():
                partition = self.store.partition_of.get(detection.position.key, 0)
                await self._publish(detection, partition)
                sent += len(detection.alerts)
        return sent

    async def run_grace_flusher(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        """The tick that makes a held change final when no further record for its position arrives."""
        while not stop.is_set():
            try:
                await self.flush_due()
            except BusError:
                log.exception("grace flush failed; will retry")  # nothing applied: the next tick decides again
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    async def _publish(self, detection: Detection, partition: int) -> None:
        for alert in detection.alerts:
            for task in tasks_for(alert, self.routing, self.clock()):
                await self.bus.publish(self.topics.deliveries.name, task, key=task.channel)
                self._routed.inc(channel=task.channel, mode="held" if task.digest else "immediate")
            written = await self.bus.publish(self.topics.alerts.name, alert, key=alert.key, headers={"event": "alert"})
            self.store.alert_published(alert, written)
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
            # A new independent source: the channels the alert went to hear of it (not of a retracted one).
            if alert.status == "active":
                for task in tasks_for(alert, self.routing, self.clock(), event="alert.corroborated"):
                    await self.bus.publish(self.topics.deliveries.name, task, key=task.channel)
                    self._routed.inc(channel=task.channel, mode="held" if task.digest else "immediate")
            written = await self.bus.publish(
                self.topics.alerts.name, alert, key=alert.key, headers={"event": "corroboration"}
            )
            self.store.alert_published(alert, written)
            self._corroborations.inc(severity=alert.severity)
            log.info(
                "corroborated by %d source(s)",
                len(alert.corroborations),
                extra={
                    "alert_id": alert.alert_id,
                    "actor": alert.actor,
                    "topic": alert.topic,
                    "article_id": alert.corroborations[-1].id if alert.corroborations else alert.article_id,
                },
            )
        await self.store.save(detection.position, partition)
        self.detector.apply(detection)
        for alert in [*detection.alerts, *detection.corroborated]:
            self.store.remember(alert)
        self.store.evict()
