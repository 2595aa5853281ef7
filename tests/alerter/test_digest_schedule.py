"""Calendar digests: when a scheduled digest goes out, in a timezone, across daylight-saving changes.

Cases: cases/digest_schedule.yaml (expected instants worked out by hand from the zones' rules).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from services.alerter.digest import next_release, release_at
from services.alerter.routing import ChannelConfig, DigestSchedule, QuietHours

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "digest_schedule.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_next_release_is_the_first_scheduled_instant_after_now(case: dict) -> None:
    schedule = DigestSchedule.model_validate(case["schedule"])
    now = datetime.fromisoformat(case["now"])
    assert next_release(schedule, now) == datetime.fromisoformat(case["release"])


@pytest.mark.parametrize(
    ("zone", "at"),
    [
        ("Europe/Brussels", "07:00"),
        ("Europe/Brussels", "02:30"),  # skipped in March, repeated in October
        ("America/New_York", "01:30"),  # repeated in November
        ("Australia/Lord_Howe", "02:15"),  # a 30-minute change
    ],
)
def test_a_daily_schedule_goes_out_exactly_once_every_local_day_of_a_year(zone: str, at: str) -> None:
    schedule = DigestSchedule(at=at, timezone=zone)
    tz = ZoneInfo(zone)
    releases = [next_release(schedule, datetime(2026, 1, 1, tzinfo=tz))]
    while releases[-1] < datetime(2027, 1, 1, tzinfo=tz):
        releases.append(next_release(schedule, releases[-1]))
    local = [r.astimezone(tz) for r in releases[:-1]]
    assert [d.date() for d in local] == [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]
    wanted = datetime.combine(date(2026, 1, 1), time.fromisoformat(at))
    off_clock = [d for d in local if d.replace(tzinfo=None, year=2026, month=1, day=1) != wanted]
    # Only where the time does not exist does the wall clock differ, and by the jump (at most an hour).
    assert len(off_clock) <= 1
    for d in off_clock:
        shift = d.replace(tzinfo=None, year=2026, month=1, day=1) - wanted
        assert timedelta(0) < shift <= timedelta(hours=1)


def test_between_two_releases_every_moment_waits_for_the_later_one() -> None:
    schedule = DigestSchedule(at=["02:30", "07:00"], timezone="Europe/Brussels", days=["sat", "sun"])
    start = datetime(2026, 3, 20, tzinfo=UTC)  # covers the spring-forward weekend
    first = next_release(schedule, start)
    second = next_release(schedule, first)
    moment = start
    while moment < second:
        assert next_release(schedule, moment) == (first if moment < first else second)
        moment += timedelta(minutes=7)


def test_now_must_carry_its_timezone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_release(DigestSchedule(at="07:00"), datetime(2026, 2, 1, 6, 0))


def test_a_scheduled_channel_holds_alerts_until_its_release_and_quiet_hours_can_push_it_later() -> None:
    morning = DigestSchedule(at="07:00", timezone="Europe/Brussels")
    scheduled = ChannelConfig(type="console", delivery="digest", digest_schedule=morning)
    night = datetime(2026, 2, 1, 23, 0, tzinfo=UTC)
    assert release_at(scheduled, night) == datetime(2026, 2, 2, 6, 0, tzinfo=UTC)
    late_quiet = QuietHours(start=time(22), end=time(8), timezone="Europe/Brussels")
    quieter = scheduled.model_copy(update={"quiet_hours": late_quiet})
    assert release_at(quieter, night) == datetime(2026, 2, 2, 7, 0, tzinfo=UTC)


def test_windows_are_kept_and_still_end_on_the_epoch_grid_in_utc() -> None:
    windowed = ChannelConfig(type="console", delivery="digest", digest_window=timedelta(hours=6))
    assert release_at(windowed, datetime(2026, 2, 1, 7, 10, tzinfo=UTC)) == datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
