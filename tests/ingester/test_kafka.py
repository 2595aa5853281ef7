"""On the real broker: articles land on the topic once, and a restarted ingester does not republish."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from services.ingester.__main__ import body
from services.ingester.settings import IngesterSettings
from shared.bus import KafkaBus
from shared.contracts import FeedState, RawArticle
from shared.runtime import serve
from shared.topics import Topics
from tests.ingester.local_server import LocalServer, Reply, rss
from tests.support import wait_until


async def run_ingester_until(settings: IngesterSettings, done) -> None:  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    service = asyncio.create_task(serve("ingester", settings, body, stop=stop))
    try:
        await wait_until(done, timeout=30)
    finally:
        stop.set()
        await asyncio.wait_for(service, 30)


async def test_articles_land_once_and_a_restart_does_not_republish(
    kafka_bootstrap: str, kafka_bus: KafkaBus, topics: Topics, server: LocalServer, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    when = format_datetime(now - timedelta(minutes=30), usegmt=True)
    items = [
        ("Dock workers vote", "https://n.example/dock", when),
        ("Tram fares frozen", "https://n.example/tram", when),
    ]
    server.routes["/one"] = Reply(200, rss(items), {"ETag": '"x1"'})
    # A second feed carries one of the same stories under a tracking URL.
    server.routes["/two"] = Reply(200, rss([("Tram fares frozen", "https://n.example/tram?utm_source=two", when)]))
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(f"{server.url('/one')}\n{server.url('/two')}\n")
    settings = IngesterSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=topics.prefix,
        feeds=feeds,
        fulltext=False,
        http_host="127.0.0.1",
        poll_min_interval=1,
        poll_default_interval=1,
        create_topics=False,
    )

    async def articles() -> list[RawArticle]:
        return [r.decode(RawArticle) for r in await kafka_bus.read_all(topics.articles.name)]

    async def two_articles_and_repolled() -> bool:
        return len(await articles()) >= 2 and len(server.hits("/one")) >= 2

    await run_ingester_until(settings, two_articles_and_repolled)
    polls_before = len(server.hits("/one"))

    # Restart: the state is rebuilt from the compacted topics; the feed still lists both stories.
    async def polled_again() -> bool:
        return len(server.hits("/one")) >= polls_before + 2

    await run_ingester_until(settings, polled_again)

    published = await articles()
    assert sorted(a.title for a in published) == ["Dock workers vote", "Tram fares frozen"]
    assert Counter(r.key for r in await kafka_bus.read_all(topics.articles.name)) == {a.id: 1 for a in published}
    seen = {r.key for r in await kafka_bus.read_all(topics.seen_articles.name) if r.value}
    assert seen == {a.id for a in published}
    states = [r.decode(FeedState) for r in await kafka_bus.read_all(topics.feed_state.name)]
    assert any(s.feed_url == server.url("/one") and s.etag == '"x1"' for s in states)
    # After the restart the ingester sent the remembered validator.
    assert server.hits("/one")[-1].headers.get("if-none-match") == '"x1"'
