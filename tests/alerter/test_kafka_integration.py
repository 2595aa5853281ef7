"""The alerter on the real broker with a local HTTP receiver started by each test."""

from __future__ import annotations

import asyncio
import json

import pytest

from services.alerter.signing import verify
from shared.bus import KafkaBus
from shared.contracts import DeliveryTask
from shared.topics import Topics
from tests.support import wait_until

from .factories import obs
from .kafka_alerter import SECRET, outcomes, publish, running_alerter, settings_for
from .receiver import Receiver

pytestmark = pytest.mark.timeout(90)


async def test_signature_verifies_and_slack_text_is_escaped(kafka_bus: KafkaBus, topics: Topics) -> None:
    receiver = Receiver()
    base = await receiver.start()
    try:
        async with running_alerter(kafka_bus, topics, settings_for(topics, base)):
            hostile = "Minister <!channel> now opposes <@U123> plan & <https://evil.test|click>"
            await publish(kafka_bus, topics, obs("k1", "support"), obs("k2", "oppose", hours=1, title=hostile))
            await wait_until(lambda: receiver.to("/hook") and receiver.to("/slack"), timeout=30)
        (hook,) = receiver.to("/hook")
        alert_id = verify(SECRET, hook.headers, hook.body)
        event = json.loads(hook.body)
        assert event["type"] == "alert.created"
        assert event["data"]["alert_id"] == alert_id and event["data"]["to"] == "oppose"
        slack_text = receiver.to("/slack")[0].body.decode()
        for raw in ("<!channel>", "<@U123>", "<https://evil.test"):
            assert raw not in slack_text
        assert "&lt;!channel&gt;" in slack_text
    finally:
        await receiver.stop()


async def test_receiver_down_for_a_while_gets_every_alert_exactly_once(kafka_bus: KafkaBus, topics: Topics) -> None:
    # The webhook fails its first 7 requests (several series, re-queued on Kafka), then recovers.
    receiver = Receiver(script=lambda path, n: (500, {}) if path == "/hook" and n < 7 else (200, {}))
    base = await receiver.start()
    try:
        async with running_alerter(kafka_bus, topics, settings_for(topics, base)):
            await publish(
                kafka_bus,
                topics,
                obs("r1", "support"),
                obs("r2", "oppose", hours=1),
                obs("p1", "oppose", actor="putin"),
                obs("p2", "support", actor="putin", hours=1),
                obs("z1", "support", actor="zelenskyy", past="oppose"),
            )
            await wait_until(lambda: len(receiver.to("/hook", 200)) >= 3, timeout=45)
            await asyncio.sleep(1.0)  # room for a wrongful duplicate to show up
        ok_ids = [r.headers["webhook-id"] for r in receiver.to("/hook", 200)]
        assert len(ok_ids) == 3 and len(set(ok_ids)) == 3
        # Retries carried the same webhook-id as the successful attempt.
        assert {r.headers["webhook-id"] for r in receiver.to("/hook")} == set(ok_ids)
        got = await outcomes(kafka_bus, topics)
        hook = [o for o in got if o.channel == "webhook"]
        assert {o.status for o in hook} == {"failed", "delivered"}
        assert sorted(a for o in hook if o.status == "delivered" for a in o.alert_ids) == sorted(ok_ids)
        requeued = await kafka_bus.read_all(topics.deliveries.name)
        assert len(requeued) > 6  # 6 first tasks (3 alerts x 2 channels) plus re-queued retries
    finally:
        await receiver.stop()


async def test_429_with_retry_after_is_honoured(kafka_bus: KafkaBus, topics: Topics) -> None:
    receiver = Receiver(script=lambda path, n: (429, {"Retry-After": "2"}) if n == 0 else (200, {}))
    base = await receiver.start()
    try:
        async with running_alerter(kafka_bus, topics, settings_for(topics, base, slack_webhook_url=None)):
            await publish(kafka_bus, topics, obs("s1", "support"), obs("s2", "oppose", hours=1))
            await wait_until(lambda: receiver.to("/hook", 200), timeout=30)
        first, second = receiver.to("/hook")
        assert first.status == 429 and second.status == 200
        assert second.at - first.at >= 1.9  # our own backoff here is at most 0.5 s
    finally:
        await receiver.stop()


async def test_restarted_alerter_rebuilds_state_from_kafka_and_does_not_resend(
    kafka_bus: KafkaBus, topics: Topics
) -> None:
    receiver = Receiver()
    base = await receiver.start()
    try:
        settings = settings_for(topics, base, slack_webhook_url=None)
        async with running_alerter(kafka_bus, topics, settings):
            await publish(kafka_bus, topics, obs("x1", "support"), obs("x2", "oppose", hours=1))
            await wait_until(lambda: receiver.to("/hook"), timeout=30)
        (first,) = receiver.to("/hook")
        # A new instance with a new consumer group re-reads every observation (a replay) ...
        restarted = settings_for(
            topics,
            base,
            slack_webhook_url=None,
            group_id=f"{topics.prefix}alerter2",
            delivery_group_id=f"{topics.prefix}d2",
        )
        async with running_alerter(kafka_bus, topics, restarted) as ctx:
            await wait_until(lambda: ctx.routes["/positions"]({})["count"] == 1, timeout=10)
            assert ctx.routes["/positions"]({})["positions"][0]["established"] == "oppose"
            await publish(kafka_bus, topics, obs("x3", "support", hours=2))
            await wait_until(lambda: len(receiver.to("/hook")) >= 2, timeout=30)
            await asyncio.sleep(1.0)
        ids = [r.headers["webhook-id"] for r in receiver.to("/hook")]
        assert len(ids) == 2 and ids[0] == first.headers["webhook-id"] and ids[1] != ids[0]
        second = json.loads(receiver.to("/hook")[1].body)["data"]
        # ... and its state came from the compacted topic: the new shift starts from the rebuilt "oppose".
        assert (second["from"], second["to"], second["article_id"]) == ("oppose", "support", "x3")
    finally:
        await receiver.stop()


async def test_a_flip_back_inside_the_window_arrives_as_a_new_alert_and_a_second_source_as_a_corroboration(
    kafka_bus: KafkaBus, topics: Topics
) -> None:
    receiver = Receiver()
    base = await receiver.start()

    async def all_delivered() -> bool:  # two alerts and a corroboration, on each of the two channels
        return len([o for o in await outcomes(kafka_bus, topics) if o.status == "delivered"]) >= 6

    try:
        async with running_alerter(kafka_bus, topics, settings_for(topics, base)):
            await publish(
                kafka_bus,
                topics,
                obs("f1", "support", source="Wire"),
                obs("f2", "oppose", hours=1, source="Post"),
                obs("f3", "support", hours=2, source="Herald"),  # back again, well inside the 48 h window
                obs("f4", "support", hours=2.5, source="Daily"),  # another outlet reports the flip back
            )
            await wait_until(all_delivered, timeout=30)
        # what the alerter queued: two alerts and one corroboration per channel, nothing else
        tasks = [DeliveryTask.from_json_bytes(r.value or b"") for r in await kafka_bus.read_all(topics.deliveries.name)]
        assert sorted(t.event for t in tasks if t.channel == "webhook") == [
            "alert.corroborated",
            "alert.created",
            "alert.created",
        ]
        hooks = receiver.to("/hook")
        ids = [verify(SECRET, r.headers, r.body) for r in hooks]
        events = [json.loads(r.body) for r in hooks]
        assert [e["type"] for e in events] == ["alert.created", "alert.created", "alert.corroborated"]
        changes = [(e["data"]["from"], e["data"]["to"], e["data"]["article_id"]) for e in events]
        assert changes == [("support", "oppose", "f2"), ("oppose", "support", "f3"), ("oppose", "support", "f3")]
        assert [c["id"] for c in events[2]["data"]["corroborations"]] == ["f4"]
        assert ids[:2] == [events[0]["data"]["alert_id"], events[1]["data"]["alert_id"]] and len(set(ids)) == 3
        follow_up = receiver.to("/slack")[2].body.decode()
        assert "another source" in follow_up and "Daily" in follow_up
    finally:
        await receiver.stop()
