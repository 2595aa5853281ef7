"""Query parameters: every one declared, parsed and checked; anything unknown, repeated or wrong is a 400.

Pure functions over the already URL-decoded (multi-)mapping of the request, so a typo such as
``?actr=lind`` is said, never silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from services.desk.errors import BadRequest
from services.desk.store import MAX_PAGE, AlertQuery, FeedbackQuery, ObservationQuery, Window

Parser = Callable[[str], Any]
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,199}$")
STANCES = ("support", "oppose", "undecided")
SEVERITIES = ("reversal", "shift")
STATUSES = ("active", "retracted")


def ident(value: str) -> str:
    if not _ID.match(value):
        raise ValueError("not an id (letters, digits, '.', '_', ':', '@', '-'; at most 200)")
    return value


def text(value: str) -> str:
    if len(value) > 200:
        raise ValueError("longer than 200 characters")
    return value.strip()


def one_of(*choices: str) -> Parser:
    def parse(value: str) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value

    return parse


def moment(value: str) -> datetime:
    """ISO 8601, a date or a date and time; without a zone it is UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("not an ISO 8601 date or time (e.g. 2026-03-02 or 2026-03-02T08:00:00Z)") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def bounded_int(low: int, high: int) -> Parser:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError("not a whole number") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}")
        return number

    return parse


PAGING: dict[str, Parser] = {
    "since": moment,
    "until": moment,
    "limit": bounded_int(1, MAX_PAGE),
    "offset": bounded_int(0, 10_000_000),
}

SPECS: dict[str, dict[str, Parser]] = {
    "overview": {},
    "positions": {"actor": ident, "topic": ident},
    "timeline": {"actor": ident, "topic": ident, **PAGING},
    "observations": {"actor": ident, "topic": ident, "stance": one_of(*STANCES), "q": text, **PAGING},
    "alerts": {
        "actor": ident,
        "topic": ident,
        "severity": one_of(*SEVERITIES),
        "status": one_of(*STATUSES),
        "q": text,
        **PAGING,
    },
    "feedback": {"actor": ident, "topic": ident, "article_id": ident, "alert_id": ident, **PAGING},
}
EXPORT_FORMATS = ("csv", "json")


def _items(query: Mapping[str, str] | Any) -> Iterable[tuple[str, str]]:
    return query.items()


def parse(spec: Mapping[str, Parser], query: Any, *, required: Iterable[str] = ()) -> dict[str, Any]:
    """The declared parameters of ``query`` (a MultiDict or mapping), parsed; BadRequest names the problem."""
    seen: dict[str, str] = {}
    for name, value in _items(query):
        if name not in spec:
            known = ", ".join(sorted(spec)) or "none"
            raise BadRequest(f"unknown parameter {name!r} (known here: {known})")
        if name in seen:
            raise BadRequest(f"parameter {name!r} is given more than once")
        seen[name] = value
    out: dict[str, Any] = {}
    for name, value in seen.items():
        if value == "":
            continue  # an empty form field means "no filter"
        try:
            out[name] = spec[name](value)
        except ValueError as exc:
            raise BadRequest(f"parameter {name!r}: {exc}") from None
    for name in required:
        if name not in out:
            raise BadRequest(f"parameter {name!r} is required")
    if "since" in out and "until" in out and out["since"] >= out["until"]:
        raise BadRequest("parameter 'since' must be before 'until'")
    return out


def window(values: Mapping[str, Any], page_size: int) -> Window:
    return Window(
        since=values.get("since"),
        until=values.get("until"),
        limit=values.get("limit", page_size),
        offset=values.get("offset", 0),
    )


def observation_query(values: Mapping[str, Any], page_size: int) -> ObservationQuery:
    return ObservationQuery(
        actor=values.get("actor"),
        topic=values.get("topic"),
        stance=values.get("stance"),
        text=values.get("q"),
        window=window(values, page_size),
    )


def alert_query(values: Mapping[str, Any], page_size: int) -> AlertQuery:
    return AlertQuery(
        actor=values.get("actor"),
        topic=values.get("topic"),
        severity=values.get("severity"),
        status=values.get("status"),
        text=values.get("q"),
        window=window(values, page_size),
    )


def feedback_query(values: Mapping[str, Any], page_size: int) -> FeedbackQuery:
    return FeedbackQuery(
        actor=values.get("actor"),
        topic=values.get("topic"),
        article_id=values.get("article_id"),
        alert_id=values.get("alert_id"),
        window=window(values, page_size),
    )
