"""Every event model survives JSON, tolerates newer producers and keeps its schema version."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.contracts import (
    SCHEMA_VERSION,
    ArticleRef,
    Contract,
    DeliveryOutcome,
    DeliveryTask,
    EnrichedArticle,
    Evidence,
    ExtractorInfo,
    FeedState,
    HistoryRecord,
    ObservationRecord,
    PastStance,
    Position,
    PositionChange,
    RawArticle,
    SeenArticle,
    StanceObservation,
    alert_id_for,
    position_key,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def sample_models() -> list[Contract]:
    """One populated instance of every model that travels on a topic."""
    article = RawArticle(
        id="a1",
        source="Test Wire",
        url="https://example.org/a1",
        published=T0,
        title="Leader changes course",
        text="The leader said he would not send the missiles.",
        summary="s",
        feed_url="https://example.org/feed",
        language="en",
        fulltext=True,
        fetched_at=T0,
    )
    ref = ArticleRef.of(article)
    extractor = ExtractorInfo(version="0.1.0+r1", config_hash="abc123", model="en_core_web_sm 3.8.0")
    evidence = Evidence(text="The leader said he would not send the missiles.", start=0, end=48)
    obs = StanceObservation(
        article_id="a1",
        actor="trump",
        topic="tomahawks",
        stance="oppose",
        confidence=0.8,
        evidence=[evidence],
        past=PastStance(stance="support", evidence=[evidence]),
        article=ref,
        extractor=extractor,
    )
    record = ObservationRecord(stance="oppose", confidence=0.8, evidence=[evidence], article=ref, observed_at=T0)
    change = PositionChange(
        alert_id=alert_id_for("trump", "tomahawks", "support", "oppose", "a1"),
        actor="trump",
        topic="tomahawks",
        from_stance="support",
        to_stance="oppose",
        severity="reversal",
        kind="in-article",
        article_id="a1",
        before=record.model_copy(update={"stance": "support"}),
        after=record,
        extractor=extractor,
        created_at=T0,
    )
    return [
        article,
        obs,
        EnrichedArticle(article=ref, topics=["tomahawks"], observations=[obs], extractor=extractor),
        Position(
            actor="trump",
            topic="tomahawks",
            established="oppose",
            history=[HistoryRecord(**record.model_dump(), extractor=extractor, received_at=T0, settled=False)],
            last_change=T0,
        ),
        change,
        DeliveryTask(delivery_id="d1", channel="webhook", alerts=[change]),
        DeliveryOutcome(
            delivery_id="d1", alert_ids=[change.alert_id], channel="webhook", status="delivered", attempts=1, at=T0
        ),
        FeedState(feed_url="https://example.org/feed", etag='"x"', recent_entry_times=[T0]),
        SeenArticle(article_id="a1", url="https://example.org/a1", first_seen=T0),
    ]


@pytest.mark.parametrize("model", sample_models(), ids=lambda m: type(m).__name__)
def test_every_model_round_trips_through_json(model: Contract) -> None:
    again = type(model).from_json_bytes(model.to_json_bytes())
    assert again == model
    assert json.loads(model.to_json_bytes())["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize("model", sample_models(), ids=lambda m: type(m).__name__)
def test_unknown_fields_from_a_newer_producer_are_ignored(model: Contract) -> None:
    payload = json.loads(model.to_json_bytes())
    payload["schema_version"] = SCHEMA_VERSION + 1
    payload["field_from_the_future"] = {"nested": [1, 2, 3]}
    again = type(model).model_validate(payload)
    assert again.schema_version == SCHEMA_VERSION + 1
    assert not hasattr(again, "field_from_the_future")


def test_alert_uses_from_and_to_on_the_wire() -> None:
    change = next(m for m in sample_models() if isinstance(m, PositionChange))
    wire = json.loads(change.to_json_bytes())
    assert (wire["from"], wire["to"]) == ("support", "oppose")


def test_naive_timestamps_are_read_as_utc() -> None:
    article = RawArticle(id="x", published="2026-01-02T03:04:05")
    assert article.published == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_alert_id_is_stable_and_depends_on_every_part() -> None:
    base = ("putin", "putin-summit", "support", "oppose", "d10")
    assert alert_id_for(*base) == alert_id_for(*base)
    for i in range(len(base)):
        changed = list(base)
        changed[i] = changed[i] + "x"
        assert alert_id_for(*changed) != alert_id_for(*base)


def test_confidence_outside_unit_interval_is_rejected() -> None:
    obs = next(m for m in sample_models() if isinstance(m, StanceObservation))
    with pytest.raises(ValueError, match="confidence"):
        StanceObservation.model_validate({**obs.model_dump(), "confidence": 1.5})


def test_position_key_puts_actor_and_topic_together() -> None:
    assert position_key("rutte", "ukraine-nato") == "rutte:ukraine-nato"


def test_feedback_offers_a_corrected_stance_only_for_a_wrong_stance() -> None:
    from pydantic import ValidationError

    from shared.contracts import Feedback

    base = dict(
        feedback_id="fdbk_1",
        actor="trump",
        topic="tomahawks",
        article_id="a1",
        stance="support",
        author="desk:ana",
        created_at="2026-12-04T10:00:00Z",
    )
    assert Feedback(**base, verdict="wrong-stance", corrected_stance="oppose").rejects
    assert not Feedback(**base, verdict="correct").rejects
    with pytest.raises(ValidationError, match="only meaningful"):
        Feedback(**base, verdict="not-holder", corrected_stance="oppose")
    with pytest.raises(ValidationError, match="equals the reported"):
        Feedback(**base, verdict="wrong-stance", corrected_stance="support")


def test_feedback_carries_the_evidence_judged_and_its_article_must_be_the_one_named() -> None:
    from pydantic import ValidationError

    from shared.contracts import ArticleRef, Evidence, Feedback

    sentence = "The minister said the plan had his full backing."
    base = dict(
        feedback_id="fdbk_2",
        actor="rutte",
        topic="ukraine-aid",
        article_id="a7",
        stance="support",
        verdict="correct",
        author="desk:ben",
        created_at="2026-12-04T10:00:00Z",
        evidence=[Evidence(text=sentence, start=10, end=10 + len(sentence))],
    )
    fb = Feedback(**base, article=ArticleRef(id="a7", published="2026-12-03T08:00:00Z"))
    again = Feedback.from_json_bytes(fb.to_json_bytes())
    assert again.evidence[0].text == sentence and again.article is not None and again.article.id == "a7"
    assert Feedback(**{**base, "evidence": []}).article is None  # both optional: older desks send neither
    with pytest.raises(ValidationError, match=r"article\.id differs"):
        Feedback(**base, article=ArticleRef(id="a8", published="2026-12-03T08:00:00Z"))
