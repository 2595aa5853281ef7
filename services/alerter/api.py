"""Read-only JSON routes for the shared HealthServer: ``/positions`` and ``/alerts``.

Both accept ``actor`` and ``topic`` filters; ``/alerts`` also ``limit`` (newest first). Each instance
answers for the partitions it has loaded.
"""

from __future__ import annotations

from typing import Any

from services.alerter.state import PositionStore
from shared.observability import JsonRoute

DEFAULT_LIMIT = 50


def _matches(item: Any, params: dict[str, str]) -> bool:
    return all(not params.get(f) or getattr(item, f) == params[f] for f in ("actor", "topic"))


def routes(store: PositionStore) -> dict[str, JsonRoute]:
    def positions(params: dict[str, str]) -> dict[str, Any]:
        items = sorted(store.detector.positions.values(), key=lambda p: p.key)
        out = [p.model_dump(mode="json", by_alias=True) for p in items if _matches(p, params)]
        return {"count": len(out), "positions": out}

    def alerts(params: dict[str, str]) -> dict[str, Any]:
        try:
            limit = max(1, min(int(params.get("limit", DEFAULT_LIMIT)), store.recent_limit))
        except ValueError:
            limit = DEFAULT_LIMIT
        items = [a for a in reversed(store.recent.values()) if _matches(a, params)][:limit]
        return {"count": len(items), "alerts": [a.model_dump(mode="json", by_alias=True) for a in items]}

    return {"/positions": positions, "/alerts": alerts}
