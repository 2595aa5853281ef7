"""The alerter's exception tree: each error names its stage and keeps its cause."""

from __future__ import annotations

from shared.errors import StancewatchError


class AlerterError(StancewatchError):
    """Base of every error the alerter raises on purpose."""


class RoutingError(AlerterError):
    """The routing file is missing, unreadable or invalid."""


class SignatureError(AlerterError):
    """A webhook signature is missing, malformed, stale or does not match."""


class DeliveryError(AlerterError):
    """One delivery attempt failed.

    ``retryable`` says whether another attempt can help (timeouts, 5xx, 429); ``retry_after_s`` carries
    the receiver's ``Retry-After`` when it sent one; ``status`` is the HTTP status, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after_s = retry_after_s
