"""Feedback events written for these tests: a desk's corrections with the evidence it showed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.contracts import ArticleRef, Evidence, Feedback, feedback_id_for

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def correction(
    article: str,
    stance: str,
    verdict: str,
    *,
    sentences: tuple[str, ...] = (),
    corrected: str | None = None,
    author: str = "desk-ana",
    minutes: float = 0,
    actor: str = "zelenskyy",
    topic: str = "ukraine-aid",
    note: str | None = None,
) -> Feedback:
    at = T0 + timedelta(minutes=minutes)
    return Feedback(
        feedback_id=feedback_id_for(actor, topic, article, verdict, author, at.isoformat()),
        actor=actor,
        topic=topic,
        article_id=article,
        stance=stance,
        verdict=verdict,
        corrected_stance=corrected,
        note=note,
        author=author,
        created_at=at,
        evidence=[Evidence(text=s, start=0, end=len(s)) for s in sentences],
        article=ArticleRef(id=article, title=f"Story {article}", published=T0 - timedelta(days=1)),
    )
