"""Stage 2: bytes -> feed entries (feedparser), or a :class:`ParseError` that says why not.

Rejected before parsing: empty bodies, HTML pages served as feeds, and documents that declare
entities (the billion-laughs bomb and external entities need a DTD; real feeds do not).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from services.ingester.errors import ParseError

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html)", re.IGNORECASE | re.DOTALL)
_PROLOG_BYTES = 4096
#: Problems feedparser reports that do not make a feed unusable (a missing or wrong content type or charset).
_BENIGN = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)


@dataclass(frozen=True)
class FeedEntry:
    link: str | None
    guid: str | None
    title: str
    summary: str
    published: datetime | None
    language: str | None = None
    #: The title is HTML markup (else plain text, where ``<`` is just a character).
    title_is_html: bool = False


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    language: str | None
    version: str
    entries: list[FeedEntry]
    #: Entries dropped because they carry neither a link nor an id.
    skipped: int = 0
    #: Non-fatal problem feedparser noticed (recovered from), for the log.
    warning: str | None = None


def _struct_to_utc(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, TypeError, OSError):
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _entry(raw: Any) -> FeedEntry:
    link = _text(raw.get("link")).strip() or None
    guid = _text(raw.get("id")).strip() or None
    summary = _text(raw.get("summary"))
    if not summary:
        for content in raw.get("content") or ():
            summary = _text(content.get("value"))
            if summary:
                break
    return FeedEntry(
        link=link,
        guid=guid,
        title=_text(raw.get("title")),
        summary=summary,
        published=_struct_to_utc(raw.get("published_parsed") or raw.get("updated_parsed")),
        language=_text((raw.get("title_detail") or {}).get("language")) or None,
        title_is_html="html" in _text((raw.get("title_detail") or {}).get("type")),
    )


def precheck(body: bytes, content_type: str | None) -> None:
    """Reject what must not reach the XML parser, with the reason."""
    if not body.strip():
        raise ParseError("parse: empty response")
    head = body[:_PROLOG_BYTES]
    if _ENTITY_DECL.search(body):
        raise ParseError("parse: document declares XML entities (entity expansion / external entity risk)")
    looks_html = _HTML_START.match(head) is not None or (content_type or "").lower().startswith("text/html")
    if looks_html and not any(root in head.lower() for root in (b"<rss", b"<feed", b"<rdf", b"<channel")):
        raise ParseError("parse: HTML page served where a feed was expected")


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    precheck(body, content_type)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    try:
        doc = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    except Exception as exc:  # feedparser should not raise, but a crash here must not stop the service
        raise ParseError(f"parse: feedparser failed: {type(exc).__name__}: {exc}") from exc
    warning, malformed = None, False
    if doc.get("bozo"):
        exc = doc.get("bozo_exception")
        warning = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
        malformed = not isinstance(exc, _BENIGN)
    raw_entries = doc.get("entries") or []
    if not raw_entries and (not doc.get("version") or malformed):
        raise ParseError(f"parse: not a feed ({warning or 'no RSS/Atom root element'})")
    feed = doc.get("feed") or {}
    entries, skipped = [], 0
    for raw in raw_entries:
        entry = _entry(raw)
        if entry.link is None and entry.guid is None:
            skipped += 1
            continue
        entries.append(entry)
    if malformed and not entries:
        raise ParseError(f"parse: malformed feed with no usable entry ({warning})")
    return ParsedFeed(
        title=_text(feed.get("title")),
        language=_text(feed.get("language")) or None,
        version=_text(doc.get("version")),
        entries=entries,
        skipped=skipped,
        warning=warning,
    )
