"""Server-rendered HTML pages. Every piece of article or user text goes through :func:`esc` (or
:func:`~services.desk.highlight.highlight`), so a headline cannot inject markup or script.

Pure functions from view data to a string; no JavaScript is needed (forms post and redirect back).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from services.desk.highlight import highlight
from services.desk.params import SEVERITIES, STATUSES
from services.desk.store import AlertView, Overview, Page, PositionRow, Timeline, TimelineEntry
from shared.contracts import Feedback, ObservationRecord, StanceObservation

VERDICTS: tuple[tuple[str, str], ...] = (
    ("correct", "correct"),
    ("wrong-stance", "wrong stance"),
    ("not-holder", "not this person's view"),
    ("not-topic", "not about this topic"),
)
VERDICT_LABEL = dict(VERDICTS)


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


@dataclass(frozen=True)
class Viewer:
    """Who looks at the page: a signed-in name with the form token, or nobody."""

    name: str | None = None
    csrf: str | None = None
    #: False when the desk has no API keys: nobody can sign in or give feedback.
    can_sign_in: bool = True


def when(value: datetime | None) -> str:
    if value is None:
        return '<span class="muted">—</span>'
    return f'<time datetime="{esc(value.isoformat())}">{esc(value.strftime("%Y-%m-%d %H:%M"))} UTC</time>'


def stance_badge(stance: str | None) -> str:
    if stance is None:
        return '<span class="stance stance-none">no stance yet</span>'
    return f'<span class="stance stance-{esc(stance)}">{esc(stance)}</span>'


def confidence(value: float | None) -> str:
    return "" if value is None else f'<span class="conf" title="confidence">{value:.0%} sure</span>'


def safe_link(url: str, label: str) -> str:
    """A link only to http(s) addresses (a ``javascript:`` URL in a feed stays text)."""
    if urlsplit(url).scheme.lower() in ("http", "https"):
        return f'<a href="{esc(url)}" rel="noopener noreferrer nofollow" target="_blank">{esc(label)}</a>'
    return esc(label)


def query_url(path: str, params: Mapping[str, Any]) -> str:
    clean = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in params.items() if v not in (None, "")}
    return path + ("?" + urlencode(clean) if clean else "")


def layout(title: str, body: str, viewer: Viewer, *, here: str = "/") -> str:
    if viewer.name:
        who = (
            f'<span class="who">signed in as <b>{esc(viewer.name)}</b></span>'
            f'<form method="post" action="/logout" class="inline">'
            f'<input type="hidden" name="csrf_token" value="{esc(viewer.csrf)}">'
            f'<button type="submit" class="link">log out</button></form>'
        )
    elif viewer.can_sign_in:
        who = f'<a href="{esc(query_url("/login", {"next": here}))}">log in to give feedback</a>'
    else:
        who = '<span class="muted">feedback off (no API keys configured)</span>'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{esc(title)} · stancewatch desk</title><link rel="stylesheet" href="/static/desk.css"></head>'
        f'<body><header><nav><a class="brand" href="/">stancewatch desk</a><a href="/">Overview</a>'
        f'<a href="/alerts">Alerts</a><span class="grow"></span>{who}</nav></header>'
        f"<main><h1>{esc(title)}</h1>{body}</main></body></html>"
    )


def timeline_url(actor: str, topic: str, **extra: Any) -> str:
    return query_url("/timeline", {"actor": actor, "topic": topic, **extra})


# --- overview -----------------------------------------------------------------------------------


def overview_cell(cell: PositionRow | None) -> str:
    if cell is None:
        return '<td class="empty"><span class="muted">—</span></td>'
    changed = cell.last_change or cell.established_since
    held = ' <span class="held" title="a reversal awaits a second source">held</span>' if cell.provisional else ""
    latest = (
        f'<div class="latest">latest: {stance_badge(cell.latest)}</div>'
        if cell.latest and cell.latest != cell.established
        else ""
    )
    return (
        f'<td class="cell" data-actor="{esc(cell.actor)}" data-topic="{esc(cell.topic)}">'
        f'<a href="{esc(timeline_url(cell.actor, cell.topic))}">{stance_badge(cell.established)}</a>{held}'
        f'{latest}<div>{confidence(cell.confidence)}</div><div class="small">changed {when(changed)}</div></td>'
    )


def overview_page(view: Overview, viewer: Viewer) -> str:
    if not view.cells:
        body = '<p class="muted">No positions yet: the desk fills in as the alerter publishes positions.</p>'
        return layout("Overview", body, viewer)
    head = "".join(f'<th scope="col">{esc(label)}</th>' for _, label in view.topics)
    rows = []
    for actor, name in view.figures:
        cells = "".join(overview_cell(view.cell(actor, topic)) for topic, _ in view.topics)
        rows.append(f'<tr><th scope="row">{esc(name)}</th>{cells}</tr>')
    body = (
        '<p class="muted">Each cell: the established stance, when it last changed and how sure the newest '
        "report of it is. Open a cell for its timeline.</p>"
        f'<div class="scroll"><table class="grid"><thead><tr><th></th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    return layout("Overview", body, viewer)


# --- feedback -----------------------------------------------------------------------------------


def feedback_list(items: Iterable[Feedback]) -> str:
    lines = [
        f'<li class="fb fb-{esc(f.verdict)}"><b>{esc(VERDICT_LABEL.get(f.verdict, f.verdict))}</b> '
        f"by {esc(f.author)} {when(f.created_at)}" + (f" — <q>{esc(f.note)}</q>" if f.note else "") + "</li>"
        for f in items
    ]
    return f'<ul class="feedback-given">{"".join(lines)}</ul>' if lines else ""


def feedback_form(
    viewer: Viewer, *, actor: str, topic: str, article_id: str, alert_id: str | None, return_to: str
) -> str:
    if not viewer.name:
        return ""
    target = "alert" if alert_id else "observation"
    hidden = {
        "actor": actor,
        "topic": topic,
        "article_id": article_id,
        "alert_id": alert_id,
        "csrf_token": viewer.csrf,
        "return_to": return_to,
    }
    fields = "".join(
        f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in hidden.items() if v is not None
    )
    buttons = "".join(
        f'<button type="submit" name="verdict" value="{esc(v)}" class="verdict v-{esc(v)}">{esc(label)}</button>'
        for v, label in VERDICTS
    )
    form_id = f"fb-{target}-{alert_id or article_id}"
    return (
        f'<form method="post" action="/feedback" class="feedback-form" id="{esc(form_id)}" data-target="{target}">'
        f'{fields}<input type="text" name="note" maxlength="2000" placeholder="note (optional)" '
        f'aria-label="note">{buttons}</form>'
    )


# --- timeline -----------------------------------------------------------------------------------


def evidence_block(evidence: Iterable[Any]) -> str:
    quotes = "".join(f'<blockquote class="evidence">{highlight(e.text)}</blockquote>' for e in evidence)
    return quotes or '<p class="muted">no evidence sentence</p>'


def record_line(label: str, rec: ObservationRecord) -> str:
    return (
        f'<div class="side"><span class="small">{esc(label)}</span> {stance_badge(rec.stance)} '
        f"{confidence(rec.confidence)} · {safe_link(rec.article.url, rec.article.source or rec.article.url)} "
        f"{when(rec.article.published)}{evidence_block(rec.evidence)}</div>"
    )


def alert_block(view: AlertView, viewer: Viewer, return_to: str, *, with_pair: bool = False) -> str:
    a = view.alert
    retracted = a.status == "retracted"
    status = (
        '<span class="badge retracted">retracted</span>' if retracted else '<span class="badge active">active</span>'
    )
    why = ""
    if a.retraction is not None:
        r = a.retraction
        why = (
            f'<p class="small">retracted: {esc(VERDICT_LABEL.get(r.verdict, r.verdict))} by {esc(r.author)} '
            f"{when(r.at)}" + (f" — <q>{esc(r.note)}</q>" if r.note else "") + "</p>"
        )
    deliveries = ", ".join(f"{esc(d.channel)}: {esc(d.status)}" for d in view.deliveries)
    pair = (
        f'<a href="{esc(timeline_url(a.actor, a.topic) + "#obs-" + a.article_id)}">'
        f"{esc(a.actor_name or a.actor)} · {esc(a.topic_label or a.topic)}</a> "
        if with_pair
        else ""
    )
    return (
        f'<section class="alert{" is-retracted" if retracted else ""}" id="alert-{esc(a.alert_id)}" '
        f'data-alert-id="{esc(a.alert_id)}" data-status="{esc(a.status)}">'
        f'<h3>{pair}<span class="sev sev-{esc(a.severity)}">{esc(a.severity)}</span> '
        f"{stance_badge(a.from_stance)} → {stance_badge(a.to_stance)} {status}</h3>"
        f'<p class="small">raised {when(a.created_at)} · {esc(a.kind)}'
        + (f" · {len(a.corroborations)} corroboration(s)" if a.corroborations else "")
        + (f" · delivered: {deliveries}" if deliveries else "")
        + "</p>"
        f'{why}<div class="pair">{record_line("before", a.before)}{record_line("after", a.after)}</div>'
        f"{feedback_list(view.feedback)}"
        + feedback_form(
            viewer, actor=a.actor, topic=a.topic, article_id=a.article_id, alert_id=a.alert_id, return_to=return_to
        )
        + "</section>"
    )


def observation_item(entry: TimelineEntry, viewer: Viewer, return_to: str) -> str:
    o: StanceObservation = entry.observation
    past = ""
    if o.past is not None:
        past = (
            f'<div class="past">earlier, as reported here: {stance_badge(o.past.stance)}'
            f"{evidence_block(o.past.evidence)}</div>"
        )
    alerts = "".join(alert_block(v, viewer, return_to) for v in entry.alerts)
    return (
        f'<li class="obs stance-{esc(o.stance)}" id="obs-{esc(o.article_id)}" data-article-id="{esc(o.article_id)}">'
        f'<div class="meta">{when(o.article.published)} {stance_badge(o.stance)} {confidence(o.confidence)} · '
        f"{safe_link(o.article.url, o.article.source or o.article.url)} · "
        f'<span class="judge" title="the judge that read this stance">'
        f"{esc(o.extractor.judge or 'judge unknown')}</span></div>"
        f'<div class="title">{esc(o.article.title)}</div>'
        f"{evidence_block(o.evidence)}{past}{alerts}"
        f"{feedback_list(entry.feedback)}"
        + feedback_form(
            viewer, actor=o.actor, topic=o.topic, article_id=o.article_id, alert_id=None, return_to=return_to
        )
        + "</li>"
    )


def pager(path: str, params: Mapping[str, Any], page: Page[Any]) -> str:
    links = []
    if page.offset > 0:
        links.append(
            f'<a rel="prev" href="{esc(query_url(path, {**params, "offset": max(0, page.offset - page.limit)}))}">'
            "← back</a>"
        )
    shown = f"{page.offset + 1}–{page.offset + len(page.items)} of {page.total}" if page.items else f"0 of {page.total}"
    links.append(f'<span class="muted">{shown}</span>')
    if page.next_offset is not None:
        links.append(f'<a rel="next" href="{esc(query_url(path, {**params, "offset": page.next_offset}))}">more →</a>')
    return f'<nav class="pager">{" ".join(links)}</nav>'


def timeline_page(t: Timeline, viewer: Viewer, params: Mapping[str, Any]) -> str:
    first = t.entries.items[0].observation if t.entries.items else None
    actor_name = (t.position.actor_name if t.position else None) or (first.actor_name if first else None) or t.actor
    topic_label = (t.position.topic_label if t.position else None) or (first.topic_label if first else None) or t.topic
    return_to = query_url("/timeline", params)
    current = (
        f'<p class="current">Established: {stance_badge(t.position.established)} '
        f"{confidence(t.position.confidence)} · "
        f"changed {when(t.position.last_change or t.position.established_since)}</p>"
        if t.position
        else '<p class="muted">No position on record for this pair.</p>'
    )
    items = "".join(observation_item(e, viewer, return_to) for e in t.entries.items)
    unplaced = ""
    if t.unplaced:
        unplaced = "<h2>Alerts whose observation is no longer on record</h2>" + "".join(
            alert_block(v, viewer, return_to) for v in t.unplaced
        )
    listing = f'<ol class="timeline">{items}</ol>' if items else '<p class="muted">No observations in this window.</p>'
    body = f"{current}{pager('/timeline', params, t.entries)}{listing}{pager('/timeline', params, t.entries)}{unplaced}"
    return layout(f"{actor_name} · {topic_label}", body, viewer, here=return_to)


# --- alerts inbox -------------------------------------------------------------------------------


def _select(name: str, label: str, options: Iterable[tuple[str, str]], chosen: str | None) -> str:
    opts = "".join(
        f'<option value="{esc(v)}"{" selected" if v == chosen else ""}>{esc(text)}</option>' for v, text in options
    )
    return f'<label>{esc(label)} <select name="{esc(name)}"><option value="">any</option>{opts}</select></label>'


def _time_input(name: str, value: datetime | None) -> str:
    shown = "" if value is None else value.strftime("%Y-%m-%dT%H:%M")
    return f'<label>{name} (UTC) <input type="datetime-local" name="{name}" value="{esc(shown)}"></label>'


def alerts_page(page: Page[AlertView], overview: Overview, viewer: Viewer, params: Mapping[str, Any]) -> str:
    filters = {k: v for k, v in params.items() if k not in ("limit", "offset")}
    return_to = query_url("/alerts", params)
    form = (
        '<form method="get" action="/alerts" class="filters">'
        + _select("actor", "figure", overview.figures, params.get("actor"))
        + _select("topic", "topic", overview.topics, params.get("topic"))
        + _select("severity", "severity", [(s, s) for s in SEVERITIES], params.get("severity"))
        + _select("status", "status", [(s, s) for s in STATUSES], params.get("status"))
        + _time_input("since", params.get("since"))
        + _time_input("until", params.get("until"))
        + f'<label>text <input type="search" name="q" value="{esc(params.get("q") or "")}" maxlength="200"></label>'
        + '<button type="submit">filter</button></form>'
    )
    exports = (
        f'<p class="exports">Export these alerts: <a href="{esc(query_url("/alerts/export.csv", filters))}">CSV</a> · '
        f'<a href="{esc(query_url("/alerts/export.json", filters))}">JSON</a></p>'
    )
    cards = "".join(alert_block(v, viewer, return_to, with_pair=True) for v in page.items)
    listing = cards or '<p class="muted">No alerts match.</p>'
    body = f"{form}{exports}{pager('/alerts', params, page)}{listing}{pager('/alerts', params, page)}"
    return layout("Alerts", body, viewer, here=return_to)


# --- login and errors ---------------------------------------------------------------------------


def login_page(viewer: Viewer, next_url: str, error: str | None = None) -> str:
    if not viewer.can_sign_in:
        return layout(
            "Log in", '<p class="muted">Nobody can log in: no STANCEWATCH_DESK_API_KEYS configured.</p>', viewer
        )
    problem = f'<p class="error">{esc(error)}</p>' if error else ""
    body = (
        f'{problem}<form method="post" action="/login" class="login">'
        f'<input type="hidden" name="next" value="{esc(next_url)}">'
        '<label>API key <input type="password" name="key" autocomplete="current-password" required></label>'
        '<button type="submit">log in</button></form>'
        '<p class="small muted">Your key stays in this form; the desk keeps only a signed session cookie.</p>'
    )
    return layout("Log in", body, viewer)


def error_page(status: int, reason: str, viewer: Viewer) -> str:
    return layout(
        f"Error {status}", f'<p class="error">{esc(reason)}</p><p><a href="/">back to the overview</a></p>', viewer
    )
