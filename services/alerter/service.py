"""Wiring: the observation loop (observations and feedback -> alerts), a delivery lane per channel, the digests.

The loops share nothing but Kafka topics, so a slow or down channel never stalls shift detection, and
each channel's lane has its own consumer group, so one failing channel never holds back another.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping

import httpx

from services.alerter import api
from services.alerter.deliver import Deliverer, RetryPolicy, build_channels, http_client
from services.alerter.detect import ShiftDetector
from services.alerter.feedback import FeedbackHandler, by_topic
from services.alerter.handle import ObservationHandler
from services.alerter.lanes import DeliveryLanes, lane_group
from services.alerter.routing import load_routing
from services.alerter.settings import AlerterSettings
from services.alerter.state import PositionStore
from shared.bus import ConsumerLoop
from shared.runtime import ServiceContext

log = logging.getLogger("stancewatch.alerter")


async def body(
    ctx: ServiceContext,
    *,
    env: Mapping[str, str] | None = None,
    client: httpx.AsyncClient | None = None,
) -> None:
    settings = ctx.settings
    assert isinstance(settings, AlerterSettings)
    routing = load_routing(settings, os.environ if env is None else env)
    detector = ShiftDetector(
        min_confidence=settings.min_confidence,
        corroboration_window=settings.corroboration_window,
        history_limit=settings.history_limit,
        instant_confidence=settings.alert_instant_confidence or None,
        confirm_window=settings.alert_confirm_window,
        grace=settings.alert_grace,
    )
    store = PositionStore(
        ctx.bus,
        ctx.topics,
        detector,
        recent_limit=settings.recent_alerts,
        max_positions=settings.max_positions or None,
    )
    n_pos, n_alerts = await store.rebuild()
    log.info("state rebuilt: %d positions, %d alerts", n_pos, n_alerts)
    json_routes = api.routes(store)
    ctx.routes.update(json_routes)  # the health server serves this same dict

    own_client = client is None
    client = client or http_client(settings)
    channels = build_channels(routing, client, settings)
    log.info("channels: %s", ", ".join(f"{n} ({c.kind})" for n, c in channels.items()) or "none")
    deliverer = Deliverer(channels, RetryPolicy.from_settings(settings), metrics=ctx.metrics)
    lanes = DeliveryLanes(
        ctx.bus, ctx.topics, deliverer, stop=ctx.stop, max_age=settings.delivery_max_age, metrics=ctx.metrics
    )
    await lanes.rebuild()

    handler = ObservationHandler(ctx.bus, ctx.topics, detector, store, routing, metrics=ctx.metrics)
    corrections = FeedbackHandler(handler, routing, metrics=ctx.metrics)
    observations_topic = ctx.topics.observations.name
    # One loop for both co-partitioned inputs: the instance owning a position also reads its corrections,
    # in the same order as its observations and under the same lock.
    observations = ConsumerLoop(
        ctx.bus,
        [observations_topic, ctx.topics.feedback.name],
        settings.group_id,
        by_topic({observations_topic: handler, ctx.topics.feedback.name: corrections}),
        dead_letter_topic=ctx.topics.dead_letters.name,
        metrics=ctx.metrics,
        watchdog=ctx.watchdog,
        # Forget the positions of partitions that moved to another instance; load those that came.
        on_revoked=lambda revoked: handler.revoked({p for t, p in revoked if t == observations_topic}),
        on_assigned=lambda assigned: handler.assigned({p for t, p in assigned if t == observations_topic}),
    )
    deliveries = {
        lane.channel: ConsumerLoop(
            ctx.bus,
            [ctx.topics.deliveries.name],
            lane_group(settings.delivery_group_id, lane.channel),
            lane.handle,
            dead_letter_topic=ctx.topics.dead_letters.name,
            metrics=ctx.metrics,
            watchdog=ctx.watchdog,
            # A lane taken over (its instance died) starts from what the topics say was delivered and held.
            on_revoked=lane.revoked,
            on_assigned=lane.assigned,
        )
        for lane in lanes
    }
    tasks = [
        asyncio.create_task(observations.run(ctx.stop), name="alerter-observations"),
        *(asyncio.create_task(loop.run(ctx.stop), name=f"alerter-deliver-{name}") for name, loop in deliveries.items()),
        asyncio.create_task(lanes.run_flusher(), name="alerter-digests"),
        asyncio.create_task(handler.run_grace_flusher(ctx.stop), name="alerter-grace"),
    ]
    for task in tasks:
        ctx.watchdog.watch(task.get_name(), task)
    started = asyncio.gather(observations.started.wait(), *(loop.started.wait() for loop in deliveries.values()))
    try:
        done, _ = await asyncio.wait([started, *tasks], return_when=asyncio.FIRST_COMPLETED)
        if started in done:
            ctx.ready.set()
        # Run until stop; if one part fails, stop the others and surface the error.
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if task.exception() is not None:
                ctx.stop.set()
        await asyncio.gather(*tasks)
    finally:
        ctx.stop.set()
        started.cancel()
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if own_client:
            await client.aclose()
