"""Delivery: the Kafka-backed queue of DeliveryTasks, retries with backoff and jitter, outcomes, dead letters.

A task is taken from ``deliveries`` and tried a few times in one *series* (honouring ``Retry-After``
and the per-channel rate). Then one of:

* delivered -> outcome ``delivered``;
* still failing, budget left -> the task is re-published to ``deliveries`` with its attempt count and
  next due time, outcome ``failed`` (so a channel that is down keeps its alerts queued on Kafka);
* budget spent, or an error no retry can fix (e.g. 404) -> the task goes to ``dead-letters`` with the
  last error, outcome ``dead-lettered``.

Held alerts (digests, quiet hours) are buffered and come back as one digest task when due. Every
outcome is published to ``delivery-outcomes``; delivered ids are rebuilt from it on start so a
redelivered task is not sent twice. The observation path only enqueues: a slow channel never stalls it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from services.alerter.channels import Channel, ConsoleChannel, SlackChannel, WebhookChannel
from services.alerter.digest import DIGEST_PREFIX, DigestBuffer, digest_task, is_held
from services.alerter.errors import DeliveryError
from services.alerter.routing import Routing, channels_for, load_routing
from services.alerter.settings import AlerterSettings
from shared.bus import Bus, Record
from shared.contracts import DeliveryOutcome, DeliveryStatus, DeliveryTask, PositionChange, utc_now
from shared.errors import BusError, PoisonMessage
from shared.observability import Metrics
from shared.topics import Topics

log = logging.getLogger("stancewatch.alerter.deliver")

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
#: Longest a handler waits for a task's due time before re-queueing it (keeps the consumer in its group).
MAX_HANDLER_WAIT_S = 30.0
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
        self._rate = RateLimiter(loop_time, sleep)
        m = metrics or Metrics()
        self._attempts = m.counter("delivery_attempts_total", "Delivery attempts", ["channel", "result"])
        self._retry_after = m.counter("delivery_retry_after_total", "Retry-After headers honoured", ["channel"])

    async def series(
        self, task: DeliveryTask, *, until_budget: bool = False, stop: asyncio.Event | None = None
    ) -> SeriesResult:
        """Attempt ``task`` up to a series' worth of times (or its whole remaining budget)."""
        channel = self.channels.get(task.channel)
        if channel is None:
            return SeriesResult("dead-lettered", task.attempt, f"deliver: unknown channel {task.channel!r}")
        attempt = task.attempt
        last: DeliveryError | None = None
        in_series = 0
        while attempt < self.policy.max_attempts:
            if last is not None:
                delay = retry_delay_s(last, attempt, self.policy, self._rand)
                if last.retry_after_s is not None:
                    self._retry_after.inc(channel=channel.name)
                # A series stays short (the consumer must keep polling): long waits go back to Kafka.
                series_over = in_series >= self.policy.attempts_per_series or delay > self.policy.max_series_wait_s
                if (series_over and not until_budget) or (stop is not None and stop.is_set()):
                    return SeriesResult("failed", attempt, _short(last), last.status, retry_in_s=delay)
                await self._sleep(delay)
            await self._rate.wait(channel.name, channel.min_interval_s)
            attempt += 1
            in_series += 1
            try:
                status = await channel.send(task.alerts, delivery_id=task.delivery_id, digest=task.digest)
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


class DeliveryWorker:
    """The consumer side of ``deliveries``: one task at a time per partition (tasks are keyed by channel)."""

    def __init__(
        self,
        bus: Bus,
        topics: Topics,
        deliverer: Deliverer,
        *,
        stop: asyncio.Event,
        clock: Clock = utc_now,
        metrics: Metrics | None = None,
        max_wait_s: float = MAX_HANDLER_WAIT_S,
    ) -> None:
        self.bus = bus
        self.topics = topics
        self.deliverer = deliverer
        self.stop = stop
        self.clock = clock
        self.max_wait_s = max_wait_s
        self.done: set[str] = set()
        self.digests = DigestBuffer()
        m = metrics or Metrics()
        self._outcomes = m.counter("deliveries_total", "Delivery attempt series by outcome", ["channel", "status"])
        self._skipped = m.counter("deliveries_skipped_total", "Tasks already delivered (redelivered)", ["channel"])
        self._queued = m.gauge("digest_held_alerts", "Alerts held for a digest or quiet hours", [])

    async def rebuild(self) -> None:
        """Delivered ids from the outcomes topic; held digest items from the deliveries topic."""
        for rec in await self.bus.read_all(self.topics.delivery_outcomes.name):
            try:
                outcome = rec.decode(DeliveryOutcome)
            except PoisonMessage:
                continue
            if outcome.status in ("delivered", "dead-lettered"):
                self.done.add(outcome.delivery_id)
        tasks = []
        for rec in await self.bus.read_all(self.topics.deliveries.name):
            try:
                tasks.append(rec.decode(DeliveryTask))
            except PoisonMessage:
                continue
        self.digests.rebuild(tasks)
        self._queued.set(sum(len(v) for v in self.digests.pending.values()))

    async def handle(self, rec: Record) -> None:
        task = rec.decode(DeliveryTask)
        if task.delivery_id in self.done:
            self._skipped.inc(channel=task.channel)
            return
        if is_held(task):
            self.digests.hold(task)
            self._queued.set(sum(len(v) for v in self.digests.pending.values()))
            await self._publish_outcome(task, SeriesResult("held", task.attempt))
            return
        if task.delivery_id.startswith(DIGEST_PREFIX):
            self.digests.mark_batched(task)
        if not await self._wait_until_due(task):
            await self.enqueue(task)  # not due yet (or stopping): back on the queue, unchanged
            return
        result = await self.deliverer.series(task, stop=self.stop)
        if result.status == "failed":
            retry = task.model_copy(
                update={
                    "attempt": result.attempts,
                    "not_before": self.clock() + timedelta(seconds=result.retry_in_s),
                    "last_error": result.last_error,
                }
            )
            await self.enqueue(retry)
        elif result.status == "dead-lettered":
            await self._dead_letter(task, result)
        if result.status in ("delivered", "dead-lettered"):
            self.done.add(task.delivery_id)
        await self._publish_outcome(task, result)

    async def flush_digests(self) -> int:
        """Queue a digest task for every held group that is due; returns how many."""
        due = self.digests.due(self.clock())
        for task in due:
            await self.enqueue(task)
            self.digests.mark_batched(task)
        self._queued.set(sum(len(v) for v in self.digests.pending.values()))
        return len(due)

    async def run_flusher(self, interval_s: float = 1.0) -> None:
        while not self.stop.is_set():
            try:
                await self.flush_digests()
            except BusError:
                log.exception("digest flush failed; will retry")
            try:
                await asyncio.wait_for(self.stop.wait(), interval_s)
            except TimeoutError:
                pass

    async def enqueue(self, task: DeliveryTask) -> None:
        await self.bus.publish(self.topics.deliveries.name, task, key=task.channel)

    async def _wait_until_due(self, task: DeliveryTask) -> bool:
        if task.not_before is None:
            return not self.stop.is_set()
        wait = (task.not_before - self.clock()).total_seconds()
        if wait > self.max_wait_s:
            await self._sleep_or_stop(self.max_wait_s)
            return False
        if wait > 0:
            await self._sleep_or_stop(wait)
        return not self.stop.is_set()

    async def _sleep_or_stop(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stop.wait(), seconds)
        except TimeoutError:
            pass

    async def _dead_letter(self, task: DeliveryTask, result: SeriesResult) -> None:
        failed = task.model_copy(update={"attempt": result.attempts, "last_error": result.last_error})
        headers = {
            "error": result.last_error or "",
            "error_kind": "delivery",
            "source_topic": self.topics.deliveries.name,
            "channel": task.channel,
            "delivery_id": task.delivery_id,
            "attempts": str(result.attempts),
            "failed_at": self.clock().isoformat(),
        }
        await self.bus.publish(self.topics.dead_letters.name, failed, key=task.delivery_id, headers=headers)
        log.error(
            "delivery dead-lettered: %s",
            result.last_error,
            extra={"channel": task.channel, "delivery_id": task.delivery_id},
        )

    async def _publish_outcome(self, task: DeliveryTask, result: SeriesResult) -> None:
        outcome = outcome_of(task, result, self.clock())
        await self.bus.publish(self.topics.delivery_outcomes.name, outcome, key=task.delivery_id)
        self._outcomes.inc(channel=task.channel, status=result.status)


def immediate_task(channel: str, alert: PositionChange) -> DeliveryTask:
    return DeliveryTask(delivery_id=f"{alert.alert_id}:{channel}", channel=channel, alerts=[alert])


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
                tasks += [immediate_task(name, a) for a in routed]
        outcomes = []
        for task in tasks:
            result = await deliverer.series(task, until_budget=True)
            outcomes.append(outcome_of(task, result, utc_now()))
        return outcomes
    finally:
        if own_client:
            await client.aclose()
