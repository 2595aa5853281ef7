"""Channels are isolated on the real broker: one failing channel never holds back another, and a
failing delivery reaches the dead-letter topic within DELIVERY_MAX_AGE. Receivers are local HTTP
servers the tests start on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from pydantic import SecretStr

from shared.bus import KafkaBus
from shared.contracts import DeliveryTask, StanceObservation
from shared.topics import Topics
from tests.support import wait_until

from .factories import obs
from .kafka_alerter import publish, running_alerter, settings_for
from .receiver import Receiver

pytestmark = pytest.mark.timeout(90)


def reversals(n: int) -> list[StanceObservation]:
    """``n`` figures that each reverse once: one alert per figure."""
    stream = []
    for i in range(n):
        stream += [obs(f"f{i}-1", "support", actor=f"figure{i}"), obs(f"f{i}-2", "oppose", actor=f"figure{i}", hours=1)]
    return stream


async def test_a_webhook_failing_forever_does_not_delay_a_healthy_slack_channel(
    kafka_bus: KafkaBus, topics: Topics
) -> None:
    n, per_series = 6, 3
    failing = Receiver(script=lambda path, i: (500, {}))
    #: How many requests the failing webhook had seen when the last Slack message arrived.
    webhook_tries_then: list[int] = []

    def healthy_script(path: str, i: int) -> tuple[int, dict[str, str]]:
        if i == n - 1:
            webhook_tries_then.append(len(failing.to("/hook")))
        return 200, {}

    healthy = Receiver(script=healthy_script)
    hook_base, slack_base = await failing.start(), await healthy.start()
    try:
        settings = settings_for(
            topics,
            hook_base,
            slack_webhook_url=SecretStr(f"{slack_base}/slack"),
            slack_min_interval="0.05s",
            # The webhook's first series takes at least 1 s + 2 s of backoff between its 3 attempts.
            delivery_backoff_base="2s",
            delivery_backoff_max="10s",
            delivery_attempts_per_series=per_series,
        )
        async with running_alerter(kafka_bus, topics, settings):
            await publish(kafka_bus, topics, *reversals(n))
            await wait_until(lambda: len(healthy.to("/slack")) == n, timeout=30)
            await wait_until(lambda: len(failing.to("/hook")) >= per_series, timeout=30)
        slack = healthy.to("/slack")
        assert len({r.body for r in slack}) == n
        # Every Slack message arrived while the webhook was still inside its very first series ...
        assert webhook_tries_then and webhook_tries_then[0] < per_series
        first_hook = failing.to("/hook")[0].at
        end_of_first_series = failing.to("/hook")[per_series - 1].at
        assert slack[-1].at < end_of_first_series
        # ... and promptly: within a few seconds of the webhook's first failure.
        assert slack[-1].at - first_hook < 5.0
    finally:
        await failing.stop()
        await healthy.stop()


async def test_with_a_short_max_age_every_failing_alert_reaches_the_dead_letter_topic_within_it(
    kafka_bus: KafkaBus, topics: Topics
) -> None:
    n, max_age_s = 30, 3.0
    failing = Receiver(script=lambda path, i: (500, {}))
    base = await failing.start()
    try:
        settings = settings_for(
            topics,
            base,
            slack_webhook_url=None,
            delivery_max_age=f"{max_age_s}s",
            delivery_max_attempts=1000,  # the age, not the budget, is what gives up here
            delivery_backoff_base="0.2s",
            delivery_backoff_max="1s",
        )
        async with running_alerter(kafka_bus, topics, settings) as ctx:
            expired = ctx.metrics.counter("deliveries_expired_total", "", ["channel"])
            await publish(kafka_bus, topics, *reversals(n))
            await wait_until(lambda: expired.value(channel="webhook") >= n, timeout=30)
        dead = await kafka_bus.read_all(topics.dead_letters.name)
        tasks = [DeliveryTask.from_json_bytes(r.value or b"") for r in dead]
        assert len(dead) == n and len({t.delivery_id for t in tasks}) == n
        for rec, task in zip(dead, tasks, strict=True):
            assert (rec.header("reason"), rec.header("error")) == ("max-age", "webhook webhook: HTTP 500")
            assert task.first_due is not None
            age = datetime.fromisoformat(rec.header("failed_at") or "") - task.first_due
            # The bound: the max age, plus the lane's own latency (a Kafka fetch wait of up to 0.5 s, and a few
            # milliseconds per delivery queued ahead on the channel); measured up to 0.55 s over here.
            assert age <= timedelta(seconds=max_age_s + 1.5), f"{task.delivery_id} dead-lettered after {age}"
        # The queued alerts waited on the channel's circuit: fewer requests than alerts, not a series each.
        assert len(failing.to("/hook")) < n
    finally:
        await failing.stop()


async def test_every_task_redelivered_to_the_lanes_is_recognised_and_not_sent_again(
    kafka_bus: KafkaBus, topics: Topics
) -> None:
    n = 3
    receiver = Receiver()
    base = await receiver.start()
    try:
        async with running_alerter(kafka_bus, topics, settings_for(topics, base)):
            await publish(kafka_bus, topics, *reversals(n))
            await wait_until(lambda: len(receiver.to("/hook")) == n and len(receiver.to("/slack")) == n, timeout=30)
        # New lane groups read the deliveries topic from its beginning: every task is redelivered.
        again = settings_for(
            topics, base, group_id=f"{topics.prefix}alerter2", delivery_group_id=f"{topics.prefix}delivery2"
        )
        async with running_alerter(kafka_bus, topics, again) as ctx:
            skipped = ctx.metrics.counter("deliveries_skipped_total", "", ["channel"])
            await wait_until(
                lambda: skipped.value(channel="webhook") >= n and skipped.value(channel="slack") >= n, timeout=30
            )
        assert len(receiver.to("/hook")) == n and len(receiver.to("/slack")) == n
    finally:
        await receiver.stop()


async def test_a_channel_added_to_the_routing_later_gets_its_own_lane(kafka_bus: KafkaBus, topics: Topics) -> None:
    receiver = Receiver()
    base = await receiver.start()
    try:
        async with running_alerter(kafka_bus, topics, settings_for(topics, base, slack_webhook_url=None)):
            await publish(kafka_bus, topics, *reversals(1))
            await wait_until(lambda: len(receiver.to("/hook")) == 1, timeout=30)
        # Restarted with Slack added (same groups): the webhook lane resumes, the Slack lane is new.
        async with running_alerter(kafka_bus, topics, settings_for(topics, base)):
            await publish(kafka_bus, topics, obs("f0-3", "support", actor="figure0", hours=2))
            await wait_until(lambda: len(receiver.to("/hook")) == 2 and receiver.to("/slack"), timeout=30)
        (slack,) = receiver.to("/slack")
        newest = json.loads(receiver.to("/hook")[1].body)["data"]
        assert newest["article_id"] == "f0-3" and newest["alert_id"] in slack.body.decode()
    finally:
        await receiver.stop()
