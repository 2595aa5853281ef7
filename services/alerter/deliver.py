"""Delivery: attempt series with backoff and jitter, channels, outcomes; the Kafka side is in ``lanes``.

A task is tried a few times in one *series* (honouring ``Retry-After`` and the per-channel rate),
never waiting past its deadline. The series says what happened: delivered; failed with the time
until the next try; or dead-lettered (budget spent, or an error no retry can fix, e.g. 404). What
to do next (re-queue on Kafka, dead-letter, hold the channel's other tasks) is decided per channel
by :mod:`services.alerter.lanes`. The observation path only enqueues: a slow channel never stalls it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import httpx

from services.alerter.channels import Channel, ConsoleChannel, SlackChannel, WebhookChannel
from services.alerter.channels.base import event_id
from services.alerter.digest import digest_task
from services.alerter.errors import DeliveryError
from services.alerter.routing import Routing, channels_for, load_routing
from services.alerter.settings import AlerterSettings
from shared.contracts import AlertEventType, DeliveryOutcome, DeliveryStatus, DeliveryTask, PositionChange, utc_now
from shared.observability import Metrics

log = logging.getLogger("stancewatch.alerter.deliver")

Sleep = Callable[[float], Awaitable[None]]
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    attempts_per_series: int = 3
    backoff_base_s: float = 1.0
    backoff_max_s: float = 300.0
    retry_after_max_s: float = 600.0
    #: Longest wait inside one series; a longer backoff or Retry-After re-queues the task instead.
    max_series_wait_s: float = 30.0

    @classmethod
    def from_settings(cls, s: AlerterSettings) -> RetryPolicy:
        return cls(
            max_attempts=s.delivery_max_attempts,
            attempts_per_series=s.delivery_attempts_per_series,
            backoff_base_s=s.delivery_backoff_base.total_seconds(),
            backoff_max_s=s.delivery_backoff_max.total_seconds(),
            retry_after_max_s=s.delivery_retry_after_max.total_seconds(),
        )


def backoff_s(attempt: int, policy: RetryPolicy, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter after failed attempt ``attempt`` (1-based): half fixed, half random."""
    ceiling = min(policy.backoff_max_s, policy.backoff_base_s * 2 ** (attempt - 1))
    return ceiling / 2 + rand() * ceiling / 2


def retry_delay_s(error: DeliveryError, attempt: int, policy: RetryPolicy, rand: Callable[[], float]) -> float:
    """The receiver's Retry-After when it gave one (capped), else our backoff."""
    if error.retry_after_s is not None:
        return min(error.retry_after_s, policy.retry_after_max_s)
    return backoff_s(attempt, policy, rand)


class RateLimiter:
    """At most one message per ``interval`` per channel (Slack: about one per second per webhook)."""

    def __init__(self, clock: Callable[[], float], sleep: Sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}

    async def wait(self, channel: str, interval: float) -> None:
        if interval <= 0:
            return
        now = self._clock()
        ready = self._next.get(channel, now)
        if ready > now:
            await self._sleep(ready - now)
            now = ready
        self._next[channel] = now + interval


@dataclass(frozen=True)
class SeriesResult:
    status: DeliveryStatus
    attempts: int
    last_error: str | None = None
    http_status: int | None = None
    #: For ``failed``: seconds until the next series may start.
    retry_in_s: float = 0.0


class Deliverer:
    """Runs attempt series against channels; no Kafka here, so replay --deliver reuses it."""

    def __init__(
        self,
        channels: Mapping[str, Channel],
        policy: RetryPolicy,
        *,
        metrics: Metrics | None = None,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.channels = dict(channels)
        self.policy = policy
        self._sleep = sleep
        self._rand = rand
        loop_time = monotonic or (lambda: asyncio.get_running_loop().time())
        self._monotonic = loop_time
        self._rate = RateLimiter(loop_time, sleep)
        m = metrics or Metrics()
        self._attempts = m.counter("delivery_attempts_total", "Delivery attempts", ["channel", "result"])
        self._retry_after = m.counter("delivery_retry_after_total", "Retry-After headers honoured", ["channel"])

    async def series(
        self,
        task: DeliveryTask,
        *,
        until_budget: bool = False,
        stop: asyncio.Event | None = None,
        attempts: int | None = None,
        within_s: float | None = None,
    ) -> SeriesResult:
        """Attempt ``task`` up to ``attempts`` times (default: a series' worth; or its whole remaining budget).

        A series never waits past ``within_s`` seconds from its start (the task's deadline): it ends
        and reports the wait instead, so the caller can give the task up on time.
        """
        channel = self.channels.get(task.channel)
        if channel is None:
            return SeriesResult("dead-lettered", task.attempt, f"deliver: unknown channel {task.channel!r}")
        per_series = attempts or self.policy.attempts_per_series
        started = self._monotonic()
        attempt = task.attempt
        last: DeliveryError | None = None
        in_series = 0
        while attempt < self.policy.max_attempts:
            if last is not None:
                delay = retry_delay_s(last, attempt, self.policy, self._rand)
                if last.retry_after_s is not None:
                    self._retry_after.inc(channel=channel.name)
                # A series stays short (the consumer must keep polling): long waits go back to Kafka.
                series_over = in_series >= per_series or delay > self.policy.max_series_wait_s
                past_deadline = within_s is not None and self._monotonic() - started + delay >= within_s
                if (series_over and not until_budget) or past_deadline or (stop is not None and stop.is_set()):
                    return SeriesResult("failed", attempt, _short(last), last.status, retry_in_s=delay)
                await self._sleep(delay)
            await self._rate.wait(channel.name, channel.min_interval_s)
            attempt += 1
            in_series += 1
            try:
                status = await channel.send(task)
            except DeliveryError as exc:
                last = exc
                self._attempts.inc(channel=channel.name, result="retryable" if exc.retryable else "fatal")
                log.warning(
                    "delivery attempt %d failed: %s",
                    attempt,
                    exc,
                    extra={"channel": channel.name, "delivery_id": task.delivery_id},
                )
                if not exc.retryable:
                    return SeriesResult("dead-lettered", attempt, _short(exc), exc.status)
                continue
            self._attempts.inc(channel=channel.name, result="ok")
            return SeriesResult("delivered", attempt, None, status)
        error = _short(last) if last is not None else "deliver: retry budget spent"
        return SeriesResult("dead-lettered", attempt, error, last.status if last is not None else None)


def _short(exc: BaseException | None) -> str:
    return str(exc)[:MAX_ERROR_CHARS] if exc is not None else ""


def build_channels(routing: Routing, client: httpx.AsyncClient, settings: AlerterSettings) -> dict[str, Channel]:
    out: dict[str, Channel] = {}
    for name, cfg in routing.channels.items():
        if cfg.type == "webhook":
            assert cfg.url is not None
            out[name] = WebhookChannel(name, cfg.url, cfg.secret, client)
        elif cfg.type == "slack":
            assert cfg.url is not None
            out[name] = SlackChannel(name, cfg.url, client, min_interval_s=settings.slack_min_interval.total_seconds())
        else:
            out[name] = ConsoleChannel(name)
    return out


def http_client(settings: AlerterSettings) -> httpx.AsyncClient:
    # No redirects: a webhook that redirects elsewhere is a misconfiguration, not something to follow.
    return httpx.AsyncClient(
        timeout=settings.delivery_timeout.total_seconds(),
        follow_redirects=False,
        trust_env=False,
    )


def outcome_of(task: DeliveryTask, result: SeriesResult, at: datetime) -> DeliveryOutcome:
    return DeliveryOutcome(
        delivery_id=task.delivery_id,
        alert_ids=[a.alert_id for a in task.alerts],
        channel=task.channel,
        status=result.status,
        attempts=result.attempts,
        last_error=result.last_error,
        http_status=result.http_status,
        at=at,
    )


def immediate_task(
    channel: str, alert: PositionChange, now: datetime, event: AlertEventType = "alert.created"
) -> DeliveryTask:
    """The task sending one event of one alert to one channel now; its id (the event's, then the channel)
    makes a redelivered copy recognisable, and keeps a corroboration or retraction apart from the alert."""
    return DeliveryTask(
        delivery_id=f"{event_id(alert, event)}:{channel}",
        channel=channel,
        alerts=[alert],
        first_due=now,
        event=event,
    )


async def deliver_now(
    alerts: list[PositionChange],
    settings: AlerterSettings,
    *,
    env: Mapping[str, str] | None = None,
    client: httpx.AsyncClient | None = None,
    sleep: Sleep = asyncio.sleep,
) -> list[DeliveryOutcome]:
    """Send alerts through the configured channels right away (``stancewatch replay --deliver``).

    Same routing, signing and retry logic as the service; all attempts happen in-process. Digest
    channels get one digest of everything routed to them; quiet hours do not apply to a manual send.
    Each alert keeps its idempotency id, so receivers drop what they have already seen.
    """
    routing = load_routing(settings, os.environ if env is None else env)
    own_client = client is None
    client = client or http_client(settings)
    try:
        channels = build_channels(routing, client, settings)
        deliverer = Deliverer(channels, RetryPolicy.from_settings(settings), sleep=sleep)
        per_channel: dict[str, list[PositionChange]] = {}
        for alert in alerts:
            for name in channels_for(alert, routing):
                per_channel.setdefault(name, []).append(alert)
        tasks: list[DeliveryTask] = []
        for name, routed in per_channel.items():
            if routing.channels[name].delivery == "digest":
                tasks.append(digest_task(name, utc_now(), routed))
            else:
                tasks += [immediate_task(name, a, utc_now()) for a in routed]
        outcomes = []
        for task in tasks:
            result = await deliverer.series(task, until_budget=True)
            outcomes.append(outcome_of(task, result, utc_now()))
        return outcomes
    finally:
        if own_client:
            await client.aclose()
