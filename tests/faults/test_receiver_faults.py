"""The webhook receiver misbehaves: down for a minute, throttling, failing forever. Nothing is lost quietly.

The alerter runs as a process on the real broker; the receiver is a scripted HTTP server on 127.0.0.1.
Each test publishes one reversal (two observations) and watches what reaches the receiver and the
``dead-letters`` topic, and what the alerter writes to its log.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from services.demo.__main__ import Pipeline, free_port, new_secret, service_env
from shared.bus import KafkaBus, Record
from shared.contracts import utc_now
from shared.topics import Topics
from tests.alerter.factories import obs
from tests.alerter.receiver import Receiver, Script
from tests.support import wait_until

#: How long the receiver is away in the first test, as the operations issue states it.
DOWN_S = 60.0


@dataclass
class Rig:
    bus: KafkaBus
    topics: Topics
    pipeline: Pipeline
    secret: str

    async def reversal(self) -> None:
        """support two hours ago, oppose one hour ago: one alert (no grace: the records are in order)."""
        for hours_ago, o in ((2, obs("r1", "support", actor="zelenskyy")), (1, obs("r2", "oppose", actor="zelenskyy"))):
            when = utc_now() - timedelta(hours=hours_ago)
            o = o.model_copy(update={"article": o.article.model_copy(update={"published": when})})
            await self.bus.publish(self.topics.observations.name, o, key=o.key)

    def log(self) -> str:
        return (self.pipeline.log_dir / "alerter.log").read_text()


@contextlib.asynccontextmanager
async def alerter(bootstrap: str, prefix: str, tmp_path: Path, webhook_url: str, **settings: str) -> AsyncIterator[Rig]:
    topics = Topics(prefix=prefix)
    bus = KafkaBus(bootstrap, client_id="receiver-faults")
    await bus.start()
    await bus.ensure_topics(topics.all())
    secret = new_secret()
    pipeline = Pipeline(tmp_path)
    env = service_env(
        "alerter",
        bootstrap=bootstrap,
        prefix=prefix,
        port=free_port(),
        feeds_file=tmp_path / "none",
        webhook_url=webhook_url,
        secret=secret,
        poll_interval=1.0,
        alert_grace="0s",
    )
    env |= {"STANCEWATCH_DELIVERY_BACKOFF_BASE": "1s", "STANCEWATCH_DELIVERY_BACKOFF_MAX": "3s"}
    env |= {f"STANCEWATCH_{k.upper()}": v for k, v in settings.items()}
    pipeline.start("alerter", env)
    try:
        yield Rig(bus, topics, pipeline, secret)
        assert pipeline.dead() == [], f"the alerter exited: {pipeline.tail('alerter')}"
    finally:
        pipeline.stop()
        await bus.stop()


async def receiver(script: Script, port: int = 0) -> tuple[Receiver, str]:
    r = Receiver(script=script, port=port)
    return r, await r.start()


@pytest.mark.slow
async def test_a_receiver_down_for_a_minute_gets_the_alert_once_when_it_is_back(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens here for the first minute
    # Retries every 3 s at most: the retry budget (attempts x backoff) must outlast the outage.
    url = f"http://127.0.0.1:{port}/hooks"
    async with alerter(kafka_bootstrap, topic_prefix, tmp_path, url, delivery_max_attempts="100") as rig:
        await rig.reversal()
        await wait_until(lambda: "delivery attempt failed" in rig.log() or "channel failing" in rig.log(), 60)
        await asyncio.sleep(DOWN_S)  # the fault itself lasts this long
        up, _ = await receiver(lambda path, n: (200, {}), port=port)
        back = time.monotonic()
        try:
            await wait_until(lambda: len(up.to("/hooks", 200)) >= 1, 30)
            delivered_after_s = up.to("/hooks")[0].at - back
            await asyncio.sleep(2)  # room for a duplicate to show up
        finally:
            await up.stop()
    ids = [r.headers["webhook-id"] for r in up.requests]
    assert len(ids) == 1, f"one delivery, not {ids}"
    print(f"receiver back after {DOWN_S:.0f} s: alert delivered {delivered_after_s:.1f} s later")
    assert delivered_after_s < 10  # the retry schedule is capped at 3 s here (DELIVERY_BACKOFF_MAX)


@pytest.mark.slow
async def test_a_throttling_receiver_is_retried_no_sooner_than_its_retry_after(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    r, url = await receiver(lambda path, n: (429, {"Retry-After": "4"}) if n == 0 else (200, {}))
    try:
        async with alerter(kafka_bootstrap, topic_prefix, tmp_path, url + "/hooks") as rig:
            await rig.reversal()
            await wait_until(lambda: len(r.to("/hooks", 200)) == 1, 60)
    finally:
        await r.stop()
    first, second = r.to("/hooks")
    assert (first.status, second.status) == (429, 200)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # the same delivery, retried
    waited = second.at - first.at
    assert 4.0 <= waited < 10.0, f"retried after {waited:.2f} s"


@pytest.mark.slow
async def test_a_receiver_failing_forever_sends_the_delivery_to_dead_letters_and_no_secret_to_the_log(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    r, url = await receiver(lambda path, n: (500, {}))
    dead: list[Record] = []
    try:
        async with alerter(kafka_bootstrap, topic_prefix, tmp_path, url + "/hooks", delivery_max_age="12s") as rig:
            await rig.reversal()

            async def dead_lettered() -> bool:
                dead[:] = await rig.bus.read_all(rig.topics.dead_letters.name)
                return len(dead) >= 1

            await wait_until(dead_lettered, 60)
            secret = rig.secret
    finally:
        await r.stop()
    log = rig.log()  # complete: the process has stopped
    (record,) = dead
    assert record.header("source_topic") == rig.topics.deliveries.name
    assert record.header("reason") in {"max-age", "retry-budget"}
    assert "500" in (record.header("error") or "")
    assert len(r.to("/hooks", 500)) >= 2, "retried before giving up"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    for needle in (secret, secret.removeprefix("whsec_"), key.hex()):
        assert needle not in log, "a secret reached the log"
    assert "dead-lettered" in log
