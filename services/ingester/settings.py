"""Ingester settings (``STANCEWATCH_*``), on top of the settings every service shares."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from shared.settings import ServiceSettings

DEFAULT_FEEDS = Path(__file__).resolve().parent / "feeds" / "world.yaml"


class IngesterSettings(ServiceSettings):
    #: The feed list: YAML (``feeds: [{url, name?, interval?}]``) or one URL per line.
    feeds: Path = DEFAULT_FEEDS
    #: Fetch and extract each new article's page (off: the feed summary is the text).
    fulltext: bool = True
    #: Hosts or CIDRs third-party URLs may reach although private/loopback (e.g. ``127.0.0.1``).
    fetch_allow_hosts: str = ""
    #: Politeness: at most this many requests in flight per host.
    max_per_host: int = Field(default=2, ge=1, le=100)
    #: Connections in flight across all hosts.
    max_connections: int = Field(default=200, ge=1, le=5000)
    #: Hosts whose idle connections are kept open for reuse (each up to ``max_per_host``, for 5 s).
    keepalive_hosts: int = Field(default=256, ge=1, le=10_000)
    #: Bounds of the adaptive poll interval, seconds.
    poll_min_interval: float = Field(default=60.0, ge=0.5)
    poll_max_interval: float = Field(default=3600.0, ge=1.0)
    #: Interval for a feed whose cadence is not known yet (or its ``interval`` in the feed list).
    poll_default_interval: float = Field(default=300.0, ge=0.5)
    #: Responses larger than this are rejected (after decompression).
    max_feed_bytes: int = Field(default=10_000_000, ge=1024)
    max_page_bytes: int = Field(default=5_000_000, ge=1024)
    fetch_timeout: float = Field(default=20.0, gt=0)
    fulltext_timeout: float = Field(default=20.0, gt=0)
    max_redirects: int = Field(default=5, ge=0, le=20)
    #: Page fetches in flight at once (full text).
    fulltext_concurrency: int = Field(default=16, ge=1, le=500)
    #: Dedup memory: how many article ids, and for how long.
    seen_max: int = Field(default=500_000, ge=100)
    seen_ttl_days: float = Field(default=30.0, gt=0)
    #: Entries published longer ago than this are ignored, so an old entry re-listed after its id left
    #: the dedup memory is not published again. Default: the dedup TTL; 0 turns the filter off.
    max_entry_age_days: float | None = Field(default=None, ge=0)
    #: Processes that parse feeds (feedparser is CPU-bound); unset: one per core; 0: parse in the event loop.
    parse_workers: int | None = Field(default=None, ge=0, le=64)
    user_agent: str = "stancewatch-ingester/0.1 (+https://example.invalid/stancewatch)"

    @field_validator("fetch_allow_hosts")
    @classmethod
    def _valid_cidrs(cls, value: str) -> str:
        for item in value.split(","):
            if "/" in item:
                ipaddress.ip_network(item.strip(), strict=False)  # ValueError names the culprit
        return value

    @model_validator(mode="after")
    def _check(self) -> IngesterSettings:
        if self.poll_min_interval > self.poll_max_interval:
            raise ValueError("STANCEWATCH_POLL_MIN_INTERVAL must not exceed STANCEWATCH_POLL_MAX_INTERVAL")
        return self

    @property
    def allow_hosts(self) -> list[str]:
        return [h.strip().lower() for h in self.fetch_allow_hosts.split(",") if h.strip()]
