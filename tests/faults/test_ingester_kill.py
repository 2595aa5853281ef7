"""``kill -9`` of the ingester mid-stream, then a restart: every article is published, none twice.

The ingester runs as a process polling local feeds that gain an item every second; it is killed
without warning while items keep appearing, and started again. Its dedup state lives in the
``seen-articles`` and ``feed-state`` topics, so the restarted process must neither miss the items
that appeared while it was down nor publish again the ones already out.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from services.demo.__main__ import Pipeline, free_port, new_secret, service_env
from services.demo.feedserver import FeedServer, StoryFeeds
from shared.bus import KafkaBus
from shared.contracts import RawArticle
from shared.topics import Topics
from tests.faults.story import shift_story
from tests.support import wait_until

SPACING_S = 1.0


@pytest.mark.slow
async def test_an_ingester_killed_mid_stream_and_restarted_publishes_every_article_once(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    items, _ = shift_story(8, SPACING_S)  # 32 items, one a second
    feeds = FeedServer(StoryFeeds(items)).start()
    feeds_file = tmp_path / "feeds.txt"
    feeds_file.write_text("\n".join(feeds.feed_urls()) + "\n")
    topics = Topics(prefix=topic_prefix)
    bus = KafkaBus(kafka_bootstrap, client_id="ingester-kill")
    await bus.start()
    await bus.ensure_topics(topics.all())
    pipeline = Pipeline(tmp_path)
    env = service_env(
        "ingester",
        bootstrap=kafka_bootstrap,
        prefix=topic_prefix,
        port=free_port(),
        feeds_file=feeds_file,
        webhook_url="http://127.0.0.1:9/unused",
        secret=new_secret(),
        poll_interval=1.0,
    )

    async def published() -> list[str]:
        return [RawArticle.from_json_bytes(r.value or b"").id for r in await bus.read_all(topics.articles.name)]

    async def at_least(n: int) -> bool:
        return len(await published()) >= n

    try:
        pipeline.start("ingester", env)
        await wait_until(lambda: at_least(8), 60)  # mid-stream: some out, most still to come
        pipeline.procs["ingester"].send_signal(signal.SIGKILL)
        pipeline.procs["ingester"].wait(10)
        down_at = time.monotonic()
        await asyncio.sleep(3)  # items keep appearing while nothing polls
        pipeline.start("ingester", env | {"STANCEWATCH_HTTP_PORT": str(free_port())})
        await wait_until(feeds.feeds.done, 120)
        await wait_until(lambda: at_least(len(items)), 60)
        caught_up_s = time.monotonic() - down_at
        await asyncio.sleep(3)  # two more polls: room for a republication to show up
        ids = await published()
    finally:
        pipeline.stop()
        feeds.stop()
        await bus.stop()
    twice = {i: n for i, n in Counter(ids).items() if n > 1}
    assert twice == {}, f"published more than once: {twice}"
    assert len(set(ids)) == len(items), "every item of the feeds, once"
    print(f"ingester killed and restarted: all {len(items)} articles out {caught_up_s:.1f} s after the kill")
