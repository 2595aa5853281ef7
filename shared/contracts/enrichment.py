"""What the enricher finds in an article (topics ``enriched`` and ``observations``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.articles import ArticleRef
from shared.contracts.base import Contract

Stance = Literal["support", "oppose", "undecided"]


class Evidence(BaseModel):
    """A sentence that shows a stance; offsets index the article's ``text`` (``[start, end)``)."""

    model_config = ConfigDict(extra="ignore")

    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class ExtractorInfo(BaseModel):
    """Which extractor produced an observation, so a replay after a model change can be compared."""

    model_config = ConfigDict(extra="ignore")

    name: str = "stancewatch-enricher"
    version: str
    #: Short hash of the watchlist and settings that shaped the output.
    config_hash: str
    model: str | None = None
    #: The stance judge that decided polarity (``rules-r11``, ``model-…``, ``combined-…``).
    judge: str | None = None


class PastStance(BaseModel):
    """A stance the article says the figure held before (``once said…``, ``last year promised…``)."""

    model_config = ConfigDict(extra="ignore")

    stance: Stance
    evidence: list[Evidence] = Field(default_factory=list)


class StanceObservation(Contract):
    """A figure's current stance on a topic in one article. Keyed ``actor:topic`` for ordering."""

    article_id: str
    actor: str
    topic: str
    stance: Stance
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: list[Evidence] = Field(default_factory=list)
    #: Set when the same article reports an earlier, different stance (an in-article reversal).
    past: PastStance | None = None
    article: ArticleRef
    extractor: ExtractorInfo
    #: Display names from the watchlist, so downstream services need not load it.
    actor_name: str | None = None
    topic_label: str | None = None

    @property
    def key(self) -> str:
        return position_key(self.actor, self.topic)


class ActorMention(BaseModel):
    model_config = ConfigDict(extra="ignore")

    actor: str
    count: int = Field(ge=1)


class Entity(BaseModel):
    """Any other named entity (only with full-article NER switched on)."""

    model_config = ConfigDict(extra="ignore")

    text: str
    label: str
    count: int = 1


class EnrichedArticle(Contract):
    """Everything found in one article, keyed by article id."""

    article: ArticleRef
    mentions: list[ActorMention] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    observations: list[StanceObservation] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    extractor: ExtractorInfo
    #: Why the article yielded nothing (empty text, not English, over the size bound …), if so.
    skipped_reason: str | None = None


def position_key(actor: str, topic: str) -> str:
    """The Kafka key for everything about one (figure, topic): keeps their order on one partition."""
    return f"{actor}:{topic}"
