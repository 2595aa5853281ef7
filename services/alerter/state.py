"""Position state on Kafka: rebuilt from the compacted ``positions`` topic and the ``alerts`` topic.

The detector's in-memory maps are only a cache: every change is written to ``positions`` (keyed
``actor:topic``, compacted), so a restarted or rescheduled alerter rebuilds the partitions it owns.
``alerts`` gives back the ids already sent (idempotency) and recent alerts for corroboration.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from services.alerter.detect import ShiftDetector
from shared.bus import Bus
from shared.contracts import Position, PositionChange
from shared.errors import PoisonMessage
from shared.topics import Topics

log = logging.getLogger("stancewatch.alerter.state")


class PositionStore:
    def __init__(self, bus: Bus, topics: Topics, detector: ShiftDetector, *, recent_limit: int = 500) -> None:
        self.bus = bus
        self.topics = topics
        self.detector = detector
        self.recent_limit = recent_limit
        #: Latest version of recent alerts by id, oldest first (for the /alerts route).
        self.recent: OrderedDict[str, PositionChange] = OrderedDict()
        #: Partitions whose state is loaded (observations, positions and alerts are co-partitioned).
        self.loaded: set[int] = set()
        #: The partition each known key lives on, to forget the right keys when partitions move.
        self.partition_of: dict[str, int] = {}

    async def rebuild(self, partitions: set[int] | None = None) -> tuple[int, int]:
        """Load positions and alerts of ``partitions`` (all when None); returns (positions, alerts) read."""
        n_pos = n_alerts = 0
        for rec in await self.bus.read_all(self.topics.positions.name, partitions):
            if rec.value is None:
                if rec.key:
                    self.detector.forget({rec.key})
                continue
            try:
                position = rec.decode(Position)
                self.detector.load_position(position)
                self.partition_of[position.key] = rec.partition
                n_pos += 1
            except PoisonMessage as exc:
                log.warning("skipping bad position record: %s", exc, extra={"offset": rec.offset})
        for rec in await self.bus.read_all(self.topics.alerts.name, partitions):
            try:
                alert = rec.decode(PositionChange)
            except PoisonMessage as exc:
                log.warning("skipping bad alert record: %s", exc, extra={"offset": rec.offset})
                continue
            self.detector.load_alert(alert)
            self.remember(alert)
            n_alerts += 1
        if partitions is None:
            self.loaded = set(range(self.topics.positions.partitions))
        else:
            self.loaded |= partitions
        return n_pos, n_alerts

    async def ensure_loaded(self, partition: int) -> None:
        if partition not in self.loaded:
            await self.rebuild({partition})

    def release(self, partitions: set[int]) -> None:
        """Forget partitions that moved to another instance; they are rebuilt if they come back."""
        self.loaded -= partitions
        gone = {key for key, p in self.partition_of.items() if p in partitions}
        self.detector.forget(gone)
        for key in gone:
            del self.partition_of[key]

    async def save(self, position: Position, partition: int) -> None:
        await self.bus.publish(self.topics.positions.name, position, key=position.key)
        self.partition_of[position.key] = partition

    def remember(self, alert: PositionChange) -> None:
        self.recent[alert.alert_id] = alert
        self.recent.move_to_end(alert.alert_id)
        while len(self.recent) > self.recent_limit:
            self.recent.popitem(last=False)
