"""Regression floor on the held-out set written for this project (tests/enricher/heldout/).

Scored like ``score.py``: observations as (article, actor, topic, stance); one prediction per
(article, actor, topic), the most confident; pairs under ``ignore`` are left out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.contracts import RawArticle

HELDOUT = Path(__file__).parent / "heldout"
#: Floors a little below the F1 measured when they were set (rules r3), so that only regressions fail:
#: held-out 0.983, fresh 0.880, round-3 0.743; real-style 0.699 (rules r4, precision 0.89);
#: rules r5: real-style 0.743, real-style 2 0.721 (precision 0.82).
#: rules r6: real-style 0.754, real-style 2 0.733, real-style 3 0.667 (precision 0.80; r5 scored it 0.643 blind).
#: rules r7: real-style 0.760 (alerts P 0.94 / R 0.89), real-style 2 0.737, real-style 3 0.667.
#: rules r8: real-style 0.760, real-style 2 0.737, real-style 3 0.667, real-style 4 0.691 (r7 scored it 0.652 blind).
#: rules r9: real-style 0.760, real-style 2 0.760, real-style 3 0.685, real-style 4 0.691.
#: rules r10: real-style 0.773, real-style 2 0.776, real-style 3 0.713, real-style 4 0.710.
#: rules r11: real-style 0.773, real-style 2 0.776, real-style 3 0.724, real-style 4 0.738, real-style 5 0.645.
FLOORS = {
    ("articles.jsonl", "gold.json"): 0.95,
    ("fresh_articles.jsonl", "fresh_gold.json"): 0.82,
    ("round3_articles.jsonl", "round3_gold.json"): 0.70,
    ("realstyle_articles.jsonl", "realstyle_gold.json"): 0.74,
    ("realstyle2_articles.jsonl", "realstyle2_gold.json"): 0.74,
    ("realstyle3_articles.jsonl", "realstyle3_gold.json"): 0.70,
    ("realstyle4_articles.jsonl", "realstyle4_gold.json"): 0.71,
    # Measured blind through r10 (0.633); used for development from r11.
    ("realstyle5_articles.jsonl", "realstyle5_gold.json"): 0.62,
    # Never tuned on: measured blind at r11 (0.656); the floor only guards against regressions.
    ("realstyle6_articles.jsonl", "realstyle6_gold.json"): 0.62,
}


def _f1(gold: dict, predicted: dict) -> float:
    tp = sum(1 for k, s in predicted.items() if gold.get(k) == s)
    fp = len(predicted) - tp
    fn = sum(1 for k, s in gold.items() if predicted.get(k) != s)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


@pytest.mark.parametrize(("articles", "gold_file"), sorted(FLOORS))
def test_heldout_observation_f1_stays_above_the_floor(enricher, articles, gold_file):
    floor = FLOORS[(articles, gold_file)]
    gold_doc = json.loads((HELDOUT / gold_file).read_text(encoding="utf-8"))
    ignore = {(i["article_id"], i["actor"], i["topic"]) for i in gold_doc.get("ignore", [])}
    gold = {(o["article_id"], o["actor"], o["topic"]): o["stance"] for o in gold_doc["observations"]}
    gold = {k: v for k, v in gold.items() if k not in ignore}
    best: dict[tuple[str, str, str], tuple[float, str]] = {}
    for line in (HELDOUT / articles).read_text(encoding="utf-8").splitlines():
        for obs in enricher.enrich(RawArticle.model_validate_json(line)).observations:
            key = (obs.article_id, obs.actor, obs.topic)
            if key not in best or obs.confidence >= best[key][0]:
                best[key] = (obs.confidence, obs.stance)
    predicted = {k: v[1] for k, v in best.items() if k not in ignore}
    f1 = _f1(gold, predicted)
    assert f1 >= floor, f"{articles}: observation F1 {f1:.3f} fell below {floor}"


def test_heldout_evidence_offsets_index_the_article_text(enricher):
    for line in (HELDOUT / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        article = RawArticle.model_validate_json(line)
        for obs in enricher.enrich(article).observations:
            for ev in obs.evidence:
                assert article.text[ev.start : ev.end] == ev.text
