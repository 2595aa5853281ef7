"""The desk's errors."""

from __future__ import annotations

from shared.errors import BusError, StancewatchError


class StoreUnavailable(BusError):
    """The database did not answer (closed, locked, unreachable).

    A :class:`BusError` on purpose: the consumer loop then holds the record and tries it again after a
    backoff, as for a broker outage, instead of dead-lettering a good record because the store was away.
    """


class BadRequest(StancewatchError):
    """A request the desk refuses (HTTP 400), with the reason said to the client."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
