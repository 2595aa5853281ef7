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
