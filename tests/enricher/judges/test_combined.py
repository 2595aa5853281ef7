"""How the combined judge settles the rules and the model: the rules decide unless the model is sure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from services.enricher.judges.base import Query, RuleReading, Verdict
from services.enricher.judges.combined import UNCONFIRMED_PENALTY, CombinedJudge


class Fixed:
    """A judge that answers every query with one verdict: stands in for either side."""

    def __init__(self, name: str, stance: str | None, probability: float) -> None:
        self.id, self.stance, self.probability = name, stance, probability
        self.seen: list[Query] = []

    def judge(self, queries: Sequence[Query]) -> list[Verdict]:
        self.seen.extend(queries)
        return [Verdict(self.stance, self.probability, self.id) for _ in queries]


ATTRIBUTED = Query(
    "trump", "Donald Trump", "tomahawks", "Tomahawks", "supply them", "", "Trump said sending them would be reckless.",
    rules=RuleReading("support", False, "clause"),
)  # fmt: skip

CASES = [
    # (rules stance, p), (model stance, p), expected stance, expected probability
    pytest.param(("support", 0.75), ("oppose", 0.95), "oppose", 0.95, id="a sure model overrules the rules"),
    pytest.param(("support", 0.75), ("oppose", 0.7), "support", 0.75, id="an unsure model does not"),
    pytest.param(("support", 0.75), ("support", 0.9), "support", 0.9, id="agreement takes the higher"),
    pytest.param(("support", 0.75), (None, 0.6), "support", 0.75, id="a silent model leaves the rules"),
    pytest.param((None, 0.0), ("oppose", 0.85), "oppose", 0.85 - UNCONFIRMED_PENALTY, id="model fills"),
    pytest.param((None, 0.0), ("oppose", 0.7), None, 0.7, id="too unsure to fill"),
]


@pytest.mark.parametrize(("rules", "model", "stance", "probability"), CASES)
def test_the_verdict_follows_the_decision_table(rules, model, stance, probability) -> None:
    judge = CombinedJudge(Fixed("m", *model), Fixed("r", *rules))
    (verdict,) = judge.judge([ATTRIBUTED])
    assert (verdict.stance, verdict.probability) == (stance, pytest.approx(probability))
    assert verdict.judge == judge.id


def test_the_enricher_does_not_ask_the_combined_judge_about_figures_the_rules_left_out() -> None:
    assert CombinedJudge(Fixed("m", None, 0.0), Fixed("r", None, 0.0)).reads_open_holders is False


@pytest.mark.parametrize(
    "query",
    [replace(ATTRIBUTED, past=True), replace(ATTRIBUTED, topic_support="  ")],
    ids=["an earlier view", "a topic without a definition"],
)
def test_the_model_is_not_asked_where_it_cannot_read(query: Query) -> None:
    model = Fixed("m", "oppose", 0.99)
    (verdict,) = CombinedJudge(model, Fixed("r", "support", 0.75)).judge([query])
    assert verdict.stance == "support" and model.seen == []


CARRIED = replace(ATTRIBUTED, rules=RuleReading(None, False, "carried"))

CARRIED_CASES = [
    # (rules stance on the carried clause), (model stance, p), expected stance
    pytest.param(None, ("oppose", 0.75), "oppose", id="a sure model confirms a carried holder"),
    pytest.param(None, ("oppose", 0.6), None, id="an unsure one does not"),
    pytest.param("oppose", ("oppose", 0.55), "oppose", id="agreeing with the rules it needs less"),
    pytest.param("support", ("oppose", 0.99), None, id="against the rules never"),
    pytest.param(None, (None, 0.9), None, id="a model that reads none drops it"),
]


@pytest.mark.parametrize(("rules", "model", "stance"), CARRIED_CASES)
def test_a_carried_holder_counts_only_when_the_model_confirms_it(rules, model, stance) -> None:
    query = replace(CARRIED, rules=RuleReading(rules, rules is not None, "carried"))
    (verdict,) = CombinedJudge(Fixed("m", *model), Fixed("r", rules, 0.65)).judge([query])
    assert verdict.stance == stance


def test_a_carried_earlier_view_is_not_left_to_the_rules() -> None:
    (verdict,) = CombinedJudge(Fixed("m", "oppose", 0.99), Fixed("r", "oppose", 0.65)).judge(
        [replace(CARRIED, past=True)]
    )
    assert verdict.stance is None


def test_only_the_current_version_asks_for_carried_holders_and_an_unknown_one_is_refused() -> None:
    assert CombinedJudge(Fixed("m", None, 0.0), Fixed("r", None, 0.0)).reads_carried_holders is True
    c4 = CombinedJudge(Fixed("m", None, 0.0), Fixed("r", None, 0.0), version="c4")
    assert c4.reads_carried_holders is False and c4.id.startswith("combined-c4-")
    with pytest.raises(ValueError, match="unknown combined version"):
        CombinedJudge(Fixed("m", None, 0.0), Fixed("r", None, 0.0), version="c9")
