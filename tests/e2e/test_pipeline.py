"""End to end on the real broker: three service processes, local feeds in, signed webhooks out.

The enricher is killed (SIGKILL) mid-stream and restarted: nothing is lost, nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from services.demo.__main__ import Pipeline, free_port, new_secret, service_env
from services.demo.feedserver import FeedServer, StoryFeeds
from services.demo.receiver import WebhookReceiver
from shared.bus import KafkaBus
from shared.contracts import EnrichedArticle, RawArticle
from shared.topics import Topics
from tests.support import wait_until

#: Shifts the demo story was written to contain (see services/demo/timeline.py).
STORY_SHIFTS = {
    ("trump", "tomahawks", "support", "oppose"),
    ("putin", "putin-summit", "support", "oppose"),
    ("trump", "ukraine-territory", "support", "oppose"),
}


async def test_feeds_in_signed_webhooks_out_with_an_enricher_crash_in_the_middle(
    kafka_bus: KafkaBus, topics: Topics, kafka_bootstrap: str, tmp_path: Path
) -> None:
    secret = new_secret()
    feeds = FeedServer(StoryFeeds(speed=3.0)).start()  # the whole story within ~26 s
    receiver = WebhookReceiver(secret).start()
    feeds_file = tmp_path / "feeds.txt"
    feeds_file.write_text("\n".join(feeds.feed_urls()) + "\n")
    pipeline = Pipeline(tmp_path)

    def env(name: str) -> dict[str, str]:
        return service_env(
            name,
            bootstrap=kafka_bootstrap,
            prefix=topics.prefix,
            port=free_port(),
            feeds_file=feeds_file,
            webhook_url=receiver.url,
            secret=secret,
            poll_interval=1.0,
        )

    async def count(topic: str) -> int:
        return len(await kafka_bus.read_all(topic))

    try:
        for name in ("alerter", "enricher", "ingester"):
            pipeline.start(name, env(name))
        await wait_until(lambda: count(topics.enriched.name), 90)  # enriching has begun ...
        assert not feeds.feeds.done(), "the story ended before the crash: slow the feed server down"
        pipeline.procs["enricher"].send_signal(signal.SIGKILL)  # ... crash it mid-stream
        pipeline.procs["enricher"].wait(10)
        articles_at_crash = await count(topics.articles.name)
        pipeline.start("enricher", env("enricher"))

        await wait_until(lambda: feeds.feeds.done(), 60)
        await asyncio.sleep(3)  # let the last poll cycle pick the final items up

        async def all_enriched() -> bool:
            published = {r.decode(RawArticle).id for r in await kafka_bus.read_all(topics.articles.name)}
            enriched = {r.decode(EnrichedArticle).article.id for r in await kafka_bus.read_all(topics.enriched.name)}
            return len(published) == len(feeds.feeds.story) and published <= enriched

        await wait_until(all_enriched, 90)

        def shifts() -> set[tuple[str, str, str, str]]:
            return {
                (r.alert.actor, r.alert.topic, r.alert.from_stance, r.alert.to_stance) for r in receiver.stats.accepted
            }

        await wait_until(lambda: STORY_SHIFTS <= shifts(), 60)

        def corroborated() -> list[str]:
            """Outlets that corroborated the Tomahawk reversal, as the receiver got them: attached to the alert
            when the second report came within its grace period, else as an ``alert.corroborated`` event."""
            return sorted(
                {
                    c.source
                    for r in receiver.stats.accepted
                    if (r.alert.actor, r.alert.topic) == ("trump", "tomahawks")
                    for c in r.alert.corroborations
                }
            )

        await wait_until(corroborated, 60)
        await asyncio.sleep(2)  # room for any late duplicate to show up
    finally:
        pipeline.stop()
        feeds.stop()
        receiver.stop()

    assert 0 < articles_at_crash < len(feeds.feeds.story)
    # Each article was published once, each alert arrived once and verified.
    article_ids = [r.key for r in await kafka_bus.read_all(topics.articles.name)]
    assert len(article_ids) == len(set(article_ids)) == len(feeds.feeds.story)
    assert receiver.stats.rejected == []
    assert len(receiver.stats.deliveries) == len(set(receiver.stats.deliveries))
    created = [r.alert for r in receiver.stats.accepted if r.type == "alert.created"]
    keys = [(a.actor, a.topic, a.from_stance, a.to_stance) for a in created]
    assert len(keys) == len(set(keys)), "the same shift was notified twice"
    # The second outlet's report of the Tomahawk reversal arrives as its corroboration, not as a new alert.
    assert corroborated() == ["Prairie Post"]
    dead = await kafka_bus.read_all(topics.dead_letters.name)
    assert dead == [], [r.header("error") for r in dead]
