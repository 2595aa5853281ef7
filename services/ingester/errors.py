"""The ingester's exception tree: every error names its stage and a machine-readable ``kind``."""

from __future__ import annotations

from shared.errors import StancewatchError


class IngesterError(StancewatchError):
    """Base of the ingester's errors. ``kind`` labels the ``errors_total`` metric."""

    kind = "ingester"

    def __init__(self, message: str, *, kind: str | None = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind


class FeedListError(IngesterError):
    """The feed list file is missing or malformed."""

    kind = "feedlist"


class FetchError(IngesterError):
    """A request failed: timeout, dns, tls, connect, http, too_large, redirect, throttled, host_busy, invalid_url."""

    kind = "fetch"

    def __init__(self, message: str, *, kind: str = "fetch", retry_after: str | None = None) -> None:
        super().__init__(message, kind=kind)
        #: The server's raw ``Retry-After`` header, if it sent one.
        self.retry_after = retry_after


class BlockedUrl(FetchError):
    """A guarded request (article URL, redirect hop) would reach a private, loopback or link-local address."""

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="blocked")


class ParseError(IngesterError):
    """A response is not a usable feed (malformed XML, HTML, entity bomb …)."""

    kind = "parse"


class ExtractError(IngesterError):
    """Full-text extraction of an article page failed (the article still goes out with its summary)."""

    kind = "extract"
