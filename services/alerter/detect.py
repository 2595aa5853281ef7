"""Shift detection: the pure decision over one figure's position on one topic (no I/O, time injected).

Semantics (the evaluation README's):

* "Established" is the figure's most recent confident support/oppose observation; one establishes it,
  ``undecided`` in between never resets it.
* A confident support/oppose observation that differs from the established stance is a full
  reversal (``cross-article``). With no established stance yet, an article that itself reports a
  past stance different from the current one raises an ``in-article`` alert on its own.
* Moving into ``undecided`` (softening) or out of it (hardening) is a ``shift``: lower severity.
* Observations below ``min_confidence`` are kept in the history but never move the position.
* Every change of the position alerts, whatever the window; a corroboration is only the same change
  reported again by another independent source while the position has not moved since, within
  ``corroboration_window`` (:mod:`services.alerter.semantics`, :func:`~services.alerter.semantics.classify`).
* Precision first: a reversal whose observation is less probable than ``instant_confidence`` is held as
  the position's ``provisional`` change, not alerted; a second report of it from another source within
  ``confirm_window`` confirms it and raises the alert (the first report's article, the second as a
  corroboration). A report of the established stance drops what was held. ``instant_confidence=None``
  (the class default; the services use ``DEFAULT_INSTANT_CONFIDENCE``) alerts every confident reversal at once.
* Alerts are keyed by :func:`alert_id_for`; an id already emitted is never emitted again, so a
  replayed or redelivered observation cannot notify twice.

* Event time: :class:`ShiftDetector` keeps each history in publication order (ties by article id) and
  replays it through these rules, so the result does not depend on arrival order. A change is final
  ``grace`` after the last record at or before it arrived (:meth:`ShiftDetector.due`); a change the
  history implies in the already decided past is never alerted late (records later than the grace
  correct the history, and corroborate alerts sent for the stance they report). Nothing is retracted.

:meth:`ShiftDetector.detect` decides without changing anything; :meth:`ShiftDetector.apply` commits
the decision once the service has published its outputs, so a failed publish can simply be retried.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from services.alerter.semantics import (
    Change,
    Corroborates,
    LastChange,
    NewAlert,
    Report,
    Seen,
    classify,
    not_independent,
)
from shared.contracts import (
    AlertKind,
    ArticleRef,
    EventKey,
    ExtractorInfo,
    HistoryRecord,
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


#: A history record of either detector (the event-time one keeps more per record).
R = TypeVar("R", bound=ObservationRecord)


class _PerKeyState:
    """What both detectors hold per ``actor:topic`` (positions, recent alerts, ids sent) and its upkeep."""

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
        if alert.status == "retracted":
            # Withdrawn: never sent again (its id stays known), and nothing later corroborates it.
            recent[:] = [a for a in recent if a.alert_id != alert.alert_id]
            return
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

    def _trimmed(self, history: list[R], established: Stance | None) -> list[R]:
        """Bound the history (oldest first out), but always keep the record behind the established stance."""
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

    def detect(self, obs: StanceObservation) -> Detection:
        raise NotImplementedError

    def apply(self, detection: Detection) -> None:
        raise NotImplementedError


class _ArrivalOrderDetector(_PerKeyState):
    """The decision over observations taken in the order given: :class:`ShiftDetector` feeds it event time."""

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

        recent = self.recent_alerts.get(key, [])
        last = recent[-1] if recent else None  # the position's latest change: alerts are kept in event order
        seen = Seen(
            stance=obs.stance,
            change=Change(candidate.from_stance, candidate.to_stance) if candidate is not None else None,
            report=Report.of(obs.article, obs.evidence),
            at=obs.article.published,
        )
        verdict = classify(
            last_change_of(last, current.history) if last is not None else None,
            seen,
            window=self.corroboration_window,
        )
        if isinstance(verdict, NewAlert):
            assert candidate is not None
            alert = self._alert(obs, candidate, record, now)
            alerts = [alert] if alert.alert_id not in self.sent_ids else []
            return Detection(position=position, alerts=alerts)
        if isinstance(verdict, Corroborates):
            assert last is not None
            return Detection(position=position, corroborated=_with_corroboration(last, obs.article))
        return Detection(position=position)

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


def counted_reports(alert: PositionChange, history: Sequence[ObservationRecord]) -> tuple[Report, ...]:
    """The reports an alert already counts (the one that raised it, then its corroborations), with their
    sentences where the history still holds them: a new source must differ from each of them."""
    texts = {r.article.id: r.evidence for r in history}
    return (
        Report.of(alert.after.article, alert.after.evidence),
        *(Report.of(ref, texts.get(ref.id, ())) for ref in alert.corroborations),
    )


def last_change_of(alert: PositionChange, history: Sequence[ObservationRecord]) -> LastChange:
    return LastChange(
        alert_id=alert.alert_id,
        change=Change(alert.from_stance, alert.to_stance),
        at=alert.after.observed_at,
        reports=counted_reports(alert, history),
    )


def _with_corroboration(alert: PositionChange, article: ArticleRef) -> list[PositionChange]:
    """The alert with ``article`` attached, or nothing when it is attached already."""
    if any(ref.id == article.id for ref in alert.corroborations):
        return []
    return [alert.model_copy(update={"corroborations": [*alert.corroborations, article]})]


#: Records a little late are folded in before a change is final. 30 s covers what reorders records within
#: seconds: a backlog drained from several partitions after a broker outage (with no grace, 6 of 16 shifts of
#: the outage fault test were lost), enricher instances lagging one another, a killed enricher restarting
#: (start-up ~4 s, the group's 10 s session timeout). It costs 30 s of latency per alert; ``0`` decides each
#: record as it arrives. A backfill is hours late: no grace covers it, those records correct the history.
DEFAULT_ALERT_GRACE = timedelta(seconds=30)

_UNKNOWN_EXTRACTOR = ExtractorInfo(version="unknown", config_hash="unknown")


def event_key(rec: ObservationRecord) -> tuple[datetime, str, str]:
    """Event-time order: the article's publication time; article id, then stance, break ties."""
    return (rec.observed_at, rec.article.id, rec.stance)


def _key_model(key: tuple[datetime, str, str]) -> EventKey:
    return EventKey(published=key[0], article_id=key[1], stance=key[2])  # type: ignore[arg-type]


def _key_of(model: EventKey | None) -> tuple[datetime, str, str] | None:
    return None if model is None else (model.published, model.article_id, model.stance)


def history_record_of(obs: StanceObservation, received_at: datetime | None, *, settled: bool) -> HistoryRecord:
    return HistoryRecord(
        stance=obs.stance,
        confidence=obs.confidence,
        evidence=obs.evidence,
        article=obs.article,
        observed_at=obs.article.published,
        past=obs.past,
        extractor=obs.extractor,
        actor_name=obs.actor_name,
        topic_label=obs.topic_label,
        received_at=received_at,
        settled=settled,
    )


def _observation_of(pos: Position, rec: HistoryRecord) -> StanceObservation:
    """The observation a history record came from (validated when it was first received)."""
    return StanceObservation.model_construct(
        article_id=rec.article.id,
        actor=pos.actor,
        topic=pos.topic,
        stance=rec.stance,
        confidence=rec.confidence,
        evidence=rec.evidence,
        past=rec.past,
        article=rec.article,
        extractor=rec.extractor or _UNKNOWN_EXTRACTOR,
        actor_name=rec.actor_name,
        topic_label=rec.topic_label,
    )


@dataclass(frozen=True)
class _Fold:
    """What the history means in event order: the position's stance and every change it implies."""

    position: Position
    #: Each implied change (final version, corroborations attached) and the record that decides it.
    changes: list[tuple[PositionChange, tuple[datetime, str, str]]]
    #: Alerts sent before the history's window, as the history now corroborates them.
    earlier: list[PositionChange]


class ShiftDetector(_PerKeyState):
    """Positions and recent alerts per ``actor:topic``, as a function of the observations in event time.

    Each observation is inserted at its place in the (bounded) history, which is then replayed in event
    order through the arrival-order decision; the changes it implies are final ``grace`` after the last
    record at or before them arrived. A change the history implies at or before ``decided_through`` that was
    not alerted then is never alerted late: records later than the grace correct the history (and
    corroborate alerts already sent); they raise nothing themselves. No retraction is sent.
    """

    def __init__(
        self,
        *,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        corroboration_window: timedelta = DEFAULT_CORROBORATION_WINDOW,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
        instant_confidence: float | None = None,
        confirm_window: timedelta = DEFAULT_CONFIRM_WINDOW,
        grace: timedelta = timedelta(0),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(
            min_confidence=min_confidence,
            corroboration_window=corroboration_window,
            history_limit=history_limit,
            instant_confidence=instant_confidence,
            confirm_window=confirm_window,
            clock=clock,
        )
        self.grace = grace

    def load_position(self, position: Position) -> None:
        if position.decided_through is None and position.history and all(r.settled for r in position.history):
            # Written before event time: everything it holds was decided in arrival order already.
            last = max(position.history, key=event_key)
            position = position.model_copy(update={"decided_through": _key_model(event_key(last))})
        self.positions[position.key] = position

    def detect(self, obs: StanceObservation) -> Detection:
        """Decide what ``obs`` does to its position without changing any state."""
        now = self.clock()
        current = self.positions.get(obs.key) or Position(actor=obs.actor, topic=obs.topic)
        if any(h.article.id == obs.article_id and h.stance == obs.stance for h in current.history):
            return Detection(position=current, duplicate=True)
        record = history_record_of(obs, now, settled=False)
        history = sorted([*current.history, record], key=event_key)
        return self._decide(current, history, lambda r: r.received_at is None or r.received_at + self.grace <= now)

    def due(self) -> list[Detection]:
        """Positions whose grace has passed with changes still undecided (the service's tick)."""
        now = self.clock()

        def settled(r: HistoryRecord) -> bool:
            return r.received_at is None or r.received_at + self.grace <= now

        return [
            self._decide(pos, pos.history, settled)
            for pos in list(self.positions.values())
            if any(not r.settled and settled(r) for r in pos.history)
        ]

    def settle(self) -> list[PositionChange]:
        """Decide everything still in its grace period at once (a replay's end); returns the alerts."""
        alerts: list[PositionChange] = []
        for pos in list(self.positions.values()):
            if any(not r.settled for r in pos.history):
                detection = self._decide(pos, pos.history, lambda r: True)
                self.apply(detection)
                alerts += detection.alerts
        return alerts

    def apply(self, detection: Detection) -> None:
        """Commit a decision (after its outputs were published)."""
        if detection.duplicate:
            return
        self.positions[detection.position.key] = detection.position
        for alert in [*detection.alerts, *detection.corroborated]:
            self.load_alert(alert)

    def recompute(
        self, current: Position, history: list[HistoryRecord], *, withdrawn: frozenset[str] = frozenset()
    ) -> Detection:
        """The position ``history`` implies in event time (a correction took records out), as :meth:`detect`.

        Changes it implies in the decided past are not alerted (the frontier stays), so a position that
        reverts after a rejection raises nothing for reverting; records still in their grace keep it.
        Alerts in ``withdrawn`` (retracted) are left out of the recent alerts nothing may corroborate.
        """
        now = self.clock()
        # From nothing: what the history implies, not what the records taken out had established.
        derived = ("established", "established_since", "latest", "last_change", "provisional")
        fresh = current.model_copy(update=dict.fromkeys(derived))
        recent = self.recent_alerts.get(current.key)
        if recent is not None:
            self.recent_alerts[current.key] = [a for a in recent if a.alert_id not in withdrawn]
        try:
            return self._decide(
                fresh,
                sorted(history, key=event_key),
                lambda r: r.received_at is None or r.received_at + self.grace <= now,
            )
        finally:
            if recent is not None:
                self.recent_alerts[current.key] = recent  # deciding changes nothing

    # --- internals ------------------------------------------------------------------------------

    def _decide(
        self, current: Position, history: list[HistoryRecord], settled: Callable[[HistoryRecord], bool]
    ) -> Detection:
        """Replay ``history`` in event time; alert the changes no record still in its grace could alter."""
        now = self.clock()
        key = current.key
        fold = self._fold(current, history)
        pending = [event_key(r) for r in history if not settled(r)]
        cut = min(pending) if pending else None  # nothing at or after it is final yet
        frontier = _key_of(current.decided_through)
        keys = {r.article.id: event_key(r) for r in history}

        def final(k: tuple[datetime, str, str] | None) -> bool:
            return k is not None and (cut is None or k < cut)

        alerts: list[PositionChange] = []
        updates: dict[str, PositionChange] = {}
        known = {a.alert_id: a for a in self.recent_alerts.get(key, [])}
        for change, decided_by in fold.changes:
            if not final(decided_by):
                continue
            if change.alert_id in self.sent_ids or change.alert_id in known:
                sent = known.get(change.alert_id)
                if sent is not None:
                    refs = [c for c in change.corroborations if final(keys.get(c.id))]
                    updates |= {a.alert_id: a for a in _with_corroborations(sent, refs, history)}
                continue
            if frontier is not None and decided_by <= frontier:
                continue  # a correction of decided history: never alerted late
            alerts.append(change)
        for earlier in fold.earlier:
            sent = known.get(earlier.alert_id)
            if sent is not None:
                refs = [c for c in earlier.corroborations if final(keys.get(c.id))]
                base = updates.get(sent.alert_id, sent)
                updates |= {a.alert_id: a for a in _with_corroborations(base, refs, history)}
        # Records later than the grace, settling now before the frontier: they corroborate what was sent.
        newly = [r for r in history if not r.settled and settled(r)]
        for rec in newly:
            if frontier is None or event_key(rec) > frontier or rec.confidence < self.min_confidence:
                continue
            match = self._sent_match(key, rec, history)
            if match is not None:
                base = updates.get(match.alert_id, match)
                updates |= {a.alert_id: a for a in _with_corroborations(base, [rec.article], history)}
        decided = [event_key(r) for r in history if final(event_key(r))]
        if decided:
            frontier = max(decided) if frontier is None else max(frontier, max(decided))
        kept = [r if r.settled or not settled(r) else r.model_copy(update={"settled": True}) for r in history]
        position = fold.position.model_copy(
            update={
                "history": self._trimmed(kept, fold.position.established),
                "updated_at": now,
                "decided_through": _key_model(frontier) if frontier is not None else None,
            }
        )
        return Detection(position=position, alerts=alerts, corroborated=list(updates.values()))

    def _fold(self, current: Position, history: list[HistoryRecord]) -> _Fold:
        """The arrival-order decision over the history in event order, from nothing."""
        step = _ArrivalOrderDetector(
            min_confidence=self.min_confidence,
            corroboration_window=self.corroboration_window,
            history_limit=len(history) + 2,
            instant_confidence=self.instant_confidence,
            confirm_window=self.confirm_window,
            clock=self.clock,
        )
        start = history[0].observed_at if history else None
        earlier = [a for a in self.recent_alerts.get(current.key, []) if start is None or a.after.observed_at < start]
        for alert in earlier:
            step.load_alert(alert)
        latest: dict[str, PositionChange] = {}
        changes: list[tuple[str, tuple[datetime, str, str]]] = []
        for rec in history:
            detection = step.detect(_observation_of(current, rec))
            step.apply(detection)
            changes += [(a.alert_id, event_key(rec)) for a in detection.alerts]
            latest |= {a.alert_id: a for a in [*detection.alerts, *detection.corroborated]}
        position = step.positions.get(current.key) or current
        return _Fold(
            position=current.model_copy(
                update={
                    f: getattr(position, f)
                    for f in ("established", "established_since", "latest", "last_change", "provisional")
                }
            ),
            changes=[(latest[i], k) for i, k in changes],
            earlier=[latest[a.alert_id] for a in earlier if a.alert_id in latest],
        )

    def _sent_match(self, key: str, rec: HistoryRecord, history: Sequence[HistoryRecord]) -> PositionChange | None:
        """The sent alert a late record corroborates: the change in effect when it was said (or, said just
        before the change's own report, the next one), if that change was to the stance it reports."""
        sent = sorted(self.recent_alerts.get(key, []), key=lambda a: a.after.observed_at)
        before = [a for a in sent if a.after.observed_at <= rec.observed_at]
        after = [a for a in sent if a.after.observed_at > rec.observed_at]
        for alert in before[-1:] + after[:1]:
            if alert.to_stance != rec.stance:
                continue
            seen = Seen(stance=rec.stance, change=None, report=Report.of(rec.article, rec.evidence), at=rec.observed_at)
            verdict = classify(last_change_of(alert, history), seen, window=self.corroboration_window)
            return alert if isinstance(verdict, Corroborates) else None
        return None


def _with_corroborations(
    alert: PositionChange, refs: list[ArticleRef], history: Sequence[ObservationRecord] = ()
) -> list[PositionChange]:
    """The alert with the independent ones of ``refs`` attached (in event order), or nothing when none is new."""
    counted = list(counted_reports(alert, history))
    texts = {r.article.id: r.evidence for r in history}
    new: list[ArticleRef] = []
    for ref in sorted(refs, key=lambda r: (r.published, r.id)):
        report = Report.of(ref, texts.get(ref.id, ()))
        if not_independent(report, counted) is None:
            new.append(ref)
            counted.append(report)
    if not new:
        return []
    merged = sorted([*alert.corroborations, *new], key=lambda r: (r.published, r.id))
    return [alert.model_copy(update={"corroborations": merged})]
