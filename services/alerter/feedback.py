"""Corrections: a person's verdict on one observation, applied to its position and to the alert it raised.

A rejecting verdict (``wrong-stance``, ``not-holder``, ``not-topic``) takes the observation out of the
position's history for good: the position is recomputed in event time from what is left (the detector's
own replay), written to ``positions``, and the rejection is kept in the position (``rejected``, bounded),
so a redelivered, replayed or not yet arrived copy of the observation never counts either. An alert whose
``after`` is the rejected observation is published again on ``alerts`` with ``status="retracted"`` and a
task ``alert.retracted`` goes to every channel its routing sends it to.

What the recomputed history implies is the position: a rejected reversal makes it revert to the stance
before it. Reverting raises no alert (the change lies in the decided past, which is never alerted late);
the retraction is what tells the channels. An alert whose ``before`` was rejected is not retracted: the
stance it reports the figure moved to is still observed.

:func:`correct` decides (pure); :class:`FeedbackHandler` publishes, in the observation path's order
(delivery tasks, alert, position) and under its lock, then commits the decision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from services.alerter.detect import Detection, ShiftDetector
from services.alerter.handle import ObservationHandler
from services.alerter.routing import Routing, channels_for
from shared.bus import Handler, Record
from shared.contracts import (
    MAX_REJECTED,
    DeliveryTask,
    Feedback,
    HistoryRecord,
    Position,
    PositionChange,
    RejectedObservation,
    Retraction,
)
from shared.observability import Metrics

log = logging.getLogger("stancewatch.alerter.feedback")

#: applied: the observation was taken out (or its alert retracted); unknown: not in the history (a
#: rejection is kept for when it comes); duplicate: already applied; confirmed: a ``correct`` verdict.
FeedbackResult = Literal["applied", "unknown", "duplicate", "confirmed"]
RETRACTED_EVENT = "alert.retracted"


@dataclass(frozen=True)
class Correction:
    """What one feedback does to a position: the position to recompute (None: unchanged) and alerts withdrawn."""

    result: FeedbackResult
    #: The rejection recorded and the rejected records out of its history, not yet recomputed.
    position: Position | None = None
    removed: list[HistoryRecord] = field(default_factory=list)
    retracted: list[PositionChange] = field(default_factory=list)


def rejection_of(fb: Feedback) -> RejectedObservation:
    """A wrong stance rejects that stance; not-holder / not-topic reject whatever stance the article gave."""
    stance = fb.stance if fb.verdict == "wrong-stance" else None
    return RejectedObservation(article_id=fb.article_id, stance=stance, feedback_id=fb.feedback_id, verdict=fb.verdict)


def retracted(alert: PositionChange, fb: Feedback) -> PositionChange:
    """The alert's withdrawn version; dated by the feedback, so a redelivered feedback yields the same record."""
    why = Retraction(feedback_id=fb.feedback_id, verdict=fb.verdict, author=fb.author, note=fb.note, at=fb.created_at)
    return alert.model_copy(update={"status": "retracted", "retraction": why})


def correct(position: Position | None, recent: list[PositionChange], fb: Feedback) -> Correction:
    """Decide what ``fb`` does to ``position`` (None: none yet) and to the key's ``recent`` alerts."""
    if not fb.rejects:
        known = position is not None and any(
            h.article.id == fb.article_id and h.stance == fb.stance for h in position.history
        )
        return Correction("confirmed" if known else "unknown")
    current = position or Position(actor=fb.actor, topic=fb.topic)
    if any(r.feedback_id == fb.feedback_id for r in current.rejected):
        return Correction("duplicate")
    rejection = rejection_of(fb)
    removed = [h for h in current.history if rejection.covers(h.article.id, h.stance)]
    withdrawn = [
        retracted(a, fb)
        for a in recent
        if a.status == "active"
        and a.key == fb.key
        and (a.alert_id == fb.alert_id or rejection.covers(a.after.article.id, a.after.stance))
    ]
    same = any(r.article_id == rejection.article_id and r.stance == rejection.stance for r in current.rejected)
    if not removed and not withdrawn and same:
        return Correction("duplicate")  # another person's verdict on an observation already rejected
    kept = [h for h in current.history if not rejection.covers(h.article.id, h.stance)]
    rejected = [*current.rejected, rejection][-MAX_REJECTED:]
    updated = current.model_copy(update={"history": kept, "rejected": rejected})
    result: FeedbackResult = "applied" if removed or withdrawn else "unknown"
    return Correction(result, updated, removed, withdrawn)


@dataclass(frozen=True)
class Plan:
    """A feedback's whole decision: the correction and the recomputed position (None: nothing to write)."""

    correction: Correction
    detection: Detection | None = None


def plan(detector: ShiftDetector, fb: Feedback) -> Plan:
    """Decide what ``fb`` does, changing nothing (:func:`commit` applies it once it is published)."""
    correction = correct(detector.positions.get(fb.key), detector.recent_alerts.get(fb.key, []), fb)
    position = correction.position
    if position is None:
        return Plan(correction)
    if not correction.removed:
        return Plan(correction, Detection(position=position))  # only the rejection to remember
    withdrawn = frozenset(a.alert_id for a in correction.retracted)
    return Plan(correction, detector.recompute(position, position.history, withdrawn=withdrawn))


def commit(detector: ShiftDetector, decided: Plan) -> None:
    """Apply a plan to the detector (the service does the same, step by step, as each output is acknowledged)."""
    for alert in decided.correction.retracted:
        detector.load_alert(alert)
    if decided.detection is not None:
        detector.apply(decided.detection)


def retraction_task(channel: str, alert: PositionChange, now: datetime) -> DeliveryTask:
    """Sent at once (digest and quiet hours alike): a withdrawn alert should not wait to be withdrawn."""
    return DeliveryTask(
        delivery_id=f"{alert.alert_id}:{channel}:retracted",
        channel=channel,
        alerts=[alert],
        event=RETRACTED_EVENT,
        first_due=now,
    )


class FeedbackHandler:
    """The ``feedback`` input of the observation loop: same partitions, same lock, same outputs."""

    def __init__(self, observations: ObservationHandler, routing: Routing, *, metrics: Metrics | None = None) -> None:
        self.observations = observations
        self.detector = observations.detector
        self.store = observations.store
        self.bus = observations.bus
        self.topics = observations.topics
        self.routing = routing
        m = metrics or Metrics()
        self._received = m.counter("feedback_received_total", "Corrections received by verdict", ["verdict"])
        self._results = m.counter(
            "feedback_results_total",
            "Corrections by verdict and result (applied, unknown target, duplicate, confirmed)",
            ["verdict", "result"],
        )
        self._retracted = m.counter("alerts_retracted_total", "Alerts withdrawn by a correction", ["severity"])
        self._routed = m.counter("retractions_routed_total", "alert.retracted tasks queued", ["channel"])

    async def __call__(self, rec: Record) -> None:
        fb = rec.decode(Feedback)
        self._received.inc(verdict=fb.verdict)
        async with self.observations.lock:
            await self.store.ensure_loaded(rec.partition)
            await self.store.ensure_key(fb.key)
            decided = plan(self.detector, fb)
            await self._publish(decided, fb, rec.partition)
        correction = decided.correction
        self._results.inc(verdict=fb.verdict, result=correction.result)
        extra = {"actor": fb.actor, "topic": fb.topic, "article_id": fb.article_id, "feedback_id": fb.feedback_id}
        if correction.result == "unknown":
            what = "kept until it arrives" if fb.rejects else "nothing to confirm"
            log.info("feedback %s on an observation not in the history: %s", fb.verdict, what, extra=extra)
        else:
            log.info("feedback %s: %s", fb.verdict, correction.result, extra=extra)

    async def _publish(self, decided: Plan, fb: Feedback, partition: int) -> None:
        correction = decided.correction
        extra = {"actor": fb.actor, "topic": fb.topic, "article_id": fb.article_id}
        now = self.observations.clock()
        for alert in correction.retracted:
            for name in channels_for(alert, self.routing):
                task = retraction_task(name, alert, now)
                await self.bus.publish(self.topics.deliveries.name, task, key=task.channel)
                self._routed.inc(channel=name)
            written = await self.bus.publish(
                self.topics.alerts.name, alert, key=alert.key, headers={"event": "retraction"}
            )
            # Done on Kafka: from here a retry of this feedback must not find the alert active again.
            self.detector.load_alert(alert)
            self.store.alert_published(alert, written)
            self.store.remember(alert)
            self._retracted.inc(severity=alert.severity)
            log.info(
                "alert retracted (%s)",
                fb.verdict,
                extra={"alert_id": alert.alert_id, **extra},
            )
        if decided.detection is not None:
            await self.observations.publish(decided.detection, partition)


def by_topic(handlers: dict[str, Handler]) -> Handler:
    """One loop, several co-partitioned inputs: each record goes to its topic's handler."""

    async def handle(rec: Record) -> None:
        await handlers[rec.topic](rec)

    return handle
