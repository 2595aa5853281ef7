"""Corrections as decisions: what a person's verdict does to a position's history, its stance and its alerts.

Cases: cases/feedback.yaml. Each runs the detector as the service does (grace 0), then the feedback through
:func:`plan` and :func:`commit`, then the later observations through the same rejection check as the
observation path.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.alerter.detect import ShiftDetector
from services.alerter.feedback import commit, correct, plan, retraction_task
from shared.contracts import MAX_REJECTED, Feedback, PositionChange, StanceObservation, feedback_id_for

from .factories import T0, obs

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "feedback.yaml").read_text(encoding="utf-8"))
KEY = "rutte:tomahawks"


def observation(step: list[Any]) -> StanceObservation:
    article, stance, confidence, source, hours, *past = step
    return obs(article, stance, confidence=confidence, source=source, hours=hours, past=past[0] if past else None)


def feedback(article: str, stance: str, verdict: str, author: str, *, alert_id: str | None = None) -> Feedback:
    at = T0 + timedelta(days=3)
    return Feedback(
        feedback_id=feedback_id_for("rutte", "tomahawks", article, verdict, author, at.isoformat()),
        actor="rutte",
        topic="tomahawks",
        article_id=article,
        stance=stance,
        alert_id=alert_id,
        verdict=verdict,
        author=author,
        created_at=at,
    )


def observe(det: ShiftDetector, o: StanceObservation) -> list[PositionChange]:
    """The observation path: a rejected observation is refused before the detector sees it."""
    position = det.positions.get(o.key)
    if position is not None and position.rejection_of(o.article_id, o.stance) is not None:
        return []
    return det.observe(o)


def shifts(alerts: list[PositionChange]) -> list[list[str]]:
    return [[a.from_stance, a.to_stance, a.article_id] for a in alerts]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_a_correction_recomputes_the_position_and_retracts_what_it_rejects(case: dict[str, Any]) -> None:
    det = ShiftDetector(clock=lambda: T0, instant_confidence=case.get("instant"))
    raised = [a for step in case["steps"] for a in observe(det, observation(step))]
    assert shifts(raised) == case["raised"]

    results, retracted, later = [], [], []
    for item in case["feedback"]:
        decided = plan(det, feedback(*item))
        commit(det, decided)
        results.append(decided.correction.result)
        retracted += decided.correction.retracted
        later += decided.detection.alerts if decided.detection is not None else []
    later += [a for step in case.get("later", []) for a in observe(det, observation(step))]

    assert results == case["results"]
    assert [a.article_id for a in retracted] == case["retracted"]
    assert all(a.status == "retracted" and a.retraction is not None for a in retracted)
    position = det.positions.get(KEY)
    assert position is not None
    assert position.established == case["established"]
    assert position.latest == case["latest"]
    assert [h.article.id for h in position.history] == case["history"]
    provisional = position.provisional.article.id if position.provisional is not None else None
    assert provisional == case.get("provisional")
    assert shifts(later) == case["raised_later"]
    # A withdrawn alert is never raised again and is no longer among the alerts later reports corroborate.
    recent = {a.alert_id for a in det.recent_alerts.get(KEY, [])}
    assert all(a.alert_id in det.sent_ids and a.alert_id not in recent for a in retracted)


def test_a_retracted_alert_carries_who_withdrew_it_and_why() -> None:
    det = ShiftDetector(clock=lambda: T0)
    det.observe(obs("a1", "support"))
    (alert,) = det.observe(obs("a2", "oppose", hours=3))
    fb = feedback("a2", "oppose", "wrong-stance", "ana").model_copy(update={"note": "he was quoting a critic"})
    (withdrawn,) = correct(det.positions[KEY], det.recent_alerts[KEY], fb).retracted
    assert withdrawn.alert_id == alert.alert_id
    assert withdrawn.after == alert.after and withdrawn.from_stance == alert.from_stance
    assert withdrawn.retraction is not None
    assert (withdrawn.retraction.feedback_id, withdrawn.retraction.verdict) == (fb.feedback_id, "wrong-stance")
    assert (withdrawn.retraction.author, withdrawn.retraction.note, withdrawn.retraction.at) == (
        "ana",
        "he was quoting a critic",
        fb.created_at,
    )
    task = retraction_task("ops", withdrawn, T0)
    assert (task.event, task.alerts, task.channel) == ("alert.retracted", [withdrawn], "ops")
    assert task.delivery_id != f"{alert.alert_id}:ops", "the retraction must not look like the original delivery"


def test_feedback_on_an_alert_retracts_that_alert_by_its_id() -> None:
    det = ShiftDetector(clock=lambda: T0)
    det.observe(obs("a1", "support"))
    (alert,) = det.observe(obs("a2", "oppose", hours=3))
    # The desk names the alert; the reported stance it gives differs from the record's (it is the alert's id
    # that says which alert is meant).
    fb = feedback("a2", "support", "wrong-stance", "ana", alert_id=alert.alert_id)
    assert [a.alert_id for a in correct(det.positions[KEY], det.recent_alerts[KEY], fb).retracted] == [alert.alert_id]


def test_a_position_remembers_a_bounded_number_of_rejections_newest_kept() -> None:
    det = ShiftDetector(clock=lambda: T0)
    det.observe(obs("a0", "support"))
    for n in range(MAX_REJECTED + 5):
        commit(det, plan(det, feedback(f"x{n}", "oppose", "not-holder", "ana")))
    rejected = det.positions[KEY].rejected
    assert len(rejected) == MAX_REJECTED
    assert rejected[-1].article_id == f"x{MAX_REJECTED + 4}" and rejected[0].article_id == "x5"


def test_a_rejection_survives_the_position_being_written_and_read_back() -> None:
    det = ShiftDetector(clock=lambda: T0)
    det.observe(obs("a1", "support"))
    commit(det, plan(det, feedback("a2", "oppose", "wrong-stance", "ana")))
    restored = ShiftDetector(clock=lambda: T0)
    restored.load_position(type(det.positions[KEY]).from_json_bytes(det.positions[KEY].to_json_bytes()))
    assert observe(restored, obs("a2", "oppose", hours=3)) == []
    assert [h.article.id for h in restored.positions[KEY].history] == ["a1"]


def test_a_retracted_alert_read_back_from_the_alerts_topic_is_known_but_not_recent() -> None:
    det = ShiftDetector(clock=lambda: T0)
    det.observe(obs("a1", "support"))
    (alert,) = det.observe(obs("a2", "oppose", hours=3))
    (withdrawn,) = plan(det, feedback("a2", "oppose", "wrong-stance", "ana")).correction.retracted
    restarted = ShiftDetector(clock=lambda: T0)
    for version in (alert, withdrawn):  # the alerts topic holds both versions, oldest first
        restarted.load_alert(version)
    assert alert.alert_id in restarted.sent_ids
    assert restarted.recent_alerts[KEY] == []
