"""Fixtures for the ingester's tests: a local HTTP server and a poller wired to in-memory state."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.ingester.dedup import SeenIds
from services.ingester.fetch import Fetcher, make_client
from services.ingester.fulltext import FulltextExtractor
from services.ingester.guard import UrlGuard
from services.ingester.metrics import IngesterMetrics
from services.ingester.poll import Poller, PollPolicy
from services.ingester.publish import JsonlSink
from services.ingester.state import MemoryStore
from shared.contracts import RawArticle
from shared.observability import Metrics
from tests.ingester.local_server import LocalServer, serving


class ListSink:
    def __init__(self) -> None:
        self.articles: list[RawArticle] = []

    async def publish(self, article: RawArticle) -> None:
        self.articles.append(article)


class Clock:
    """Injected time: tests move it forward instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 1, 8, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as s:
        yield s


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(timeout=2.0, user_agent="stancewatch-test", per_host=16) as c:
        yield c


def make_poller(
    client: httpx.AsyncClient,
    *,
    sink: ListSink | JsonlSink | None = None,
    store: MemoryStore | None = None,
    seen: SeenIds | None = None,
    clock: Clock | None = None,
    fulltext: bool = False,
    allow: tuple[str, ...] = ("127.0.0.1",),
    guard: UrlGuard | None = None,
    total_timeout: float = 3.0,
    max_redirects: int = 3,
    max_feed_bytes: int = 1_000_000,
    max_per_host: int = 4,
    slot_timeout: float | None = None,
) -> Poller:
    fetcher = Fetcher(
        client,
        max_per_host=max_per_host,
        max_redirects=max_redirects,
        guard=guard or UrlGuard(allow),
        total_timeout=total_timeout,
        slot_timeout=slot_timeout,
    )
    return Poller(
        fetcher=fetcher,
        sink=sink or ListSink(),
        store=store or MemoryStore(),
        seen=seen or SeenIds(10_000, timedelta(days=30)),
        metrics=IngesterMetrics.on(Metrics()),
        policy=PollPolicy(
            min_interval=60,
            max_interval=3600,
            default_interval=300,
            max_feed_bytes=max_feed_bytes,
            max_entry_age=timedelta(days=30),
        ),
        fulltext=FulltextExtractor(fetcher, max_bytes=500_000, timeout=5.0) if fulltext else None,
        clock=clock or Clock(),
        rng=random.Random(7),
    )
