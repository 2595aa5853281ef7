"""``stancewatch replay ARTICLES.jsonl --out DIR [--watchlist FILE]``.

Runs the same enrich logic as the service, in order, with no broker, and writes
``DIR/observations.jsonl`` and ``DIR/alerts.jsonl``. The alert step is an injected object with
``observe(obs) -> list[PositionChange]``; the alerter's ``ShiftDetector`` is used when installed.
Used for offline evaluation and to backfill history.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from services.enricher.build import build_enricher
from services.enricher.errors import EnricherError
from services.enricher.extract import Enricher
from services.enricher.settings import EnricherSettings
from shared.contracts import PositionChange, RawArticle, StanceObservation
from shared.errors import StancewatchError
from shared.settings import load_settings


class AlertStep(Protocol):
    def observe(self, obs: StanceObservation) -> list[PositionChange]: ...


@dataclass
class ReplaySummary:
    articles: int = 0
    bad_lines: int = 0
    observations: int = 0
    alerts: int = 0


def read_articles(path: Path, errors: list[str]) -> Iterator[RawArticle]:
    """Articles in file order; a bad line is reported and skipped, never fatal."""
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield RawArticle.model_validate_json(line)
            except ValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ())) or "line"
                errors.append(f"{path}:{n}: {where}: {first.get('msg', 'invalid')}")


def observation_line(obs: StanceObservation) -> dict:
    row = {
        "article_id": obs.article_id,
        "actor": obs.actor,
        "topic": obs.topic,
        "stance": obs.stance,
        "confidence": obs.confidence,
        "evidence": [e.model_dump() for e in obs.evidence],
    }
    if obs.past is not None:
        row["past"] = obs.past.model_dump()
    return row


def alert_line(alert: PositionChange) -> dict:
    return {
        "actor": alert.actor,
        "topic": alert.topic,
        "from": alert.from_stance,
        "to": alert.to_stance,
        "article_id": alert.article_id,
        "severity": alert.severity,
        "kind": alert.kind,
        "evidence": {
            "after": [e.model_dump() for e in alert.after.evidence],
            "before": [e.model_dump() for e in alert.before.evidence],
        },
    }


def default_alert_step() -> AlertStep | None:
    """The alerter's pure detector with its default hold threshold, if that package is installed."""
    try:
        if importlib.util.find_spec("services.alerter.detect") is None:
            return None
        module = importlib.import_module("services.alerter.detect")
    except ImportError:
        return None
    detector = getattr(module, "ShiftDetector", None)
    if detector is None:
        return None
    return detector(instant_confidence=module.DEFAULT_INSTANT_CONFIDENCE)  # type: ignore[no-any-return]


def write_results(
    out_dir: Path, observations: list[StanceObservation], alerts: list[PositionChange], articles: int
) -> ReplaySummary:
    """Write results gathered elsewhere (the Kafka replay) in the same format as :func:`replay`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "observations.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(observation_line(o), ensure_ascii=False) + "\n" for o in observations)
    with (out_dir / "alerts.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(alert_line(a), ensure_ascii=False) + "\n" for a in alerts)
    return ReplaySummary(articles=articles, observations=len(observations), alerts=len(alerts))


def replay(
    articles: Iterator[RawArticle],
    enricher: Enricher,
    out_dir: Path,
    alert_step: AlertStep | None,
    sent: list[PositionChange] | None = None,
) -> ReplaySummary:
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = ReplaySummary()
    with (
        (out_dir / "observations.jsonl").open("w", encoding="utf-8") as obs_fh,
        (out_dir / "alerts.jsonl").open("w", encoding="utf-8") as alert_fh,
    ):
        for article in articles:
            summary.articles += 1
            enriched = enricher.enrich(article)
            for obs in enriched.observations:
                obs_fh.write(json.dumps(observation_line(obs), ensure_ascii=False) + "\n")
                summary.observations += 1
                if alert_step is not None:
                    for alert in alert_step.observe(obs):
                        if sent is not None:
                            sent.append(alert)
                        alert_fh.write(json.dumps(alert_line(alert), ensure_ascii=False) + "\n")
                        summary.alerts += 1
    return summary


def main(argv: list[str] | None = None, alert_step: AlertStep | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stancewatch replay", description=__doc__.splitlines()[0])
    parser.add_argument("articles", type=Path, help="JSON lines: id, source, url, published, title, text")
    parser.add_argument("--out", type=Path, required=True, help="directory for observations.jsonl and alerts.jsonl")
    parser.add_argument("--watchlist", help="YAML watchlist (default: the shipped one)")
    parser.add_argument(
        "--bus",
        choices=("memory", "kafka"),
        default="memory",
        help="memory: one process, no broker (default); kafka: through the real topics and service code",
    )
    parser.add_argument(
        "--deliver", action="store_true", help="send the alerts to the configured channels (webhook, Slack)"
    )
    args = parser.parse_args(argv)
    if not args.articles.is_file():
        print(f"stancewatch replay: no such file: {args.articles}", file=sys.stderr)
        return 2
    try:
        settings = load_settings(EnricherSettings)
        enricher = build_enricher(settings, args.watchlist)
    except (StancewatchError, EnricherError) as exc:
        print(f"stancewatch replay: {exc}", file=sys.stderr)
        return 2
    errors: list[str] = []
    alerts: list[PositionChange] = []
    if args.bus == "kafka":
        from services.replay.kafka import replay_on_kafka

        articles = list(read_articles(args.articles, errors))
        try:
            observations, alerts = asyncio.run(replay_on_kafka(articles, enricher, settings))
        except StancewatchError as exc:
            print(f"stancewatch replay: {exc}", file=sys.stderr)
            return 1
        summary = write_results(args.out, observations, alerts, len(articles))
    else:
        step = alert_step if alert_step is not None else default_alert_step()
        if step is None:
            print("stancewatch replay: alert detection is unavailable (services.alerter.detect not installed)")
        summary = replay(read_articles(args.articles, errors), enricher, args.out, step, sent=alerts)
    for e in errors:
        print(f"stancewatch replay: skipped {e}", file=sys.stderr)
    print(
        f"replayed {summary.articles} articles ({len(errors)} bad lines): "
        f"{summary.observations} observations, {summary.alerts} alerts -> {args.out}"
    )
    if args.deliver:
        return deliver(alerts, args.watchlist)
    return 0


def deliver(alerts: list[PositionChange], watchlist: str | None = None) -> int:
    """Send replayed alerts through the configured channels; their ids let receivers drop duplicates.

    The routing is checked against the watchlist the replay used (``--watchlist``, else the setting).
    """
    from services.alerter.deliver import deliver_now
    from services.alerter.settings import AlerterSettings

    overrides = {"watchlist": watchlist} if watchlist else {}
    try:
        outcomes = asyncio.run(deliver_now(alerts, load_settings(AlerterSettings, **overrides)))
    except StancewatchError as exc:
        print(f"stancewatch replay: deliver: {exc}", file=sys.stderr)
        return 1
    failed = [o for o in outcomes if o.status != "delivered"]
    print(
        f"delivered {len(outcomes) - len(failed)} of {len(outcomes)} deliveries"
        + ("; failed: " + ", ".join(f"{o.channel} ({o.last_error})" for o in failed) if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
