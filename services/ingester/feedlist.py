"""Stage 0: the feed list the operator configured (YAML or one URL per line)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from services.ingester.errors import FeedListError


@dataclass(frozen=True)
class FeedSpec:
    url: str
    name: str = ""
    #: Fixed starting interval in seconds (None: the service default, then adaptive).
    interval: float | None = None


def _check_url(url: str, where: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FeedListError(f"feed list: {where}: not an http(s) URL: {url!r}")
    return url


def parse_feed_list(text: str, *, source: str = "feed list") -> list[FeedSpec]:
    """YAML with a top-level ``feeds:`` list, else plain text (``#`` comments, blank lines ignored)."""
    stripped = text.lstrip()
    if stripped.startswith("feeds:") or "\nfeeds:" in text:
        return _parse_yaml(text, source)
    specs = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            specs.append(FeedSpec(url=_check_url(line, f"{source}:{n}")))
    return _unique(specs)


def _parse_yaml(text: str, source: str) -> list[FeedSpec]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FeedListError(f"feed list: {source}: invalid YAML: {exc}") from exc
    items = doc.get("feeds") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise FeedListError(f"feed list: {source}: expected a top-level 'feeds:' list")
    specs = []
    for i, item in enumerate(items):
        where = f"{source}: feeds[{i}]"
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise FeedListError(f"feed list: {where}: expected a mapping with a 'url'")
        interval = item.get("interval")
        if interval is not None and (not isinstance(interval, int | float) or interval <= 0):
            raise FeedListError(f"feed list: {where}: interval must be a positive number of seconds")
        specs.append(
            FeedSpec(
                url=_check_url(item["url"], where),
                name=str(item.get("name") or ""),
                interval=float(interval) if interval is not None else None,
            )
        )
    return _unique(specs)


def _unique(specs: list[FeedSpec]) -> list[FeedSpec]:
    seen: dict[str, FeedSpec] = {}
    for spec in specs:
        seen.setdefault(spec.url, spec)
    return list(seen.values())


def load_feed_list(path: Path) -> list[FeedSpec]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FeedListError(f"feed list: cannot read {path}: {exc}") from exc
    specs = parse_feed_list(text, source=str(path))
    if not specs:
        raise FeedListError(f"feed list: {path}: no feeds")
    return specs
