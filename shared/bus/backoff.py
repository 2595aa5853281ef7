"""How long to wait for an absent broker: bounded exponential backoff, cut short by stop.

Start-up and every consumer loop wait the same way (0.5 s doubling to 15 s by default), so an
outage costs at most one interval of extra delay after the broker is back, and a restart storm of
many services does not hammer a broker that is coming up.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass
class Backoff:
    first_s: float = 0.5
    max_s: float = 15.0
    #: The next wait; doubles after each wait up to ``max_s``, back to ``first_s`` on ``reset``.
    next_s: float = field(init=False)

    def __post_init__(self) -> None:
        self.next_s = self.first_s

    @property
    def waited(self) -> bool:
        """Whether a wait happened since the last reset (the broker was away)."""
        return self.next_s > self.first_s

    def reset(self) -> None:
        self.next_s = self.first_s

    async def wait(self, stop: asyncio.Event) -> None:
        """Wait the next interval, or until ``stop`` is set."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), self.next_s)
        self.next_s = min(self.next_s * 2, self.max_s)
