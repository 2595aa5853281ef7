"""The channel interface: send one delivery (an alert event, or a digest of several) or raise DeliveryError."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from datetime import UTC, datetime

import httpx

from services.alerter.errors import DeliveryError
from shared.contracts import AlertEventType, DeliveryTask, PositionChange
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
    async def send(self, task: DeliveryTask) -> int | None:
        """Deliver ``task`` (its ``event``, its alerts, digest or not); return the HTTP status (None for
        non-HTTP channels) or raise :class:`DeliveryError`."""


def event_time(task: DeliveryTask) -> datetime:
    """When the delivered event happened: retracted, queued, or released as a digest (the same every retry)."""
    alert = task.alerts[0] if task.alerts else None
    if task.event == "alert.retracted" and alert is not None and alert.retraction is not None:
        return alert.retraction.at
    if task.first_due is not None:
        return task.first_due
    if task.not_before is not None:
        return task.not_before
    return alert.created_at if alert is not None else datetime.min.replace(tzinfo=UTC)


def event_id(alert: PositionChange, event: AlertEventType) -> str:
    """The id of one event of one alert, the same on every channel and every retry (a webhook's
    ``webhook-id``): the alert's idempotency id when it is created, then per new set of sources, or retracted."""
    if event == "alert.corroborated":
        sources = "|".join(sorted(ref.id for ref in alert.corroborations))
        return f"{alert.alert_id}_corroborated_{hashlib.sha256(sources.encode()).hexdigest()[:12]}"
    if event == "alert.retracted":
        return f"{alert.alert_id}_retracted"
    return alert.alert_id


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
