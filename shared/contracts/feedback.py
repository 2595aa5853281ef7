"""Corrections from people (topic ``feedback``, keyed ``actor:topic``).

A newsroom says an observation or an alert is right or wrong. The alerter takes a rejection out of the
position's history (and retracts an alert it raised); ``stancewatch feedback export`` turns corrections
into labelled examples for the judge.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import Field, model_validator

from shared.contracts.articles import ArticleRef
from shared.contracts.base import Contract, UtcDatetime
from shared.contracts.enrichment import Evidence, Stance, position_key

#: ``correct`` confirms; the other three reject the observation (and any alert it raised).
FeedbackVerdict = Literal["correct", "wrong-stance", "not-holder", "not-topic"]
REJECTING_VERDICTS: frozenset[str] = frozenset({"wrong-stance", "not-holder", "not-topic"})
MAX_NOTE_CHARS = 2000


class Feedback(Contract):
    """One person's verdict on one observation (article, figure, topic), optionally via its alert."""

    feedback_id: str
    actor: str
    topic: str
    #: The observation judged: a figure's stance on a topic in one article is unique per article.
    article_id: str
    #: The stance the machine reported (so an export can say what was wrong).
    stance: Stance
    #: Set when the verdict was given on an alert (the alert whose ``after`` is this observation).
    alert_id: str | None = None
    verdict: FeedbackVerdict
    #: For ``wrong-stance``: what the person says the stance is, if they say.
    corrected_stance: Stance | None = None
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)
    #: Who said so: an API key's name or a desk user (never the key itself).
    author: str = Field(min_length=1, max_length=200)
    created_at: UtcDatetime
    #: The observation's evidence sentences, as the desk showed them (an alert's ``after.evidence``, a
    #: history record's ``evidence``): ``stancewatch feedback export`` makes labelled examples of them.
    evidence: list[Evidence] = Field(default_factory=list, max_length=20)
    #: The article judged (the observation's ``article``), for the export and for people reading it.
    article: ArticleRef | None = None

    @model_validator(mode="after")
    def _corrected_only_when_wrong(self) -> Feedback:
        if self.corrected_stance is not None and self.verdict != "wrong-stance":
            raise ValueError("corrected_stance is only meaningful with verdict 'wrong-stance'")
        if self.corrected_stance is not None and self.corrected_stance == self.stance:
            raise ValueError("corrected_stance equals the reported stance")
        if self.article is not None and self.article.id != self.article_id:
            raise ValueError("article.id differs from article_id")
        return self

    @property
    def rejects(self) -> bool:
        return self.verdict in REJECTING_VERDICTS

    @property
    def key(self) -> str:
        return position_key(self.actor, self.topic)


def feedback_id_for(actor: str, topic: str, article_id: str, verdict: str, author: str, at: str) -> str:
    """Idempotency id: the same person's same verdict submitted twice at the same instant is one event."""
    raw = "|".join((actor, topic, article_id, verdict, author, at)).encode("utf-8")
    return "fdbk_" + hashlib.sha256(raw).hexdigest()[:32]
