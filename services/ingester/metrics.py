"""The ingester's metrics, created once on the service's registry."""

from __future__ import annotations

from dataclasses import dataclass

from shared.observability import Counter, Gauge, Histogram, Metrics


@dataclass(frozen=True)
class IngesterMetrics:
    polls: Counter
    not_modified: Counter
    unchanged: Counter
    errors: Counter
    published: Counter
    skipped: Counter
    fulltext: Counter
    poll_seconds: Histogram
    feeds: Gauge
    seen_ids: Gauge
    feed_last_success: Gauge

    @classmethod
    def on(cls, metrics: Metrics) -> IngesterMetrics:
        return cls(
            polls=metrics.counter("polls_total", "Feed polls by outcome", ["outcome"]),
            not_modified=metrics.counter("not_modified_total", "Polls answered 304 Not Modified"),
            unchanged=metrics.counter(
                "ingester_unchanged_bodies_total", "Polls whose body equals the last published one (not parsed again)"
            ),
            errors=metrics.counter("errors_total", "Failed polls and fetches by kind", ["kind"]),
            published=metrics.counter("articles_published_total", "New articles published"),
            skipped=metrics.counter("entries_skipped_total", "Entries not published, by reason", ["reason"]),
            fulltext=metrics.counter("fulltext_total", "Full-text extractions by outcome", ["outcome"]),
            poll_seconds=metrics.histogram("poll_seconds", "Time to fetch and parse one feed"),
            feeds=metrics.gauge("feeds", "Feeds in the feed list"),
            seen_ids=metrics.gauge("seen_ids", "Article ids remembered for dedup"),
            # One series per feed: "which feeds have gone quiet" is time() minus this, per feed.
            feed_last_success=metrics.gauge(
                "feed_last_success_timestamp_seconds", "When each feed was last fetched successfully", ["feed_url"]
            ),
        )
