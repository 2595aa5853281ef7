"""Position state on Kafka: rebuilt from the compacted ``positions`` topic and the ``alerts`` topic.

The detector's in-memory maps are only a cache: every change is written to ``positions`` (keyed
``actor:topic``, compacted), so a restarted or rescheduled alerter rebuilds the partitions it owns.
``alerts`` gives back the ids already sent (idempotency) and recent alerts for corroboration.

Memory is bounded: at most ``max_positions`` positions (with their recent alerts) are held; the least
recently updated ones beyond it are evicted. An evicted position is not lost: it is the latest record
of its key on ``positions`` (compaction keeps it), so the store keeps only where that record is, and
where the latest versions of the key's recent alerts are on ``alerts`` (:class:`Spilled`), and reads
exactly those records back on the key's next observation. A position still within its grace period
(records not yet settled) is never evicted, so the grace tick still finds it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import NamedTuple

from services.alerter.detect import RECENT_ALERTS_PER_KEY, ShiftDetector
from shared.bus import Bus, Record, Written
from shared.contracts import Position, PositionChange
from shared.errors import PoisonMessage
from shared.topics import Topics

log = logging.getLogger("stancewatch.alerter.state")

#: Positions held in memory by default: up to ~90 KB each with a full history of 20 (README, "Memory").
DEFAULT_MAX_POSITIONS = 5_000


class Spilled(NamedTuple):
    """What is kept of an evicted position: where its latest record and its recent alerts are."""

    #: The latest record of the key on ``positions``.
    at: Written
    #: The partition of ``alerts`` the key's alerts are on (one key, one partition).
    alert_partition: int = 0
    #: Offsets there of the latest version of each of the key's recent alerts, in the detector's order.
    alerts: tuple[int, ...] = ()


def evictions(lru: Iterable[str], held: int, limit: int | None, pinned: Callable[[str], bool]) -> list[str]:
    """The keys to evict so that at most ``limit`` of ``held`` positions stay: least recently updated first.

    ``lru`` lists held keys oldest first; pinned keys (a change still in its grace period) are skipped, so
    the bound may be exceeded while that many are pinned. ``limit=None`` is no bound.
    """
    if limit is None or held <= limit:
        return []
    out: list[str] = []
    for key in lru:
        if len(out) >= held - limit:
            break
        if not pinned(key):
            out.append(key)
    return out


class PositionStore:
    def __init__(
        self,
        bus: Bus,
        topics: Topics,
        detector: ShiftDetector,
        *,
        recent_limit: int = 500,
        max_positions: int | None = None,
    ) -> None:
        self.bus = bus
        self.topics = topics
        self.detector = detector
        self.recent_limit = recent_limit
        self.max_positions = max_positions
        #: Latest version of recent alerts by id, oldest first (for the /alerts route).
        self.recent: OrderedDict[str, PositionChange] = OrderedDict()
        #: Partitions whose state is loaded (observations, positions and alerts are co-partitioned).
        self.loaded: set[int] = set()
        #: The partition each known key lives on, to forget the right keys when partitions move.
        self.partition_of: dict[str, int] = {}
        #: Held keys, least recently updated first, with where their latest position record is.
        self.held: OrderedDict[str, Written | None] = OrderedDict()
        #: Offsets of the latest version of each held key's recent alerts, by alert id (detector order).
        self.alert_offsets: dict[str, dict[str, int]] = {}
        #: The partition of ``alerts`` each key's alerts are on.
        self.alert_partition: dict[str, int] = {}
        #: Evicted keys: where to read them back.
        self.spilled: dict[str, Spilled] = {}
        #: Keys evicted during a rebuild: their alerts' offsets by id, until the rebuild ends.
        self._spilling: dict[str, dict[str, int]] = {}

    async def rebuild(self, partitions: set[int] | None = None) -> tuple[int, int]:
        """Load positions and alerts of ``partitions`` (all when None); returns (positions, alerts) read.

        Both topics are streamed batch by batch and the bound is applied after each position, so a rebuild
        holds at most ``max_positions`` positions (plus one batch of raw records) at any time.
        """
        n_pos = n_alerts = 0
        async for batch in self.bus.iter_all(self.topics.positions.name, partitions):
            for rec in batch:
                n_pos += self._load_position(rec)
                self.evict()
        async for batch in self.bus.iter_all(self.topics.alerts.name, partitions):
            for rec in batch:
                n_alerts += self._load_alert(rec)
        for key, offsets in self._spilling.items():
            if key in self.spilled:
                part = self.alert_partition.pop(key, 0)
                self.spilled[key] = self.spilled[key]._replace(alert_partition=part, alerts=tuple(offsets.values()))
        self._spilling.clear()
        if partitions is None:
            self.loaded = set(range(self.topics.positions.partitions))
        else:
            self.loaded |= partitions
        return n_pos, n_alerts

    def _load_position(self, rec: Record) -> int:
        if rec.value is None:
            if rec.key:
                self._drop({rec.key})
            return 0
        try:
            position = rec.decode(Position)
        except PoisonMessage as exc:
            log.warning("skipping bad position record: %s", exc, extra={"offset": rec.offset})
            return 0
        self.spilled.pop(position.key, None)
        self._spilling.pop(position.key, None)
        self.detector.load_position(position)
        self.partition_of[position.key] = rec.partition
        self._touch(position.key, Written(rec.partition, rec.offset))
        return 1

    def _load_alert(self, rec: Record) -> int:
        try:
            alert = rec.decode(PositionChange)
        except PoisonMessage as exc:
            log.warning("skipping bad alert record: %s", exc, extra={"offset": rec.offset})
            return 0
        if alert.key in self.spilled:
            self.detector.sent_ids.add(alert.alert_id)
            self.alert_partition[alert.key] = rec.partition
            _remember_offset(self._spilling.setdefault(alert.key, {}), alert.alert_id, rec.offset)
        else:
            self.detector.load_alert(alert)
            self.alert_published(alert, Written(rec.partition, rec.offset))
        self.remember(alert)
        return 1

    async def ensure_loaded(self, partition: int) -> None:
        if partition not in self.loaded:
            await self.rebuild({partition})

    async def ensure_key(self, key: str) -> None:
        """Read an evicted position (and its recent alerts) back before its next observation is decided."""
        spilled = self.spilled.get(key)
        if spilled is None:
            return
        found = await self.bus.read_at(self.topics.positions.name, spilled.at.partition, [spilled.at.offset])
        alerts = await self.bus.read_at(self.topics.alerts.name, spilled.alert_partition, spilled.alerts)
        del self.spilled[key]
        if not found or found[0].key != key or found[0].value is None:
            # Compaction keeps a key's latest record, so this means the topic was changed under us.
            log.error("evicted position %s not found at %s; starting it afresh", key, spilled.at)
            return
        self.detector.load_position(found[0].decode(Position))
        self._touch(key, spilled.at)
        for rec in alerts:
            alert = rec.decode(PositionChange)
            self.detector.load_alert(alert)
            self.alert_published(alert, Written(rec.partition, rec.offset))

    def evict(self) -> list[str]:
        """Apply the bound: spill the least recently updated positions beyond ``max_positions``."""
        positions = self.detector.positions

        def pinned(key: str) -> bool:
            pos = positions.get(key)
            return self.held[key] is None or (pos is not None and any(not r.settled for r in pos.history))

        gone = evictions(self.held, len(self.held), self.max_positions, pinned)
        for key in gone:
            at = self.held.pop(key)
            assert at is not None
            known = self.alert_offsets.pop(key, {})
            recent = self.detector.recent_alerts.get(key, [])
            offsets = tuple(known[a.alert_id] for a in recent if a.alert_id in known)
            self.spilled[key] = Spilled(at, self.alert_partition.pop(key, 0), offsets)
        self.detector.forget(set(gone))
        return gone

    def release(self, partitions: set[int]) -> None:
        """Forget partitions that moved to another instance; they are rebuilt if they come back."""
        self.loaded -= partitions
        self._drop({key for key, p in self.partition_of.items() if p in partitions})

    def _drop(self, keys: set[str]) -> None:
        self.detector.forget(keys)
        for key in keys:
            self.partition_of.pop(key, None)
            self.held.pop(key, None)
            self.alert_offsets.pop(key, None)
            self.alert_partition.pop(key, None)
            self.spilled.pop(key, None)
            self._spilling.pop(key, None)

    async def save(self, position: Position, partition: int) -> None:
        written = await self.bus.publish(self.topics.positions.name, position, key=position.key)
        self.partition_of[position.key] = partition
        self._touch(position.key, written)

    def alert_published(self, alert: PositionChange, written: Written | None) -> None:
        """Note where the latest version of a held key's alert is (to read it back after an eviction)."""
        if written is not None:
            self.alert_partition[alert.key] = written.partition
            _remember_offset(self.alert_offsets.setdefault(alert.key, {}), alert.alert_id, written.offset)

    def _touch(self, key: str, at: Written | None) -> None:
        self.spilled.pop(key, None)  # held again: its record on Kafka is no longer the latest
        self.held[key] = at
        self.held.move_to_end(key)

    def remember(self, alert: PositionChange) -> None:
        self.recent[alert.alert_id] = alert
        self.recent.move_to_end(alert.alert_id)
        while len(self.recent) > self.recent_limit:
            self.recent.popitem(last=False)


def _remember_offset(offsets: dict[str, int], alert_id: str, offset: int) -> None:
    """The detector's recent-alert order: an update keeps its place; the oldest beyond the limit go."""
    offsets[alert_id] = offset
    while len(offsets) > RECENT_ALERTS_PER_KEY:
        del offsets[next(iter(offsets))]
