"""Slack incoming webhooks: Block Kit messages within Slack's limits, all article text escaped.

Article text reaches Slack only through :func:`escape_mrkdwn`, so a headline holding ``<!channel>``,
``<@U123>`` or ``<https://evil|bank>`` shows as text and can neither ping anyone nor forge a link.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from pydantic import SecretStr

from services.alerter.channels.base import Channel, post
from shared.contracts import AlertEventType, ArticleRef, DeliveryTask, ObservationRecord, PositionChange

#: Slack's documented limits.
MAX_BLOCKS = 50
MAX_HEADER_CHARS = 150
MAX_SECTION_CHARS = 3000
MAX_FALLBACK_CHARS = 3000
#: Our own bound on a quoted sentence, to keep messages readable.
MAX_QUOTE_CHARS = 500
ARROW = "→"


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters as entities (``&`` first, so nothing is escaped twice)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Shorten raw text to ``limit`` characters with an ellipsis (before escaping)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clip_escaped(text: str, limit: int) -> str:
    """Shorten already escaped text without cutting an entity in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&", max(0, len(cut) - 5))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def safe_link(url: str, label: str) -> str:
    """``<url|label>`` for a plain http(s) URL; otherwise just the escaped label (no forged links)."""
    label_text = escape_mrkdwn(clip(label, 200)) or "link"
    if not url.startswith(("https://", "http://")) or any(c in url for c in "<>| \t\n\"'"):
        return label_text
    return f"<{url.replace('&', '&amp;')}|{label_text}>"


def _who(alert: PositionChange) -> str:
    return alert.actor_name or alert.actor


def _what(alert: PositionChange) -> str:
    return alert.topic_label or alert.topic


def _record_text(label: str, rec: ObservationRecord) -> str:
    art = rec.article
    source = art.source or "source"
    title = art.title or art.url or art.id
    cite = safe_link(art.url, f"{source}: {title}")
    lines = [f"*{label}* · {escape_mrkdwn(rec.stance)} · {rec.observed_at:%Y-%m-%d %H:%M} UTC · {cite}"]
    for ev in rec.evidence[:2]:
        lines.append("> " + escape_mrkdwn(clip(ev.text, MAX_QUOTE_CHARS)))
    return clip_escaped("\n".join(lines), MAX_SECTION_CHARS)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip_escaped(text, MAX_SECTION_CHARS)}}


def _change(alert: PositionChange) -> str:
    return (
        f"*{escape_mrkdwn(clip(_who(alert), 100))}* on *{escape_mrkdwn(clip(_what(alert), 100))}*: "
        f"{escape_mrkdwn(alert.from_stance)} {ARROW} {escape_mrkdwn(alert.to_stance)}"
    )


def _summary(alert: PositionChange) -> str:
    text = f"{_change(alert)} · severity *{alert.severity}* · {alert.kind}"
    return text + (" · *retracted*" if alert.status == "retracted" else "")


def _source(ref: ArticleRef) -> str:
    label = f"{ref.source}: {ref.title}" if ref.source and ref.title else ref.source or ref.title or ref.id
    return safe_link(ref.url, label)


def _reason(alert: PositionChange) -> str:
    """Why an alert was retracted, escaped: the verdict, the reviewer's note when there is one."""
    r = alert.retraction
    if r is None:
        return "no reason given"
    text = r.verdict.replace("-", " ") + (f": {r.note}" if r.note else "")
    return escape_mrkdwn(clip(text, MAX_QUOTE_CHARS))


def _follow_up(text: str, alert: PositionChange) -> dict[str, Any]:
    """A short message about an alert already sent: one line, and the alert id to find the first one by."""
    context = f"alert {alert.alert_id}"
    return {
        "text": clip_escaped(text, MAX_FALLBACK_CHARS),
        "blocks": [
            _section(text),
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    }


def corroborated_message(alert: PositionChange) -> dict[str, Any]:
    """``another source: <outlet/link>`` for the newest corroborating source."""
    newest = alert.corroborations[-1] if alert.corroborations else None
    source = _source(newest) if newest is not None else "unnamed"
    total = 1 + len(alert.corroborations)
    return _follow_up(f"{_change(alert)} · another source: {source} ({total} sources in all)", alert)


def retracted_message(alert: PositionChange) -> dict[str, Any]:
    """``retracted: <reason>``."""
    return _follow_up(f"{_change(alert)} · retracted: {_reason(alert)}", alert)


def _header(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": clip_escaped(escape_mrkdwn(text), MAX_HEADER_CHARS)},
    }


def _alert_blocks(alert: PositionChange) -> list[dict[str, Any]]:
    blocks = [
        _section(_summary(alert)),
        _section(_record_text("Before", alert.before)),
        _section(_record_text("After", alert.after)),
    ]
    context = [
        f"extractor {escape_mrkdwn(alert.extractor.name)} {escape_mrkdwn(alert.extractor.version)} "
        f"(config {escape_mrkdwn(alert.extractor.config_hash)}) · alert {alert.alert_id}"
    ]
    if alert.corroborations:
        refs = ", ".join(safe_link(r.url, r.source or r.title or r.id) for r in alert.corroborations[:5])
        more = len(alert.corroborations) - 5
        context.append(f"corroborated by {refs}" + (f" and {more} more" if more > 0 else ""))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": clip_escaped(t, 2000)} for t in context]})
    return blocks


def slack_message(
    alerts: list[PositionChange], *, digest: bool, event: AlertEventType = "alert.created"
) -> dict[str, Any]:
    """The Block Kit payload for one alert event, or a digest listing several (bounded to 50 blocks).

    A new alert is a full message; a corroboration or a retraction is a short follow-up about it."""
    if not digest and len(alerts) == 1:
        alert = alerts[0]
        if event == "alert.corroborated":
            return corroborated_message(alert)
        if event == "alert.retracted":
            return retracted_message(alert)
        title = f"Position {alert.severity}: {_who(alert)} on {_what(alert)}"
        blocks = [_header(title), *_alert_blocks(alert)]
        return {"text": clip_escaped(_summary(alert), MAX_FALLBACK_CHARS), "blocks": blocks}
    blocks: list[dict[str, Any]] = [_header(f"Stancewatch digest: {len(alerts)} position change(s)")]
    shown = 0
    for alert in alerts:
        # Each entry takes 4 blocks (summary, before, after, divider); keep one block for the "more" note.
        if len(blocks) + 4 > MAX_BLOCKS - 1:
            break
        blocks += [
            _section(_summary(alert)),
            _section(_record_text("Before", alert.before)),
            _section(_record_text("After", alert.after)),
            {"type": "divider"},
        ]
        shown += 1
    if shown < len(alerts):
        note = f"…and {len(alerts) - shown} more (see the alerter's /alerts)"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    return {"text": f"Stancewatch digest: {len(alerts)} position change(s)", "blocks": blocks}


class SlackChannel(Channel):
    kind = "slack"

    def __init__(self, name: str, url: SecretStr, client: httpx.AsyncClient, *, min_interval_s: float = 1.0) -> None:
        super().__init__(name)
        self._url = url
        self._client = client
        self.min_interval_s = min_interval_s

    async def send(self, task: DeliveryTask) -> int | None:
        message = slack_message(task.alerts, digest=task.digest, event=task.event)
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        headers = {"content-type": "application/json; charset=utf-8"}
        return await post(self._client, self._url.get_secret_value(), body, headers, stage=f"slack {self.name}")
