"""Alert semantics: every change notifies; only an independent report of the same change corroborates it.

Sequences: cases/alert_semantics.yaml, through the detector in the said order and in every arrival order
within the grace period. The rule itself (:func:`classify`) and what counts as a copy are tested below.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.alerter.detect import ShiftDetector
from services.alerter.semantics import (
    Change,
    Corroborates,
    LastChange,
    NewAlert,
    Nothing,
    Report,
    Seen,
    classify,
    copy_of,
)
from shared.contracts import ArticleRef, Evidence, PositionChange, StanceObservation

from .factories import T0, obs

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "alert_semantics.yaml").read_text(encoding="utf-8"))
KEY = "rutte:tomahawks"
WINDOW = timedelta(hours=48)


def observation(step: dict[str, Any]) -> StanceObservation:
    o = obs(
        step["id"],
        step["stance"],
        confidence=step.get("c", 0.9),
        source=step["outlet"],
        hours=step["h"],
        past=step.get("past"),
        sentence=step.get("text"),
    )
    if "url" in step:
        o = o.model_copy(update={"article": o.article.model_copy(update={"url": step["url"]})})
    return o


def detector(case: dict[str, Any], grace: timedelta) -> ShiftDetector:
    return ShiftDetector(
        clock=lambda: T0, instant_confidence=case.get("instant"), corroboration_window=WINDOW, grace=grace
    )


def events_in_said_order(case: dict[str, Any]) -> list[list[str]]:
    det = detector(case, timedelta(0))
    versions: dict[str, PositionChange] = {}
    events: list[list[str]] = []
    for step in case["steps"]:
        detection = det.detect(observation(step))
        det.apply(detection)
        for a in detection.alerts:
            events.append(["created", a.from_stance, a.to_stance, a.article_id])
            versions[a.alert_id] = a
        for a in detection.corroborated:
            before = {c.id for c in versions[a.alert_id].corroborations}
            events += [["corroborated", a.article_id, c.id] for c in a.corroborations if c.id not in before]
            versions[a.alert_id] = a
    return events


def final_alerts(det: ShiftDetector, raised: list[PositionChange]) -> list[list[Any]]:
    latest = {a.alert_id: a for a in det.recent_alerts.get(KEY, [])}
    assert len({a.alert_id for a in raised}) == len(raised), "an alert was raised twice"
    ordered = sorted(raised, key=lambda a: a.after.observed_at)
    return [
        [a.from_stance, a.to_stance, a.article_id, [c.id for c in latest[a.alert_id].corroborations]] for a in ordered
    ]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_each_sequence_publishes_its_events_in_the_said_order(case: dict[str, Any]) -> None:
    assert events_in_said_order(case) == case["events"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_each_sequence_ends_with_the_same_alerts_in_every_arrival_order_within_the_grace(case: dict[str, Any]) -> None:
    said = [observation(s) for s in case["steps"]]
    for order in itertools.permutations(said):
        det = detector(case, timedelta(minutes=1))
        raised = [a for o in order for a in det.observe(o)]
        raised += det.settle()
        assert final_alerts(det, raised) == case["alerts"], [o.article_id for o in order]


# --- the rule itself ------------------------------------------------------------------------------


def report(article_id: str, outlet: str = "", url: str = "", text: str = "") -> Report:
    ref = ArticleRef(id=article_id, source=outlet, url=url, published=T0)
    return Report.of(ref, [Evidence(text=text, start=0, end=len(text))] if text else [])


SUPPORT_TO_OPPOSE = Change("support", "oppose")
LAST = LastChange("alrt_x", SUPPORT_TO_OPPOSE, T0, (report("a2", "Post", "https://post.test/a2", "He turned."),))


def seen(stance: str, change: Change | None, rep: Report, hours: float = 1) -> Seen:
    return Seen(stance=stance, change=change, report=rep, at=T0 + timedelta(hours=hours))  # type: ignore[arg-type]


def test_a_change_with_nothing_before_it_is_a_new_alert() -> None:
    assert classify(None, seen("oppose", SUPPORT_TO_OPPOSE, report("a2")), window=WINDOW) == NewAlert(SUPPORT_TO_OPPOSE)


def test_a_change_other_than_the_last_one_is_a_new_alert_whatever_the_window() -> None:
    back = Change("oppose", "support")
    assert classify(LAST, seen("support", back, report("a3", "Herald"), hours=0.1), window=WINDOW) == NewAlert(back)


def test_an_independent_report_of_the_last_changes_stance_corroborates_it() -> None:
    verdict = classify(LAST, seen("oppose", None, report("a3", "Herald", "https://herald.test/3")), window=WINDOW)
    assert verdict == Corroborates("alrt_x")


def test_a_second_article_reporting_the_same_move_corroborates_it() -> None:
    verdict = classify(LAST, seen("oppose", SUPPORT_TO_OPPOSE, report("a3", "Herald")), window=WINDOW)
    assert verdict == Corroborates("alrt_x")


def test_the_same_move_after_the_window_is_a_new_alert_and_a_mere_report_is_nothing() -> None:
    late = report("a3", "Herald")
    assert classify(LAST, seen("oppose", SUPPORT_TO_OPPOSE, late, hours=49), window=WINDOW) == NewAlert(
        SUPPORT_TO_OPPOSE
    )
    assert isinstance(classify(LAST, seen("oppose", None, late, hours=49), window=WINDOW), Nothing)


def test_a_report_of_another_stance_than_the_last_change_is_nothing() -> None:
    assert isinstance(classify(LAST, seen("support", None, report("a3", "Herald")), window=WINDOW), Nothing)


@pytest.mark.parametrize(
    ("candidate", "why"),
    [
        (report("a2", "Herald"), "same article"),
        (report("a3", " POST "), "same outlet"),
        (report("a3", "Herald", "http://www.post.test/a2/#top"), "same url"),
        (report("a3", "Herald", "https://post.test/a2?utm_medium=rss"), "same url"),
        (report("a3", "Herald", "", "he  TURNED."), "same text"),
        (report("a3", "Herald", "https://post.test/a2?page=2", "He turned, aides say."), None),
        (report("a3", "", "", ""), None),
    ],
)
def test_what_makes_a_report_a_copy_of_another(candidate: Report, why: str | None) -> None:
    assert copy_of(candidate, LAST.reports[0]) == why
    verdict = classify(LAST, seen("oppose", None, candidate), window=WINDOW)
    assert verdict == (Corroborates("alrt_x") if why is None else Nothing(f"not an independent source ({why})"))


# --- records later than the grace: they corroborate the change in effect when they were said -----------


def test_a_late_report_corroborates_the_change_in_effect_when_it_was_said_not_a_later_one() -> None:
    det = ShiftDetector(clock=lambda: T0, corroboration_window=WINDOW)
    det.observe(obs("a1", "support", source="Wire"))
    (first,) = det.observe(obs("a2", "oppose", hours=2, source="Post"))
    (back,) = det.observe(obs("a4", "support", hours=6, source="Daily"))
    assert det.observe(obs("a6", "support", hours=8, source="Wire")) == []
    # said at 3 h, between the two changes, delivered after both were decided
    detection = det.detect(obs("a3", "oppose", hours=3, source="Herald"))
    assert detection.alerts == []
    assert [(a.alert_id, [c.id for c in a.corroborations]) for a in detection.corroborated] == [
        (first.alert_id, ["a3"])
    ]
    det.apply(detection)
    # said after the flip back (before a6): it implies a change of decided history, never alerted late, and it
    # corroborates neither the flip back (another stance) nor the older change to its stance
    late = det.detect(obs("a5", "oppose", hours=7, source="Gazette"))
    assert late.alerts == [] and late.corroborated == []
    assert back.to_stance == "support"


def test_a_late_copy_of_the_report_that_raised_an_alert_corroborates_nothing() -> None:
    det = ShiftDetector(clock=lambda: T0, corroboration_window=WINDOW)
    det.observe(obs("a1", "support", source="Wire"))
    det.observe(obs("a3", "oppose", hours=3, source="Post", sentence="He says the plan is off."))
    copy = det.detect(obs("a2", "oppose", hours=2, source="Herald", sentence="He says the plan is off."))
    assert copy.alerts == [] and copy.corroborated == []
