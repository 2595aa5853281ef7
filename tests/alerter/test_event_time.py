"""Positions in event time: the order observations were said in decides, not the order they arrive in.

Cases: cases/event_time.yaml (every arrival order of each case); late records and the grace period below.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.alerter.detect import ShiftDetector
from shared.contracts import Position, PositionChange, StanceObservation, alert_id_for

from .factories import T0, obs

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "event_time.yaml").read_text(encoding="utf-8"))
KEY = "rutte:tomahawks"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def stream(case: dict[str, Any]) -> list[StanceObservation]:
    return [
        obs(article, stance, confidence=confidence, source=source, hours=hours)
        for article, stance, confidence, source, hours in case["steps"]
    ]


def final_alerts(det: ShiftDetector, raised: list[PositionChange]) -> list[tuple[str, str, str, str, list[str]]]:
    """Each alert raised once, in its latest version (corroborations attached since)."""
    latest = {a.alert_id: a for a in det.recent_alerts.get(KEY, [])}
    assert len({a.alert_id for a in raised}) == len(raised), "an alert was raised twice"
    return [
        (a.alert_id, a.from_stance, a.to_stance, a.article_id, [c.id for c in latest[a.alert_id].corroborations])
        for a in raised
    ]


def arrive(case: dict[str, Any], order: list[StanceObservation], grace: timedelta) -> tuple[ShiftDetector, list]:
    det = ShiftDetector(clock=lambda: T0, instant_confidence=case.get("instant"), grace=grace)
    raised = [a for o in order for a in det.observe(o)]
    raised += det.settle()
    return det, final_alerts(det, raised)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_arrival_order_within_the_grace_gives_the_alerts_of_the_said_order(case: dict[str, Any]) -> None:
    said = stream(case)
    expected = [
        (alert_id_for("rutte", "tomahawks", f, t, article), f, t, article, corroborations)
        for f, t, article, corroborations in case["alerts"]
    ]
    # In the said order and with no grace at all, the detector is the arrival-order one of before.
    det, in_order = arrive(case, said, timedelta(0))
    assert in_order == expected
    for order in itertools.permutations(said):
        det, alerts = arrive(case, list(order), timedelta(minutes=1))
        assert alerts == expected, [o.article_id for o in order]
        position = det.positions[KEY]
        assert position.established == case["established"]
        assert [h.article.id for h in position.history] == [o.article_id for o in said]


def test_within_the_grace_a_reversed_pair_alerts_once_when_the_grace_has_passed() -> None:
    clock = Clock()
    det = ShiftDetector(clock=clock, grace=timedelta(seconds=30))
    assert det.observe(obs("a2", "oppose", hours=2)) == []
    clock.now += timedelta(seconds=5)  # the restarted enricher's record, said earlier, arrives 5 s later
    assert det.observe(obs("a1", "support")) == []
    assert det.positions[KEY].established == "oppose"  # the position is in event time at once; the alert waits
    clock.now += timedelta(seconds=20)
    assert det.due() == []  # 25 s after the first, 20 s after the second: not final yet
    clock.now += timedelta(seconds=10)
    (detection,) = det.due()
    (alert,) = detection.alerts
    assert (alert.from_stance, alert.to_stance, alert.article_id, alert.before.article.id) == (
        "support",
        "oppose",
        "a2",
        "a1",
    )
    assert det.sent_ids == set()  # due() decides; nothing is committed until applied
    det.apply(detection)
    assert det.due() == []
    assert det.observe(obs("a2", "oppose", hours=2)) == []  # a redelivery sends nothing


def test_a_record_later_than_the_grace_corrects_the_history_and_raises_nothing() -> None:
    det = ShiftDetector(clock=lambda: T0)
    det.observe(obs("a1", "support"))
    det.observe(obs("a3", "support", hours=2))
    # said between them, delivered after both were decided: support, oppose, support in event time
    detection = det.detect(obs("a2", "oppose", hours=1))
    assert detection.alerts == [] and detection.corroborated == []
    assert detection.position.established == "support"
    assert [h.article.id for h in detection.position.history] == ["a1", "a2", "a3"]


def test_a_late_record_older_than_the_established_one_never_raises_a_reversal_by_itself() -> None:
    det = ShiftDetector(clock=lambda: T0)
    det.observe(obs("a2", "support", hours=2))
    # said before everything the position holds, delivered last (a backfill)
    assert det.observe(obs("a1", "oppose")) == []
    position = det.positions[KEY]
    assert position.established == "support" and [h.article.id for h in position.history] == ["a1", "a2"]
    # it is the "before" now: the next reversal after a2 cites a2, the established record
    (alert,) = det.observe(obs("a3", "oppose", hours=3))
    assert alert.before.article.id == "a2"


def test_a_late_report_of_a_change_already_sent_is_attached_to_it_as_a_corroboration() -> None:
    det = ShiftDetector(clock=lambda: T0)
    det.observe(obs("a1", "support"))
    (sent,) = det.observe(obs("a3", "oppose", hours=3))
    # said before a3 by another outlet, delivered after a3's alert
    detection = det.detect(obs("a2", "oppose", hours=2, source="Herald"))
    assert detection.alerts == []
    (updated,) = detection.corroborated
    assert updated.alert_id == sent.alert_id and [c.id for c in updated.corroborations] == ["a2"]


def test_a_stance_first_seen_without_a_before_gets_no_alert_from_a_before_later_than_the_grace() -> None:
    # The limit of the design: decided history is corrected, not re-alerted. Within the grace it alerts.
    det = ShiftDetector(clock=lambda: T0)
    det.observe(obs("a2", "oppose", hours=2))
    assert det.observe(obs("a1", "support")) == []
    assert det.positions[KEY].established == "oppose"


def test_a_restarted_detector_finishes_the_grace_of_a_position_it_loads() -> None:
    clock = Clock()
    first = ShiftDetector(clock=clock, grace=timedelta(seconds=30))
    first.observe(obs("a1", "support"))
    first.observe(obs("a2", "oppose", hours=1))
    saved = Position.from_json_bytes(first.positions[KEY].to_json_bytes())  # as on the positions topic
    clock.now += timedelta(seconds=31)
    second = ShiftDetector(clock=clock, grace=timedelta(seconds=30))
    second.load_position(saved)
    (detection,) = second.due()
    assert [a.article_id for a in detection.alerts] == ["a2"]


def test_a_position_written_before_event_time_loads_as_decided_and_alerts_nothing_again() -> None:
    det = ShiftDetector(clock=lambda: T0)
    det.observe(obs("a1", "support"))
    det.observe(obs("a2", "oppose", hours=1))
    old = det.positions[KEY].model_dump(mode="json")
    del old["decided_through"]
    for record in old["history"]:
        for name in ("received_at", "settled", "past", "extractor", "actor_name", "topic_label"):
            record.pop(name, None)
    fresh = ShiftDetector(clock=lambda: T0, grace=timedelta(minutes=1))
    fresh.load_position(Position.model_validate(old))
    assert fresh.due() == [] and fresh.settle() == []
    assert fresh.observe(obs("a3", "oppose", hours=2)) == [] and fresh.settle() == []


def test_the_history_stays_bounded_and_in_event_time() -> None:
    det = ShiftDetector(clock=lambda: T0, history_limit=4)
    for i in (5, 1, 4, 2, 3, 6):
        det.observe(obs(f"u{i}", "undecided", hours=i, confidence=0.3))
    assert [h.article.id for h in det.positions[KEY].history] == ["u3", "u4", "u5", "u6"]
