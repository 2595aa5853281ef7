"""The shell every service runs in: logging, bus, topics, health endpoint, graceful SIGTERM.

A service supplies ``body(ctx)``, which runs until ``ctx.stop`` is set; SIGTERM/SIGINT set it,
the body finishes its in-flight work and commits, then the bus and HTTP server close.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from shared.bus import Bus, make_bus
from shared.errors import StancewatchError
from shared.observability import HealthServer, JsonRoute, Metrics, configure_logging
from shared.settings import ServiceSettings
from shared.topics import Topics

log = logging.getLogger("stancewatch.runtime")


@dataclass
class ServiceContext:
    name: str
    settings: ServiceSettings
    bus: Bus
    topics: Topics
    metrics: Metrics
    stop: asyncio.Event
    #: Set by the body once it is consuming; drives /readyz.
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    #: Extra read-only JSON routes for the HTTP server (e.g. the alerter's /positions).
    routes: dict[str, JsonRoute] = field(default_factory=dict)
    http: HealthServer | None = None


Body = Callable[[ServiceContext], Awaitable[None]]


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread
            pass


async def serve(
    name: str,
    settings: ServiceSettings,
    body: Body,
    *,
    bus: Bus | None = None,
    stop: asyncio.Event | None = None,
    routes: dict[str, JsonRoute] | None = None,
) -> None:
    stop = stop or asyncio.Event()
    install_signal_handlers(stop)
    bus = bus or make_bus(
        settings.bus,
        settings.kafka_bootstrap_servers,
        client_id=f"stancewatch-{name}",
        replication_factor=settings.replication_factor,
    )
    topics = Topics(prefix=settings.topic_prefix)
    metrics = Metrics()
    ctx = ServiceContext(name, settings, bus, topics, metrics, stop, routes=dict(routes or {}))
    up = metrics.gauge("up", "1 while the service runs", ["service"])
    await bus.start()
    try:
        if settings.create_topics:
            await bus.ensure_topics(topics.all())
        ctx.http = HealthServer(
            metrics, settings.http_host, settings.http_port, ready=ctx.ready.is_set, routes=ctx.routes
        )
        port = await ctx.http.start()
        up.set(1, service=name)
        log.info("%s started", name, extra={"service": name, "http_port": port})
        await body(ctx)
    except StancewatchError:
        log.exception("%s failed", name, extra={"service": name})
        raise
    finally:
        up.set(0, service=name)
        if ctx.http is not None:
            await ctx.http.stop()
        await bus.stop()
        log.info("%s stopped", name, extra={"service": name})


def run_service(name: str, settings: ServiceSettings, body: Body, **kw: object) -> int:
    """Entry point helper for ``__main__``: configure logging, run, map errors to exit codes."""
    configure_logging(settings.log_level, settings.log_json)
    try:
        asyncio.run(serve(name, settings, body, **kw))  # type: ignore[arg-type]
    except StancewatchError as exc:
        print(f"stancewatch {name}: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
