"""Stage 6: where new articles go: the ``articles`` topic (keyed by id) or a JSON-lines file."""

from __future__ import annotations

from typing import IO, Protocol

from shared.bus import Bus
from shared.contracts import RawArticle


class ArticleSink(Protocol):
    async def publish(self, article: RawArticle) -> None: ...


class TopicSink:
    """Waits for the broker's acknowledgement, so 'published' means durable."""

    def __init__(self, bus: Bus, topic: str) -> None:
        self.bus = bus
        self.topic = topic

    async def publish(self, article: RawArticle) -> None:
        await self.bus.publish(self.topic, article, key=article.id)


class JsonlSink:
    """One article per line: the replay input format."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.count = 0

    async def publish(self, article: RawArticle) -> None:
        self.out.write(article.model_dump_json(by_alias=True) + "\n")
        self.count += 1
