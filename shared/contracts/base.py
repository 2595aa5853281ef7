"""The base every event model shares: a schema version and tolerance of newer producers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict

SCHEMA_VERSION = 1


def _as_utc(value: datetime) -> datetime:
    # Naive datetimes are taken as UTC so that every timestamp on the wire compares correctly.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Contract(BaseModel):
    """An event on a topic. Unknown fields from a newer producer are ignored, never fatal."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    #: Bumped on breaking changes; consumers may branch on it.
    schema_version: int = SCHEMA_VERSION

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode("utf-8")

    @classmethod
    def from_json_bytes(cls, data: bytes | str) -> Self:
        return cls.model_validate_json(data)
