"""Shift logic: reversals, softening/hardening, in-article reversals, corroboration, idempotency."""

from __future__ import annotations

from datetime import timedelta

from services.alerter.detect import ShiftDetector
from shared.contracts import alert_id_for

from .factories import EXTRACTOR, T0, obs


def detector(**kw: object) -> ShiftDetector:
    return ShiftDetector(clock=lambda: T0, **kw)  # type: ignore[arg-type]


def test_first_observation_establishes_without_alert() -> None:
    det = detector()
    assert det.observe(obs("a1", "support")) == []
    assert det.positions["rutte:tomahawks"].established == "support"


def test_opposite_stance_is_a_cross_article_reversal_with_both_evidences() -> None:
    det = detector()
    det.observe(obs("a1", "support", sentence="He backed the delivery."))
    (alert,) = det.observe(obs("a2", "oppose", hours=3, sentence="He now rejects the delivery."))
    assert (alert.from_stance, alert.to_stance, alert.kind, alert.severity) == (
        "support",
        "oppose",
        "cross-article",
        "reversal",
    )
    assert alert.article_id == "a2"
    assert alert.before.article.id == "a1" and alert.before.evidence[0].text == "He backed the delivery."
    assert alert.after.article.id == "a2" and alert.after.evidence[0].text == "He now rejects the delivery."
    assert alert.extractor == EXTRACTOR
    assert alert.alert_id == alert_id_for("rutte", "tomahawks", "support", "oppose", "a2")
    assert det.positions["rutte:tomahawks"].established == "oppose"


def test_undecided_in_between_does_not_reset_the_established_stance() -> None:
    det = detector()
    det.observe(obs("a1", "support"))
    det.observe(obs("a2", "undecided", hours=1))
    assert det.positions["rutte:tomahawks"].established == "support"
    (alert,) = det.observe(obs("a3", "oppose", hours=2))
    assert (alert.from_stance, alert.to_stance, alert.before.article.id) == ("support", "oppose", "a1")


def test_softening_and_hardening_are_shifts_not_reversals() -> None:
    det = detector()
    det.observe(obs("a1", "support"))
    (soft,) = det.observe(obs("a2", "undecided", hours=1))
    assert (soft.from_stance, soft.to_stance, soft.severity) == ("support", "undecided", "shift")
    (hard,) = det.observe(obs("a3", "support", hours=100))
    assert (hard.from_stance, hard.to_stance, hard.severity) == ("undecided", "support", "shift")


def test_repeated_undecided_does_not_alert_again() -> None:
    det = detector()
    det.observe(obs("a1", "support"))
    det.observe(obs("a2", "undecided", hours=1))
    assert det.observe(obs("a3", "undecided", hours=100)) == []


def test_in_article_reversal_alerts_on_its_own_without_history() -> None:
    det = detector()
    (alert,) = det.observe(obs("a1", "oppose", past="support"))
    assert (alert.from_stance, alert.to_stance, alert.kind, alert.severity) == (
        "support",
        "oppose",
        "in-article",
        "reversal",
    )
    assert alert.before.evidence[0].text == "Earlier he said otherwise."
    assert det.positions["rutte:tomahawks"].established == "oppose"


def test_reported_past_is_ignored_when_the_stream_already_has_a_stance() -> None:
    det = detector()
    det.observe(obs("a1", "oppose"))
    (alert,) = det.observe(obs("a2", "support", past="oppose", hours=1))
    assert alert.kind == "cross-article" and alert.before.article.id == "a1"
    det2 = detector()
    det2.observe(obs("b1", "support"))
    # The article claims an earlier "oppose", but the stream's established stance already equals "support".
    assert det2.observe(obs("b2", "support", past="oppose", hours=1)) == []


def test_low_confidence_observation_does_not_move_the_established_stance() -> None:
    det = detector(min_confidence=0.6)
    det.observe(obs("a1", "support"))
    assert det.observe(obs("a2", "oppose", hours=1, confidence=0.3)) == []
    pos = det.positions["rutte:tomahawks"]
    assert pos.established == "support"
    assert [h.article.id for h in pos.history] == ["a1", "a2"]
    (alert,) = det.observe(obs("a3", "oppose", hours=2, confidence=0.8))
    assert alert.article_id == "a3" and alert.before.article.id == "a1"


def test_later_reports_of_the_same_shift_by_other_outlets_are_corroborations_not_alerts() -> None:
    det = detector()
    det.observe(obs("a1", "support", source="Wire"))
    (alert,) = det.observe(obs("a2", "oppose", hours=1, source="Post"))
    detection = det.detect(obs("a3", "oppose", hours=5, source="Herald"))
    assert detection.alerts == []
    (updated,) = detection.corroborated
    assert updated.alert_id == alert.alert_id
    assert [r.id for r in updated.corroborations] == ["a3"]
    det.apply(detection)
    # A flip back and forth inside the window: every change notifies, the repeat is no corroboration.
    (back,) = det.observe(obs("a4", "support", hours=6, source="Daily"))
    assert back.to_stance == "support"
    (again,) = det.observe(obs("a5", "oppose", hours=7, source="Gazette"))
    assert (again.from_stance, again.to_stance, again.article_id) == ("support", "oppose", "a5")
    assert [r.id for r in det.recent_alerts["rutte:tomahawks"][0].corroborations] == ["a3"]


def test_same_shift_after_the_window_is_a_new_alert() -> None:
    det = detector(corroboration_window=timedelta(hours=24))
    det.observe(obs("a1", "support"))
    det.observe(obs("a2", "oppose", hours=1))
    det.observe(obs("a3", "support", hours=30))
    (again,) = det.observe(obs("a4", "oppose", hours=60))
    assert again.article_id == "a4"


def test_redelivered_observation_is_a_duplicate_and_sends_nothing() -> None:
    det = detector()
    det.observe(obs("a1", "support"))
    assert len(det.observe(obs("a2", "oppose", hours=1))) == 1
    detection = det.detect(obs("a2", "oppose", hours=1))
    assert detection.duplicate and detection.alerts == []


def test_alert_already_sent_is_not_emitted_again_after_state_loss() -> None:
    first = detector()
    first.observe(obs("a1", "support"))
    (alert,) = first.observe(obs("a2", "oppose", hours=1))
    # A restarted instance that knows the sent alert but lost the position update (crash in between).
    second = detector()
    second.observe(obs("a1", "support"))
    second.load_alert(alert)
    detection = second.detect(obs("a2", "oppose", hours=1))
    assert detection.alerts == []
    second.apply(detection)
    assert second.positions["rutte:tomahawks"].established == "oppose"


def test_detect_changes_nothing_until_applied() -> None:
    det = detector()
    det.observe(obs("a1", "support"))
    detection = det.detect(obs("a2", "oppose", hours=1))
    assert len(detection.alerts) == 1
    assert det.positions["rutte:tomahawks"].established == "support"
    assert det.sent_ids == set()
    # Detecting again (a retried handler) gives the same alert id.
    assert det.detect(obs("a2", "oppose", hours=1)).alerts[0].alert_id == detection.alerts[0].alert_id


def test_positions_are_independent_per_figure_and_topic() -> None:
    det = detector()
    det.observe(obs("a1", "support", actor="trump"))
    det.observe(obs("a2", "oppose", actor="putin"))
    assert det.observe(obs("a3", "oppose", actor="putin", hours=1)) == []
    assert det.observe(obs("a4", "support", actor="trump", topic="ceasefire-now", hours=1)) == []


def test_history_is_bounded_but_keeps_the_established_record() -> None:
    det = detector(history_limit=5)
    det.observe(obs("a0", "support"))
    for i in range(1, 12):
        det.observe(obs(f"u{i}", "undecided", hours=i, confidence=0.9 if i == 1 else 0.2))
    pos = det.positions["rutte:tomahawks"]
    assert len(pos.history) == 5 and pos.history[0].article.id == "a0"
    (alert,) = det.observe(obs("a99", "oppose", hours=50))
    assert alert.before.article.id == "a0"


def test_default_detector_is_deterministic() -> None:
    def run() -> list[tuple[str, str, str, str]]:
        det = ShiftDetector()
        stream = [
            obs("a1", "support"),
            obs("a2", "oppose", hours=1),
            obs("b1", "oppose", actor="putin", past="support"),
        ]
        return [(a.alert_id, a.from_stance, a.to_stance, a.kind) for o in stream for a in det.observe(o)]

    assert run() == run()
    assert len(run()) == 2
