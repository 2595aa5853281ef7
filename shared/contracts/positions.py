"""Per-(figure, topic) position state (compacted topic ``positions``, keyed ``actor:topic``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.articles import ArticleRef
from shared.contracts.base import Contract, UtcDatetime
from shared.contracts.enrichment import Evidence, ExtractorInfo, PastStance, Stance, position_key


class ObservationRecord(BaseModel):
    """An observation as kept in a position's history and cited in alerts."""

    model_config = ConfigDict(extra="ignore")

    stance: Stance
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: list[Evidence] = Field(default_factory=list)
    article: ArticleRef
    observed_at: UtcDatetime


class HistoryRecord(ObservationRecord):
    """A record in a position's history: enough of the observation to replay it in event time."""

    past: PastStance | None = None
    extractor: ExtractorInfo | None = None
    actor_name: str | None = None
    topic_label: str | None = None
    #: When the alerter received it (processing time): the grace period runs from here.
    received_at: UtcDatetime | None = None
    #: Its grace period has passed and the changes it implies were decided.
    settled: bool = True


class EventKey(BaseModel):
    """Where a record sits in event time: publication time, then article id and stance break ties."""

    model_config = ConfigDict(extra="ignore")

    published: UtcDatetime
    article_id: str
    stance: Stance


#: Rejected observations a position remembers (newest kept): enough to refuse a redelivered or replayed copy.
MAX_REJECTED = 200


class RejectedObservation(BaseModel):
    """An observation a person rejected: it never counts for the position, even if it arrives again later."""

    model_config = ConfigDict(extra="ignore")

    article_id: str
    #: The stance rejected (``wrong-stance``); None rejects the article's every stance for this figure and
    #: topic (``not-holder``, ``not-topic``: the article says nothing of the figure's stance on the topic).
    stance: Stance | None = None
    feedback_id: str
    verdict: str

    def covers(self, article_id: str, stance: str) -> bool:
        return self.article_id == article_id and (self.stance is None or self.stance == stance)


class Position(Contract):
    """The established stance of one figure on one topic and the observations behind it."""

    actor: str
    topic: str
    #: Most recent support/oppose stance (``undecided`` never establishes); None until one exists.
    established: Stance | None = None
    established_since: UtcDatetime | None = None
    #: The latest observation of any stance, including ``undecided``.
    latest: Stance | None = None
    #: Ordered by event time (:class:`EventKey`), not by arrival.
    history: list[HistoryRecord] = Field(default_factory=list)
    last_change: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    #: A reversal reported once with a probability below the instant threshold, held until a second
    #: independent source confirms it (precision-first policy); None when nothing is held.
    provisional: ObservationRecord | None = None
    #: The newest record (in event time) whose changes were decided; a change the history implies at or
    #: before it that was not alerted then is a correction of the record, never alerted late.
    decided_through: EventKey | None = None
    #: Observations people rejected (oldest first, at most :data:`MAX_REJECTED`); never in ``history``.
    rejected: list[RejectedObservation] = Field(default_factory=list)

    def rejection_of(self, article_id: str, stance: str) -> RejectedObservation | None:
        return next((r for r in self.rejected if r.covers(article_id, stance)), None)

    @property
    def key(self) -> str:
        return position_key(self.actor, self.topic)
