"""Scoring, as pure functions: a replay run against article-level gold, a judge against sentence labels.

Article level (the project's evaluation format, ``data/dev/README.md``): observations are scored as
(article, actor, topic, stance) tuples, the most confident prediction counting when a run emits several
for one (article, actor, topic); alerts strictly on (actor, topic, from, to, article) and leniently on
(actor, topic, to), full reversals only. Polarity accuracy is measured on the pairs both sides found.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

POLAR = frozenset({"support", "oppose"})


class ScoreError(ValueError):
    """A gold or run file that cannot be scored: names the file and the line."""


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ScoreError(f"{path}:{n}: not JSON: {exc}") from exc
    return rows


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return round(p, 3), round(r, 3), round(f, 3)


def _field(row: Mapping[str, Any], *names: str) -> Any:
    return next((row[n] for n in names if n in row), None)


def score_run(
    gold: Mapping[str, Any], observations: Iterable[Mapping[str, Any]], alerts: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """The article-level report: observation P/R/F1, polarity accuracy, strict and lenient alert P/R/F1."""
    ignore = {(i["article_id"], i["actor"], i["topic"]) for i in gold.get("ignore", [])}
    gold_obs = {
        (o["article_id"], o["actor"], o["topic"]): o["stance"]
        for o in gold["observations"]
        if (o["article_id"], o["actor"], o["topic"]) not in ignore
    }
    best: dict[tuple[str, str, str], tuple[float, str]] = {}
    for o in observations:
        key = (_field(o, "article_id", "article"), o.get("actor"), o.get("topic"))
        conf = float(o.get("confidence", 0) or 0)
        if key not in best or conf >= best[key][0]:
            best[key] = (conf, o.get("stance"))  # type: ignore[assignment]
    pred = {k: v[1] for k, v in best.items() if k not in ignore}
    tp = sum(1 for k, s in pred.items() if gold_obs.get(k) == s)
    op, orr, of = prf(tp, len(pred) - tp, sum(1 for k, s in gold_obs.items() if pred.get(k) != s))
    found = [k for k in pred if k in gold_obs and pred[k] in POLAR and gold_obs[k] in POLAR]
    right = sum(1 for k in found if pred[k] == gold_obs[k])

    def strict(a: Mapping[str, Any]) -> tuple[Any, ...]:
        return (
            a.get("actor"),
            a.get("topic"),
            _field(a, "from", "from_stance"),
            _field(a, "to", "to_stance"),
            _field(a, "article_id", "article"),
        )

    def lenient(a: Mapping[str, Any]) -> tuple[Any, ...]:
        return a.get("actor"), a.get("topic"), _field(a, "to", "to_stance")

    reversals = [
        a for a in alerts if _field(a, "from", "from_stance") in POLAR and _field(a, "to", "to_stance") in POLAR
    ]
    gs = {strict(a) for a in gold["alerts"]}
    ps = [strict(a) for a in reversals]
    stp = len(gs & set(ps))
    ap, ar, af = prf(stp, len(ps) - stp, len(gs) - stp)
    gl = Counter(lenient(a) for a in gold["alerts"])
    pl = Counter(lenient(a) for a in reversals)
    ltp = sum((gl & pl).values())
    lp, lr, lf = prf(ltp, sum(pl.values()) - ltp, sum(gl.values()) - ltp)
    return {
        "observations": {"gold": len(gold_obs), "predicted": len(pred), "precision": op, "recall": orr, "f1": of},
        "polarity": {"found_polar_pairs": len(found), "accuracy": round(right / len(found), 3) if found else 0.0},
        "alerts_strict": {"gold": len(gs), "predicted": len(ps), "precision": ap, "recall": ar, "f1": af},
        "alerts_lenient": {"precision": lp, "recall": lr, "f1": lf},
        "missed_alerts": sorted(gs - set(ps)),
        "spurious_alerts": [p for p in ps if p not in gs],
        "duplicate_alerts": len(ps) - len(set(ps)),
    }


def score_sentences(gold: list[str], pred: list[str]) -> dict[str, Any]:
    """Sentence-level report: 4-way accuracy, stance detection P/R/F1 (``none`` is the negative class),
    and polarity accuracy where both gold and prediction are support/oppose."""
    n = len(gold)
    acc = sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / n if n else 0.0
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if p != "none" and g == p)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if p != "none" and g != p)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g != "none" and g != p)
    sp, sr, sf = prf(tp, fp, fn)
    polar = [(g, p) for g, p in zip(gold, pred, strict=True) if g in POLAR and p in POLAR]
    flips = sum(1 for g, p in polar if g != p)
    return {
        "lines": n,
        "accuracy": round(acc, 3),
        "stance": {"precision": sp, "recall": sr, "f1": sf},
        "polarity": {"pairs": len(polar), "accuracy": round(1 - flips / len(polar), 3) if polar else 0.0},
    }


def summary_line(report: Mapping[str, Any]) -> str:
    o, a, pol = report["observations"], report["alerts_strict"], report["polarity"]
    return (
        f"obs_p={o['precision']} obs_r={o['recall']} obs_f1={o['f1']} polarity_acc={pol['accuracy']} "
        f"alert_p={a['precision']} alert_r={a['recall']} alert_f1={a['f1']} "
        f"lenient_alert_f1={report['alerts_lenient']['f1']} duplicates={report['duplicate_alerts']}"
    )
