"""Alert semantics: what one observation does to a position's alerts (pure, no state, no clock).

The rule (README, "Alerter"):

* **Every change of the position notifies**, whatever the window: its established stance moving
  (support <-> oppose), or its latest stance moving into or out of ``undecided``. A figure who goes
  support -> oppose -> support -> oppose within an hour raises three alerts.
* **A corroboration** is only the same change (same from -> to, to the same stance) reported again by
  another *independent* source while the position has not moved since, within the corroboration window
  of the change. It is attached to the alert of that change; it never raises a new one.
* **Independent** means a different article from a different outlet, at a different address, with
  different text. A syndicated copy — the same outlet again, the same URL, or the same sentences as a
  report already counted for the alert — corroborates nothing.

:func:`classify` decides one observation given the position's last change; the detector
(:mod:`services.alerter.detect`) works out what the change is (reversal, softening, in-article,
held for precision first) and applies the verdict.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit

from shared.contracts import ArticleRef, Evidence, Stance


def _norm_outlet(name: str) -> str:
    return " ".join(name.casefold().split())


def _norm_url(url: str) -> str:
    """The address without what does not name the story: scheme, ``www.``, fragment, tracking, trailing slash."""
    if not url.strip():
        return ""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").removeprefix("www.")
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not k.lower().startswith("utm_")))
    return f"{host}{parts.path.rstrip('/')}" + (f"?{query}" if query else "")


def _norm_text(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Report:
    """Who reported a stance, where, and in what words: enough to tell a second source from a copy."""

    article_id: str
    outlet: str = ""
    url: str = ""
    #: The evidence sentences, normalised; empty when unknown (then text is not compared).
    text: str = ""

    @classmethod
    def of(cls, article: ArticleRef, evidence: Sequence[Evidence] = ()) -> Report:
        return _report(article.id, article.source, article.url, " ".join(e.text for e in evidence))


@lru_cache(maxsize=16_384)
def _report(article_id: str, outlet: str, url: str, text: str) -> Report:
    """Cached: the event-time detector replays each history, so the same reports recur constantly."""
    return Report(article_id=article_id, outlet=_norm_outlet(outlet), url=_norm_url(url), text=_norm_text(text))


def copy_of(report: Report, other: Report) -> str | None:
    """Why ``report`` is not independent of ``other`` (``same article``/``outlet``/``url``/``text``), or None."""
    if report.article_id == other.article_id:
        return "same article"
    if report.outlet and report.outlet == other.outlet:
        return "same outlet"
    if report.url and report.url == other.url:
        return "same url"
    if report.text and report.text == other.text:
        return "same text"
    return None


def not_independent(report: Report, counted: Iterable[Report]) -> str | None:
    """Why ``report`` adds no source to those already ``counted`` for an alert, or None when it does."""
    return next((why for other in counted if (why := copy_of(report, other)) is not None), None)


@dataclass(frozen=True)
class Change:
    """A move of the position: from one stance to another."""

    from_stance: Stance
    to_stance: Stance


@dataclass(frozen=True)
class LastChange:
    """The position's latest alerted change, as the state :func:`classify` needs of it."""

    alert_id: str
    change: Change
    #: When the change was reported (publication time of the alert's ``after`` record).
    at: datetime
    #: The reports counted for it so far: the one that raised it, then its corroborations.
    reports: tuple[Report, ...]


@dataclass(frozen=True)
class Seen:
    """One confident observation as the rule sees it."""

    stance: Stance
    #: The move it makes to the position; None when it reports the stance the position already holds.
    change: Change | None
    report: Report
    #: Its publication time.
    at: datetime


@dataclass(frozen=True)
class NewAlert:
    change: Change


@dataclass(frozen=True)
class Corroborates:
    alert_id: str


@dataclass(frozen=True)
class Nothing:
    #: Why no alert and no corroboration (for tests and logs).
    reason: str


Verdict = NewAlert | Corroborates | Nothing


def classify(last: LastChange | None, seen: Seen, *, window: timedelta) -> Verdict:
    """A new alert, a corroboration of the position's last change, or nothing.

    ``last`` must be the position's latest change (not any recent alert): matching an older alert is what
    once swallowed a flip back (A -> B, B -> A, then A -> B again reported as a "corroboration" of the first).
    """
    if seen.change is not None and (last is None or last.change != seen.change):
        return NewAlert(seen.change)
    if last is None:
        return Nothing("no change, and no change to corroborate")
    # Either no move, or the very move the last change made (a second article reporting it as a reversal).
    if last.change.to_stance != seen.stance:
        return Nothing("the position's last change was to another stance")
    if abs(seen.at - last.at) > window:
        # the same move long after: the position must have gone back unnoticed, so this is a change again
        return NewAlert(seen.change) if seen.change is not None else Nothing("outside the corroboration window")
    why = not_independent(seen.report, last.reports)
    if why is not None:
        return Nothing(f"not an independent source ({why})")
    return Corroborates(last.alert_id)
