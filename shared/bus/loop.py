"""At-least-once consumption: process, wait for outputs to be acknowledged, then commit.

A record that keeps failing after bounded retries (or is poison from the start) is sent to the
dead-letter topic with headers naming the error and its origin, and the loop moves on. If even
the dead-letter publish fails, the loop stops *without* committing, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from shared.bus.base import Bus
from shared.bus.record import Record
from shared.contracts.base import utc_now
from shared.errors import BusError, PoisonMessage
from shared.observability import Metrics

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
        on_revoked: Callable[[set[tuple[str, int]]], None] | None = None,
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
        #: Told which (topic, partition)s moved away, after their offsets were committed.
        self._on_revoked = on_revoked
        self._lock = asyncio.Lock()
        self._pending: dict[tuple[str, int], int] = {}
        self._consumer = None
        self.started = asyncio.Event()
        m = metrics or Metrics()
        self._processed = m.counter("messages_processed_total", "Messages handled successfully", ["group"])
        self._retried = m.counter("message_retries_total", "Handler attempts that failed and were retried", ["group"])
        self._dead = m.counter(
            "messages_dead_lettered_total", "Messages sent to the dead-letter topic", ["group", "reason"]
        )
        self._latency = m.histogram("message_handle_seconds", "Time to handle one message", ["group"])

    async def _commit(self) -> None:
        if self._pending and self._consumer is not None:
            await self._consumer.commit(dict(self._pending))
            self._pending.clear()

    async def _on_revoke(self, revoked: set[tuple[str, int]]) -> None:
        # Wait for the batch in flight to finish, then commit it before the partitions move.
        async with self._lock:
            await self._commit()
        if self._on_revoked is not None:
            self._on_revoked(revoked)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; the message in flight is finished and committed."""
        consumer = self.bus.consumer(self.topics, self.group_id, on_revoke=self._on_revoke)
        self._consumer = consumer
        await consumer.start()
        self.started.set()
        try:
            while not stop.is_set():
                records = await consumer.getmany(timeout_ms=200, max_records=self.batch_size)
                if not records:
                    continue
                async with self._lock:
                    for rec in records:
                        if stop.is_set():
                            break
                        await self._process(rec)
                        self._pending[(rec.topic, rec.partition)] = rec.offset + 1
                    await self._commit()
        finally:
            try:
                async with self._lock:
                    await self._commit()
            finally:
                await consumer.stop()
                self._consumer = None

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
                raise  # the broker is the problem, not the message: stop without committing
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
