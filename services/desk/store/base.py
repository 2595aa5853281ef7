"""The desk's store behind one small interface: what the topics said, queryable by the pages and the API.

Two implementations prove the seam (:mod:`.sqlite`, the default, and :mod:`.postgres`, which several desk
replicas share); both run the same SQL (:mod:`.sql`) and the same test suite.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from shared.contracts import DeliveryOutcome, Feedback, Position, PositionChange, StanceObservation

T = TypeVar("T")

#: Largest page any query returns; the API refuses a larger ``limit``.
MAX_PAGE = 500


@dataclass(frozen=True)
class Window:
    """Paging and an event-time window shared by every list."""

    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class ObservationQuery:
    actor: str | None = None
    topic: str | None = None
    stance: str | None = None
    #: Words that must all appear (case-insensitive) in the figure, topic, title, outlet or evidence.
    text: str | None = None
    window: Window = field(default_factory=Window)


@dataclass(frozen=True)
class AlertQuery:
    actor: str | None = None
    topic: str | None = None
    severity: str | None = None
    status: str | None = None
    text: str | None = None
    #: ``since``/``until`` apply to when the alert was raised (``created_at``).
    window: Window = field(default_factory=Window)


@dataclass(frozen=True)
class FeedbackQuery:
    actor: str | None = None
    topic: str | None = None
    article_id: str | None = None
    alert_id: str | None = None
    window: Window = field(default_factory=Window)


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None


@dataclass(frozen=True)
class PositionRow:
    """One cell of the overview: a figure's established stance on a topic."""

    actor: str
    topic: str
    actor_name: str | None
    topic_label: str | None
    established: str | None
    established_since: datetime | None
    latest: str | None
    #: The confidence of the newest observation that reported the established stance (else the latest).
    confidence: float | None
    last_change: datetime | None
    updated_at: datetime | None
    provisional: bool


@dataclass(frozen=True)
class DeliveryRow:
    delivery_id: str
    alert_id: str
    channel: str
    status: str
    attempts: int
    http_status: int | None
    last_error: str | None
    at: datetime


@dataclass
class AlertView:
    alert: PositionChange
    deliveries: list[DeliveryRow] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)


@dataclass
class TimelineEntry:
    observation: StanceObservation
    #: Alerts this observation raised (it is their ``after``), retracted ones included.
    alerts: list[AlertView] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)


@dataclass
class Timeline:
    actor: str
    topic: str
    position: PositionRow | None
    entries: Page[TimelineEntry]
    #: Alerts of this pair whose triggering observation is not in the store (past its retention).
    unplaced: list[AlertView] = field(default_factory=list)


@dataclass
class Overview:
    figures: list[tuple[str, str]]
    topics: list[tuple[str, str]]
    cells: list[PositionRow]

    def cell(self, actor: str, topic: str) -> PositionRow | None:
        return next((c for c in self.cells if c.actor == actor and c.topic == topic), None)


class Store(ABC):
    """What the desk keeps. Every ``apply_*`` is an idempotent upsert: a record delivered again, or an
    older version of the same key (by its partition and offset), changes nothing."""

    #: Human-readable name of where the data lives (credentials masked), for logs and /readyz.
    description: str = ""

    @abstractmethod
    async def open(self) -> bool:
        """Connect and migrate to the newest schema; True when the store was created just now (empty)."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def reset(self) -> None:
        """Throw everything away and start from an empty, migrated store with a new generation."""

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def generation(self) -> str:
        """A name made when the store was created: the consumer group is named after it, so a new or
        reset store reads every topic from its beginning and a kept one resumes where it stopped."""

    @abstractmethod
    async def ping(self) -> bool:
        """Whether the database answers now (readiness)."""

    # --- writes (from the topics) -------------------------------------------------------------
    @abstractmethod
    async def apply_position(self, key: str, position: Position | None, partition: int, offset: int) -> None:
        """``None`` is a tombstone: the pair's position is gone from the compacted topic."""

    @abstractmethod
    async def apply_observation(self, obs: StanceObservation, partition: int, offset: int) -> None: ...

    @abstractmethod
    async def apply_alert(self, alert: PositionChange, partition: int, offset: int) -> None:
        """The alerts topic carries every version of an alert; the newest (highest offset) is its state."""

    @abstractmethod
    async def apply_delivery(self, outcome: DeliveryOutcome) -> None: ...

    @abstractmethod
    async def apply_feedback(self, feedback: Feedback) -> None: ...

    # --- reads --------------------------------------------------------------------------------
    @abstractmethod
    async def overview(self) -> Overview: ...

    @abstractmethod
    async def position(self, actor: str, topic: str) -> PositionRow | None: ...

    @abstractmethod
    async def observation(self, actor: str, topic: str, article_id: str) -> StanceObservation | None: ...

    @abstractmethod
    async def observations(self, query: ObservationQuery) -> Page[StanceObservation]: ...

    @abstractmethod
    async def timeline(self, actor: str, topic: str, window: Window) -> Timeline: ...

    @abstractmethod
    async def alert(self, alert_id: str) -> AlertView | None: ...

    @abstractmethod
    async def alerts(self, query: AlertQuery) -> Page[AlertView]: ...

    @abstractmethod
    async def feedback(self, query: FeedbackQuery) -> Page[Feedback]: ...

    @abstractmethod
    async def counts(self) -> dict[str, int]:
        """Rows per table (for /readyz and the benchmark)."""
