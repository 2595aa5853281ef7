"""Driving the poller: one cycle over every feed (``ingest --once``, the benchmark), or forever.

The continuous loop polls each feed when its ``next_poll`` comes, never two polls of the same
feed at once, with at most ``concurrency`` polls in flight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from services.ingester.feedlist import FeedSpec
from services.ingester.poll import Poller, PollOutcome

log = logging.getLogger("stancewatch.ingester.cycle")


async def poll_once(poller: Poller, specs: Sequence[FeedSpec], *, concurrency: int = 200) -> list[PollOutcome]:
    slots = asyncio.Semaphore(concurrency)

    async def one(spec: FeedSpec) -> PollOutcome:
        async with slots:
            return await poller.poll(spec)

    return list(await asyncio.gather(*(one(s) for s in specs)))


def due(poller: Poller, specs: Sequence[FeedSpec], now: datetime, busy: set[str]) -> list[FeedSpec]:
    """Feeds whose next poll has come (never-polled feeds first), skipping those in flight."""
    out = []
    for spec in specs:
        if spec.url in busy:
            continue
        state = poller.states.get(spec.url)
        if state is None or state.next_poll is None or state.next_poll <= now:
            out.append(spec)
    return out


async def poll_forever(
    poller: Poller,
    specs: Sequence[FeedSpec],
    stop: asyncio.Event,
    *,
    concurrency: int = 200,
    tick: float = 0.5,
    on_cycle: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Poll due feeds until ``stop`` is set; in-flight polls finish before returning."""
    slots = asyncio.Semaphore(concurrency)
    busy: set[str] = set()
    tasks: set[asyncio.Task[PollOutcome]] = set()

    async def one(spec: FeedSpec) -> PollOutcome:
        try:
            async with slots:
                return await poller.poll(spec)
        finally:
            busy.discard(spec.url)

    while not stop.is_set():
        for spec in due(poller, specs, poller.clock(), busy):
            if len(busy) >= concurrency * 2:
                break  # enough queued; the rest are due next tick
            busy.add(spec.url)
            task = asyncio.create_task(one(spec))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if on_cycle is not None:
            await on_cycle()
        try:
            await asyncio.wait_for(stop.wait(), tick)
        except TimeoutError:
            pass
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
