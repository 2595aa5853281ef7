"""Webhook bodies: the Standard Webhooks envelope ``{"type", "timestamp", "data"}`` around each alert event.

Every body a webhook channel sends is one of these (discriminated by ``type``):

* ``alert.created`` — a new change of a position; ``data`` is the alert (``status: active``).
* ``alert.corroborated`` — another independent source reported the same change; ``data`` is the alert
  with the new source last in ``corroborations``.
* ``alert.retracted`` — a person rejected the observation behind the alert; ``data`` is the alert with
  ``status: retracted`` and, when known, its ``retraction``.
* ``alert.digest`` — a digest channel's batch: ``data`` is ``{delivery_id, count, alerts}``, each alert
  once in its newest version, flattened for reading (who, what, before/after with quotes and links).

``timestamp`` is when the event happened (queued, released, retracted), not when this attempt was made,
so a retried body is byte-identical. The JSON Schema of these models is checked in at
``shared/contracts/schemas/webhook-events.schema.json`` (``make schemas`` regenerates it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from shared.contracts.alerts import AlertKind, AlertStatus, PositionChange, Severity
from shared.contracts.articles import ArticleRef
from shared.contracts.base import UtcDatetime
from shared.contracts.enrichment import ExtractorInfo, Stance
from shared.contracts.positions import ObservationRecord

SCHEMA_PATH = Path(__file__).parent / "schemas" / "webhook-events.schema.json"


class ActiveAlert(PositionChange):
    """An alert in force."""

    status: Literal["active"] = "active"


class CorroboratedAlert(ActiveAlert):
    """An alert with at least one corroborating source (the newest last)."""

    corroborations: list[ArticleRef] = Field(min_length=1)


class RetractedAlert(PositionChange):
    """An alert withdrawn after a correction."""

    status: Literal["retracted"]


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: When the event happened (ISO 8601, UTC).
    timestamp: UtcDatetime


class AlertCreated(_Envelope):
    type: Literal["alert.created"] = "alert.created"
    data: ActiveAlert


class AlertCorroborated(_Envelope):
    type: Literal["alert.corroborated"] = "alert.corroborated"
    data: CorroboratedAlert


class AlertRetracted(_Envelope):
    type: Literal["alert.retracted"] = "alert.retracted"
    data: RetractedAlert


class DigestArticle(BaseModel):
    """An article as a digest cites it."""

    outlet: str
    title: str
    link: str
    published: UtcDatetime

    @classmethod
    def of(cls, ref: ArticleRef) -> DigestArticle:
        return cls(outlet=ref.source, title=ref.title, link=ref.url, published=ref.published)


class DigestRecord(DigestArticle):
    """One side of a change in a digest: the stance, its quotes and where it was said."""

    stance: Stance
    confidence: float
    observed_at: UtcDatetime
    quotes: list[str]
    article_id: str

    @classmethod
    def of_record(cls, rec: ObservationRecord) -> DigestRecord:
        return cls(
            **DigestArticle.of(rec.article).model_dump(),
            stance=rec.stance,
            confidence=rec.confidence,
            observed_at=rec.observed_at,
            quotes=[ev.text for ev in rec.evidence],
            article_id=rec.article.id,
        )


class DigestEntry(BaseModel):
    """One alert as a digest lists it: who, what, and both sides of the change with their quotes (raw text:
    a receiver escapes it for its own format)."""

    model_config = ConfigDict(populate_by_name=True)

    alert_id: str
    status: AlertStatus
    actor: str
    actor_name: str
    topic: str
    topic_label: str
    from_stance: Stance = Field(alias="from")
    to_stance: Stance = Field(alias="to")
    severity: Severity
    kind: AlertKind
    created_at: UtcDatetime
    #: The article whose observation raised the alert.
    article_id: str
    before: DigestRecord
    after: DigestRecord
    corroborations: list[DigestArticle]
    extractor: ExtractorInfo

    @classmethod
    def of(cls, alert: PositionChange) -> DigestEntry:
        return cls(
            alert_id=alert.alert_id,
            status=alert.status,
            actor=alert.actor,
            actor_name=alert.actor_name or alert.actor,
            topic=alert.topic,
            topic_label=alert.topic_label or alert.topic,
            from_stance=alert.from_stance,
            to_stance=alert.to_stance,
            severity=alert.severity,
            kind=alert.kind,
            created_at=alert.created_at,
            article_id=alert.article_id,
            before=DigestRecord.of_record(alert.before),
            after=DigestRecord.of_record(alert.after),
            corroborations=[DigestArticle.of(ref) for ref in alert.corroborations],
            extractor=alert.extractor,
        )


class DigestData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Also the body's ``webhook-id``.
    delivery_id: str
    count: int = Field(ge=1)
    #: Each alert once, in its newest version (``status`` says whether it still stands).
    alerts: list[DigestEntry] = Field(min_length=1)

    @classmethod
    def of(cls, alerts: list[PositionChange], *, delivery_id: str) -> DigestData:
        return cls(delivery_id=delivery_id, count=len(alerts), alerts=[DigestEntry.of(a) for a in alerts])


class AlertDigest(_Envelope):
    type: Literal["alert.digest"] = "alert.digest"
    data: DigestData


WebhookEvent = Annotated[
    AlertCreated | AlertCorroborated | AlertRetracted | AlertDigest,
    Field(discriminator="type"),
]
WEBHOOK_EVENT: TypeAdapter[AlertCreated | AlertCorroborated | AlertRetracted | AlertDigest] = TypeAdapter(WebhookEvent)


def parse_webhook_event(body: bytes | str) -> AlertCreated | AlertCorroborated | AlertRetracted | AlertDigest:
    """A received body as its event model (raises ``pydantic.ValidationError``)."""
    return WEBHOOK_EVENT.validate_json(body)


def webhook_events_schema() -> dict[str, Any]:
    """The JSON Schema of every webhook body, as serialised (``from``/``to``, ISO timestamps)."""
    schema = WEBHOOK_EVENT.json_schema(mode="serialization", by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "stancewatch webhook events",
        "description": "The body of every webhook the alerter sends (Standard Webhooks envelope).",
        **schema,
    }


def schema_text() -> str:
    return json.dumps(webhook_events_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m shared.contracts.webhooks [--check]``: write the checked-in schema, or check it is current."""
    args = sys.argv[1:] if argv is None else argv
    current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
    if "--check" in args:
        if current != schema_text():
            print(f"{SCHEMA_PATH} is out of date: run `make schemas`", file=sys.stderr)
            return 1
        return 0
    SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
