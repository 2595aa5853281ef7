"""The shell every service runs in: logging, bus, topics, health endpoint, graceful SIGTERM.

A service supplies ``body(ctx)``, which runs until ``ctx.stop`` is set; SIGTERM/SIGINT set it,
the body finishes its in-flight work and commits, then the bus and HTTP server close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import metadata

from shared.bus import Bus, KafkaSecurity, make_bus
from shared.bus.backoff import Backoff
from shared.errors import BusError, ConfigError, StancewatchError
from shared.observability import HealthServer, JsonRoute, Metrics, configure_logging
from shared.settings import ServiceSettings
from shared.supervision import Watchdog
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
    #: Whether the broker answered the last probe; /readyz needs it too.
    broker_up: bool = True
    #: Extra read-only JSON routes for the HTTP server (e.g. the alerter's /positions).
    routes: dict[str, JsonRoute] = field(default_factory=dict)
    http: HealthServer | None = None
    #: Set when the service must end with an error although its body ended cleanly.
    failure: StancewatchError | None = None
    #: The service's long-running tasks register here; a dead or stalled one fails /healthz.
    watchdog: Watchdog = field(default_factory=Watchdog)


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
        security=KafkaSecurity.from_settings(settings),
        group=settings.group_timeouts(),
    )
    topics = Topics(prefix=settings.topic_prefix)
    metrics = Metrics(service=name)
    watchdog = Watchdog(settings.stall_after.total_seconds())
    watchdog.stopping_when(stop.is_set)
    ctx = ServiceContext(name, settings, bus, topics, metrics, stop, routes=dict(routes or {}), watchdog=watchdog)
    up = metrics.process_gauge("up", "1 while the service runs", ["service"])
    build = metrics.process_gauge("build_info", "Always 1: which build this process runs", ["service", "version"])
    build.set(1, service=name, version=_version())
    try:
        # Health first: while the broker is awaited, /healthz answers and /readyz says why not.
        ctx.http = HealthServer(
            metrics,
            settings.http_host,
            settings.http_port,
            ready=lambda: ctx.ready.is_set() and ctx.broker_up,
            routes=ctx.routes,
            problems=lambda: [p.as_dict() for p in watchdog.problems()],
        )
        try:
            port = await ctx.http.start()
        except OSError as exc:
            raise ConfigError(
                f"cannot serve health on {settings.http_host}:{settings.http_port} (STANCEWATCH_HTTP_PORT): {exc}"
            ) from exc
        up.set(1, service=name)
        log.info("%s started", name, extra={"service": name, "http_port": port})
        if not await connect(ctx):
            return
        probe = asyncio.create_task(probe_broker(ctx, settings.broker_probe_interval.total_seconds()))
        watchdog.watch("broker-probe", probe)
        try:
            await body(ctx)
        finally:
            probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probe
        if ctx.failure is not None:
            raise ctx.failure
    except ConfigError as exc:  # the operator's to fix: the message says what, a traceback would not help
        log.error("%s failed: %s", name, exc, extra={"service": name})
        raise
    except StancewatchError:
        log.exception("%s failed", name, extra={"service": name})
        raise
    finally:
        up.set(0, service=name)
        if ctx.http is not None:
            await ctx.http.stop()
        await bus.stop()
        log.info("%s stopped", name, extra={"service": name})


def _version() -> str:
    try:
        return metadata.version("stancewatch")
    except metadata.PackageNotFoundError:  # run from a checkout without installing
        return "unknown"


async def connect(ctx: ServiceContext, backoff: Backoff | None = None) -> bool:
    """Start the bus (and create topics), waiting for an unreachable broker like for an outage.

    Returns False when stopped before the broker answered. Gives up only past the operator's
    ``STANCEWATCH_BROKER_MAX_OUTAGE``, if one is set.
    """
    settings = ctx.settings
    since = time.monotonic()
    backoff = backoff or Backoff()
    while not ctx.stop.is_set():
        try:
            await ctx.bus.start()
            if settings.create_topics:
                await ctx.bus.ensure_topics(ctx.topics.all())
            if backoff.waited:
                log.info("broker reachable: starting", extra={"service": ctx.name})
            return True
        except BusError as exc:
            ctx.broker_up = False
            waited = time.monotonic() - since
            limit = settings.broker_max_outage
            if limit is not None and waited > limit.total_seconds():
                raise BusError(f"broker away for {waited:.0f}s, over STANCEWATCH_BROKER_MAX_OUTAGE: {exc}") from exc
            log.warning(
                "waiting for the broker at %s (KAFKA_BOOTSTRAP_SERVERS): %s",
                settings.kafka_bootstrap_servers,
                exc,
                extra={"service": ctx.name},
            )
            await backoff.wait(ctx.stop)
    return False


async def probe_broker(ctx: ServiceContext, interval_s: float) -> None:
    """Keep ``ctx.broker_up`` true to the broker: readiness fails within one interval of an outage.

    With ``STANCEWATCH_BROKER_MAX_OUTAGE`` set, an outage longer than that stops the service with an
    error (for operators who prefer a restart by their orchestrator); by default it never does.
    """
    gauge = ctx.metrics.gauge("broker_reachable", "1 while the broker answers the readiness probe", ["service"])
    limit = ctx.settings.broker_max_outage
    down_since: float | None = None
    while True:
        up = await ctx.bus.reachable(timeout_s=min(2.0, interval_s))
        if up != ctx.broker_up:
            level = logging.INFO if up else logging.WARNING
            log.log(
                level, "broker %s", "reachable again" if up else "unreachable: not ready", extra={"service": ctx.name}
            )
        ctx.broker_up = up
        gauge.set(1 if up else 0, service=ctx.name)
        now = time.monotonic()
        down_since = None if up else (down_since if down_since is not None else now)
        if limit is not None and down_since is not None and now - down_since > limit.total_seconds():
            ctx.failure = BusError(f"broker away for {now - down_since:.0f}s, over STANCEWATCH_BROKER_MAX_OUTAGE")
            log.error("%s", ctx.failure, extra={"service": ctx.name})
            ctx.stop.set()
            return
        await asyncio.sleep(interval_s)


def run_service(name: str, settings: ServiceSettings, body: Body, **kw: object) -> int:
    """Entry point helper for ``__main__``: logging, run, exit codes (2 a configuration error, 1 any other)."""
    configure_logging(settings.log_level, settings.log_json)
    try:
        asyncio.run(serve(name, settings, body, **kw))  # type: ignore[arg-type]
    except ConfigError as exc:  # as a wrong variable at load: 2, whether found at load or at connect
        print(f"stancewatch {name}: {exc}")
        return 2
    except StancewatchError as exc:
        print(f"stancewatch {name}: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
