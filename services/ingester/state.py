"""What survives a restart: per-feed state (validators, backoff, cadence) and the published ids.

The service keeps both in compacted Kafka topics (``feed-state`` keyed by feed URL,
``seen-articles`` keyed by article id) and rebuilds them at start; the one-shot command keeps
them in memory or in a small JSON file (``--state``).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Protocol

from services.ingester.errors import IngesterError
from shared.bus import Bus
from shared.contracts import FeedState, SeenArticle
from shared.errors import PoisonMessage
from shared.topics import Topics

log = logging.getLogger("stancewatch.ingester.state")


class StateStore(Protocol):
    async def load(self) -> tuple[dict[str, FeedState], list[SeenArticle]]: ...

    async def save_feed(self, state: FeedState) -> None: ...

    async def mark_seen(self, seen: SeenArticle) -> None: ...

    async def forget_seen(self, article_ids: list[str]) -> None: ...

    async def flush(self) -> None: ...


class MemoryStore:
    """Nothing persists (one-shot runs without ``--state``)."""

    def __init__(self) -> None:
        self.feeds: dict[str, FeedState] = {}
        self.seen: dict[str, SeenArticle] = {}

    async def load(self) -> tuple[dict[str, FeedState], list[SeenArticle]]:
        return dict(self.feeds), list(self.seen.values())

    async def save_feed(self, state: FeedState) -> None:
        self.feeds[state.feed_url] = state

    async def mark_seen(self, seen: SeenArticle) -> None:
        self.seen[seen.article_id] = seen

    async def forget_seen(self, article_ids: list[str]) -> None:
        for aid in article_ids:
            self.seen.pop(aid, None)

    async def flush(self) -> None:
        return None


class FileStore(MemoryStore):
    """A JSON file written atomically on :meth:`flush` (one-shot ``--state FILE``)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)

    async def load(self) -> tuple[dict[str, FeedState], list[SeenArticle]]:
        if self.path.exists():
            try:
                doc = json.loads(self.path.read_text(encoding="utf-8"))
                self.feeds = {f["feed_url"]: FeedState.model_validate(f) for f in doc.get("feeds", [])}
                self.seen = {s["article_id"]: SeenArticle.model_validate(s) for s in doc.get("seen", [])}
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise IngesterError(f"state: cannot read {self.path}: {exc}", kind="state") from exc
        return await super().load()

    async def flush(self) -> None:
        doc = {
            "feeds": [f.model_dump(mode="json") for f in self.feeds.values()],
            "seen": [s.model_dump(mode="json") for s in self.seen.values()],
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(tmp, self.path)


class BusStore:
    """The compacted topics: last value per key wins, a tombstone forgets an id."""

    def __init__(self, bus: Bus, topics: Topics) -> None:
        self.bus = bus
        self.topics = topics
        self.undecodable = 0

    async def load(self) -> tuple[dict[str, FeedState], list[SeenArticle]]:
        feeds: dict[str, FeedState] = {}
        for rec in await self.bus.read_all(self.topics.feed_state.name):
            if rec.key is None:
                continue
            if rec.value is None:
                feeds.pop(rec.key, None)
                continue
            try:
                feeds[rec.key] = rec.decode(FeedState)
            except PoisonMessage as exc:
                self.undecodable += 1
                log.warning("skipping undecodable feed state: %s", exc, extra={"feed_url": rec.key})
        seen: dict[str, SeenArticle] = {}
        for rec in await self.bus.read_all(self.topics.seen_articles.name):
            if rec.key is None:
                continue
            if rec.value is None:
                seen.pop(rec.key, None)
                continue
            try:
                seen[rec.key] = rec.decode(SeenArticle)
            except PoisonMessage as exc:
                self.undecodable += 1
                log.warning("skipping undecodable seen record: %s", exc, extra={"article_id": rec.key})
        return feeds, sorted(seen.values(), key=lambda s: s.first_seen)

    async def save_feed(self, state: FeedState) -> None:
        await self.bus.publish(self.topics.feed_state.name, state, key=state.feed_url)

    async def mark_seen(self, seen: SeenArticle) -> None:
        await self.bus.publish(self.topics.seen_articles.name, seen, key=seen.article_id)

    async def forget_seen(self, article_ids: list[str]) -> None:
        for aid in article_ids:
            await self.bus.publish(self.topics.seen_articles.name, None, key=aid)

    async def flush(self) -> None:
        return None
