"""The broker goes away mid-stream, twice (5 s, then 60 s), and comes back: nothing is lost, nothing exits.

The three services run as processes against a broker of the test's own, started once and never
restarted by the test. Feeds keep publishing through the outages; every expected shift must reach
the webhook receiver exactly once (by ``webhook-id`` and by shift), every service must stay up and
say it is not ready while the broker is away, and ready again after.
"""

from __future__ import annotations

import asyncio
import json
import time
from functools import partial
from pathlib import Path

import httpx
import pytest

from services.demo.__main__ import Pipeline, free_port, new_secret, service_env
from services.demo.feedserver import FeedServer, StoryFeeds
from services.demo.receiver import WebhookReceiver
from tests.faults.cluster import readiness
from tests.faults.story import shift_story
from tests.support import OwnBroker, wait_until

#: Broker outages injected, in order, in seconds.
OUTAGES_S = (5.0, 60.0)
#: One item every this many seconds: 64 items span the whole test, outages included.
SPACING_S = 2.0
SERVICES = ("alerter", "enricher", "ingester")


@pytest.mark.kafka
@pytest.mark.slow
async def test_broker_outages_of_5_and_60_seconds_lose_no_alert_send_none_twice_and_stop_no_service(
    own_broker: OwnBroker, tmp_path: Path
) -> None:
    items, expected = shift_story(16, SPACING_S)
    secret = new_secret()
    feeds = FeedServer(StoryFeeds(items)).start()
    receiver = WebhookReceiver(secret).start()
    feeds_file = tmp_path / "feeds.txt"
    feeds_file.write_text("\n".join(feeds.feed_urls()) + "\n")
    pipeline = Pipeline(tmp_path)
    figures: dict[str, float] = {}

    def delivered() -> set[tuple[str, str, str, str]]:
        return {(r.alert.actor, r.alert.topic, r.alert.from_stance, r.alert.to_stance) for r in receiver.stats.accepted}

    def more_delivered(than: int) -> bool:
        return len(delivered()) > than or feeds.feeds.done()

    async def all_ready(status: int) -> bool:
        assert pipeline.dead() == [], f"exited: {pipeline.dead()}: {pipeline.tail(pipeline.dead()[0])}"
        async with httpx.AsyncClient() as client:
            answers = [await readiness(client, pipeline.ports[name]) for name in SERVICES]
        return all(a == status for a in answers)

    try:
        for name in SERVICES:
            env = service_env(
                name,
                bootstrap=own_broker.bootstrap,
                prefix="faults.",
                port=free_port(),
                feeds_file=feeds_file,
                webhook_url=receiver.url,
                secret=secret,
                poll_interval=1.0,
            )
            env["STANCEWATCH_BROKER_PROBE_INTERVAL"] = "1s"
            pipeline.start(name, env)
        await wait_until(lambda: all_ready(200), 120)
        await wait_until(lambda: len(delivered()) >= 1, 120)  # the stream is flowing end to end

        for outage in OUTAGES_S:
            before = len(feeds.feeds.visible())
            await asyncio.to_thread(own_broker.stop)
            await wait_until(lambda: all_ready(503), 15)  # every service says it is not ready ...
            await asyncio.sleep(outage)  # the fault itself lasts this long
            assert pipeline.dead() == [], f"exited during a {outage:.0f} s outage: {pipeline.dead()}"
            assert len(feeds.feeds.visible()) > before, "the feeds went on publishing during the outage"
            await asyncio.to_thread(own_broker.start)
            back = time.monotonic()
            await wait_until(lambda: all_ready(200), 60)  # ... and ready again once it is back
            figures[f"ready_after_{outage:.0f}s_outage_s"] = round(time.monotonic() - back, 1)
            await wait_until(partial(more_delivered, len(delivered())), 90)
            figures[f"first_alert_after_{outage:.0f}s_outage_s"] = round(time.monotonic() - back, 1)

        await wait_until(feeds.feeds.done, 180)
        try:
            await wait_until(lambda: expected <= delivered(), 120)
        except AssertionError as exc:
            raise AssertionError(f"never delivered: {sorted(expected - delivered())}") from exc
        await asyncio.sleep(3)  # room for a late duplicate to show up
        assert pipeline.dead() == [], f"exited: {pipeline.dead()}"
    finally:
        pipeline.stop()
        feeds.stop()
        receiver.stop()
        (tmp_path / "figures.json").write_text(json.dumps(figures))
        print("broker outage figures:", json.dumps(figures))

    assert receiver.stats.rejected == []
    assert len(receiver.stats.deliveries) == len(set(receiver.stats.deliveries)), "a webhook-id was sent twice"
    created = [r.alert for r in receiver.stats.accepted if r.type == "alert.created"]
    shifts = [(a.actor, a.topic, a.from_stance, a.to_stance) for a in created]
    assert sorted(shifts) == sorted(expected), "every expected shift exactly once, and nothing else"
    # the rest are the second outlets' reports of those shifts, each a corroboration of its alert
    ids = {a.alert_id for a in created}
    assert all(
        r.type == "alert.corroborated" and r.alert.alert_id in ids
        for r in receiver.stats.accepted
        if r.type != "alert.created"
    )
