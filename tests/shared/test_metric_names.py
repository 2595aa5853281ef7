"""Operators read one naming scheme, the lag of every partition, feed freshness and end-to-end latency."""

from __future__ import annotations

import asyncio
import base64
import contextlib

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from services.alerter.service import body
from services.alerter.settings import AlerterSettings
from shared.bus import ConsumerLoop, MemoryBus, Record
from shared.observability import Metrics
from shared.runtime import ServiceContext
from shared.topics import Topics
from tests.alerter.factories import obs
from tests.support import wait_until

PROCESS_METRICS = {"stancewatch_build_info", "stancewatch_up"}


def families(metrics: Metrics) -> dict[str, list]:
    return {f.name: f.samples for f in text_string_to_metric_families(metrics.render())}


async def test_every_metric_of_a_running_alerter_is_named_for_it_and_latency_is_measured_end_to_end() -> None:
    bus = MemoryBus()
    topics = Topics(prefix="m.")
    await bus.start()
    await bus.ensure_topics(topics.all())
    settings = AlerterSettings(
        bus="memory",
        alert_grace="0s",
        webhook_url=SecretStr("https://hooks.test/in"),
        webhook_secret=SecretStr("whsec_" + base64.b64encode(b"metric-test-key").decode()),
    )
    metrics = Metrics(service="alerter")
    metrics.process_gauge("build_info", "which build", ["service", "version"]).set(1, service="alerter", version="x")
    ctx = ServiceContext("alerter", settings, bus, topics, metrics, asyncio.Event())
    delivered: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        delivered.append(request)
        return httpx.Response(200)

    client = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    task = asyncio.create_task(body(ctx, env={}, client=client))
    try:
        await wait_until(ctx.ready.is_set, timeout=5)
        for o in (obs("a1", "support"), obs("a2", "oppose", hours=2)):
            await bus.publish(topics.observations.name, o, key=o.key)
        await wait_until(lambda: len(bus.records(topics.delivery_outcomes.name)) >= 1, timeout=5)
        # The lag gauge is refreshed on the loop's next turn after the records were handled.
        await wait_until(lambda: "stancewatch_alerter_consumer_lag" in families(metrics), timeout=5)
    finally:
        ctx.stop.set()
        await asyncio.wait_for(task, 10)
        await client.aclose()
    found = families(metrics)
    assert found, "the alerter exposed no metrics"
    strays = {n for n in found if not n.startswith("stancewatch_alerter_") and n not in PROCESS_METRICS}
    assert strays == set()
    lag = [s for s in found["stancewatch_alerter_consumer_lag"] if s.labels["topic"] == topics.observations.name]
    assert lag and all(s.value == 0 for s in lag)  # drained
    (count,) = [s for s in found["stancewatch_alerter_alert_latency_seconds"] if s.name.endswith("_count")]
    assert (count.labels, count.value) == ({"channel": "webhook", "mode": "instant"}, 1)
    (total,) = [s for s in found["stancewatch_alerter_alert_latency_seconds"] if s.name.endswith("_sum")]
    assert total.value > 3600  # the reversal's article is dated hours before the test runs: that delay counts


async def test_consumer_lag_shows_how_far_a_member_is_behind_while_it_works() -> None:
    bus = MemoryBus()
    await bus.start()
    for i in range(6):
        await bus.publish("t", str(i).encode(), key=str(i))
    release, blocked = asyncio.Event(), asyncio.Event()

    async def handler(rec: Record) -> None:
        if rec.offset == 2:
            blocked.set()
            await release.wait()

    metrics = Metrics(service="test")
    loop = ConsumerLoop(bus, ["t"], "g", handler, dead_letter_topic="dl", batch_size=2, metrics=metrics)
    lag = metrics.gauge("consumer_lag", "", ["group", "topic", "partition"])
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        await asyncio.wait_for(blocked.wait(), 5)
        assert lag.value(group="g", topic="t", partition="0") == 4  # two handled of six, stuck on the third
        release.set()
        await wait_until(lambda: lag.value(group="g", topic="t", partition="0") == 0, timeout=5)
    finally:
        stop.set()
        release.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
