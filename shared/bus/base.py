"""The bus interface both implementations (real Kafka, in-memory) provide."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from shared.bus.record import Record
from shared.contracts.base import Contract
from shared.errors import OversizedMessage
from shared.topics import TopicSpec

Payload = Contract | bytes | None


class Written(NamedTuple):
    """Where the broker put a published record."""

    partition: int
    offset: int


#: Called with the partitions (topic, partition) about to be taken away, before they go.
RevokeCallback = Callable[[set[tuple[str, int]]], Awaitable[None]]
#: Called after a rebalance with every partition the member now holds, before it fetches from them.
AssignCallback = Callable[[set[tuple[str, int]]], Awaitable[None]]


@dataclass(frozen=True)
class GroupTimeouts:
    """How a consumer group notices a member that died without leaving (``kill -9``, a lost host).

    The broker gives a silent member's partitions to the others ``session_timeout_ms`` after its last
    heartbeat; members beat every ``heartbeat_interval_ms`` and learn of a rebalance on their next beat.
    So a dead member's partitions move within about session timeout + one heartbeat interval. The broker
    accepts session timeouts between its ``group.min.session.timeout.ms`` (6 s by default) and
    ``group.max.session.timeout.ms`` (30 min).
    """

    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000

    def __post_init__(self) -> None:
        if not 0 < self.heartbeat_interval_ms < self.session_timeout_ms:
            raise ValueError(
                f"heartbeat interval ({self.heartbeat_interval_ms} ms) must be positive and below the "
                f"session timeout ({self.session_timeout_ms} ms)"
            )


class Consumer(ABC):
    """One member of a consumer group. Offsets are committed only by :meth:`commit`."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def getmany(self, timeout_ms: int = 500, max_records: int = 100) -> list[Record]: ...

    @abstractmethod
    async def commit(self, offsets: Mapping[tuple[str, int], int]) -> None:
        """Commit ``next offset to read`` per (topic, partition)."""

    @abstractmethod
    def assignment(self) -> set[tuple[str, int]]: ...

    @abstractmethod
    def highwater(self, topic: str, partition: int) -> int | None:
        """The partition's end offset as last seen by a fetch (None before the first): lag without a request."""


class Bus(ABC):
    """Publish (acknowledged by the broker before returning) and consume in groups."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def publish(
        self,
        topic: str,
        value: Payload,
        *,
        key: str,
        headers: Mapping[str, str | bytes] | None = None,
    ) -> Written | None:
        """Send one message and wait for the broker's acknowledgement; returns where it was written.

        ``None`` is a tombstone."""

    @abstractmethod
    def consumer(
        self,
        topics: Sequence[str],
        group_id: str,
        *,
        on_revoke: RevokeCallback | None = None,
        max_poll_interval_ms: int = 300_000,
        on_assign: AssignCallback | None = None,
    ) -> Consumer: ...

    @abstractmethod
    async def read_all(self, topic: str, partitions: set[int] | None = None) -> list[Record]:
        """Read a topic from its beginning to its current end (rebuilding state from a compacted topic)."""

    async def iter_all(self, topic: str, partitions: set[int] | None = None) -> AsyncIterator[list[Record]]:
        """:meth:`read_all` in batches, so a rebuild never holds the whole topic at once."""
        yield await self.read_all(topic, partitions)

    @abstractmethod
    async def read_at(self, topic: str, partition: int, offsets: Sequence[int]) -> list[Record]:
        """The records at ``offsets`` of one partition, in that order (those compacted away are missing)."""

    @abstractmethod
    async def ensure_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        """Create the missing topics with their declared config; return the names created."""

    async def reachable(self, timeout_s: float = 2.0) -> bool:
        """Whether the broker answers now (drives readiness); a bus in this process always does."""
        return True


#: Largest message we produce; the broker's default limit is 1 MiB.
MAX_MESSAGE_BYTES = 1_000_000


def encode_value(value: Payload) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return value.to_json_bytes()


def encode_bounded(topic: str, value: Payload) -> bytes | None:
    """The bytes to publish, refused (the record's fault, not the broker's) above the size limit."""
    data = encode_value(value)
    if data is not None and len(data) > MAX_MESSAGE_BYTES:
        raise OversizedMessage(f"publish {topic}: message of {len(data)} bytes exceeds {MAX_MESSAGE_BYTES}")
    return data
