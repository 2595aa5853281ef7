"""Alerts as CSV and JSON for the newsroom's own tools."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from services.desk.store import AlertView

CSV_COLUMNS = (
    "alert_id",
    "created_at",
    "status",
    "actor",
    "actor_name",
    "topic",
    "topic_label",
    "from",
    "to",
    "severity",
    "kind",
    "article_id",
    "before_quote",
    "before_source",
    "before_url",
    "before_published",
    "after_quote",
    "after_source",
    "after_url",
    "after_published",
    "after_confidence",
    "judge",
    "retraction_verdict",
    "retraction_note",
    "feedback_count",
)
#: A cell a spreadsheet would run as a formula starts with one of these; such cells get a leading quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """Text safe to open in a spreadsheet (no formula injection from article text)."""
    out = "" if value is None else str(value)
    return "'" + out if out.startswith(_FORMULA_START) else out


def csv_row(view: AlertView) -> dict[str, str]:
    a = view.alert
    retraction = a.retraction
    row: dict[str, Any] = {
        "alert_id": a.alert_id,
        "created_at": a.created_at.isoformat(),
        "status": a.status,
        "actor": a.actor,
        "actor_name": a.actor_name,
        "topic": a.topic,
        "topic_label": a.topic_label,
        "from": a.from_stance,
        "to": a.to_stance,
        "severity": a.severity,
        "kind": a.kind,
        "article_id": a.article_id,
        "before_quote": " ".join(e.text for e in a.before.evidence),
        "before_source": a.before.article.source,
        "before_url": a.before.article.url,
        "before_published": a.before.article.published.isoformat(),
        "after_quote": " ".join(e.text for e in a.after.evidence),
        "after_source": a.after.article.source,
        "after_url": a.after.article.url,
        "after_published": a.after.article.published.isoformat(),
        "after_confidence": a.after.confidence,
        "judge": a.extractor.judge,
        "retraction_verdict": retraction.verdict if retraction else None,
        "retraction_note": retraction.note if retraction else None,
        "feedback_count": len(view.feedback),
    }
    return {k: cell(v) for k, v in row.items()}


def csv_header() -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(CSV_COLUMNS)
    return buffer.getvalue()


def csv_lines(views: list[AlertView]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
    for view in views:
        writer.writerow(csv_row(view))
    return buffer.getvalue()


def alert_json(view: AlertView) -> dict[str, Any]:
    """An alert as the API gives it: the event itself, its deliveries and the feedback given on it."""
    return {
        **view.alert.model_dump(mode="json", by_alias=True),
        "deliveries": [
            {
                "delivery_id": d.delivery_id,
                "channel": d.channel,
                "status": d.status,
                "attempts": d.attempts,
                "http_status": d.http_status,
                "at": d.at.isoformat(),
            }
            for d in view.deliveries
        ],
        "feedback": [f.model_dump(mode="json") for f in view.feedback],
    }


def json_item(view: AlertView) -> str:
    return json.dumps(alert_json(view), ensure_ascii=False)
