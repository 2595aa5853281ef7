"""``stancewatch evaluate``: measure the judgement on the labelled sets of ``data/manifest.yaml``.

    stancewatch evaluate GOLD.json RUN_DIR            score a replay run (observations.jsonl, alerts.jsonl)
    stancewatch evaluate --set ID [--judge J]         replay one development set and score it
    stancewatch evaluate --all [--judge J ...]        every development set, one table row per set and judge
    stancewatch evaluate --blind ID --judge J         score a blind set ONCE for this judge version and record it
    stancewatch evaluate --sweep-instant [--judge J]  pooled alert P/R over the development sets per hold threshold

A blind set is never scored without recording: the score goes to ``data/blind-scores.yaml``, and a second
scoring of the same set by the same judge version is refused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from services.enricher.judges import JUDGES
from services.evaluate.score import ScoreError, prf, read_jsonl, score_run, score_sentences, summary_line

ROOT = Path(__file__).resolve().parents[2]
SCORES = ROOT / "data" / "blind-scores.yaml"


def _sets() -> list[dict[str, Any]]:
    return yaml.safe_load((ROOT / "data" / "manifest.yaml").read_text(encoding="utf-8"))["sets"]


def _set(set_id: str) -> dict[str, Any]:
    for entry in _sets():
        if entry["id"] == set_id:
            return entry
    raise SystemExit(f"stancewatch evaluate: no set {set_id!r} in data/manifest.yaml")


def _enricher(judge: str):  # type: ignore[no-untyped-def]
    from services.enricher.build import build_enricher
    from services.enricher.settings import EnricherSettings
    from shared.settings import load_settings

    settings = load_settings(EnricherSettings).model_copy(update={"judge": judge})
    return build_enricher(settings)


def _replayed(entry: dict[str, Any], enricher: Any) -> tuple[dict[str, Any], list[Any], list[dict[str, Any]]]:
    """An article-level set through the enricher: its gold, the observations, and their replay lines."""
    from services.replay.__main__ import observation_line, read_articles

    gold = json.loads((ROOT / entry["gold"]).read_text(encoding="utf-8"))
    observations = [o for a in read_articles(ROOT / entry["articles"], []) for o in enricher.enrich(a).observations]
    return gold, observations, [observation_line(o) for o in observations]


def _scored_alerts(
    gold: dict[str, Any], observations: list[Any], lines: list[dict[str, Any]], instant_confidence: float | None
) -> tuple[dict[str, Any], list[Any]]:
    """The observations through the alerter's detector at one hold threshold, scored; and the alerts."""
    from services.alerter.detect import ShiftDetector
    from services.replay.__main__ import alert_line

    # Every observation within the grace period of the others: the alerts the order they were said implies.
    step = ShiftDetector(instant_confidence=instant_confidence, grace=dt.timedelta(days=1))
    alerts = [a for o in observations for a in step.observe(o)] + step.settle()
    return score_run(gold, lines, [alert_line(a) for a in alerts]), alerts


def run_set(entry: dict[str, Any], judge: str, enricher: Any = None) -> dict[str, Any]:
    """Replay (article level) or judge (sentence level) one set and return its report."""
    enricher = enricher or _enricher(judge)
    if entry["level"] == "article":
        from services.alerter.detect import DEFAULT_INSTANT_CONFIDENCE

        gold, observations, lines = _replayed(entry, enricher)
        report, alerts = _scored_alerts(gold, observations, lines, DEFAULT_INSTANT_CONFIDENCE)
        held = [
            (a.corroborations[0].published - a.after.observed_at).total_seconds() / 3600
            for a in alerts
            # held ones: the alert comes back carrying every corroboration, not only the confirming one
            if a.corroborations and a.after.confidence < DEFAULT_INSTANT_CONFIDENCE
        ]
        report["hold_hours_median"] = round(sorted(held)[len(held) // 2], 1) if held else 0.0
        report["policy"] = "confirm"
        report["instant_confidence"] = DEFAULT_INSTANT_CONFIDENCE
        immediate, _ = _scored_alerts(gold, observations, lines, None)
        report["immediate"] = {
            k: immediate[k] for k in ("alerts_strict", "alerts_lenient", "spurious_alerts", "missed_alerts")
        }
    else:
        from services.evaluate.sentences import judge_lines

        if "split_of_training" in entry:
            from services.enricher.judges.corpus import split_rows

            lines = split_rows(ROOT, int(entry["split_of_training"]))
        else:
            lines = [r for f in entry["files"] for r in read_jsonl(ROOT / f)]
        report = score_sentences([r["label"] for r in lines], judge_lines(enricher, lines))
    report["judge"] = enricher.judge.id
    return report


def _row(set_id: str, report: dict[str, Any]) -> str:
    if "observations" in report:
        imm = report["immediate"]["alerts_strict"]
        return (
            f"{set_id:<12} {report['judge']:<34} {summary_line(report)} hold_h={report['hold_hours_median']} | "
            f"immediate alert_p={imm['precision']} alert_r={imm['recall']}"
        )
    return (
        f"{set_id:<14} {report['judge']:<40} lines={report['lines']} acc={report['accuracy']} "
        f"stance_p={report['stance']['precision']} stance_r={report['stance']['recall']} "
        f"stance_f1={report['stance']['f1']} polarity_acc={report['polarity']['accuracy']}"
    )


def pooled_line(judge_id: str, reports: list[dict[str, Any]]) -> str:
    """Observation P/R/F1 and polarity pooled over article-level sets: their counts added, not their scores
    averaged, so a set counts by the size of its gold."""
    tp = pred = gold = pairs = right = 0
    for r in reports:
        o, pol = r["observations"], r["polarity"]
        tp += round(o["precision"] * o["predicted"])
        pred += o["predicted"]
        gold += o["gold"]
        pairs += pol["found_polar_pairs"]
        right += round(pol["accuracy"] * pol["found_polar_pairs"])
    p, rec, f = prf(tp, pred - tp, gold - tp)
    polarity = round(right / pairs, 3) if pairs else 0.0
    return (
        f"{'pooled':<12} {judge_id:<34} sets={len(reports)} obs_p={p} obs_r={rec} obs_f1={f} "
        f"polarity_acc={polarity} (tp={tp} predicted={pred} gold={gold})"
    )


SWEEP = (None, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def sweep_instant(judge: str) -> None:
    """Alert precision and recall pooled over the article-level development sets, per instant threshold."""
    enricher = _enricher(judge)
    counts = {t: [0, 0, 0] for t in SWEEP}  # right, raised, gold
    for entry in _sets():
        if entry["use"] != "development" or entry["level"] != "article":
            continue
        gold, observations, lines = _replayed(entry, enricher)
        for t in SWEEP:
            strict = _scored_alerts(gold, observations, lines, t)[0]["alerts_strict"]
            right = round(strict["precision"] * strict["predicted"])
            for n, v in enumerate((right, strict["predicted"], strict["gold"])):
                counts[t][n] += v
    for t, (right, raised, gold_n) in counts.items():
        p, r = (right / raised if raised else 0.0), (right / gold_n if gold_n else 0.0)
        label = "at once" if t is None else f"hold below {t}"
        print(f"{enricher.judge.id} {label:<16} alerts P {p:.3f} R {r:.3f} ({right} right of {raised}, {gold_n} gold)")


def record_blind(set_id: str, judge: str) -> int:
    entry = _set(set_id)
    if entry["use"] != "blind":
        raise SystemExit(f"stancewatch evaluate: {set_id} is not a blind set (use --set)")
    enricher = _enricher(judge)
    recorded = yaml.safe_load(SCORES.read_text(encoding="utf-8")) if SCORES.exists() else []
    recorded = recorded or []
    if any(r["set"] == set_id and r["judge"] == enricher.judge.id for r in recorded):
        print(
            f"stancewatch evaluate: {set_id} was already scored for {enricher.judge.id}; a blind set is scored "
            "once per judge version (see data/blind-scores.yaml)",
            file=sys.stderr,
        )
        return 1
    report = run_set(entry, judge, enricher)
    keep = {k: v for k, v in report.items() if k not in ("missed_alerts", "spurious_alerts")}
    # Read again: another scoring may have finished meanwhile, and a record is never lost.
    recorded = (yaml.safe_load(SCORES.read_text(encoding="utf-8")) if SCORES.exists() else []) or []
    recorded.append({"set": set_id, "judge": enricher.judge.id, "date": dt.date.today().isoformat(), "report": keep})
    SCORES.write_text(yaml.safe_dump(recorded, sort_keys=False, width=120), encoding="utf-8")
    print(_row(set_id, report))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stancewatch evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="GOLD.json RUN_DIR: score an existing replay run")
    parser.add_argument("--set", dest="set_id", help="a development set of data/manifest.yaml")
    parser.add_argument("--all", action="store_true", help="every development set")
    parser.add_argument("--blind", help="a blind set: scored once per judge version, and recorded")
    parser.add_argument(
        "--judge",
        action="append",
        choices=JUDGES,
        help="which judge (repeatable with --all; default combined)",
    )
    parser.add_argument("--sweep-instant", action="store_true", help="choose the alert hold threshold (dev sets)")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = parser.parse_args(argv)
    judges = args.judge or ["combined"]
    try:
        if args.paths:
            if len(args.paths) != 2:
                parser.error("give GOLD.json and RUN_DIR")
            gold = json.loads(args.paths[0].read_text(encoding="utf-8"))
            report = score_run(
                gold, read_jsonl(args.paths[1] / "observations.jsonl"), read_jsonl(args.paths[1] / "alerts.jsonl")
            )
            print(json.dumps(report, indent=2) if args.json else summary_line(report))
            return 0
        if args.blind:
            return record_blind(args.blind, judges[0])
        if args.sweep_instant:
            for judge in judges:
                sweep_instant(judge)
            return 0
        ids = [args.set_id] if args.set_id else [s["id"] for s in _sets() if s["use"] == "development"]
        if not args.set_id and not args.all:
            parser.error("give GOLD.json RUN_DIR, --set ID, --all or --blind ID")
        for judge in judges:
            enricher = _enricher(judge)
            article_reports = []
            for set_id in ids:
                entry = _set(set_id)
                if entry["use"] == "blind":
                    raise SystemExit(f"stancewatch evaluate: {set_id} is blind: score it with --blind (recorded)")
                report = run_set(entry, judge, enricher)
                if "observations" in report:
                    article_reports.append(report)
                print(json.dumps(report, indent=2) if args.json else _row(set_id, report), flush=True)
            if len(article_reports) > 1 and not args.json:
                print(pooled_line(enricher.judge.id, article_reports), flush=True)
    except ScoreError as exc:
        print(f"stancewatch evaluate: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
