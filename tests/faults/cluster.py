"""Helpers for fault tests that run services as processes: readiness, group assignments from their logs."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from shared.bus import Bus
from shared.contracts import DeliveryOutcome, DeliveryTask
from shared.topics import Topics


async def readiness(client: httpx.AsyncClient, port: int) -> int:
    """The status of a service's /readyz (0 when it does not answer)."""
    try:
        return (await client.get(f"http://127.0.0.1:{port}/readyz", timeout=2)).status_code
    except httpx.HTTPError:
        return 0


def assignment(log: Path, group: str) -> set[tuple[str, int]] | None:
    """The partitions a process holds in ``group``: its last "partitions assigned" log line (None before one)."""
    held: set[tuple[str, int]] | None = None
    for entry in log_entries(log, "partitions assigned"):
        if entry.get("group") == group:
            parts = entry.get("partitions", [])
            held = {(tp.rpartition(":")[0], int(tp.rpartition(":")[2])) for tp in parts}  # type: ignore[union-attr]
    return held


def log_entries(log: Path, msg_prefix: str) -> list[dict[str, object]]:
    """The JSON log lines of a process whose message starts with ``msg_prefix``, in order."""
    out = []
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and str(entry.get("msg", "")).startswith(msg_prefix):
            out.append(entry)
    return out


def settled(logs: list[Path], group: str, topic: str, partitions: int) -> bool:
    """Every process holds some of ``topic`` in ``group``, and together each partition exactly once."""
    held = [assignment(log, group) for log in logs]
    if any(h is None for h in held):
        return False
    parts = [sorted(p for t, p in h or () if t == topic) for h in held]
    return all(parts) and sorted(p for ps in parts for p in ps) == list(range(partitions))


async def all_recorded(bus: Bus, topics: Topics) -> bool:
    """Every delivery task on the topic has a ``delivered`` outcome: the alerters have nothing left to send."""
    tasks = {r.decode(DeliveryTask).delivery_id for r in await bus.read_all(topics.deliveries.name)}
    outcomes = [r.decode(DeliveryOutcome) for r in await bus.read_all(topics.delivery_outcomes.name)]
    return tasks <= {o.delivery_id for o in outcomes if o.status == "delivered"}
