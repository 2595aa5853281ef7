"""Readiness tells the truth about the broker: /readyz goes 503 within seconds of an outage, and back.

Runs its own broker (own ports and data folder) so it can be stopped without touching the suite's.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from shared.runtime import ServiceContext, serve
from shared.settings import ServiceSettings
from tests.deploy.test_kafka_script import ROOT, free_port, run


@pytest.fixture
def own_broker(tmp_path: Path):
    cache = tmp_path / "cache"
    jars = ROOT / ".cache" / "kafka-jars"
    cache.mkdir()
    if (jars / ".complete").exists():
        (cache / "kafka-jars").symlink_to(jars)
    port = free_port()
    env = {
        **os.environ,
        "STANCEWATCH_CACHE": str(cache),
        "KAFKA_PORT": str(port),
        "KAFKA_CONTROLLER_PORT": str(free_port()),
    }
    started = run("start", env)
    assert started.returncode == 0, started.stderr
    yield port, env
    run("stop", env)
    shutil.rmtree(cache, ignore_errors=True)


async def wait_status(url: str, status: int, budget_s: float) -> float:
    """Seconds until ``url`` answers ``status``; fails after ``budget_s``."""
    t0 = time.monotonic()
    async with httpx.AsyncClient() as client:
        while time.monotonic() - t0 < budget_s:
            if (await client.get(url)).status_code == status:
                return time.monotonic() - t0
            await asyncio.sleep(0.2)
    raise AssertionError(f"{url} did not answer {status} within {budget_s}s")


@pytest.mark.kafka
@pytest.mark.slow
async def test_readyz_follows_the_broker_down_and_up_again(own_broker) -> None:
    port, env = own_broker
    settings = ServiceSettings(
        kafka_bootstrap_servers=f"127.0.0.1:{port}",
        create_topics=False,
        broker_probe_interval=timedelta(seconds=1),
    )
    stop = asyncio.Event()
    serving: asyncio.Future[ServiceContext] = asyncio.get_running_loop().create_future()

    async def body(ctx: ServiceContext) -> None:
        ctx.ready.set()
        serving.set_result(ctx)
        await stop.wait()

    task = asyncio.create_task(serve("probe-test", settings, body, stop=stop))
    try:
        ctx = await asyncio.wait_for(serving, 30)
        assert ctx.http is not None
        url = f"http://127.0.0.1:{ctx.http.port}/readyz"
        await wait_status(url, 200, 10)
        stopped = await asyncio.to_thread(run, "stop", env)
        assert stopped.returncode == 0
        assert await wait_status(url, 503, 10) < 10
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(url.replace("readyz", "metrics"))).text
        assert 'broker_reachable{service="probe-test"} 0' in metrics
        restarted = await asyncio.to_thread(run, "start", env)
        assert restarted.returncode == 0, restarted.stderr
        await wait_status(url, 200, 15)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
