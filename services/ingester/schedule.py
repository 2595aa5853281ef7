"""When to poll each feed next: pure decisions on top of :class:`FeedState`.

A feed's interval follows its publishing cadence (half the median gap between its recent
entries, within the configured bounds); failures back off exponentially with jitter; a
server's ``Retry-After`` wins when it asks for longer.
"""

from __future__ import annotations

import itertools
import random
import statistics
from datetime import datetime, timedelta

RECENT_ENTRY_TIMES = 20


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def cadence_interval(entry_times: list[datetime], *, default: float, low: float, high: float) -> float:
    """Half the median gap between distinct recent entry times; ``default`` until there are two."""
    times = sorted(set(entry_times))[-RECENT_ENTRY_TIMES:]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    gaps = [g for g in gaps if g > 0]
    if not gaps:
        return clamp(default, low, high)
    return clamp(statistics.median(gaps) / 2, low, high)


def merge_entry_times(old: list[datetime], new: list[datetime]) -> list[datetime]:
    return sorted(set(old) | set(new))[-RECENT_ENTRY_TIMES:]


def backoff_delay(failures: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: ``base * 2**(failures-1)``, capped, times a factor in [0.5, 1]."""
    raw = min(cap, base * (2 ** max(0, min(failures - 1, 30))))
    return raw * (0.5 + 0.5 * (rng or random).random())


def after(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
