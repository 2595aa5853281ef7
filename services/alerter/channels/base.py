"""The channel interface: send one delivery (an alert, or a digest of several) or raise DeliveryError."""

from __future__ import annotations

from abc import ABC, abstractmethod

import httpx

from services.alerter.errors import DeliveryError
from shared.contracts import PositionChange
from shared.http import parse_retry_after

#: Statuses worth retrying besides 5xx: request timeout and rate limiting.
RETRYABLE_4XX = frozenset({408, 425, 429})


class Channel(ABC):
    """One destination. ``name`` is what logs, metrics and outcome events show (never the URL)."""

    kind: str = "channel"
    #: Minimum seconds between two messages to this channel (Slack asks for about one per second).
    min_interval_s: float = 0.0

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    async def send(self, alerts: list[PositionChange], *, delivery_id: str, digest: bool) -> int | None:
        """Deliver; return the HTTP status (None for non-HTTP channels) or raise :class:`DeliveryError`."""


async def post(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], *, stage: str) -> int:
    """POST and classify the result; the URL never appears in an error (it may hold a secret)."""
    try:
        resp = await client.post(url, content=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"{stage}: timeout ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{stage}: transport error ({type(exc).__name__})") from exc
    status = resp.status_code
    if 200 <= status < 300:
        return status
    retryable = status >= 500 or status in RETRYABLE_4XX
    raise DeliveryError(
        f"{stage}: HTTP {status}",
        retryable=retryable,
        status=status,
        retry_after_s=parse_retry_after(resp.headers.get("retry-after")),
    )
