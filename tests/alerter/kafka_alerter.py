"""Running the wired alerter on the real broker: settings, the running service, publishing, reading outcomes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator

from pydantic import SecretStr

from services.alerter.service import body
from services.alerter.settings import AlerterSettings
from shared.bus import KafkaBus
from shared.contracts import DeliveryOutcome, StanceObservation
from shared.observability import Metrics
from shared.runtime import ServiceContext
from shared.topics import Topics
from tests.support import wait_until

SECRET = "whsec_" + base64.b64encode(b"integration-test-key").decode()


def settings_for(topics: Topics, base_url: str, **kw: object) -> AlerterSettings:
    values: dict[str, object] = {
        "topic_prefix": topics.prefix,
        "webhook_url": SecretStr(f"{base_url}/hook"),
        "webhook_secret": SecretStr(SECRET),
        "slack_webhook_url": SecretStr(f"{base_url}/slack"),
        "slack_min_interval": "0.2s",
        "delivery_backoff_base": "0.1s",
        "delivery_backoff_max": "0.5s",
        "delivery_attempts_per_series": 2,
        "group_id": f"{topics.prefix}alerter",
        "delivery_group_id": f"{topics.prefix}delivery",
        # These tests are about delivery and restarts, fed in order: alert on arrival (the grace is
        # tested in test_event_time.py and test_service.py).
        "alert_grace": "0s",
    }
    values.update(kw)
    return AlerterSettings(**values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running_alerter(bus: KafkaBus, topics: Topics, settings: AlerterSettings) -> AsyncIterator[ServiceContext]:
    ctx = ServiceContext("alerter", settings, bus, topics, Metrics(), asyncio.Event())
    task = asyncio.create_task(body(ctx, env={}))
    try:
        await wait_until(lambda: ctx.ready.is_set() or task.done(), timeout=30)
        if task.done():
            task.result()
        yield ctx
    finally:
        ctx.stop.set()
        await asyncio.wait_for(task, 30)


async def publish(bus: KafkaBus, topics: Topics, *observations: StanceObservation) -> None:
    for o in observations:
        await bus.publish(topics.observations.name, o, key=o.key)


async def outcomes(bus: KafkaBus, topics: Topics) -> list[DeliveryOutcome]:
    return [DeliveryOutcome.from_json_bytes(r.value or b"") for r in await bus.read_all(topics.delivery_outcomes.name)]
