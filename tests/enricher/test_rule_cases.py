"""The rules enricher on every labelled case in cases/rules/*.yaml, one short text per case.

Each case names a general behaviour (its ``id``) and gives ``text``, ``actor``, ``topic`` and exactly one
expectation: ``stance`` (support | oppose | undecided, or none for no observation) or ``not_stance``
(any reading but this one, including none). Optional: ``past`` (support | oppose | undecided, or none when the
observation must carry no past stance), ``published`` (ISO date-time with offset; default conftest.PUBLISHED)
and ``title`` (the headline). A malformed file fails at collection, naming the file and the case.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.enricher.conftest import observation

CASES_DIR = Path(__file__).parent / "cases" / "rules"
STANCES = {"support", "oppose", "undecided"}
REQUIRED = {"id", "text", "actor", "topic"}
EXPECTATIONS = {"stance", "not_stance"}
OPTIONAL = {"past", "published", "title"}


def checked(where: str, case: Any) -> dict[str, Any]:
    """The case, or a ValueError naming what is wrong with it."""
    if not isinstance(case, dict):
        raise ValueError(f"{where}: a case must be a mapping, got {case!r}")
    where = f"{where} ({case.get('id', '?')})"
    unknown = set(case) - REQUIRED - EXPECTATIONS - OPTIONAL
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    missing = REQUIRED - set(case)
    if missing:
        raise ValueError(f"{where}: missing keys {sorted(missing)}")
    for key in REQUIRED | ({"title"} & set(case)):
        if not isinstance(case[key], str) or not case[key].strip():
            raise ValueError(f"{where}: {key} must be a non-empty string")
    expectations = EXPECTATIONS & set(case)
    if len(expectations) != 1:
        raise ValueError(f"{where}: exactly one of {sorted(EXPECTATIONS)} is required, got {sorted(expectations)}")
    if "stance" in case and case["stance"] not in STANCES | {"none"}:
        raise ValueError(f"{where}: stance must be one of {sorted(STANCES | {'none'})}, got {case['stance']!r}")
    if "not_stance" in case and case["not_stance"] not in STANCES:
        raise ValueError(f"{where}: not_stance must be one of {sorted(STANCES)}, got {case['not_stance']!r}")
    if "past" in case:
        if case.get("stance") not in STANCES:
            raise ValueError(f"{where}: past needs a stance of {sorted(STANCES)}")
        if case["past"] not in STANCES | {"none"}:
            raise ValueError(f"{where}: past must be one of {sorted(STANCES | {'none'})}, got {case['past']!r}")
    if "published" in case:
        try:
            published = datetime.fromisoformat(str(case["published"]))
        except ValueError as exc:
            raise ValueError(f"{where}: published is not an ISO date-time: {case['published']!r}") from exc
        if published.tzinfo is None:
            raise ValueError(f"{where}: published needs a UTC offset: {case['published']!r}")
    return case


def load_cases(directory: Path = CASES_DIR) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.yaml")):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(loaded, list) or not loaded:
            raise ValueError(f"{path.name}: expected a non-empty list of cases")
        cases.extend(checked(path.name, case) for case in loaded)
    if not cases:
        raise ValueError(f"no cases under {directory}")
    ids = [case["id"] for case in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate case ids: {duplicates}")
    return cases


CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_the_rules_read_each_case_as_labelled(enricher, case):
    kw: dict[str, object] = {}
    if "published" in case:
        kw["published"] = datetime.fromisoformat(str(case["published"]))
    if "title" in case:
        kw["title"] = case["title"]
    obs = observation(enricher, case["text"], case["actor"], case["topic"], **kw)
    got = obs.stance if obs else "none"
    if "not_stance" in case:
        assert got != case["not_stance"]
        return
    assert got == case["stance"]
    if "past" in case:
        assert obs is not None
        assert (obs.past.stance if obs.past else "none") == case["past"]


@pytest.mark.parametrize(
    ("case", "complaint"),
    [
        ({"id": "x", "text": "t", "actor": "a", "topic": "b"}, "exactly one of"),
        ({"id": "x", "text": "t", "actor": "a", "topic": "b", "stance": "none", "not_stance": "oppose"}, "exactly"),
        ({"id": "x", "text": "t", "actor": "a", "topic": "b", "stance": "support", "stanse": "oppose"}, "unknown"),
        ({"id": "x", "text": "t", "actor": "a", "stance": "support"}, "missing"),
        ({"id": "x", "text": "t", "actor": "a", "topic": "b", "stance": "maybe"}, "stance must be"),
        ({"id": "x", "text": "t", "actor": "a", "topic": "b", "stance": "none", "past": "support"}, "past needs"),
        ({"id": "x", "text": "t", "actor": "a", "topic": "b", "stance": "oppose", "published": "May"}, "ISO"),
    ],
)
def test_a_malformed_case_is_refused_with_its_reason(case, complaint):
    with pytest.raises(ValueError, match=complaint):
        checked("example.yaml", case)
