"""Precision-first alerts: an unsure reversal waits for a second independent source.

Cases: cases/precision_first.yaml.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from services.alerter.detect import ShiftDetector

from .factories import T0, obs

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "precision_first.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_precision_first_policy(case: dict) -> None:
    det = ShiftDetector(clock=lambda: T0, instant_confidence=0.9, confirm_window=timedelta(hours=48))
    raised = []
    for article, stance, confidence, source, hours in case["steps"]:
        for a in det.observe(obs(article, stance, confidence=confidence, source=source, hours=hours)):
            raised.append(
                [a.from_stance, a.to_stance, a.article_id, a.corroborations[0].id if a.corroborations else None]
            )
    assert raised == case["alerts"]
    assert det.positions["rutte:tomahawks"].established == case["established"]


def test_a_confirmed_alert_cites_the_first_report_as_after_and_keeps_one_id() -> None:
    det = ShiftDetector(clock=lambda: T0, instant_confidence=0.9)
    det.observe(obs("a1", "support", confidence=0.95, sentence="He backs the missiles."))
    assert det.observe(obs("a2", "oppose", confidence=0.7, source="Post", hours=5, sentence="He now says no.")) == []
    assert det.positions["rutte:tomahawks"].provisional is not None
    (alert,) = det.observe(obs("a3", "oppose", confidence=0.7, source="Herald", hours=7))
    assert alert.before.article.id == "a1" and alert.after.article.id == "a2"
    assert alert.after.evidence[0].text == "He now says no."
    assert det.positions["rutte:tomahawks"].provisional is None
    # redelivering the confirming observation notifies nobody twice
    assert det.observe(obs("a3", "oppose", confidence=0.7, source="Herald", hours=7)) == []


def test_without_a_threshold_every_confident_reversal_alerts_at_once() -> None:
    det = ShiftDetector(clock=lambda: T0)
    det.observe(obs("a1", "support", confidence=0.6))
    (alert,) = det.observe(obs("a2", "oppose", confidence=0.6, source="Post", hours=1))
    assert alert.article_id == "a2"
