"""Two enrichers share the articles; one is killed (SIGKILL) while they flow: nothing is lost or inverted.

The test publishes the fault suite's story (16 figure/topic pairs, each a stance stated twice and then
its opposite stated twice) to ``articles`` itself, at a steady pace, to two enricher processes in one
consumer group and one alerter. One enricher is killed just after the stream began; the other takes
its partitions over once the group drops it (the session timeout) and reads again what it had not
committed. The whole story is out by then, so the killed instance's articles reach the alerter after
newer ones of the same figures. The alerter's grace (STANCEWATCH_ALERT_GRACE, 30 s by default) must
fold them in: every expected shift is notified exactly once, in its direction (none inverted), and
nothing else. (With a grace of 0 s, 5 of the 16 shifts were lost in one run.)
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from services.demo.__main__ import Pipeline, free_port, new_secret, service_env
from services.demo.receiver import WebhookReceiver
from services.demo.timeline import StoryItem
from shared.bus import KafkaBus
from shared.contracts import EnrichedArticle, RawArticle, StanceObservation
from shared.topics import Topics
from tests.faults.cluster import all_recorded, assignment, readiness, settled
from tests.faults.story import shift_story
from tests.support import wait_until

#: One article every this many seconds: the 64 articles span 6.4 s, less than the takeover.
SPACING_S = 0.1
#: The kill comes once this many articles were enriched.
KILL_AFTER = 3
ENRICHERS = ("enricher-a", "enricher-b")
STORY_START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def article(item: StoryItem) -> RawArticle:
    """The article the ingester would publish for a story item (its event time: the item's place in the story)."""
    return RawArticle(
        id=item.slug,
        source=item.source,
        url=f"http://127.0.0.1/{item.slug}",
        published=STORY_START + timedelta(seconds=item.at_s),
        title=item.title,
        text=item.text,
        language="en",
    )


@pytest.mark.slow
async def test_a_killed_enricher_s_articles_are_taken_over_and_every_shift_is_notified_once_and_not_inverted(
    kafka_bus: KafkaBus, topics: Topics, kafka_bootstrap: str, tmp_path: Path
) -> None:
    items, expected = shift_story(16, SPACING_S)
    secret = new_secret()
    receiver = WebhookReceiver(secret).start()
    pipeline = Pipeline(tmp_path)
    group = f"{topics.prefix}enricher"
    logs = [tmp_path / f"{name}.log" for name in ENRICHERS]
    figures: dict[str, float | int] = {}

    def env(name: str) -> dict[str, str]:
        out = service_env(
            name,
            bootstrap=kafka_bootstrap,
            prefix=topics.prefix,
            port=free_port(),
            feeds_file=tmp_path / "feeds.txt",
            webhook_url=receiver.url,
            secret=secret,
            poll_interval=1.0,
        )
        ids = {"STANCEWATCH_GROUP_ID": f"{topics.prefix}alerter", "STANCEWATCH_DELIVERY_GROUP_ID": f"{topics.prefix}d"}
        return out | ({"STANCEWATCH_CONSUMER_GROUP": group} if name == "enricher" else ids)

    def notified() -> list[tuple[str, str, str, str]]:
        return [(r.alert.actor, r.alert.topic, r.alert.from_stance, r.alert.to_stance) for r in receiver.stats.accepted]

    async def all_ready() -> bool:
        assert pipeline.dead() == [], f"exited: {pipeline.dead()}: {pipeline.tail(pipeline.dead()[0])}"
        async with httpx.AsyncClient() as client:
            return all([await readiness(client, port) == 200 for port in pipeline.ports.values()])

    async def enriched() -> list[tuple[str, int, float]]:
        """Every enriched record: article id, partition (the article's: same key, same count) and when."""
        records = await kafka_bus.read_all(topics.enriched.name)
        return [(r.decode(EnrichedArticle).article.id, r.partition, r.timestamp_ms / 1000) for r in records]

    async def enriched_at_least(n: int) -> bool:
        return len({a for a, _, _ in await enriched()}) >= n

    async def publish_story() -> None:
        for item in items:
            await kafka_bus.publish(topics.articles.name, article(item), key=item.slug)
            await asyncio.sleep(SPACING_S)  # the stream's pace, not a wait for a condition

    try:
        pipeline.start("alerter", env("alerter"))
        for name in ENRICHERS:
            pipeline.start(name, env("enricher"), command="enricher")
        await wait_until(all_ready, 180)
        await wait_until(lambda: settled(logs, group, topics.articles.name, topics.articles.partitions), 60)

        stream = asyncio.create_task(publish_story())
        await wait_until(lambda: enriched_at_least(KILL_AFTER), 120)
        victim, survivor = ENRICHERS
        held = {p for t, p in assignment(logs[0], group) or () if t == topics.articles.name}
        done_at_kill = {a for a, _, _ in await enriched()}
        pipeline.procs[victim].send_signal(signal.SIGKILL)
        killed_at = time.time()
        pipeline.procs[victim].wait(10)
        assert not stream.done(), "articles were still flowing at the kill"
        await stream
        figures["articles_enriched_at_kill"] = len(done_at_kill)

        await wait_until(lambda: enriched_at_least(len(items)), 120)  # the survivor enriched the rest ...
        # Kill -> the first article of the killed instance's partitions enriched by the survivor.
        taken = [at - killed_at for _, p, at in await enriched() if p in held and at > killed_at]
        figures["takeover_s"] = round(min(taken), 1)
        try:
            await wait_until(lambda: set(expected) <= set(notified()), 120)  # ... and every shift came through
        except AssertionError as exc:
            raise AssertionError(f"never delivered: {sorted(set(expected) - set(notified()))}") from exc
        await wait_until(lambda: all_recorded(kafka_bus, topics), 30)  # nothing left that could arrive late
        figures["pairs_observed_out_of_order"] = late = await _out_of_order(kafka_bus, topics)
        assert late > 0, "the kill made observations arrive after newer ones (else this tests nothing)"
        assert pipeline.dead() == [victim], f"exited: {pipeline.dead()}: {pipeline.tail(survivor)}"
    finally:
        pipeline.stop()
        receiver.stop()
        figures["repeated_webhook_ids"] = receiver.stats.duplicates
        (tmp_path / "figures.json").write_text(json.dumps(figures))
        print("enricher fail-over figures:", json.dumps(figures))

    assert receiver.stats.rejected == []
    assert sorted(notified()) == sorted(expected), "every shift once, in its direction, and nothing else"
    assert receiver.stats.duplicates == 0, "the alerters were not killed: no delivery is made twice"


async def _out_of_order(bus: KafkaBus, topics: Topics) -> int:
    """Pairs whose observations reached the alerter (their partition's order) not in event time."""
    arrivals: dict[str, list[datetime]] = {}
    for rec in await bus.read_all(topics.observations.name):
        observation = rec.decode(StanceObservation)
        arrivals.setdefault(observation.key, []).append(observation.article.published)
    return sum(times != sorted(times) for times in arrivals.values())
