"""The message bus: real Kafka for services and integration tests, in-memory for unit tests and replay."""

from shared.bus.base import Bus, Consumer, GroupTimeouts, Written
from shared.bus.kafka import KafkaBus
from shared.bus.loop import ConsumerLoop, Handler
from shared.bus.memory import MemoryBus
from shared.bus.record import Record
from shared.bus.security import KafkaSecurity

__all__ = [
    "Bus",
    "Consumer",
    "ConsumerLoop",
    "GroupTimeouts",
    "Handler",
    "KafkaBus",
    "KafkaSecurity",
    "MemoryBus",
    "Record",
    "Written",
    "make_bus",
]


def make_bus(
    kind: str,
    bootstrap_servers: str,
    client_id: str = "stancewatch",
    replication_factor: int = 1,
    security: KafkaSecurity | None = None,
    group: GroupTimeouts | None = None,
) -> Bus:
    if kind == "memory":
        return MemoryBus()
    return KafkaBus(
        bootstrap_servers,
        client_id=client_id,
        replication_factor=replication_factor,
        security=security,
        group=group,
    )
