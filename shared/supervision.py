"""Liveness: a service is alive only while every long-running task it owns runs and turns.

A process whose consumer loop has ended, or hangs inside one record, can still answer HTTP; an
orchestrator that asks only "does it answer" never restarts it. So each task a service owns
registers here: a task that ends while the service was not asked to stop is *dead*; a loop that has
not beaten its heartbeat for longer than the stall limit is *stalled*. Either makes ``/healthz``
answer 503 naming the task, which a liveness probe turns into a restart.

A loop beats on every turn, idle or not, and while it waits for an absent broker (readiness already
says so; an outage is ridden out, not restarted). So only a loop stuck in one place stalls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Clock = Callable[[], float]


@dataclass
class Heartbeat:
    """One task's sign of life; ``beat()`` costs a clock read."""

    name: str
    stall_after_s: float
    clock: Clock
    last: float = field(init=False)

    def __post_init__(self) -> None:
        self.last = self.clock()

    def beat(self) -> None:
        self.last = self.clock()

    def stalled_for(self) -> float | None:
        """Seconds since the last beat when over the limit, else None."""
        quiet = self.clock() - self.last
        return quiet if quiet > self.stall_after_s else None


@dataclass(frozen=True)
class Problem:
    task: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"task": self.task, "reason": self.reason}


class Watchdog:
    """Who is alive: heartbeats of loops and the tasks that must not end early."""

    def __init__(self, stall_after_s: float = 300.0, clock: Clock = time.monotonic) -> None:
        self.stall_after_s = stall_after_s
        self._clock = clock
        self._beats: dict[str, Heartbeat] = {}
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._stopping: Callable[[], bool] = lambda: False

    def heartbeat(self, name: str, stall_after_s: float | None = None) -> Heartbeat:
        """Register (or re-register after a restart of the loop) the heartbeat called ``name``."""
        beat = Heartbeat(name, self.stall_after_s if stall_after_s is None else stall_after_s, self._clock)
        self._beats[name] = beat
        return beat

    def watch(self, name: str, task: asyncio.Task[Any]) -> None:
        """``task`` must run until the service stops; ending earlier, cleanly or not, is death."""
        self._tasks[name] = task

    def stopping_when(self, stopping: Callable[[], bool]) -> None:
        """Tasks that end once this is true ended because they were asked to."""
        self._stopping = stopping

    def problems(self) -> list[Problem]:
        if self._stopping():
            return []
        found = []
        for name, task in self._tasks.items():
            if task.done():
                error = None if task.cancelled() else task.exception()
                reason = f"ended: {type(error).__name__}: {error}" if error else "ended"
                found.append(Problem(name, reason))
        for name, beat in self._beats.items():
            quiet = beat.stalled_for()
            if quiet is not None:
                found.append(Problem(name, f"stalled: no progress for {quiet:.0f}s (limit {beat.stall_after_s:g}s)"))
        return found
