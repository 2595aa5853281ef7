"""Digests and quiet hours: when a held alert is released, what a digest says, the buffer of held alerts.

Pure functions decide the release time (a rolling window, or a calendar schedule in a timezone); what a
digest says is ``shared.contracts.webhooks.DigestData`` (the webhook body's model, which any channel
renders); :class:`DigestBuffer` groups held alerts per channel and release time, and can be rebuilt from the
deliveries topic (held items minus those already batched).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.alerter.routing import WEEKDAYS, ChannelConfig, DigestSchedule, QuietHours
from shared.contracts import DeliveryTask, PositionChange

HELD_PREFIX = "held:"
DIGEST_PREFIX = "digest:"


def in_quiet_hours(quiet: QuietHours, now: datetime) -> bool:
    local = now.astimezone(ZoneInfo(quiet.timezone)).time()
    if quiet.start <= quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end  # spans midnight


def quiet_end(quiet: QuietHours, now: datetime) -> datetime:
    """The next end of quiet hours after ``now`` (UTC)."""
    zone = ZoneInfo(quiet.timezone)
    local = now.astimezone(zone)
    end = datetime.combine(local.date(), quiet.end, tzinfo=zone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=zone)
    return end.astimezone(UTC)


def window_end(window: timedelta, now: datetime) -> datetime:
    """The end of the digest window holding ``now`` (windows aligned on the epoch, in UTC)."""
    step = window.total_seconds()
    ts = now.timestamp()
    return datetime.fromtimestamp((ts // step + 1) * step, tz=UTC)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant (UTC) of wall-clock ``at`` on ``day`` in ``zone``, as RFC 5545 (iCalendar) reads it.

    A time that occurs twice (clocks go back) is its first occurrence; a time that does not occur
    (clocks go forward) is read with the UTC offset before the gap, so it falls as far after the gap's
    start as it was meant to: 02:30 on a spring-forward day in Brussels is 03:30 CEST (01:30 UTC). That
    is Python's ``fold=0``; it gives every local day exactly one instant, so a digest is never sent
    twice nor skipped on a transition day.
    """
    if at.tzinfo is not None:
        raise ValueError("a schedule time is wall-clock time: no tzinfo")
    return datetime.combine(day, at.replace(fold=0), tzinfo=zone).astimezone(UTC)


def next_release(schedule: DigestSchedule, now: datetime) -> datetime:
    """The first scheduled release strictly after ``now`` (UTC).

    Pure: the schedule's wall-clock times on its weekdays in its timezone, each read by
    :func:`local_instant`. A weekday is that of the local calendar day the release belongs to.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(schedule.timezone)
    today = now.astimezone(zone).date()
    days = set(schedule.days) or set(WEEKDAYS)
    # From yesterday (a gap can push a late time past midnight) through a full week ahead; the earliest
    # of all, since a time pushed past a gap may fall after the next day's first one.
    candidates = [
        instant
        for day in (today + timedelta(days=offset) for offset in range(-1, 9))
        if WEEKDAYS[day.weekday()] in days
        for instant in (local_instant(day, at, zone) for at in schedule.at)
        if instant > now
    ]
    return min(candidates)


def release_at(cfg: ChannelConfig, now: datetime) -> datetime | None:
    """When an alert routed now to this channel may go out; None = immediately."""
    release: datetime | None = None
    if cfg.delivery == "digest":
        release = next_release(cfg.digest_schedule, now) if cfg.digest_schedule else window_end(cfg.digest_window, now)
    if cfg.quiet_hours is not None and in_quiet_hours(cfg.quiet_hours, now):
        end = quiet_end(cfg.quiet_hours, now)
        release = end if release is None else max(release, end)
    return release


def held_task(channel: str, alert: PositionChange, release: datetime) -> DeliveryTask:
    return DeliveryTask(
        delivery_id=f"{HELD_PREFIX}{channel}:{alert.alert_id}",
        channel=channel,
        alerts=[alert],
        digest=True,
        not_before=release,
    )


def digest_task(channel: str, release: datetime, alerts: list[PositionChange]) -> DeliveryTask:
    ids = hashlib.sha256("|".join(a.alert_id for a in alerts).encode()).hexdigest()[:12]
    return DeliveryTask(
        delivery_id=f"{DIGEST_PREFIX}{channel}:{int(release.timestamp())}:{ids}",
        channel=channel,
        alerts=alerts,
        digest=True,
        not_before=release,
        first_due=release,
    )


def is_held(task: DeliveryTask) -> bool:
    return task.delivery_id.startswith(HELD_PREFIX)


@dataclass
class DigestBuffer:
    """Held alerts per (channel, release time); flushed as one digest task each when due."""

    pending: dict[tuple[str, datetime], dict[str, PositionChange]] = field(default_factory=dict)
    #: (channel, alert id) already sent in a digest: a redelivered held item is not buffered again.
    batched: set[tuple[str, str]] = field(default_factory=set)

    def hold(self, task: DeliveryTask) -> None:
        release = task.not_before or datetime.min.replace(tzinfo=UTC)
        for alert in task.alerts:
            if (task.channel, alert.alert_id) not in self.batched:
                self.pending.setdefault((task.channel, release), {})[alert.alert_id] = alert

    def mark_batched(self, task: DeliveryTask) -> None:
        for alert in task.alerts:
            self.batched.add((task.channel, alert.alert_id))
            for items in self.pending.values():
                items.pop(alert.alert_id, None)
        self.pending = {k: v for k, v in self.pending.items() if v}

    def due(self, now: datetime) -> list[DeliveryTask]:
        """Digest tasks for every group whose release time has come (not yet removed: see mark_batched)."""
        return [
            digest_task(channel, release, list(items.values()))
            for (channel, release), items in sorted(self.pending.items(), key=lambda kv: kv[0][1])
            if release <= now
        ]

    def rebuild(self, tasks: list[DeliveryTask]) -> None:
        """From every task on the deliveries topic, in order: held items minus the batched ones."""
        for task in tasks:
            if task.delivery_id.startswith(DIGEST_PREFIX):
                self.mark_batched(task)
            elif is_held(task):
                self.hold(task)
