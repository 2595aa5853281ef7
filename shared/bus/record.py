"""A consumed message, the same for the Kafka and the in-memory bus."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import ValidationError

from shared.contracts.base import Contract
from shared.errors import PoisonMessage

M = TypeVar("M", bound=Contract)


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int = 0
    #: When this process received the record (monotonic seconds), for latency metrics.
    received_at: float = field(default=0.0, compare=False)

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k == name:
                return v.decode("utf-8", "replace")
        return None

    def decode(self, model: type[M]) -> M:
        """Parse the payload; an unparseable one is poison (retrying cannot help)."""
        if self.value is None:
            raise PoisonMessage(f"decode {model.__name__}: tombstone where a payload was expected")
        try:
            return model.model_validate_json(self.value)
        except ValidationError as exc:
            first = exc.errors()[0] if exc.errors() else {}
            where = ".".join(str(p) for p in first.get("loc", ())) or "payload"
            raise PoisonMessage(f"decode {model.__name__}: {where}: {first.get('msg', 'invalid')}") from exc


def encode_headers(headers: Mapping[str, str | bytes] | None) -> list[tuple[str, bytes]]:
    if not headers:
        return []
    return [(k, v if isinstance(v, bytes) else str(v).encode("utf-8")) for k, v in headers.items()]
