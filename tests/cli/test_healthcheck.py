"""``stancewatch healthcheck``: a container's health check against a real HealthServer, without curl."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from shared.observability import HealthServer, Metrics
from tests.support import clean_env, free_port, stancewatch


class Service:
    """A real health server whose liveness and readiness the test decides."""

    def __init__(self) -> None:
        self.problems: list[dict[str, str]] = []
        self.ready = True
        self.server = HealthServer(
            Metrics(), "127.0.0.1", 0, ready=lambda: self.ready, problems=lambda: list(self.problems)
        )

    @property
    def port(self) -> str:
        return str(self.server.port)


@pytest.fixture
async def service() -> AsyncIterator[Service]:
    svc = Service()
    await svc.server.start()
    try:
        yield svc
    finally:
        await svc.server.stop()


async def test_a_service_answering_200_passes_with_status_0(service: Service) -> None:
    done = await stancewatch("healthcheck", "--port", service.port)
    assert done.status == 0, done.err
    assert f"healthy: http://127.0.0.1:{service.port}/healthz answered 200" in done.out


async def test_a_service_answering_503_fails_with_status_1_and_says_why(service: Service) -> None:
    service.problems = [{"task": "consumer stancewatch-enricher", "reason": "stalled: no progress for 312s"}]
    done = await stancewatch("healthcheck", "--port", service.port)
    assert done.status == 1
    assert "answered 503" in done.err and "consumer stancewatch-enricher" in done.err


async def test_the_port_is_the_services_own_stancewatch_http_port_when_none_is_given(service: Service) -> None:
    done = await stancewatch("healthcheck", env=clean_env(STANCEWATCH_HTTP_PORT=service.port))
    assert done.status == 0, done.err


async def test_a_url_without_a_path_checks_healthz_and_one_with_a_path_checks_that_path(service: Service) -> None:
    service.ready = False
    base = f"http://127.0.0.1:{service.port}"
    assert (await stancewatch("healthcheck", "--url", base)).status == 0
    not_ready = await stancewatch("healthcheck", "--url", f"{base}/readyz")
    assert not_ready.status == 1 and "answered 503" in not_ready.err


async def test_a_refused_connection_fails_with_status_1() -> None:
    done = await stancewatch("healthcheck", "--port", str(free_port()))
    assert done.status == 1
    assert "unhealthy" in done.err


async def test_a_service_that_never_answers_fails_within_the_timeout() -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()  # accepts the connection and never answers: a hung service
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = str(server.sockets[0].getsockname()[1])
    try:
        started = time.monotonic()
        done = await stancewatch("healthcheck", "--port", port, "--timeout", "0.5")
        elapsed = time.monotonic() - started
    finally:
        release.set()
        server.close()
        await server.wait_closed()
    assert done.status == 1
    assert "no answer within 0.5s" in done.err
    assert elapsed < 10, "bounded by the timeout plus the interpreter's start-up"


async def test_a_wrong_argument_is_status_1_never_dockers_reserved_2() -> None:
    for args in (["--port", "70000"], ["--url", "ftp://127.0.0.1"], ["--timeout", "0", "--port", "1"], []):
        done = await stancewatch("healthcheck", *args)
        assert done.status == 1, (args, done.err)


async def test_the_printed_url_never_shows_its_credentials(service: Service) -> None:
    done = await stancewatch("healthcheck", "--url", f"http://probe:hunter2@127.0.0.1:{service.port}/healthz")
    assert done.status == 0, done.err
    assert "hunter2" not in done.out + done.err
