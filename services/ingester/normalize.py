"""Stage 3: feed entries -> articles with a canonical URL, a stable id, clean text and UTC times."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from services.ingester.parse import FeedEntry, ParsedFeed
from shared.contracts import RawArticle

#: Query parameters that only say where a click came from; dropped from canonical URLs.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ocid",
        "cmpid",
        "_ga",
        "_gl",
        "ncid",
        "sr_share",
        "smid",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
    }
)
TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_")
MAX_TITLE = 1_000
MAX_SUMMARY = 20_000
#: A feed claiming an entry from further in the future than this is not believed.
FUTURE_TOLERANCE = timedelta(hours=24)

_TAG = re.compile(r"<[^>]*>")
_BLOCK = re.compile(r"</?(p|div|br|li|h[1-6]|tr|blockquote)\b[^>]*>", re.IGNORECASE)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_LINES = re.compile(r"\s*\n\s*")


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters, sorted query."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port  # ValueError on a malformed port
    if port == {"http": 80, "https": 443}.get(scheme):
        port = None
    netloc = f"[{host}]" if ":" in host else host
    if port:
        netloc += f":{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k))
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def article_id(url: str | None, guid: str | None, feed_url: str) -> str | None:
    """``a_`` + hash of the canonical URL; else of the guid (scoped to the feed unless it is a URL)."""
    if url:
        return _hashed("url:" + canonical_url(url))
    if guid:
        return _hashed(
            "guid:" + (canonical_url(guid) if guid.startswith(("http://", "https://")) else f"{feed_url} {guid}")
        )
    return None


def _hashed(basis: str) -> str:
    return "a_" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def html_to_text(fragment: str) -> str:
    """Plain text from a feed's HTML snippet: no tags, entities decoded, whitespace tidied."""
    if "<" in fragment:
        fragment = _SCRIPT.sub(" ", fragment)
        fragment = _BLOCK.sub("\n", fragment)
        fragment = _TAG.sub("", fragment)
    text = html.unescape(fragment)
    text = _SPACES.sub(" ", text)
    return _LINES.sub("\n", text).strip()


def one_line(text: str) -> str:
    return " ".join(html_to_text(text).split())


def language_tag(value: str | None) -> str | None:
    """Primary language subtag, lower-case (``en-GB`` -> ``en``); None if unusable."""
    if not value:
        return None
    tag = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return tag if tag.isalpha() and 2 <= len(tag) <= 3 else None


def to_article(entry: FeedEntry, feed: ParsedFeed, *, feed_url: str, source: str, now: datetime) -> RawArticle | None:
    """The article an entry describes, or None when it has neither link nor id."""
    link = entry.link if entry.link and entry.link.startswith(("http://", "https://")) else None
    canonical = None
    if link:
        try:
            canonical = canonical_url(link)  # once: it is both the id's basis and the published URL
        except ValueError:  # a link with a malformed port or host: fall back to the guid
            canonical = None
    aid = _hashed("url:" + canonical) if canonical else article_id(None, entry.guid, feed_url)
    if aid is None:
        return None
    published = entry.published
    if published is None or published > now + FUTURE_TOLERANCE:
        published = now
    summary = html_to_text(entry.summary)[:MAX_SUMMARY]
    title = (one_line(entry.title) if entry.title_is_html else " ".join(entry.title.split()))[:MAX_TITLE]
    return RawArticle(
        id=aid,
        source=source or one_line(feed.title) or (urlsplit(feed_url).hostname or feed_url),
        url=canonical or "",
        published=published,
        title=title,
        text=summary or title,
        summary=summary,
        feed_url=feed_url,
        language=language_tag(entry.language or feed.language),
        fulltext=False,
        fetched_at=now,
    )
