"""Shift detection: the pure decision over one figure's position on one topic (no I/O, time injected).

Semantics (the evaluation README's):

* "Established" is the figure's most recent confident support/oppose observation; one establishes it,
  ``undecided`` in between never resets it.
* A confident support/oppose observation that differs from the established stance is a full
  reversal (``cross-article``). With no established stance yet, an article that itself reports a
  past stance different from the current one raises an ``in-article`` alert on its own.
* Moving into ``undecided`` (softening) or out of it (hardening) is a ``shift``: lower severity.
* Observations below ``min_confidence`` are kept in the history but never move the position.
* The same shift (actor, topic, from, to) reported again within ``corroboration_window`` is attached
  to the first alert as a corroboration; so is any later report of the new stance in that window.
* Precision first: a reversal whose observation is less probable than ``instant_confidence`` is held as
  the position's ``provisional`` change, not alerted; a second report of it from another source within
  ``confirm_window`` confirms it and raises the alert (the first report's article, the second as a
  corroboration). A report of the established stance drops what was held. ``instant_confidence=None``
  (the class default; the services use ``DEFAULT_INSTANT_CONFIDENCE``) alerts every confident reversal at once.
* Alerts are keyed by :func:`alert_id_for`; an id already emitted is never emitted again, so a
  replayed or redelivered observation cannot notify twice.

:meth:`ShiftDetector.detect` decides without changing anything; :meth:`ShiftDetector.apply` commits
the decision once the service has published its outputs, so a failed publish can simply be retried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.contracts import (
    AlertKind,
    ArticleRef,
    ObservationRecord,
    Position,
    PositionChange,
    Severity,
    Stance,
    StanceObservation,
    alert_id_for,
    utc_now,
)

POLAR: frozenset[str] = frozenset({"support", "oppose"})
DEFAULT_MIN_CONFIDENCE = 0.5
DEFAULT_CORROBORATION_WINDOW = timedelta(hours=48)
DEFAULT_HISTORY_LIMIT = 20
#: Reversals at or above this probability alert at once; chosen on the development sets (README, "Evaluation").
DEFAULT_INSTANT_CONFIDENCE = 0.8
DEFAULT_CONFIRM_WINDOW = timedelta(hours=48)
#: Recent alerts kept per (figure, topic) for corroboration; older ones are outside any sane window.
RECENT_ALERTS_PER_KEY = 8


def severity_of(from_stance: str, to_stance: str) -> Severity:
    """Flip-o-meter: support <-> oppose is a reversal; anything to or from undecided is a shift."""
    return "reversal" if from_stance in POLAR and to_stance in POLAR else "shift"


def record_of(obs: StanceObservation) -> ObservationRecord:
    return ObservationRecord(
        stance=obs.stance,
        confidence=obs.confidence,
        evidence=obs.evidence,
        article=obs.article,
        observed_at=obs.article.published,
    )


def past_record_of(obs: StanceObservation) -> ObservationRecord:
    """The earlier stance an article reports, cited as the 'before' of an in-article alert."""
    assert obs.past is not None
    return ObservationRecord(
        stance=obs.past.stance,
        confidence=obs.confidence,
        evidence=obs.past.evidence,
        article=obs.article,
        observed_at=obs.article.published,
    )


@dataclass(frozen=True)
class Detection:
    """What one observation does: the position after it, new alerts, and alerts it corroborates."""

    position: Position
    alerts: list[PositionChange] = field(default_factory=list)
    corroborated: list[PositionChange] = field(default_factory=list)
    #: The observation was already in the history (a redelivery): nothing to publish.
    duplicate: bool = False


@dataclass(frozen=True)
class _Candidate:
    from_stance: Stance
    to_stance: Stance
    kind: AlertKind
    before: ObservationRecord


class ShiftDetector:
    """Positions and recent alerts per ``actor:topic``; deterministic for a given observation order."""

    def __init__(
        self,
        *,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        corroboration_window: timedelta = DEFAULT_CORROBORATION_WINDOW,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
        instant_confidence: float | None = None,
        confirm_window: timedelta = DEFAULT_CONFIRM_WINDOW,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.min_confidence = min_confidence
        self.instant_confidence = instant_confidence
        self.confirm_window = confirm_window
        self.corroboration_window = corroboration_window
        self.history_limit = max(2, history_limit)
        self.clock = clock
        self.positions: dict[str, Position] = {}
        self.recent_alerts: dict[str, list[PositionChange]] = {}
        self.sent_ids: set[str] = set()

    # --- state rebuilt from the compacted positions topic and the alerts topic -----------------

    def load_position(self, position: Position) -> None:
        self.positions[position.key] = position

    def load_alert(self, alert: PositionChange) -> None:
        """Remember an alert already published (at start-up, from the alerts topic)."""
        self.sent_ids.add(alert.alert_id)
        recent = self.recent_alerts.setdefault(alert.key, [])
        for i, known in enumerate(recent):
            if known.alert_id == alert.alert_id:
                recent[i] = alert  # an update (new corroboration) keeps the alert's place
                return
        recent.append(alert)
        del recent[:-RECENT_ALERTS_PER_KEY]

    def forget(self, keys: set[str]) -> None:
        """Drop state for keys this instance no longer owns (their partition moved elsewhere)."""
        for key in keys:
            self.positions.pop(key, None)
            self.recent_alerts.pop(key, None)

    # --- decisions ------------------------------------------------------------------------------

    def observe(self, obs: StanceObservation) -> list[PositionChange]:
        """Decide and commit at once (replay); returns the alerts to notify, in order."""
        detection = self.detect(obs)
        self.apply(detection)
        return detection.alerts

    def detect(self, obs: StanceObservation) -> Detection:
        """Decide what ``obs`` does to its position without changing any state."""
        key = obs.key
        now = self.clock()
        current = self.positions.get(key) or Position(actor=obs.actor, topic=obs.topic)
        if any(h.article.id == obs.article_id and h.stance == obs.stance for h in current.history):
            return Detection(position=current, duplicate=True)

        record = record_of(obs)
        # Shallow copies only: records are never mutated, so histories can share them.
        if obs.confidence < self.min_confidence:
            history = self._trimmed([*current.history, record], current.established)
            return Detection(position=current.model_copy(update={"history": history, "updated_at": now}))

        candidate = self._candidate(current, obs)
        confirmed: ObservationRecord | None = None
        if candidate is not None and self._holds(candidate):
            confirmed = self._confirms(current.provisional, obs)
            if confirmed is None and obs.confidence < (self.instant_confidence or 0.0):
                # the first report of a reversal we are not sure of: hold it
                history = self._trimmed([*current.history, record], current.established)
                return Detection(
                    position=current.model_copy(update={"history": history, "updated_at": now, "provisional": record})
                )
        update: dict[str, object] = {"latest": obs.stance, "updated_at": now, "provisional": None}
        established = current.established
        if obs.stance in POLAR and current.established != obs.stance:
            established = obs.stance
            since = (confirmed or record).observed_at
            update |= {"established": established, "established_since": since}
            update["last_change"] = since
        elif candidate is not None:
            update["last_change"] = record.observed_at
        update["history"] = self._trimmed([*current.history, record], established)
        position = current.model_copy(update=update)
        if confirmed is not None and candidate is not None:
            alert = self._confirmed_alert(current, candidate, confirmed, obs, now)
            return Detection(position=position, alerts=[alert] if alert.alert_id not in self.sent_ids else [])

        alerts: list[PositionChange] = []
        corroborated: list[PositionChange] = []
        if candidate is not None:
            earlier = self._recent_match(
                key, obs, lambda a: a.from_stance == candidate.from_stance and a.to_stance == candidate.to_stance
            )
            if earlier is not None:
                corroborated += _with_corroboration(earlier, obs.article)
            else:
                alert = self._alert(obs, candidate, record, now)
                if alert.alert_id not in self.sent_ids:
                    alerts.append(alert)
        else:
            earlier = self._recent_match(key, obs, lambda a: a.to_stance == obs.stance)
            if earlier is not None:
                corroborated += _with_corroboration(earlier, obs.article)
        return Detection(position=position, alerts=alerts, corroborated=corroborated)

    def apply(self, detection: Detection) -> None:
        """Commit a decision (after its outputs were published)."""
        if detection.duplicate:
            return
        self.positions[detection.position.key] = detection.position
        for alert in [*detection.alerts, *detection.corroborated]:
            self.load_alert(alert)

    # --- internals ------------------------------------------------------------------------------

    def _holds(self, c: _Candidate) -> bool:
        """The policy applies to cross-article reversals (support <-> oppose) when a threshold is set."""
        return (
            self.instant_confidence is not None
            and c.kind == "cross-article"
            and c.from_stance in POLAR
            and c.to_stance in POLAR
        )

    def _confirms(self, held: ObservationRecord | None, obs: StanceObservation) -> ObservationRecord | None:
        """The held record when ``obs`` is an independent second report of it within the window."""
        if held is None or held.stance != obs.stance or held.article.id == obs.article_id:
            return None
        if held.article.source and held.article.source == obs.article.source:
            return None  # the same outlet again is not a second source
        if abs(obs.article.published - held.observed_at) > self.confirm_window:
            return None
        return held

    def _confirmed_alert(
        self, pos: Position, c: _Candidate, held: ObservationRecord, obs: StanceObservation, now: datetime
    ) -> PositionChange:
        """The alert a confirmed change raises: dated and keyed by its first report, the second attached."""
        first = obs.model_copy(update={"article_id": held.article.id, "article": held.article})
        alert = self._alert(first, c, held, now)
        return alert.model_copy(update={"corroborations": [obs.article]})

    def _candidate(self, pos: Position, obs: StanceObservation) -> _Candidate | None:
        established, latest = pos.established, pos.latest
        reported_reversal = obs.past is not None and obs.past.stance != obs.stance
        if obs.stance in POLAR:
            if established is not None and established != obs.stance:
                return _Candidate(established, obs.stance, "cross-article", self._established_record(pos))
            if established is None and reported_reversal:
                return _Candidate(obs.past.stance, obs.stance, "in-article", past_record_of(obs))  # type: ignore[union-attr]
            if latest == "undecided":
                return _Candidate("undecided", obs.stance, "cross-article", self._latest_record(pos))
            return None
        # obs.stance == "undecided": a softening, from the established stance if the figure had one.
        if latest in POLAR:
            return _Candidate(latest, "undecided", "cross-article", self._established_record(pos))  # type: ignore[arg-type]
        if established is None and reported_reversal and obs.past.stance in POLAR:  # type: ignore[union-attr]
            return _Candidate(obs.past.stance, "undecided", "in-article", past_record_of(obs))  # type: ignore[union-attr]
        return None

    def _established_record(self, pos: Position) -> ObservationRecord:
        for rec in reversed(pos.history):
            if rec.stance == pos.established and rec.confidence >= self.min_confidence:
                return rec
        for rec in reversed(pos.history):
            if rec.stance == pos.established:
                return rec
        # History lost (should not happen: trimming keeps it); cite the stance without evidence.
        since = pos.established_since or self.clock()
        return ObservationRecord(
            stance=pos.established or "undecided",
            confidence=0.0,
            article=ArticleRef(id="unknown", published=since),
            observed_at=since,
        )

    def _latest_record(self, pos: Position) -> ObservationRecord:
        for rec in reversed(pos.history):
            if rec.stance == pos.latest and rec.confidence >= self.min_confidence:
                return rec
        return self._established_record(pos)

    def _trimmed(self, history: list[ObservationRecord], established: Stance | None) -> list[ObservationRecord]:
        """Bound the history, but always keep the record behind the established stance."""
        if len(history) <= self.history_limit:
            return history
        tail = history[-(self.history_limit - 1) :]
        if established is None or any(r.stance == established and r.confidence >= self.min_confidence for r in tail):
            return history[-self.history_limit :]
        head = history[: -(self.history_limit - 1)]
        keep = next(
            (r for r in reversed(head) if r.stance == established and r.confidence >= self.min_confidence),
            head[-1],
        )
        return [keep, *tail]

    def _recent_match(
        self, key: str, obs: StanceObservation, matches: Callable[[PositionChange], bool]
    ) -> PositionChange | None:
        when = obs.article.published
        for alert in reversed(self.recent_alerts.get(key, [])):
            if alert.article_id == obs.article_id:
                continue
            if abs(when - alert.after.observed_at) <= self.corroboration_window and matches(alert):
                return alert
        return None

    def _alert(self, obs: StanceObservation, c: _Candidate, after: ObservationRecord, now: datetime) -> PositionChange:
        return PositionChange(
            alert_id=alert_id_for(obs.actor, obs.topic, c.from_stance, c.to_stance, obs.article_id),
            actor=obs.actor,
            topic=obs.topic,
            from_stance=c.from_stance,
            to_stance=c.to_stance,
            severity=severity_of(c.from_stance, c.to_stance),
            kind=c.kind,
            article_id=obs.article_id,
            before=c.before,
            after=after,
            extractor=obs.extractor,
            created_at=now,
            actor_name=obs.actor_name,
            topic_label=obs.topic_label,
        )


def _with_corroboration(alert: PositionChange, article: ArticleRef) -> list[PositionChange]:
    """The alert with ``article`` attached, or nothing when it is attached already."""
    if any(ref.id == article.id for ref in alert.corroborations):
        return []
    return [alert.model_copy(update={"corroborations": [*alert.corroborations, article]})]
