"""Ingester state (compacted topics ``feed-state`` and ``seen-articles``)."""

from __future__ import annotations

from pydantic import Field

from shared.contracts.base import Contract, UtcDatetime


class FeedState(Contract):
    """What the ingester remembers per feed across restarts (keyed by feed URL)."""

    feed_url: str
    etag: str | None = None
    last_modified: str | None = None
    interval_s: float = 300.0
    failures: int = 0
    next_poll: UtcDatetime | None = None
    last_success: UtcDatetime | None = None
    last_error: str | None = None
    #: Recent entry publication times, to adapt the interval to the feed's cadence.
    recent_entry_times: list[UtcDatetime] = Field(default_factory=list)


class SeenArticle(Contract):
    """Marks an article id as published (keyed by article id); a tombstone expires it."""

    article_id: str
    url: str = ""
    first_seen: UtcDatetime
