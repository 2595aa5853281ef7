"""Position changes (topic ``alerts``, keyed ``actor:topic``)."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.articles import ArticleRef
from shared.contracts.base import Contract, UtcDatetime
from shared.contracts.enrichment import ExtractorInfo, Stance, position_key
from shared.contracts.positions import ObservationRecord

#: Flip-o-meter: a full reversal (support <-> oppose) outranks a softening/hardening (to/from undecided).
Severity = Literal["reversal", "shift"]
SEVERITY_RANK: dict[str, int] = {"shift": 1, "reversal": 2}
AlertKind = Literal["cross-article", "in-article"]
#: An alert is withdrawn when a person rejects the observation that raised it (see ``feedback``).
AlertStatus = Literal["active", "retracted"]
#: What a channel receives: the Standard Webhooks ``type`` of each body.
AlertEventType = Literal["alert.created", "alert.corroborated", "alert.retracted"]


class Retraction(BaseModel):
    """Why an alert was withdrawn: the correction that rejected its ``after`` observation."""

    model_config = ConfigDict(extra="ignore")

    feedback_id: str
    verdict: str
    author: str
    note: str | None = None
    at: UtcDatetime


def alert_id_for(actor: str, topic: str, from_stance: str, to_stance: str, article_id: str) -> str:
    """Idempotency id: the same shift from the same triggering article always has the same id."""
    raw = "|".join((actor, topic, from_stance, to_stance, article_id)).encode("utf-8")
    return "alrt_" + hashlib.sha256(raw).hexdigest()[:32]


class PositionChange(Contract):
    """An alert: a figure's stance on a topic moved from ``from`` to ``to``."""

    alert_id: str
    actor: str
    topic: str
    from_stance: Stance = Field(alias="from")
    to_stance: Stance = Field(alias="to")
    severity: Severity
    kind: AlertKind
    #: The article whose observation triggered the alert.
    article_id: str
    before: ObservationRecord
    after: ObservationRecord
    #: Later reports of the same shift within the corroboration window (attached, not re-sent).
    corroborations: list[ArticleRef] = Field(default_factory=list)
    extractor: ExtractorInfo
    created_at: UtcDatetime
    actor_name: str | None = None
    topic_label: str | None = None
    #: The alerts topic carries every version of an alert under its id (created, corroborated,
    #: retracted); the newest record is the alert's state.
    status: AlertStatus = "active"
    retraction: Retraction | None = None

    @property
    def key(self) -> str:
        return position_key(self.actor, self.topic)
