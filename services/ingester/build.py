"""Assembling a :class:`Poller` from settings: shared by the service and the one-shot command."""

from __future__ import annotations

from datetime import timedelta

import httpx

from services.ingester.dedup import SeenIds
from services.ingester.fetch import Fetcher, make_client
from services.ingester.fulltext import FulltextExtractor
from services.ingester.guard import UrlGuard
from services.ingester.metrics import IngesterMetrics
from services.ingester.parse_workers import FeedParser, InlineParser, ProcessParser, default_workers
from services.ingester.poll import Poller, PollPolicy
from services.ingester.publish import ArticleSink
from services.ingester.settings import IngesterSettings
from services.ingester.state import StateStore
from shared.observability import Metrics


def client_for(settings: IngesterSettings) -> httpx.AsyncClient:
    return make_client(
        timeout=settings.fetch_timeout,
        user_agent=settings.user_agent,
        per_host=settings.max_per_host,
        keepalive_hosts=settings.keepalive_hosts,
    )


def parser_for(settings: IngesterSettings) -> InlineParser | ProcessParser:
    """Worker processes for parsing (close them when done: ``async with parser_for(s) as parser``)."""
    workers = default_workers() if settings.parse_workers is None else settings.parse_workers
    return ProcessParser(workers) if workers > 0 else InlineParser()


def policy_for(settings: IngesterSettings) -> PollPolicy:
    age = settings.seen_ttl_days if settings.max_entry_age_days is None else settings.max_entry_age_days
    return PollPolicy(
        max_entry_age=timedelta(days=age) if age else None,
        min_interval=settings.poll_min_interval,
        max_interval=settings.poll_max_interval,
        default_interval=settings.poll_default_interval,
        max_feed_bytes=settings.max_feed_bytes,
    )


async def build_poller(
    settings: IngesterSettings,
    *,
    client: httpx.AsyncClient,
    sink: ArticleSink,
    store: StateStore,
    metrics: Metrics,
    guard: UrlGuard | None = None,
    parser: FeedParser | None = None,
) -> Poller:
    """A poller with its state rebuilt from ``store`` (expired ids are forgotten on the way)."""
    fetcher = Fetcher(
        client,
        max_per_host=settings.max_per_host,
        max_redirects=settings.max_redirects,
        guard=guard or UrlGuard(settings.allow_hosts),
        total_timeout=settings.fetch_timeout * 2,
    )
    fulltext = (
        FulltextExtractor(
            fetcher,
            max_bytes=settings.max_page_bytes,
            timeout=settings.fulltext_timeout,
            concurrency=settings.fulltext_concurrency,
        )
        if settings.fulltext
        else None
    )
    feeds, seen_records = await store.load()
    seen = SeenIds(settings.seen_max, timedelta(days=settings.seen_ttl_days))
    for record in seen_records:
        seen.add(record.article_id, record.first_seen)
    poller = Poller(
        fetcher=fetcher,
        sink=sink,
        store=store,
        seen=seen,
        metrics=IngesterMetrics.on(metrics),
        policy=policy_for(settings),
        fulltext=fulltext,
        parser=parser,
        states=feeds,
    )
    expired = seen.expire(poller.clock())
    if expired:
        await store.forget_seen(expired)
    return poller
