"""Readiness tells the truth about the broker: /readyz goes 503 within seconds of an outage, and back.

Runs its own broker (own ports and data folder) so it can be stopped without touching the suite's.
"""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import timedelta

import httpx
import pytest

from shared.errors import ConfigError
from shared.runtime import ServiceContext, serve
from shared.settings import ServiceSettings
from tests.support import OwnBroker, free_port


async def wait_status(url: str, status: int, budget_s: float) -> float:
    """Seconds until ``url`` answers ``status``; fails after ``budget_s``."""
    t0 = time.monotonic()
    async with httpx.AsyncClient() as client:
        while time.monotonic() - t0 < budget_s:
            try:
                if (await client.get(url)).status_code == status:
                    return time.monotonic() - t0
            except httpx.ConnectError:
                pass  # not listening yet
            await asyncio.sleep(0.2)
    raise AssertionError(f"{url} did not answer {status} within {budget_s}s")


@pytest.mark.kafka
@pytest.mark.slow
async def test_readyz_follows_the_broker_down_and_up_again(own_broker: OwnBroker) -> None:
    settings = ServiceSettings(
        kafka_bootstrap_servers=own_broker.bootstrap,
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
        await asyncio.to_thread(own_broker.stop)
        assert await wait_status(url, 503, 10) < 10
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(url.replace("readyz", "metrics"))).text
        assert 'broker_reachable{service="probe-test"} 0' in metrics
        await asyncio.to_thread(own_broker.start)
        await wait_status(url, 200, 15)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.mark.kafka
@pytest.mark.slow
async def test_a_service_started_before_its_broker_waits_not_ready_then_runs(own_broker: OwnBroker) -> None:
    await asyncio.to_thread(own_broker.stop)
    port = free_port()
    settings = ServiceSettings(
        kafka_bootstrap_servers=own_broker.bootstrap,
        http_host="127.0.0.1",
        http_port=port,
        broker_probe_interval=timedelta(seconds=1),
    )
    stop = asyncio.Event()
    ran = asyncio.Event()

    async def body(ctx: ServiceContext) -> None:
        ctx.ready.set()
        ran.set()
        await stop.wait()

    task = asyncio.create_task(serve("early-start", settings, body, stop=stop))
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_status(f"{base}/healthz", 200, 10)  # alive at once ...
        await wait_status(f"{base}/readyz", 503, 5)  # ... but not ready without its broker
        await asyncio.sleep(3)  # the broker stays away a while: the service waits, it does not exit
        assert not task.done() and not ran.is_set()
        await asyncio.to_thread(own_broker.start)
        await asyncio.wait_for(ran.wait(), 60)
        await wait_status(f"{base}/readyz", 200, 15)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_a_busy_health_port_is_a_clear_configuration_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = ServiceSettings(bus="memory", http_host="127.0.0.1", http_port=taken.getsockname()[1])

        async def body(ctx: ServiceContext) -> None:
            raise AssertionError("the body must not run")

        with pytest.raises(ConfigError, match="STANCEWATCH_HTTP_PORT"):
            await serve("busy-port", settings, body, stop=asyncio.Event())
