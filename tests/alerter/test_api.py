"""The alerter's /positions and /alerts over real HTTP on 127.0.0.1: decoded filters, refused bad queries.

Cases: cases/api_queries.yaml.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import yaml

from services.alerter.service import body
from services.alerter.settings import AlerterSettings
from shared.bus import MemoryBus
from shared.observability import HealthServer, Metrics
from shared.runtime import ServiceContext
from shared.topics import Topics
from tests.support import http_get, wait_until

from .factories import obs

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "api_queries.yaml").read_text(encoding="utf-8"))
TOPIC = "eu-troops-ukraine"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def port() -> AsyncIterator[int]:
    """A wired alerter on the in-memory bus holding three positions and two alerts, served as run_service does.

    Shared by the module's cases: they only read.
    """
    bus = MemoryBus()
    topics = Topics(prefix="api.")
    await bus.start()
    await bus.ensure_topics(topics.all())
    metrics = Metrics()
    ctx = ServiceContext(
        "alerter", AlerterSettings(bus="memory", alert_grace="0s"), bus, topics, metrics, asyncio.Event()
    )
    server = HealthServer(metrics, "127.0.0.1", 0, routes=ctx.routes)
    task = asyncio.create_task(body(ctx, env={}))
    try:
        await wait_until(ctx.ready.is_set, timeout=5)
        await server.start()
        for actor, topic, stances in (("zelenskyy", TOPIC, 2), ("trump", TOPIC, 2), ("rutte", "tomahawks", 1)):
            for i, stance in enumerate(("support", "oppose")[:stances]):
                o = obs(f"{actor}{i}", stance, actor=actor, topic=topic, hours=i)
                await bus.publish(topics.observations.name, o, key=o.key)
            # One figure at a time, so the alerts are recorded in a known order.
            await wait_until(lambda a=actor, n=stances - 1: held(ctx, a) == (1, n), timeout=5)
        yield server.port
    finally:
        ctx.stop.set()
        await asyncio.wait_for(task, 10)
        await server.stop()


def held(ctx: ServiceContext, actor: str) -> tuple[int, int]:
    """(positions, alerts) the alerter holds for ``actor``, read through the route functions themselves."""
    return ctx.routes["/positions"]({"actor": actor})["count"], ctx.routes["/alerts"]({"actor": actor})["count"]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("case", CASES, ids=[c["target"] for c in CASES])
async def test_a_query_is_decoded_and_filters_or_is_refused_with_the_reason(port: int, case: dict) -> None:
    status, raw = await http_get(port, case["target"])
    answer = json.loads(raw)
    assert status == case["status"], answer
    if status == 400:
        assert answer["error"] == "bad request" and case["reason"] in answer["reason"]
        return
    key = "positions" if "positions" in case else "alerts"
    assert [f"{item['actor']}:{item['topic']}" for item in answer[key]] == case[key]
    assert answer["count"] == len(case[key])
