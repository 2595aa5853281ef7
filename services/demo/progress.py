"""Progress of the running services, read from their Prometheus ``/metrics`` endpoints."""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping

#: (label shown, service, metric name) — summed over every label combination.
PROGRESS_METRICS: tuple[tuple[str, str, str], ...] = (
    ("feed polls", "ingester", "stancewatch_ingester_polls_total"),
    ("304s", "ingester", "stancewatch_ingester_not_modified_total"),
    ("articles", "ingester", "stancewatch_ingester_articles_published_total"),
    ("enriched", "enricher", "stancewatch_enricher_articles_enriched_total"),
    ("observations", "enricher", "stancewatch_enricher_observations_total"),
    ("alerts", "alerter", "stancewatch_alerter_alerts_total"),
    ("deliveries", "alerter", "stancewatch_alerter_deliveries_total"),
)


def parse_prometheus(text: str) -> dict[str, float]:
    """Sum every sample of each metric name (labels dropped)."""
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_part, _, value = line.rpartition(" ")
        name = name_part.split("{", 1)[0]
        try:
            totals[name] = totals.get(name, 0.0) + float(value)
        except ValueError:
            continue
    return totals


def scrape(url: str, timeout: float = 1.0) -> dict[str, float]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return parse_prometheus(resp.read().decode("utf-8", "replace"))
    except OSError:
        return {}


def progress_line(metrics_urls: Mapping[str, str]) -> str:
    scraped = {service: scrape(url) for service, url in metrics_urls.items()}
    parts = []
    for label, service, metric in PROGRESS_METRICS:
        value = scraped.get(service, {}).get(metric)
        if value is not None:
            parts.append(f"{label} {int(value)}")
    return " · ".join(parts) if parts else "waiting for the services…"
