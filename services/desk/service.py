"""Wiring: open (or rebuild) the store, consume the five topics into it, serve the pages and the API."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from services.desk.auth import Keyring, Sessions
from services.desk.errors import StoreUnavailable
from services.desk.ingest import Ingest
from services.desk.settings import DeskSettings
from services.desk.store import Store, make_store
from services.desk.web import DeskApp, DeskConfig
from shared.bus import ConsumerLoop
from shared.bus.backoff import Backoff
from shared.contracts import Feedback, utc_now
from shared.runtime import ServiceContext

log = logging.getLogger("stancewatch.desk")


def group_for(settings: DeskSettings, generation: str) -> str:
    """The consumer group of this store: a new or reset store (new generation) reads every topic from the start."""
    return f"{settings.desk_group_id}.{generation}"


def desk_config(settings: DeskSettings) -> DeskConfig:
    keyring = Keyring(settings.api_keys())
    if settings.desk_session_secret is not None:
        secret = settings.desk_session_secret.get_secret_value().encode("utf-8")
    else:
        secret = secrets.token_bytes(32)
        if keyring:
            log.warning(
                "STANCEWATCH_DESK_SESSION_SECRET is unset: sessions end when this process does "
                "and are not shared with other desk replicas"
            )
    return DeskConfig(
        keyring=keyring,
        sessions=Sessions(secret, keyring, settings.desk_session_ttl),
        read_auth=settings.desk_read_auth,
        cookie_secure=settings.desk_cookie_secure,
        page_size=settings.desk_page_size,
        session_ttl_s=int(settings.desk_session_ttl.total_seconds()),
    )


async def open_store(store: Store, stop: asyncio.Event, *, rebuild: bool) -> bool:
    """Open the store, waiting out a database that is not up yet; with ``rebuild`` empty it first."""
    backoff = Backoff()
    while not stop.is_set():
        try:
            created = await store.open()
            if rebuild and not created:
                log.info("desk rebuild: emptying %s", store.description)
                await store.reset()
                created = True
            return created
        except StoreUnavailable as exc:
            log.warning("waiting for the desk's store %s: %s", store.description, exc)
            await backoff.wait(stop)
    return False


async def body(
    ctx: ServiceContext,
    *,
    rebuild: bool = False,
    store: Store | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    settings = ctx.settings
    assert isinstance(settings, DeskSettings)
    url = settings.desk_database_url.get_secret_value() if settings.desk_database_url else None
    store = store or make_store(url, settings.desk_data_dir)
    created = await open_store(store, ctx.stop, rebuild=rebuild)
    if ctx.stop.is_set():
        return
    generation = await store.generation()
    group = group_for(settings, generation)
    log.info(
        "desk store %s (%s, schema %d): consuming as %s",
        store.description,
        "new: reading every topic from its beginning" if created else "kept: resuming",
        await store.schema_version(),
        group,
    )

    ingest = Ingest(store, ctx.topics, ctx.metrics)
    loop = ConsumerLoop(
        ctx.bus,
        ingest.topic_names,
        group,
        ingest,
        dead_letter_topic=ctx.topics.dead_letters.name,
        metrics=ctx.metrics,
        watchdog=ctx.watchdog,
        batch_size=500,
    )

    async def publish(feedback: Feedback) -> None:
        await ctx.bus.publish(ctx.topics.feedback.name, feedback, key=feedback.key)

    desk = DeskApp(
        store,
        publish,
        desk_config(settings),
        clock=clock,
        metrics=ctx.metrics,
        ready=lambda: ctx.ready.is_set() and ctx.broker_up,
        problems=lambda: [p.as_dict() for p in ctx.watchdog.problems()],
    )
    runner = web.AppRunner(desk.app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.desk_host, settings.desk_port)
    try:
        await site.start()
        port = runner.addresses[0][1] if runner.addresses else settings.desk_port
        log.info("desk serving on %s:%s", settings.desk_host, port)
        ctx.routes["/desk"] = lambda _params: {"port": port, "store": store.description, "group": group}
        task = asyncio.create_task(loop.run(ctx.stop), name="desk-ingest")
        ctx.watchdog.watch(task.get_name(), task)
        started = asyncio.create_task(loop.started.wait())
        done, _ = await asyncio.wait([started, task], return_when=asyncio.FIRST_COMPLETED)
        if started in done:
            ctx.ready.set()
        try:
            await task
        finally:
            started.cancel()
    finally:
        await runner.cleanup()
        await store.close()
