"""The bus on a real Apache Kafka cluster (aiokafka)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.errors import (
    InvalidProducerEpoch,
    KafkaError,
    MessageSizeTooLargeError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    TopicAlreadyExistsError,
    UnknownProducerId,
)

from shared.bus.base import (
    MAX_MESSAGE_BYTES,
    AssignCallback,
    Bus,
    Consumer,
    GroupTimeouts,
    Payload,
    RevokeCallback,
    Written,
    encode_bounded,
)
from shared.bus.record import Record, encode_headers
from shared.bus.security import KafkaSecurity, auth_failure, client_options
from shared.errors import BusError, OversizedMessage, StancewatchError
from shared.topics import TopicSpec

log = logging.getLogger("stancewatch.bus")

#: Errors after which an idempotent producer never recovers by itself: it must be replaced.
#: Records per fetch when reading a topic through (a rebuild handles them batch by batch).
READ_BATCH = 1000
#: Records per fetch when reading single records back (an evicted position): one is wanted.
READ_AT_BATCH = 1
FATAL_PRODUCER_ERRORS = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerEpoch, ProducerFenced)


def _record(msg: object) -> Record:
    key = msg.key  # type: ignore[attr-defined]
    return Record(
        topic=msg.topic,  # type: ignore[attr-defined]
        partition=msg.partition,  # type: ignore[attr-defined]
        offset=msg.offset,  # type: ignore[attr-defined]
        key=key.decode("utf-8", "replace") if key is not None else None,
        value=msg.value,  # type: ignore[attr-defined]
        headers=tuple(msg.headers or ()),  # type: ignore[attr-defined]
        timestamp_ms=msg.timestamp or 0,  # type: ignore[attr-defined]
        received_at=time.monotonic(),
    )


class _Revoker(ConsumerRebalanceListener):
    """Tells the consumer's owner which partitions go (before) and which it now holds (after a rebalance)."""

    def __init__(self, group_id: str, callback: RevokeCallback | None, on_assign: AssignCallback | None) -> None:
        self._group_id = group_id
        self._callback = callback
        self._on_assign = on_assign

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if self._callback is not None and revoked:
            await self._callback({(tp.topic, tp.partition) for tp in revoked})

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info(
            "partitions assigned",
            extra={"group": self._group_id, "partitions": sorted(f"{t.topic}:{t.partition}" for t in assigned)},
        )
        if self._on_assign is not None:
            # Awaited here, before the first fetch of the new assignment: its state is loaded first.
            await self._on_assign({(tp.topic, tp.partition) for tp in assigned})


class KafkaConsumer(Consumer):
    def __init__(
        self,
        bootstrap: str,
        topics: Sequence[str],
        group_id: str,
        on_revoke: RevokeCallback | None,
        max_poll_interval_ms: int,
        security: KafkaSecurity,
        on_assign: AssignCallback | None = None,
        group: GroupTimeouts | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._security = security
        self._topics = list(topics)
        self._listener = _Revoker(group_id, on_revoke, on_assign)
        timeouts = group or GroupTimeouts()
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            **client_options(security),
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=max_poll_interval_ms,
            session_timeout_ms=timeouts.session_timeout_ms,
            heartbeat_interval_ms=timeouts.heartbeat_interval_ms,
            metadata_max_age_ms=5_000,
            # Several topics are co-partitioned inputs (the alerter's observations and feedback): range gives
            # a member partition p of each. Only range is offered (aiokafka offering range and round robin
            # together rebalanced without end); a single topic keeps round robin, as before.
            partition_assignment_strategy=(RangePartitionAssignor,)
            if len(self._topics) > 1
            else (RoundRobinPartitionAssignor,),
        )

    async def start(self) -> None:
        try:
            await self._consumer.start()
        except KafkaError as exc:
            with contextlib.suppress(KafkaError):
                await self._consumer.stop()
            raise await start_error("consumer start", self._bootstrap, self._security, exc) from exc
        self._consumer.subscribe(self._topics, listener=self._listener)

    async def stop(self) -> None:
        await self._consumer.stop()

    async def getmany(self, timeout_ms: int = 500, max_records: int = 100) -> list[Record]:
        try:
            batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        except KafkaError as exc:
            raise BusError(f"fetch: {exc}") from exc
        out = [_record(m) for msgs in batches.values() for m in msgs]
        out.sort(key=lambda r: r.received_at)
        return out

    async def commit(self, offsets: Mapping[tuple[str, int], int]) -> None:
        if not offsets:
            return
        try:
            await self._consumer.commit({TopicPartition(t, p): o for (t, p), o in offsets.items()})
        except KafkaError as exc:
            raise BusError(f"commit: {exc}") from exc

    def assignment(self) -> set[tuple[str, int]]:
        return {(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    def highwater(self, topic: str, partition: int) -> int | None:
        return self._consumer.highwater(TopicPartition(topic, partition))


async def start_error(stage: str, bootstrap: str, security: KafkaSecurity, exc: KafkaError) -> StancewatchError:
    """The error a client start raises: a ConfigError when the broker refused us, else a BusError (an outage)."""
    return await auth_failure(bootstrap, security, stage) or BusError(f"{stage} ({bootstrap}): {exc}")


class KafkaBus(Bus):
    """Producer is idempotent with acks=all; every publish waits for the broker's acknowledgement."""

    def __init__(
        self,
        bootstrap_servers: str,
        client_id: str = "stancewatch",
        replication_factor: int = 1,
        security: KafkaSecurity | None = None,
        group: GroupTimeouts | None = None,
    ) -> None:
        self.bootstrap = bootstrap_servers
        #: How fast a group notices a member that died (session timeout) and how often members beat.
        self.group = group or GroupTimeouts()
        self.client_id = client_id
        self.replication_factor = replication_factor
        self.security = security or KafkaSecurity()
        client_options(self.security)  # a wrong combination fails here, before any client is built
        self._producer: AIOKafkaProducer | None = None
        self._started = False

    async def reachable(self, timeout_s: float = 2.0) -> bool:
        """A TCP connection to any bootstrap broker within ``timeout_s``: cheap, and false the moment it is down."""
        for server in self.bootstrap.split(","):
            host, _, port = server.strip().rpartition(":")
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(host.strip("[]"), int(port)), timeout_s)
            except (OSError, TimeoutError, ValueError):
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return True
        return False

    async def start(self) -> None:
        if self._producer is not None:
            return
        self._producer = await self._new_producer()
        self._started = True

    def client_options(self) -> dict[str, Any]:
        """The security options every client of this bus is built with (holds the password: never log it)."""
        return client_options(self.security)

    async def _new_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            **self.client_options(),
            client_id=self.client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
            max_request_size=MAX_MESSAGE_BYTES + 64_000,
            request_timeout_ms=15_000,
        )
        try:
            await producer.start()
        except KafkaError as exc:
            await producer.stop()
            raise await start_error("producer start", self.bootstrap, self.security, exc) from exc
        return producer

    async def _replace_producer(self, cause: KafkaError) -> None:
        """An idempotent producer whose sequence the broker lost is stuck for good: start a new one."""
        log.warning("producer replaced after a fatal error: %s", cause)
        old, self._producer = self._producer, None
        if old is not None:
            with contextlib.suppress(KafkaError):
                await old.stop()
        self._producer = await self._new_producer()

    async def stop(self) -> None:
        self._started = False
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(
        self,
        topic: str,
        value: Payload,
        *,
        key: str,
        headers: Mapping[str, str | bytes] | None = None,
    ) -> Written | None:
        if self._producer is None:
            if not self._started:
                raise BusError(f"publish {topic}: bus not started")
            self._producer = await self._new_producer()  # a replacement that could not start before
        data = encode_bounded(topic, value)
        try:
            meta = await self._producer.send_and_wait(
                topic, data, key=key.encode("utf-8"), headers=encode_headers(headers)
            )
        except MessageSizeTooLargeError as exc:  # a topic whose own limit is lower than ours
            raise OversizedMessage(f"publish {topic}: {exc}") from exc
        except FATAL_PRODUCER_ERRORS as exc:
            await self._replace_producer(exc)
            raise BusError(f"publish {topic}: {exc} (producer replaced; try again)") from exc
        except KafkaError as exc:
            raise BusError(f"publish {topic}: {exc}") from exc
        return Written(int(meta.partition), int(meta.offset))

    def consumer(
        self,
        topics: Sequence[str],
        group_id: str,
        *,
        on_revoke: RevokeCallback | None = None,
        max_poll_interval_ms: int = 300_000,
        on_assign: AssignCallback | None = None,
    ) -> Consumer:
        return KafkaConsumer(
            self.bootstrap,
            topics,
            group_id,
            on_revoke,
            max_poll_interval_ms,
            self.security,
            on_assign=on_assign,
            group=self.group,
        )

    async def read_all(self, topic: str, partitions: set[int] | None = None) -> list[Record]:
        return [rec async for batch in self.iter_all(topic, partitions) for rec in batch]

    async def iter_all(self, topic: str, partitions: set[int] | None = None) -> AsyncIterator[list[Record]]:
        consumer = await self._reader(f"read {topic}")
        try:
            parts = consumer.partitions_for_topic(topic)
            if parts is None:
                await consumer._client.force_metadata_update()
                parts = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(parts) if partitions is None or p in partitions]
            if not tps:
                return
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            end = await consumer.end_offsets(tps)
            remaining = {tp for tp in tps if end[tp] > 0}
            while remaining:
                batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=READ_BATCH)
                for tp, msgs in batches.items():
                    batch = [_record(m) for m in msgs if m.offset < end[tp]]
                    if batch:
                        yield batch
                for tp in list(remaining):
                    if await consumer.position(tp) >= end[tp]:
                        remaining.discard(tp)
        finally:
            await consumer.stop()

    async def admin(self, stage: str) -> AIOKafkaAdminClient:
        """A started admin client with this bus's security; the caller closes it."""
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap, client_id=f"{self.client_id}-admin", **self.client_options()
        )
        try:
            await admin.start()
        except KafkaError as exc:
            with contextlib.suppress(KafkaError):
                await admin.close()
            raise await start_error(stage, self.bootstrap, self.security, exc) from exc
        return admin

    async def read_at(self, topic: str, partition: int, offsets: Sequence[int]) -> list[Record]:
        if not offsets:
            return []
        consumer = await self._reader(f"read {topic}")
        try:
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            end = (await consumer.end_offsets([tp]))[tp]
            found: dict[int, Record] = {}
            for offset in sorted(set(offsets)):
                if offset in found or offset >= end:
                    continue
                consumer.seek(tp, offset)
                while offset not in found and await consumer.position(tp) < end:
                    msgs = (await consumer.getmany(tp, timeout_ms=1000, max_records=READ_AT_BATCH)).get(tp, [])
                    found |= {m.offset: _record(m) for m in msgs if m.offset in offsets}
                    if msgs and msgs[-1].offset >= offset:
                        break  # compacted away: the next record after it came instead
            return [found[o] for o in offsets if o in found]
        finally:
            await consumer.stop()

    async def _reader(self, stage: str) -> AIOKafkaConsumer:
        """A started group-less consumer with this bus's security, for reading topics from the start."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            **self.client_options(),
            enable_auto_commit=False,
            group_id=None,
            auto_offset_reset="earliest",
        )
        try:
            await consumer.start()
        except KafkaError as exc:
            with contextlib.suppress(KafkaError):
                await consumer.stop()
            raise await start_error(stage, self.bootstrap, self.security, exc) from exc
        return consumer

    async def ensure_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        try:
            return await self._ensure_topics(specs)
        except KafkaError as exc:
            raise BusError(f"topic bootstrap ({self.bootstrap}): {exc}") from exc

    async def _ensure_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        admin = await self.admin("topic bootstrap")
        try:
            existing = set(await admin.list_topics())
            missing = [s for s in specs if s.name not in existing]
            if not missing:
                return []
            new = [
                NewTopic(
                    name=s.name,
                    num_partitions=s.partitions,
                    replication_factor=self.replication_factor,
                    topic_configs=s.config(),
                )
                for s in missing
            ]
            try:
                await admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass  # another instance won the race: fine, topics exist
            await self._wait_for_metadata([s.name for s in missing])
            return [s.name for s in missing]
        finally:
            await admin.close()

    async def _wait_for_metadata(self, names: list[str], timeout_s: float = 15.0) -> None:
        """Wait until every partition of the new topics has a leader, so the first publish succeeds."""
        admin = await self.admin("topic bootstrap")
        try:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                described = await admin.describe_topics(names)
                ready = {
                    t["topic"]
                    for t in described
                    if t.get("error_code", 0) == 0
                    and t.get("partitions")
                    and all(p.get("leader", -1) >= 0 and p.get("error_code", 0) == 0 for p in t["partitions"])
                }
                if set(names) <= ready:
                    return
                await asyncio.sleep(0.1)
            raise BusError(f"topic bootstrap: topics have no leader after {timeout_s}s: {names}")
        finally:
            await admin.close()
