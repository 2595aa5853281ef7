"""Builders for alerter tests: observations and alerts written for these tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.contracts import (
    ArticleRef,
    Evidence,
    ExtractorInfo,
    PastStance,
    PositionChange,
    Retraction,
    StanceObservation,
)

T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
EXTRACTOR = ExtractorInfo(version="1.2.3", config_hash="cfg42")


def obs(
    article_id: str,
    stance: str,
    *,
    actor: str = "rutte",
    topic: str = "tomahawks",
    hours: float = 0.0,
    confidence: float = 0.9,
    past: str | None = None,
    title: str | None = None,
    sentence: str | None = None,
    source: str = "Test Wire",
) -> StanceObservation:
    """One observation published ``hours`` after T0."""
    text = sentence or f"{actor} said something about {topic} ({stance}) in {article_id}."
    return StanceObservation(
        article_id=article_id,
        actor=actor,
        topic=topic,
        stance=stance,
        confidence=confidence,
        evidence=[Evidence(text=text, start=0, end=len(text))],
        past=PastStance(stance=past, evidence=[Evidence(text="Earlier he said otherwise.", start=0, end=26)])
        if past
        else None,
        article=ArticleRef(
            id=article_id,
            title=title or f"Headline of {article_id}",
            source=source,
            url=f"https://news.test/{article_id}",
            published=T0 + timedelta(hours=hours),
        ),
        extractor=EXTRACTOR,
        actor_name=actor.title(),
        topic_label=topic.replace("-", " "),
    )


def alert(article_id: str = "a2", *, title: str | None = None, sentence: str | None = None) -> PositionChange:
    """A support -> oppose reversal built through the detector, as the service would build it."""
    from services.alerter.detect import ShiftDetector

    det = ShiftDetector(clock=lambda: T0)
    det.observe(obs("a1", "support"))
    (change,) = det.observe(obs(article_id, "oppose", hours=5, title=title, sentence=sentence))
    return change


def corroborated(change: PositionChange, *sources: tuple[str, str]) -> PositionChange:
    """``change`` with corroborating articles (id, outlet) attached, as the detector attaches them."""
    refs = [
        ArticleRef(id=aid, source=outlet, title=f"Headline of {aid}", url=f"https://news.test/{aid}", published=T0)
        for aid, outlet in sources
    ]
    return change.model_copy(update={"corroborations": [*change.corroborations, *refs]})


def retracted(change: PositionChange, *, note: str | None = "The quote was from his spokesman.") -> PositionChange:
    """``change`` withdrawn after a correction, as the alerter publishes it on a rejecting verdict."""
    retraction = Retraction(
        feedback_id="fdbk_1", verdict="not-holder", author="desk", note=note, at=T0 + timedelta(hours=9)
    )
    return change.model_copy(update={"status": "retracted", "retraction": retraction})
