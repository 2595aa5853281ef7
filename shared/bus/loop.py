"""At-least-once consumption: process, wait for outputs to be acknowledged, then commit.

A record that keeps failing after bounded retries (or is poison from the start) is sent to the
dead-letter topic with headers naming the error and its origin, and the loop moves on.

A broker error (publish, commit, start) is not the record's fault: the loop waits with bounded
exponential backoff and tries the same record again, for as long as the broker is away, without
committing it. So a broker outage of any length loses nothing and stops nothing; the record is
handled again when the broker is back (at-least-once: its outputs may be published twice, and
consumers downstream are idempotent).

With a watchdog, the loop beats on every turn (idle, handling, or waiting for the broker), so only
a handler stuck on one record stalls it and fails liveness.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from shared.bus.backoff import Backoff
from shared.bus.base import Bus, Consumer
from shared.bus.record import Record
from shared.contracts.base import utc_now
from shared.errors import BusError, PoisonMessage
from shared.observability import Metrics
from shared.supervision import Heartbeat, Watchdog

log = logging.getLogger("stancewatch.consumer")

Handler = Callable[[Record], Awaitable[None]]
#: Cap on a header value taken from an exception message.
MAX_ERROR_HEADER = 2000


class ConsumerLoop:
    def __init__(
        self,
        bus: Bus,
        topics: Sequence[str],
        group_id: str,
        handler: Handler,
        *,
        dead_letter_topic: str,
        max_attempts: int = 3,
        retry_backoff_s: float = 0.2,
        batch_size: int = 100,
        metrics: Metrics | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_revoked: Callable[[set[tuple[str, int]]], Awaitable[None] | None] | None = None,
        on_assigned: Callable[[set[tuple[str, int]]], Awaitable[None]] | None = None,
        broker_backoff_s: float = 0.5,
        max_broker_backoff_s: float = 15.0,
        watchdog: Watchdog | None = None,
    ) -> None:
        self.bus = bus
        self.topics = list(topics)
        self.group_id = group_id
        self.handler = handler
        self.dead_letter_topic = dead_letter_topic
        self.max_attempts = max(1, max_attempts)
        self.retry_backoff_s = retry_backoff_s
        self.batch_size = batch_size
        self._sleep = sleep
        self.broker_backoff_s = broker_backoff_s
        self.max_broker_backoff_s = max_broker_backoff_s
        #: Told which (topic, partition)s moved away, after their offsets were committed.
        self._on_revoked = on_revoked
        #: Told every (topic, partition) held after a rebalance, before any record of them is handled.
        self._on_assigned = on_assigned
        self._lock = asyncio.Lock()
        self._pending: dict[tuple[str, int], int] = {}
        self._consumer: Consumer | None = None
        self.started = asyncio.Event()
        self._heartbeat: Heartbeat | None = watchdog.heartbeat(f"consumer {group_id}") if watchdog else None
        m = metrics or Metrics()
        self._processed = m.counter("messages_processed_total", "Messages handled successfully", ["group"])
        self._retried = m.counter("message_retries_total", "Handler attempts that failed and were retried", ["group"])
        self._dead = m.counter(
            "messages_dead_lettered_total", "Messages sent to the dead-letter topic", ["group", "reason"]
        )
        self._latency = m.histogram("message_handle_seconds", "Time to handle one message", ["group"])
        self._lag = m.gauge(
            "consumer_lag",
            "Records behind the partition's end, per assigned partition",
            ["group", "topic", "partition"],
        )
        #: Next offset to handle per partition, for the lag gauge (set as records are handled).
        self._next: dict[tuple[str, int], int] = {}
        self._broker_waits = m.counter(
            "consumer_broker_retries_total",
            "Waits for the broker before trying again (publish, commit, start)",
            ["group"],
        )

    async def _commit(self) -> bool:
        """Commit what was handled; on a broker error keep it for the next try and say so."""
        if not self._pending or self._consumer is None:
            return True
        try:
            await self._consumer.commit(dict(self._pending))
        except BusError as exc:
            # Keep offsets of partitions still ours; the others' records go to their new owner again.
            assigned = self._consumer.assignment()
            self._pending = {tp: o for tp, o in self._pending.items() if tp in assigned}
            self._broker_waits.inc(group=self.group_id)
            log.warning("commit failed, will retry: %s", exc, extra={"group": self.group_id})
            return False
        self._pending.clear()
        return True

    async def _on_revoke(self, revoked: set[tuple[str, int]]) -> None:
        # Wait for the batch in flight to finish, then commit it before the partitions move.
        async with self._lock:
            await self._commit()
            for tp in revoked:
                self._pending.pop(tp, None)
                if self._next.pop(tp, None) is not None:
                    self._lag.remove(group=self.group_id, topic=tp[0], partition=str(tp[1]))
            if self._on_revoked is not None:
                done = self._on_revoked(revoked)
                if done is not None:
                    await done

    async def _on_assign(self, assigned: set[tuple[str, int]]) -> None:
        # Under the lock: no record is handled while the handler's state for the new assignment loads.
        if self._on_assigned is not None:
            async with self._lock:
                await self._on_assigned(assigned)

    def _report_lag(self, consumer: Consumer) -> None:
        """Lag of every partition this member holds and has read from (end offset - next to handle)."""
        for topic, partition in consumer.assignment():
            end = consumer.highwater(topic, partition)
            nxt = self._next.get((topic, partition))
            if end is None or nxt is None:
                continue
            self._lag.set(max(0, end - nxt), group=self.group_id, topic=topic, partition=str(partition))

    def _backoff(self) -> Backoff:
        return Backoff(self.broker_backoff_s, self.max_broker_backoff_s)

    async def _wait_for_broker(self, stop: asyncio.Event, backoff: Backoff) -> None:
        self._broker_waits.inc(group=self.group_id)
        self._beat()
        await backoff.wait(stop)
        self._beat()

    def _beat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.beat()

    async def _start(self, consumer: Consumer, stop: asyncio.Event) -> bool:
        backoff = self._backoff()
        while not stop.is_set():
            try:
                await consumer.start()
                return True
            except BusError as exc:
                log.warning("waiting for the broker to consume: %s", exc, extra={"group": self.group_id})
                await self._wait_for_broker(stop, backoff)
        return False

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; the message in flight is finished and committed."""
        consumer = self.bus.consumer(self.topics, self.group_id, on_revoke=self._on_revoke, on_assign=self._on_assign)
        self._consumer = consumer
        if not await self._start(consumer, stop):
            return
        self.started.set()
        try:
            backoff = self._backoff()
            while not stop.is_set():
                try:
                    records = await consumer.getmany(timeout_ms=200, max_records=self.batch_size)
                    self._beat()
                except BusError as exc:
                    log.warning("fetch failed, will retry: %s", exc, extra={"group": self.group_id})
                    await self._wait_for_broker(stop, backoff)
                    continue
                backoff.reset()
                self._report_lag(consumer)
                if not records:
                    if self._pending:
                        async with self._lock:
                            await self._commit()  # offsets a failed commit kept
                    continue
                async with self._lock:
                    for rec in records:
                        if stop.is_set() or not await self._handle(rec, stop):
                            break
                        self._pending[(rec.topic, rec.partition)] = rec.offset + 1
                        self._next[(rec.topic, rec.partition)] = rec.offset + 1
                        self._beat()
                    await self._commit()
        finally:
            try:
                async with self._lock:
                    await self._commit()
            finally:
                await consumer.stop()
                self._consumer = None

    async def _handle(self, rec: Record, stop: asyncio.Event) -> bool:
        """Process ``rec``, riding out broker errors; False when stopped before it was done."""
        backoff = self._backoff()
        while not stop.is_set():
            try:
                await self._process(rec)
                return True
            except BusError as exc:
                log.warning(
                    "broker unavailable, retrying the record: %s",
                    exc,
                    extra={"source_topic": rec.topic, "offset": rec.offset, "group": self.group_id},
                )
                await self._wait_for_broker(stop, backoff)
        return False

    async def _process(self, rec: Record) -> None:
        t0 = time.perf_counter()
        error: BaseException | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self.handler(rec)
                self._processed.inc(group=self.group_id)
                self._latency.observe(time.perf_counter() - t0, group=self.group_id)
                return
            except PoisonMessage as exc:
                error = exc
                break
            except BusError:
                raise  # the broker is the problem, not the message: ``_handle`` waits and retries
            except Exception as exc:
                error = exc
                log.warning(
                    "handler failed (attempt %d/%d): %s",
                    attempt,
                    self.max_attempts,
                    exc,
                    extra={"source_topic": rec.topic, "offset": rec.offset, "group": self.group_id},
                )
                if attempt < self.max_attempts:
                    self._retried.inc(group=self.group_id)
                    await self._sleep(self.retry_backoff_s * 2 ** (attempt - 1))
        assert error is not None
        await self.dead_letter(rec, error, attempts=attempt)

    async def dead_letter(self, rec: Record, error: BaseException, attempts: int) -> None:
        reason = "poison" if isinstance(error, PoisonMessage) else "failed"
        headers = {
            "error": f"{type(error).__name__}: {error}"[:MAX_ERROR_HEADER],
            "error_kind": reason,
            "source_topic": rec.topic,
            "source_partition": str(rec.partition),
            "source_offset": str(rec.offset),
            "consumer_group": self.group_id,
            "attempts": str(attempts),
            "failed_at": utc_now().isoformat(),
        }
        await self.bus.publish(self.dead_letter_topic, rec.value, key=rec.key or "", headers=headers)
        self._dead.inc(group=self.group_id, reason=reason)
        log.error(
            "dead-lettered: %s",
            headers["error"],
            extra={"source_topic": rec.topic, "offset": rec.offset, "group": self.group_id},
        )
