"""The wired alerter on the in-memory bus: observations in, positions/alerts/deliveries out, API routes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable

import httpx
from pydantic import SecretStr

from services.alerter.service import body
from services.alerter.settings import AlerterSettings
from services.alerter.signing import verify
from shared.bus import MemoryBus
from shared.contracts import DeliveryOutcome, Position, PositionChange
from shared.observability import Metrics
from shared.runtime import ServiceContext
from shared.topics import Topics
from tests.support import wait_until

from .factories import obs

SECRET = "whsec_" + base64.b64encode(b"service-test-key").decode()


def settings(grace: str = "0s") -> AlerterSettings:
    return AlerterSettings(
        bus="memory",
        webhook_url=SecretStr("https://hooks.test/in"),
        webhook_secret=SecretStr(SECRET),
        slack_webhook_url=SecretStr("https://hooks.slack.test/x"),
        slack_min_interval="0s",
        alert_grace=grace,
    )


@contextlib.asynccontextmanager
async def alerter(bus: MemoryBus, handler: Callable, grace: str = "0s") -> AsyncIterator[ServiceContext]:
    topics = Topics(prefix="m.")
    await bus.start()
    await bus.ensure_topics(topics.all())
    ctx = ServiceContext("alerter", settings(grace), bus, topics, Metrics(), asyncio.Event())
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    task = asyncio.create_task(body(ctx, env={}, client=client))
    try:
        await wait_until(ctx.ready.is_set, timeout=5)
        yield ctx
    finally:
        ctx.stop.set()
        await asyncio.wait_for(task, 10)
        await client.aclose()


async def test_reversal_flows_from_observation_to_signed_webhook_and_slack() -> None:
    bus = MemoryBus()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with alerter(bus, handler) as ctx:
        stream = (
            obs("a1", "support", source="Wire"),
            obs("a2", "oppose", hours=2, source="Post"),
            obs("a3", "oppose", hours=3, source="Herald"),
        )
        for o in stream:
            await bus.publish(ctx.topics.observations.name, o, key=o.key)
        await wait_until(lambda: len(seen) >= 4, timeout=5)
        await wait_until(lambda: len(bus.records(ctx.topics.delivery_outcomes.name)) >= 4, timeout=5)
        alerts_route = ctx.routes["/alerts"]({"actor": "rutte"})
        positions_route = ctx.routes["/positions"]({})
    hooks = [r for r in seen if r.url.host == "hooks.test"]
    alert_records = [PositionChange.from_json_bytes(r.value or b"") for r in bus.records(ctx.topics.alerts.name)]
    assert verify(SECRET, dict(hooks[0].headers), hooks[0].content) == alert_records[0].alert_id
    assert [r.header("event") for r in bus.records(ctx.topics.alerts.name)] == ["alert", "corroboration"]
    assert [c.id for c in alert_records[1].corroborations] == ["a3"]
    # the alert, then its corroboration by another outlet, on each channel; the webhook's are signed events
    assert len(seen) == 4 and len(hooks) == 2
    events = [json.loads(h.content) for h in hooks]
    assert [e["type"] for e in events] == ["alert.created", "alert.corroborated"]
    assert [c["id"] for c in events[1]["data"]["corroborations"]] == ["a3"]
    assert verify(SECRET, dict(hooks[1].headers), hooks[1].content) not in (None, alert_records[0].alert_id)
    slack = [r for r in seen if r.url.host == "hooks.slack.test"]
    assert "another source" in slack[1].content.decode() and "Herald" in slack[1].content.decode()
    latest = Position.from_json_bytes(bus.records(ctx.topics.positions.name)[-1].value or b"")
    assert latest.established == "oppose" and len(latest.history) == 3
    outcomes = [DeliveryOutcome.from_json_bytes(r.value or b"") for r in bus.records(ctx.topics.delivery_outcomes.name)]
    assert sorted(o.channel for o in outcomes) == ["slack", "slack", "webhook", "webhook"]
    assert {o.status for o in outcomes} == {"delivered"}
    assert alerts_route["count"] == 1 and alerts_route["alerts"][0]["corroborations"][0]["id"] == "a3"
    assert positions_route["positions"][0]["established"] == "oppose"
    assert (
        ctx.metrics.counter("alerts_total", "", ["severity", "kind"]).value(severity="reversal", kind="cross-article")
        == 1
    )


async def test_observations_arriving_reversed_within_the_grace_alert_in_the_order_they_were_said() -> None:
    bus = MemoryBus()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with alerter(bus, handler, grace="1s") as ctx:
        # said: support (a1), then oppose (a2); delivered the other way round, as after an enricher restart
        for o in (obs("a2", "oppose", hours=2), obs("a1", "support")):
            await bus.publish(ctx.topics.observations.name, o, key=o.key)
        await wait_until(lambda: len(bus.records(ctx.topics.positions.name)) >= 2, timeout=5)
        assert bus.records(ctx.topics.alerts.name) == []  # still within the grace period
        await wait_until(lambda: len(bus.records(ctx.topics.alerts.name)) >= 1, timeout=5)  # the tick decides
        await asyncio.sleep(1.5)  # room for a wrong or second alert to show up
    (alert,) = [PositionChange.from_json_bytes(r.value or b"") for r in bus.records(ctx.topics.alerts.name)]
    assert (alert.from_stance, alert.to_stance, alert.article_id) == ("support", "oppose", "a2")
    latest = Position.from_json_bytes(bus.records(ctx.topics.positions.name)[-1].value or b"")
    assert latest.established == "oppose" and [h.article.id for h in latest.history] == ["a1", "a2"]


async def test_a_stuck_channel_does_not_stall_shift_detection() -> None:
    bus = MemoryBus()
    release = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200)

    async with alerter(bus, handler) as ctx:
        stream = [obs("a1", "support"), obs("a2", "oppose", hours=2)]
        stream += [obs("b1", "oppose", actor="putin", hours=3), obs("b2", "support", actor="putin", hours=4)]
        for o in stream:
            await bus.publish(ctx.topics.observations.name, o, key=o.key)
        await wait_until(lambda: len(bus.records(ctx.topics.alerts.name)) == 2, timeout=5)
        assert bus.records(ctx.topics.delivery_outcomes.name) == []
        release.set()
        await wait_until(lambda: len(bus.records(ctx.topics.delivery_outcomes.name)) == 4, timeout=5)


async def test_undecodable_observation_is_dead_lettered_and_the_stream_continues() -> None:
    bus = MemoryBus()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200)

    async with alerter(bus, handler) as ctx:
        await bus.publish(ctx.topics.observations.name, b'{"actor": 1}', key="rutte:tomahawks")
        for o in (obs("a1", "support"), obs("a2", "oppose", hours=2)):
            await bus.publish(ctx.topics.observations.name, o, key=o.key)
        await wait_until(lambda: len(bus.records(ctx.topics.alerts.name)) == 1, timeout=5)
        (dead,) = bus.records(ctx.topics.dead_letters.name)
        assert dead.header("error_kind") == "poison"
