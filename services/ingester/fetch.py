"""Stage 1: HTTP GET with conditional headers, a size cap, bounded redirects and per-host politeness.

One shared ``httpx.AsyncClient`` serves every feed and page. Redirects are followed here (not by
httpx) so that each hop passes the SSRF guard and the per-host limit: every hop except a feed's
own configured URL is guarded.
Every failure becomes a :class:`FetchError` whose ``kind`` says what went wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import socket
import ssl
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from services.ingester.errors import BlockedUrl, FetchError
from services.ingester.guard import UrlGuard
from services.ingester.host_pools import GUARD_EXTENSION, HostPools

REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Without an explicit limit, a request waits for its host's slot at most this many times its own timeout.
SLOT_WAIT_FACTOR = 5


class _Budget:
    """The seconds a fetch may still spend in requests (waiting for a host slot is not spent)."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds

    def spend(self, seconds: float) -> None:
        self.left = max(0.0, self.left - seconds)


@dataclass(frozen=True)
class FetchResult:
    status: int
    url: str
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    retry_after: str | None = None


def classify(exc: BaseException) -> str:
    """The error kind of a transport exception, looking through its causes."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError | ssl.CertificateError):
            return "tls"
        if isinstance(seen, socket.gaierror):
            return "dns"
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    text = str(exc).lower()
    if "certificate" in text or "ssl" in text or "tls" in text:
        return "tls"
    if "name or service not known" in text or "nodename nor servname" in text or "temporary failure in name" in text:
        return "dns"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    if isinstance(exc, httpx.DecodingError):
        return "decoding"
    return "network"


class Fetcher:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        max_per_host: int = 2,
        max_redirects: int = 5,
        guard: UrlGuard | None = None,
        total_timeout: float = 60.0,
        slot_timeout: float | None = None,
    ) -> None:
        self._client = client
        self._total_timeout = total_timeout
        self._slot_timeout = SLOT_WAIT_FACTOR * total_timeout if slot_timeout is None else slot_timeout
        self._guard = guard
        self._max_redirects = max_redirects
        self._max_per_host = max_per_host
        self._host_slots: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(max_per_host))

    async def get(
        self,
        url: str,
        *,
        max_bytes: int,
        etag: str | None = None,
        last_modified: str | None = None,
        trusted: bool = True,
        accept: str = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
    ) -> FetchResult:
        """GET ``url``. 2xx and 304 return; other statuses, oversize bodies and transport errors raise.

        ``trusted`` is the operator's own feed URL: its first request is not guarded; every other
        request (its redirects, and every hop of an untrusted URL) goes through the guard.
        The requests, redirects included, must finish within ``total_timeout`` (a server that drips
        bytes forever would otherwise never trip httpx's per-read timeout); time spent waiting for a
        per-host slot is not part of it, so a slow feed cannot time out the feeds queued behind it.
        """
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        budget = _Budget(self._total_timeout)
        for hop in range(self._max_redirects + 1):
            guard = None if self._guard is None or (trusted and hop == 0) else self._guard
            try:
                if guard is not None:
                    guard.check_url(current)
                result = await self._one(current, headers, max_bytes, guard, budget)
            except BlockedUrl as exc:
                if hop == 0:
                    raise
                raise BlockedUrl(f"fetch: redirect {hop} to {current} blocked: {exc}") from exc
            if result.status in REDIRECTS:
                if not result.url:
                    raise FetchError(f"fetch: status {result.status} without Location", kind="redirect")
                current = result.url
                continue
            return result
        raise FetchError(f"fetch: more than {self._max_redirects} redirects from {url}", kind="redirect")

    async def _one(
        self, url: str, headers: dict[str, str], max_bytes: int, guard: UrlGuard | None, budget: _Budget
    ) -> FetchResult:
        """One request, once its host has a free slot; only the request itself spends ``budget``."""
        host = (urlsplit(url).hostname or "").lower()
        async with self._host_slot(host):
            loop = asyncio.get_running_loop()
            started = loop.time()
            try:
                async with asyncio.timeout(budget.left):
                    return await self._request(url, headers, max_bytes, guard)
            except TimeoutError as exc:
                message = f"fetch: timeout: no complete response within {self._total_timeout:g}s"
                raise FetchError(message, kind="timeout") from exc
            finally:
                budget.spend(loop.time() - started)

    @contextlib.asynccontextmanager
    async def _host_slot(self, host: str) -> AsyncIterator[None]:
        """Politeness: wait for one of the host's ``max_per_host`` slots, at most ``slot_timeout``."""
        slot = self._host_slots[host]
        try:
            async with asyncio.timeout(self._slot_timeout):
                await slot.acquire()
        except TimeoutError as exc:
            message = (
                f"fetch: host_busy: no free slot for {host} within {self._slot_timeout:g}s "
                f"(at most {self._max_per_host} requests at once per host); not requested"
            )
            raise FetchError(message, kind="host_busy") from exc
        try:
            yield
        finally:
            slot.release()

    async def _request(self, url: str, headers: dict[str, str], max_bytes: int, guard: UrlGuard | None) -> FetchResult:
        extensions = None if guard is None else {GUARD_EXTENSION: guard}
        try:
            async with self._client.stream("GET", url, headers=headers, extensions=extensions) as resp:
                return await self._read(url, resp, max_bytes)
        except FetchError:
            raise
        except httpx.InvalidURL as exc:
            raise FetchError(f"fetch: invalid URL {url!r}: {exc}", kind="invalid_url") from exc
        except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
            kind = classify(exc)
            raise FetchError(f"fetch: {kind}: {type(exc).__name__}: {exc or 'no detail'}", kind=kind) from exc

    @staticmethod
    async def _read(url: str, resp: httpx.Response, max_bytes: int) -> FetchResult:
        status = resp.status_code
        h = resp.headers
        if status in REDIRECTS or status == 304 or status >= 400 or status < 200:
            await _drain(resp)
        if status in REDIRECTS:
            location = h.get("location")
            return FetchResult(status=status, url=urljoin(url, location) if location else "")
        if status == 304:
            return FetchResult(status=304, url=url, etag=h.get("etag"), last_modified=h.get("last-modified"))
        if status in (429, 503):
            raise FetchError(f"fetch: status {status} (throttled)", kind="throttled", retry_after=h.get("retry-after"))
        if status >= 400 or status < 200:
            raise FetchError(f"fetch: status {status}", kind="http")
        declared = h.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes and not h.get("content-encoding"):
            raise FetchError(f"fetch: body of {declared} bytes exceeds {max_bytes}", kind="too_large")
        chunks, size = [], 0
        async for chunk in resp.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"fetch: body exceeds {max_bytes} bytes", kind="too_large")
            chunks.append(chunk)
        return FetchResult(
            status=status,
            url=url,
            body=b"".join(chunks),
            etag=h.get("etag"),
            last_modified=h.get("last-modified"),
            content_type=h.get("content-type"),
        )


#: Bodies of redirects and errors up to this size are read and dropped so the connection can be reused.
DRAIN_LIMIT = 64 * 1024


async def _drain(resp: httpx.Response) -> None:
    """Read the rest of a short body we do not need: closing a response mid-body closes its connection.

    Only a 304 (no body by definition) or a declared small ``Content-Length`` is read; anything else
    (chunked, large) is left and the connection closed, so a slow server cannot hold us here.
    """
    declared = resp.headers.get("content-length")
    if resp.status_code != 304 and not (declared and declared.isdigit() and int(declared) <= DRAIN_LIMIT):
        return
    size = 0
    async for chunk in resp.aiter_raw():
        size += len(chunk)
        if size > DRAIN_LIMIT:
            return


def remember_missing_sniffio() -> None:
    """Make httpcore's per-lock ``import sniffio`` instant when sniffio is not installed.

    httpcore imports sniffio inside every lock and event it creates (about six per request). A
    failed import is not cached, so without the package each one searches every ``sys.path``
    entry again: that was most of the CPU of a 304 poll. A ``None`` entry in ``sys.modules`` is
    Python's own way to say "not importable"; it changes nothing when sniffio really is absent.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def make_client(
    *,
    timeout: float,
    user_agent: str,
    per_host: int = 2,
    keepalive_hosts: int = 256,
    verify: bool | ssl.SSLContext = True,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
) -> httpx.AsyncClient:
    """The one client the ingester shares: a keep-alive pool per host, no automatic redirects (we follow them).

    Requests that carry a guard connect through it; ``network_backend`` (default: httpcore's) dials.
    """
    remember_missing_sniffio()
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        transport=HostPools(
            per_host=per_host, max_hosts=keepalive_hosts, verify=verify, network_backend=network_backend
        ),
        follow_redirects=False,
        headers={"User-Agent": user_agent},
        verify=verify,
        trust_env=False,
    )
