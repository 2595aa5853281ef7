"""Read-only JSON routes for the shared HealthServer: ``/positions`` and ``/alerts``.

Both accept ``actor`` and ``topic`` filters; ``/alerts`` also ``limit`` (newest first, at most
``RECENT_ALERTS``). The server percent-decodes the query; a parameter a route does not read, an empty
filter or a ``limit`` that is not a positive integer is a 400 with the reason, never ignored. Each
instance answers for the partitions it has loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.alerter.state import PositionStore
from shared.observability import BadRequest, JsonRoute, check_params

DEFAULT_LIMIT = 50
FILTERS = ("actor", "topic")


def _filters(params: Mapping[str, str]) -> dict[str, str]:
    """The filters given, each non-empty (an empty one would match everything: surely not what was meant)."""
    empty = [f for f in FILTERS if f in params and not params[f].strip()]
    if empty:
        raise BadRequest(f"{', '.join(empty)} is empty (leave the parameter out to match every value)")
    return {f: params[f] for f in FILTERS if f in params}


def parse_limit(value: str | None, ceiling: int) -> int:
    """``limit``: a positive integer, capped at what is kept (``ceiling``); absent = DEFAULT_LIMIT."""
    if value is None:
        return min(DEFAULT_LIMIT, ceiling)
    text = value.strip()
    if not text.isdigit() or int(text) < 1:
        raise BadRequest(f"limit must be a positive integer, not {value!r}")
    return min(int(text), ceiling)


def _matches(item: Any, filters: Mapping[str, str]) -> bool:
    return all(getattr(item, f) == v for f, v in filters.items())


def routes(store: PositionStore) -> dict[str, JsonRoute]:
    def positions(params: dict[str, str]) -> dict[str, Any]:
        check_params(params, FILTERS)
        filters = _filters(params)
        items = sorted(store.detector.positions.values(), key=lambda p: p.key)
        out = [p.model_dump(mode="json", by_alias=True) for p in items if _matches(p, filters)]
        return {"count": len(out), "positions": out}

    def alerts(params: dict[str, str]) -> dict[str, Any]:
        check_params(params, (*FILTERS, "limit"))
        filters = _filters(params)
        limit = parse_limit(params.get("limit"), store.recent_limit)
        items = [a for a in reversed(store.recent.values()) if _matches(a, filters)][:limit]
        return {"count": len(items), "alerts": [a.model_dump(mode="json", by_alias=True) for a in items]}

    return {"/positions": positions, "/alerts": alerts}
