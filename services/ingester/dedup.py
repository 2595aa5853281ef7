"""Stage 4: which article ids were already published, bounded in count and age.

An insertion-ordered map of id -> first-seen time: the oldest ids fall out first when the map
is full or they pass the TTL, and the caller tombstones them on the compacted topic so the
topic stays bounded too. ``claim`` makes "is it new?" and "I take it" one step, so two feeds
carrying the same URL in the same cycle cannot both publish it.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta


class SeenIds:
    def __init__(self, max_ids: int, ttl: timedelta) -> None:
        self.max_ids = max_ids
        self.ttl = ttl
        self._seen: OrderedDict[str, datetime] = OrderedDict()
        self._claimed: set[str] = set()

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, article_id: str) -> bool:
        return article_id in self._seen or article_id in self._claimed

    def claim(self, article_id: str) -> bool:
        """True if the id is new and now reserved for this caller; False if seen or claimed."""
        if article_id in self:
            return False
        self._claimed.add(article_id)
        return True

    def release(self, article_id: str) -> None:
        """Give a claim back (publishing failed; a later poll may try again)."""
        self._claimed.discard(article_id)

    def add(self, article_id: str, first_seen: datetime) -> None:
        """Record a published id (also used when rebuilding from the topic)."""
        self._claimed.discard(article_id)
        self._seen.pop(article_id, None)
        self._seen[article_id] = first_seen

    def forget(self, article_id: str) -> None:
        self._seen.pop(article_id, None)

    def expire(self, now: datetime) -> list[str]:
        """Drop ids past the TTL or beyond the size bound; return them for tombstoning."""
        dropped = []
        cutoff = now - self.ttl
        while self._seen:
            oldest_id, oldest_at = next(iter(self._seen.items()))
            if len(self._seen) > self.max_ids or oldest_at < cutoff:
                self._seen.popitem(last=False)
                dropped.append(oldest_id)
            else:
                break
        return dropped
