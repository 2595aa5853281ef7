"""An in-process bus with the Kafka bus's semantics, for unit tests and single-process replay.

Partitions, per-group committed offsets and keyed ordering behave like Kafka's; there is one
member per group (no rebalancing) and nothing survives the process.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import AsyncIterator, Mapping, Sequence

from shared.bus.base import AssignCallback, Bus, Consumer, Payload, RevokeCallback, Written, encode_bounded
from shared.bus.record import Record, encode_headers
from shared.errors import BusError
from shared.topics import TopicSpec


class MemoryConsumer(Consumer):
    def __init__(
        self, bus: MemoryBus, topics: Sequence[str], group_id: str, on_assign: AssignCallback | None = None
    ) -> None:
        self._bus = bus
        self._on_assign = on_assign
        self._topics = list(topics)
        self._group = group_id
        self._positions: dict[tuple[str, int], int] = {}
        self._running = False

    async def start(self) -> None:
        for t in self._topics:
            self._bus._ensure(t)
        self._positions = {tp: self._bus._committed.get((self._group, *tp), 0) for tp in self.assignment()}
        self._running = True
        if self._on_assign is not None:
            await self._on_assign(self.assignment())  # the only member: it holds every partition from the start

    async def stop(self) -> None:
        self._running = False

    def assignment(self) -> set[tuple[str, int]]:
        return {(t, p) for t in self._topics for p in range(len(self._bus._log.get(t, [])))}

    def highwater(self, topic: str, partition: int) -> int | None:
        partitions = self._bus._log.get(topic, [])
        return len(partitions[partition]) if partition < len(partitions) else None

    async def getmany(self, timeout_ms: int = 500, max_records: int = 100) -> list[Record]:
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            out: list[Record] = []
            for tp in sorted(self.assignment()):
                pos = self._positions.setdefault(tp, self._bus._committed.get((self._group, *tp), 0))
                log = self._bus._log[tp[0]][tp[1]]
                take = log[pos : pos + max_records - len(out)]
                out.extend(take)
                self._positions[tp] = pos + len(take)
                if len(out) >= max_records:
                    break
            if out or not self._running:
                return out
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            async with self._bus._changed:
                try:
                    await asyncio.wait_for(self._bus._changed.wait(), remaining)
                except TimeoutError:
                    return []

    async def commit(self, offsets: Mapping[tuple[str, int], int]) -> None:
        for (t, p), o in offsets.items():
            self._bus._committed[(self._group, t, p)] = o

    def rewind_to_committed(self) -> None:
        """Forget uncommitted progress, as a crashed Kafka consumer would."""
        self._positions = {tp: self._bus._committed.get((self._group, *tp), 0) for tp in self.assignment()}


class MemoryBus(Bus):
    def __init__(self, default_partitions: int = 1, *, read_batch: int = 1000) -> None:
        self._default_partitions = default_partitions
        #: Records per batch of :meth:`iter_all` (Kafka's fetch size), so rebuilds stream here too.
        self.read_batch = read_batch
        self._log: dict[str, list[list[Record]]] = {}
        self._committed: dict[tuple[str, str, int], int] = {}
        self._changed = asyncio.Condition()
        self.started = False

    def _ensure(self, topic: str, partitions: int | None = None) -> list[list[Record]]:
        if topic not in self._log:
            self._log[topic] = [[] for _ in range(partitions or self._default_partitions)]
        return self._log[topic]

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    async def publish(
        self,
        topic: str,
        value: Payload,
        *,
        key: str,
        headers: Mapping[str, str | bytes] | None = None,
    ) -> Written | None:
        if not self.started:
            raise BusError(f"publish {topic}: bus not started")
        data = encode_bounded(topic, value)  # the same limit as Kafka's, so tests meet it too
        parts = self._ensure(topic)
        p = zlib.crc32(key.encode("utf-8")) % len(parts)
        rec = Record(
            topic=topic,
            partition=p,
            offset=len(parts[p]),
            key=key,
            value=data,
            headers=tuple(encode_headers(headers)),
            timestamp_ms=int(time.time() * 1000),
            received_at=time.monotonic(),
        )
        parts[p].append(rec)
        async with self._changed:
            self._changed.notify_all()
        return Written(p, rec.offset)

    def consumer(
        self,
        topics: Sequence[str],
        group_id: str,
        *,
        on_revoke: RevokeCallback | None = None,
        max_poll_interval_ms: int = 300_000,
        on_assign: AssignCallback | None = None,
    ) -> MemoryConsumer:
        return MemoryConsumer(self, topics, group_id, on_assign)

    async def read_all(self, topic: str, partitions: set[int] | None = None) -> list[Record]:
        parts = self._log.get(topic, [])
        return [r for i, recs in enumerate(parts) if partitions is None or i in partitions for r in recs]

    async def iter_all(self, topic: str, partitions: set[int] | None = None) -> AsyncIterator[list[Record]]:
        records = await self.read_all(topic, partitions)
        for i in range(0, len(records), self.read_batch):
            yield records[i : i + self.read_batch]

    async def read_at(self, topic: str, partition: int, offsets: Sequence[int]) -> list[Record]:
        parts = self._log.get(topic, [])
        recs = parts[partition] if partition < len(parts) else []
        return [recs[o] for o in offsets if 0 <= o < len(recs)]

    async def ensure_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        created = [s.name for s in specs if s.name not in self._log]
        for s in specs:
            self._ensure(s.name, s.partitions)
        return created

    def records(self, topic: str) -> list[Record]:
        """Every record of a topic, partition by partition (for tests and replay)."""
        return [r for recs in self._log.get(topic, []) for r in recs]

    def committed(self, group_id: str) -> dict[tuple[str, int], int]:
        """The offsets ``group_id`` committed, by (topic, partition)."""
        return {(t, p): o for (g, t, p), o in self._committed.items() if g == group_id}
