"""Webhook bodies: the Standard Webhooks envelope ``{"type", "timestamp", "data"}`` around each alert event.

Every body a webhook channel sends is one of these (discriminated by ``type``):

* ``alert.created`` — a new change of a position; ``data`` is the alert (``status: active``).
* ``alert.corroborated`` — another independent source reported the same change; ``data`` is the alert
  with the new source last in ``corroborations``.
* ``alert.retracted`` — a person rejected the observation behind the alert; ``data`` is the alert with
  ``status: retracted`` and, when known, its ``retraction``.
* ``alert.digest`` — a digest channel's batch; ``data.alerts`` lists the alerts in their newest version.

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

from shared.contracts.alerts import PositionChange
from shared.contracts.articles import ArticleRef
from shared.contracts.base import UtcDatetime

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


class DigestData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Also the body's ``webhook-id``.
    delivery_id: str
    alerts: list[PositionChange] = Field(min_length=1)


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
