"""HTTP details both the ingester and the alerter need to agree on."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

from shared.contracts.base import utc_now


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or utc_now())).total_seconds())
