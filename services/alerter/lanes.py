"""Delivery lanes: each channel consumes ``deliveries`` on its own, so a failing one never holds back another.

Every configured channel has a *lane*: a consumer group of its own on the shared ``deliveries`` topic
(``<DELIVERY_GROUP_ID>-<channel>``, see :func:`lane_group`) that handles only that channel's tasks,
waits for its due times and retries, and commits independently. A channel added to the routing gets
a new group at the next start, which reads the topic from its beginning.

A task of a lane is, in turn:

* already delivered or dead-lettered (its id is in the outcomes, rebuilt on start) -> skipped, so a
  redelivered task is never sent twice;
* held for a digest or quiet hours -> buffered, and sent later as one digest task;
* otherwise planned by :func:`plan`: tried now, waited for, re-queued behind the channel's
  :class:`Circuit`, or given up.

The circuit keeps a down channel from costing one full attempt series per queued task: after a
failed series, the lane's other tasks are re-queued to the channel's next try without trying, and the
channel is then probed one attempt at a time until it delivers again.

Every task has a deadline, ``first_due + DELIVERY_MAX_AGE``. It goes to ``dead-letters`` with its last
error as soon as it cannot be tried again before then (and at the latest at the deadline, give or
take the attempt in flight), so a channel that stays down drains its queue to the dead-letter topic
within the max age instead of holding it for hours. Every attempt series publishes an outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar

from services.alerter.deliver import Deliverer, SeriesResult, outcome_of
from services.alerter.digest import DIGEST_PREFIX, DigestBuffer, is_held
from shared.bus import Bus, Record
from shared.contracts import DeliveryOutcome, DeliveryTask, utc_now
from shared.errors import BusError, PoisonMessage
from shared.observability import Metrics
from shared.topics import Topics

log = logging.getLogger("stancewatch.alerter.deliver")

Clock = Callable[[], datetime]
M = TypeVar("M", DeliveryTask, DeliveryOutcome)
#: Outcomes after which a task is never tried again.
FINISHED = ("delivered", "dead-lettered")
#: From "within a second" to a day-old backfill.
LATENCY_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 6 * 3600.0, 86400.0)
#: Longest a lane waits for a task's due time before re-queueing it (keeps the consumer in its group).
MAX_HANDLER_WAIT_S = 30.0


def lane_group(delivery_group_id: str, channel: str) -> str:
    """The consumer group of a channel's lane: its own offsets, so it commits and falls behind alone."""
    return f"{delivery_group_id}-{channel}"


@dataclass(frozen=True)
class Circuit:
    """A channel's last failed series: none of its tasks is tried before ``until``."""

    until: datetime
    error: str | None = None
    http_status: int | None = None


Action = Literal["attempt", "wait", "defer", "expire"]


@dataclass(frozen=True)
class Step:
    """What a lane does with a task now (see :func:`plan`)."""

    action: Action
    #: ``wait`` / ``defer``: when the task may be tried.
    at: datetime | None = None
    #: ``defer`` / ``expire``: the error the task carries on (its own, else its channel's).
    error: str | None = None


def first_due(task: DeliveryTask, record_time: datetime) -> datetime:
    """When the task first became due; a task from a version without the field counts from its record."""
    return task.first_due or record_time


def plan(task: DeliveryTask, now: datetime, deadline: datetime, circuit: Circuit | None) -> Step:
    """Try the task, wait for its own due time, re-queue it behind its channel's circuit, or give it up.

    It is given up as soon as it cannot be tried before its deadline: waiting longer could not deliver
    it in time, and the channel's queue drains to the dead-letter topic in order.
    """
    error = task.last_error or (circuit.error if circuit is not None else None)
    if now >= deadline:
        return Step("expire", error=error)
    own = task.not_before if task.not_before is not None and task.not_before > now else None
    held = circuit.until if circuit is not None and circuit.until > now else None
    times = [t for t in (own, held) if t is not None]
    if not times:
        return Step("attempt")
    at = max(times)
    if at >= deadline:
        return Step("expire", error=error)
    if at == own:
        return Step("wait", at=at)
    return Step("defer", at=at, error=error)


def _record_time(rec: Record) -> datetime:
    return datetime.fromtimestamp(rec.timestamp_ms / 1000, tz=UTC) if rec.timestamp_ms else utc_now()


class DeliveryLane:
    """One channel's consumer side of ``deliveries``: its tasks one at a time, the others ignored."""

    def __init__(
        self,
        channel: str,
        bus: Bus,
        topics: Topics,
        deliverer: Deliverer,
        *,
        stop: asyncio.Event,
        max_age: timedelta,
        clock: Clock = utc_now,
        metrics: Metrics | None = None,
        max_wait_s: float = MAX_HANDLER_WAIT_S,
    ) -> None:
        self.channel = channel
        self.bus = bus
        self.topics = topics
        self.deliverer = deliverer
        self.stop = stop
        self.max_age = max_age
        self.clock = clock
        self.max_wait_s = max_wait_s
        #: Delivery ids delivered or dead-lettered: a redelivered task with one of them is skipped.
        self.done: set[str] = set()
        self.digests = DigestBuffer()
        #: Set by a failed series, cleared by a delivery.
        self.circuit: Circuit | None = None
        #: Whether this instance runs the lane (holds the partition its tasks are on): only then does it
        #: flush digests. True until a rebalance says otherwise (one instance, the in-memory bus).
        self.holds = True
        m = metrics or Metrics()
        self._outcomes = m.counter("deliveries_total", "Delivery attempt series by outcome", ["channel", "status"])
        self._skipped = m.counter("deliveries_skipped_total", "Tasks already delivered (redelivered)", ["channel"])
        self._deferred = m.counter(
            "deliveries_deferred_total", "Tasks re-queued behind their channel's failure, untried", ["channel"]
        )
        self._expired = m.counter(
            "deliveries_expired_total", "Tasks dead-lettered at DELIVERY_MAX_AGE (or sure to pass it)", ["channel"]
        )
        self._queued = m.gauge("digest_held_alerts", "Alerts held for a digest or quiet hours", ["channel"])
        # End to end, from the timestamp the event carries: the article's publication to the channel's
        # acknowledgement. It includes the feed's own delay and any grace or hold, which is what a reader
        # of the alert experiences.
        self._latency = m.histogram(
            "alert_latency_seconds",
            "Article published -> alert delivered (new alerts only)",
            ["channel", "mode"],
            buckets=LATENCY_BUCKETS,
        )

    def rebuild(self, outcomes: list[DeliveryOutcome], tasks: list[DeliveryTask]) -> None:
        """Delivered ids from this channel's outcomes; held digest items from its tasks, in topic order."""
        self.done |= {o.delivery_id for o in outcomes if o.status in FINISHED}
        self.digests.rebuild(tasks)
        self._count_held()

    async def assigned(self, partitions: set[tuple[str, int]]) -> None:
        """A rebalance: if this instance now runs the lane, take its state over from the topics.

        An instance that died held delivered ids and digest items only in memory, and its last batch of
        tasks was not committed: read back from ``delivery-outcomes`` and ``deliveries``, its successor
        skips what was delivered and holds what was held. (A delivery made but not yet recorded when
        it died is made again, under the same ``webhook-id``.)
        """
        topic = self.topics.deliveries.name
        mine = {p for t, p in partitions if t == topic}
        outcomes = [
            o
            for o in _decoded(await self.bus.read_all(self.topics.delivery_outcomes.name), DeliveryOutcome)
            if o.channel == self.channel
        ]
        records = [r for r in await self.bus.read_all(topic) if r.key == self.channel]
        tasks = [t for t in _decoded(records, DeliveryTask) if t.channel == self.channel]
        on = {r.partition for r in records}
        self.holds = bool(on & mine) if on else bool(mine)
        # Swapped in with no await in between: the lane never handles a task against half a state.
        self.digests = DigestBuffer()  # when another instance runs the lane: nothing here to flush
        if self.holds:
            self.done = set()
            self.rebuild(outcomes, tasks)
        log.info(
            "lane %s: %s",
            self.channel,
            f"taken over ({len(self.done)} finished, {self._held()} held)" if self.holds else "run elsewhere",
            extra={"channel": self.channel},
        )

    async def revoked(self, partitions: set[tuple[str, int]]) -> None:
        self.holds = False

    def _held(self) -> int:
        return sum(len(v) for v in self.digests.pending.values())

    async def handle(self, rec: Record) -> None:
        task = rec.decode(DeliveryTask)
        if task.channel != self.channel:
            return
        if task.delivery_id in self.done:
            self._skipped.inc(channel=self.channel)
            return
        if is_held(task):
            self.digests.hold(task)
            self._count_held()
            await self._publish_outcome(task, SeriesResult("held", task.attempt))
            return
        if task.delivery_id.startswith(DIGEST_PREFIX):
            self.digests.mark_batched(task)
        due = first_due(task, _record_time(rec))
        if task.first_due is None:
            task = task.model_copy(update={"first_due": due})  # its age now travels with it
        deadline = due + self.max_age
        now = self.clock()
        step = plan(task, now, deadline, self.circuit)
        if step.action == "wait":
            assert step.at is not None
            wait_s = (step.at - now).total_seconds()
            await self._sleep_or_stop(min(wait_s, self.max_wait_s))
            if self.stop.is_set() or wait_s > self.max_wait_s:
                await self.enqueue(task)  # not due yet (or stopping): back on the queue, unchanged
                return
            now = max(self.clock(), step.at)
            step = plan(task, now, deadline, self.circuit)  # due now: attempt or expire
        if step.action == "expire":
            result = SeriesResult("dead-lettered", task.attempt, step.error, _status(self.circuit))
            await self._give_up(task, result, expired=True)
        elif step.action == "defer":
            await self.enqueue(task.model_copy(update={"not_before": step.at, "last_error": step.error}))
            self._deferred.inc(channel=self.channel)
        elif self.stop.is_set():
            await self.enqueue(task)
        else:
            await self._attempt(task, now, deadline)

    def _observe_latency(self, task: DeliveryTask) -> None:
        if task.event != "alert.created":
            return
        now = self.clock()
        mode = "digest" if task.digest else "instant"
        for alert in task.alerts:
            age = (now - alert.after.article.published).total_seconds()
            self._latency.observe(max(0.0, age), channel=self.channel, mode=mode)

    async def _attempt(self, task: DeliveryTask, now: datetime, deadline: datetime) -> None:
        # A channel known to be failing is probed one attempt at a time: the lane stays responsive.
        probing = self.circuit is not None or task.last_error is not None
        result = await self.deliverer.series(
            task, stop=self.stop, attempts=1 if probing else None, within_s=(deadline - now).total_seconds()
        )
        if result.status == "delivered":
            if self.circuit is not None:
                log.info("channel delivers again", extra=_log_keys(task))
            self.circuit = None
            self.done.add(task.delivery_id)
            self._observe_latency(task)
        elif result.status == "dead-lettered":
            await self._give_up(task, result, expired=False)
            return
        else:
            now = self.clock()
            retry_at = now + timedelta(seconds=result.retry_in_s)
            self.circuit = Circuit(retry_at, result.last_error, result.http_status)
            log.warning(
                "channel failing: its queued deliveries wait for the next try in %.1fs",
                result.retry_in_s,
                extra=_log_keys(task),
            )
            retry = task.model_copy(
                update={"attempt": result.attempts, "not_before": retry_at, "last_error": result.last_error}
            )
            if plan(retry, now, deadline, self.circuit).action == "expire":
                gave_up = SeriesResult("dead-lettered", result.attempts, result.last_error, result.http_status)
                await self._give_up(retry, gave_up, expired=True)
                return
            await self.enqueue(retry)
        await self._publish_outcome(task, result)

    async def _give_up(self, task: DeliveryTask, result: SeriesResult, *, expired: bool) -> None:
        error = result.last_error or f"deliver: not delivered within {self.max_age} (no attempt failed)"
        failed = task.model_copy(update={"attempt": result.attempts, "last_error": error})
        if expired:
            reason = "max-age"
        else:
            reason = "retry-budget" if result.attempts >= self.deliverer.policy.max_attempts else "not-retryable"
        headers = {
            "error": error,
            "error_kind": "delivery",
            "reason": reason,
            "source_topic": self.topics.deliveries.name,
            "channel": task.channel,
            "delivery_id": task.delivery_id,
            "attempts": str(result.attempts),
            "failed_at": self.clock().isoformat(),
        }
        await self.bus.publish(self.topics.dead_letters.name, failed, key=task.delivery_id, headers=headers)
        if expired:
            self._expired.inc(channel=self.channel)
        log.error("delivery dead-lettered (%s): %s", reason, error, extra=_log_keys(task))
        self.done.add(task.delivery_id)
        await self._publish_outcome(task, SeriesResult("dead-lettered", result.attempts, error, result.http_status))

    async def flush_digests(self) -> int:
        """Queue a digest task for every held group that is due; returns how many."""
        if not self.holds:
            return 0
        due = self.digests.due(self.clock())
        for task in due:
            await self.enqueue(task)
            self.digests.mark_batched(task)
        self._count_held()
        return len(due)

    async def enqueue(self, task: DeliveryTask) -> None:
        await self.bus.publish(self.topics.deliveries.name, task, key=task.channel)

    def _count_held(self) -> None:
        self._queued.set(sum(len(v) for v in self.digests.pending.values()), channel=self.channel)

    async def _sleep_or_stop(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), max(0.0, seconds))

    async def _publish_outcome(self, task: DeliveryTask, result: SeriesResult) -> None:
        outcome = outcome_of(task, result, self.clock())
        await self.bus.publish(self.topics.delivery_outcomes.name, outcome, key=task.delivery_id)
        self._outcomes.inc(channel=task.channel, status=result.status)


def _decoded(records: list[Record], model: type[M]) -> list[M]:
    """The records that decode (a bad one was dead-lettered when it was handled)."""
    out = []
    for rec in records:
        try:
            out.append(rec.decode(model))
        except PoisonMessage:
            continue
    return out


def _log_keys(task: DeliveryTask) -> dict[str, str]:
    return {
        "channel": task.channel,
        "alert_id": ",".join(a.alert_id for a in task.alerts),
        "delivery_id": task.delivery_id,
    }


def _status(circuit: Circuit | None) -> int | None:
    return circuit.http_status if circuit is not None else None


class DeliveryLanes:
    """Every configured channel's lane, rebuilt together from one read of each delivery topic."""

    def __init__(
        self,
        bus: Bus,
        topics: Topics,
        deliverer: Deliverer,
        *,
        stop: asyncio.Event,
        max_age: timedelta,
        clock: Clock = utc_now,
        metrics: Metrics | None = None,
        max_wait_s: float = MAX_HANDLER_WAIT_S,
    ) -> None:
        self.bus = bus
        self.topics = topics
        self.stop = stop
        self.lanes = {
            name: DeliveryLane(
                name,
                bus,
                topics,
                deliverer,
                stop=stop,
                max_age=max_age,
                clock=clock,
                metrics=metrics,
                max_wait_s=max_wait_s,
            )
            for name in deliverer.channels
        }

    def __iter__(self) -> Iterator[DeliveryLane]:
        return iter(self.lanes.values())

    async def rebuild(self) -> None:
        """Delivered ids and held digest items per lane; tasks left for channels no longer routed are counted."""
        outcomes: dict[str, list[DeliveryOutcome]] = {}
        for rec in await self.bus.read_all(self.topics.delivery_outcomes.name):
            try:
                outcome = rec.decode(DeliveryOutcome)
            except PoisonMessage:
                continue
            outcomes.setdefault(outcome.channel, []).append(outcome)
        tasks: dict[str, list[DeliveryTask]] = {}
        for rec in await self.bus.read_all(self.topics.deliveries.name):
            try:
                task = rec.decode(DeliveryTask)
            except PoisonMessage:
                continue
            tasks.setdefault(task.channel, []).append(task)
        for name, lane in self.lanes.items():
            lane.rebuild(outcomes.get(name, []), tasks.get(name, []))
        finished = {o.delivery_id for items in outcomes.values() for o in items if o.status in FINISHED}
        for name in sorted(set(tasks) - set(self.lanes)):
            waiting = {t.delivery_id for t in tasks[name] if not is_held(t)} - finished
            if waiting:
                log.warning(
                    "%d deliveries queued for a channel not in the routing: they wait on the topic until it is back",
                    len(waiting),
                    extra={"channel": name},
                )

    async def flush_digests(self) -> int:
        return sum([await lane.flush_digests() for lane in self.lanes.values()])

    async def run_flusher(self, interval_s: float = 1.0) -> None:
        while not self.stop.is_set():
            try:
                await self.flush_digests()
            except BusError:
                log.exception("digest flush failed; will retry")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), interval_s)
