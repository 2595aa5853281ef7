"""A person's verdict, from a form or the API, as the Feedback event the alerter reads."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.desk.errors import BadRequest
from services.desk.store import AlertView
from shared.contracts import (
    Feedback,
    FeedbackVerdict,
    ObservationRecord,
    Stance,
    StanceObservation,
    feedback_id_for,
)
from shared.contracts.feedback import MAX_NOTE_CHARS


class FeedbackRequest(BaseModel):
    """What a client sends: the observation (or the alert whose ``after`` it is) and the verdict."""

    model_config = ConfigDict(extra="forbid")

    actor: str | None = Field(default=None, max_length=200)
    topic: str | None = Field(default=None, max_length=200)
    article_id: str | None = Field(default=None, max_length=200)
    alert_id: str | None = Field(default=None, max_length=200)
    verdict: FeedbackVerdict
    corrected_stance: Stance | None = None
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)

    @classmethod
    def parse(cls, data: object) -> FeedbackRequest:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "body"
            raise BadRequest(f"feedback {where}: {first.get('msg')}") from None


def target_of(
    request: FeedbackRequest, alert: AlertView | None, observation: StanceObservation | None
) -> tuple[str, str, str, Stance]:
    """(actor, topic, article_id, reported stance) of what is judged; contradicting its alert is refused."""
    if alert is not None:
        a = alert.alert
        for name, given, actual in (
            ("actor", request.actor, a.actor),
            ("topic", request.topic, a.topic),
            ("article_id", request.article_id, a.article_id),
        ):
            if given is not None and given != actual:
                raise BadRequest(f"feedback {name}: {given!r} is not the alert's ({actual!r})")
        return a.actor, a.topic, a.article_id, a.after.stance
    if observation is None:
        raise BadRequest("feedback: no such observation", status=404)
    return observation.actor, observation.topic, observation.article_id, observation.stance


def build_feedback(
    request: FeedbackRequest,
    target: tuple[str, str, str, Stance],
    author: str,
    now: datetime,
    judged: ObservationRecord | StanceObservation | None = None,
) -> Feedback:
    """``judged`` (the alert's ``after``, or the observation) lends its evidence and article to the event:
    ``stancewatch feedback export`` makes labelled sentences of them."""
    actor, topic, article_id, stance = target
    note = (request.note or "").strip() or None
    try:
        return Feedback(
            feedback_id=feedback_id_for(actor, topic, article_id, request.verdict, author, now.isoformat()),
            actor=actor,
            topic=topic,
            article_id=article_id,
            stance=stance,
            alert_id=request.alert_id,
            verdict=request.verdict,
            corrected_stance=request.corrected_stance,
            note=note,
            author=author,
            created_at=now,
            evidence=judged.evidence if judged is not None else [],
            article=judged.article if judged is not None else None,
        )
    except ValidationError as exc:
        raise BadRequest(f"feedback: {exc.errors()[0].get('msg')}") from None
