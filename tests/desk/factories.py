"""Builders for the desk's tests: observations, positions, alerts, outcomes and feedback written for them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.contracts import (
    ArticleRef,
    DeliveryOutcome,
    Evidence,
    ExtractorInfo,
    Feedback,
    HistoryRecord,
    ObservationRecord,
    Position,
    PositionChange,
    StanceObservation,
    alert_id_for,
    feedback_id_for,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EXTRACTOR = ExtractorInfo(version="9.9.9", config_hash="deskcfg", judge="combined-c4-test")


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def article(article_id: str, hours: float, *, title: str | None = None, source: str = "Harbour Gazette") -> ArticleRef:
    return ArticleRef(
        id=article_id,
        title=title or f"Council notes {article_id}",
        source=source,
        url=f"https://gazette.example/{article_id}",
        published=at(hours),
    )


def observation(
    article_id: str,
    stance: str,
    *,
    actor: str = "mayor-lind",
    topic: str = "harbour-bridge",
    hours: float = 0.0,
    confidence: float = 0.9,
    sentence: str | None = None,
    title: str | None = None,
    source: str = "Harbour Gazette",
    judge: str | None = "combined-c4-test",
) -> StanceObservation:
    text = sentence or f"Lind told the council she would {stance} the bridge plan ({article_id})."
    return StanceObservation(
        article_id=article_id,
        actor=actor,
        topic=topic,
        stance=stance,
        confidence=confidence,
        evidence=[Evidence(text=text, start=10, end=10 + len(text))],
        article=article(article_id, hours, title=title, source=source),
        extractor=EXTRACTOR.model_copy(update={"judge": judge}),
        actor_name=actor.replace("-", " ").title(),
        topic_label=topic.replace("-", " "),
    )


def record(obs: StanceObservation) -> ObservationRecord:
    return ObservationRecord(
        stance=obs.stance,
        confidence=obs.confidence,
        evidence=obs.evidence,
        article=obs.article,
        observed_at=obs.article.published,
    )


def position(*observations: StanceObservation, established: str | None = None) -> Position:
    first = observations[0]
    history = [
        HistoryRecord(**record(o).model_dump(), actor_name=o.actor_name, topic_label=o.topic_label)
        for o in observations
    ]
    polar = [o for o in observations if o.stance != "undecided"]
    est = established if established is not None else (polar[-1].stance if polar else None)
    since = next((o.article.published for o in reversed(polar) if o.stance == est), None)
    return Position(
        actor=first.actor,
        topic=first.topic,
        established=est,
        established_since=since,
        latest=observations[-1].stance,
        history=history,
        last_change=since,
        updated_at=observations[-1].article.published,
    )


def alert(
    before: StanceObservation,
    after: StanceObservation,
    *,
    status: str = "active",
    created_hours: float | None = None,
    severity: str | None = None,
) -> PositionChange:
    polar = {before.stance, after.stance} == {"support", "oppose"}
    return PositionChange(
        alert_id=alert_id_for(after.actor, after.topic, before.stance, after.stance, after.article_id),
        actor=after.actor,
        topic=after.topic,
        **{"from": before.stance, "to": after.stance},
        severity=severity or ("reversal" if polar else "shift"),
        kind="cross-article",
        article_id=after.article_id,
        before=record(before),
        after=record(after),
        extractor=EXTRACTOR,
        created_at=after.article.published + timedelta(minutes=1) if created_hours is None else at(created_hours),
        actor_name=after.actor_name,
        topic_label=after.topic_label,
        status=status,
    )


def outcome(
    delivery_id: str, alert_ids: list[str], status: str, minutes: float, channel: str = "newsroom"
) -> DeliveryOutcome:
    return DeliveryOutcome(
        delivery_id=delivery_id,
        alert_ids=alert_ids,
        channel=channel,
        status=status,
        attempts=1,
        at=T0 + timedelta(minutes=minutes),
    )


def feedback(
    obs: StanceObservation,
    verdict: str,
    *,
    alert_id: str | None = None,
    author: str = "editor",
    note: str | None = None,
    hours: float = 50.0,
) -> Feedback:
    when = at(hours)
    return Feedback(
        feedback_id=feedback_id_for(obs.actor, obs.topic, obs.article_id, verdict, author, when.isoformat()),
        actor=obs.actor,
        topic=obs.topic,
        article_id=obs.article_id,
        stance=obs.stance,
        alert_id=alert_id,
        verdict=verdict,
        note=note,
        author=author,
        created_at=when,
    )
