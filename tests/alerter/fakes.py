"""Fakes for delivery tests: a clock that moves only when the code sleeps, receivers answering from a script."""

from __future__ import annotations

from collections.abc import Sequence

import httpx


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def scripted(statuses: Sequence[int | tuple[int, dict[str, str]]], seen: list[httpx.Request]) -> httpx.MockTransport:
    """Answer each request with the next scripted status; the last one repeats."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = statuses[min(len(seen) - 1, len(statuses) - 1)]
        status, headers = item if isinstance(item, tuple) else (item, {})
        return httpx.Response(status, headers=headers)

    return httpx.MockTransport(handler)
