"""A readable terminal rendering of an alert: figure, topic, before -> after, quotes, sources."""

from __future__ import annotations

import textwrap

from shared.contracts import ObservationRecord, PositionChange

BOLD, DIM, RED, GREEN, YELLOW, RESET = "\033[1m", "\033[2m", "\033[31m", "\033[32m", "\033[33m", "\033[0m"
STANCE_COLOUR = {"support": GREEN, "oppose": RED, "undecided": YELLOW}


def _quote(record: ObservationRecord, colour: bool, width: int) -> list[str]:
    text = record.evidence[0].text if record.evidence else "(no sentence)"
    when = record.article.published.strftime("%Y-%m-%d %H:%M UTC")
    source = f"{record.article.source or 'unknown source'}, {when}"
    lines = textwrap.wrap(f"“{text}”", width=width - 6) or [""]
    out = [f"      {line}" for line in lines]
    dim, reset = (DIM, RESET) if colour else ("", "")
    out.append(f"      {dim}— {source}  {record.article.url}{reset}")
    return out


def render_alert(alert: PositionChange, *, colour: bool = True, width: int = 100) -> str:
    b, r = (BOLD, RESET) if colour else ("", "")

    def stance(s: str) -> str:
        return f"{STANCE_COLOUR.get(s, '')}{s}{RESET}" if colour else s

    who = alert.actor_name or alert.actor
    what = alert.topic_label or alert.topic
    kind = "reversal" if alert.severity == "reversal" else "shift"
    lines = [
        f"{b}⚑ {kind.upper()}{r}  {b}{who}{r} on {b}{what}{r}: {stance(alert.from_stance)} → {stance(alert.to_stance)}"
        f"  ({alert.kind}, {alert.alert_id})",
        "   before:",
        *_quote(alert.before, colour, width),
        "   after:",
        *_quote(alert.after, colour, width),
    ]
    if alert.corroborations:
        lines.append("   also reported by: " + ", ".join(c.source or c.url for c in alert.corroborations))
    return "\n".join(lines)


def render_event(event: str, alert: PositionChange, *, colour: bool = True, width: int = 100) -> str:
    """A new alert in full; a corroboration or a retraction of one already shown as a single line."""
    who, what = alert.actor_name or alert.actor, alert.topic_label or alert.topic
    if event == "alert.corroborated" and alert.corroborations:
        newest = alert.corroborations[-1]
        return f"   ↳ another source for {who} on {what}: {newest.source or newest.url}  ({alert.alert_id})"
    if event == "alert.retracted":
        reason = alert.retraction.verdict if alert.retraction is not None else "no reason given"
        return f"   ✗ retracted: {who} on {what}, {alert.from_stance} → {alert.to_stance}: {reason}  ({alert.alert_id})"
    return render_alert(alert, colour=colour, width=width)
