"""Stage 1's transport: one small keep-alive pool per origin instead of one big shared pool.

httpcore's pool walks every connection it holds (and polls each socket for expiry) whenever a
request is queued or a response closes, so a shared pool of N connections costs O(N) per
request, and with more hosts in rotation than pooled connections it evicts a warm connection on
nearly every request. Politeness already allows only ``per_host`` requests to a host at once, so
a pool per origin of ``per_host`` connections does the same job in O(1) and keeps each host's
connections warm. Pools idle longer than the keep-alive expiry, or beyond ``max_hosts``, are
closed (least recently used first, never while one of their responses is open), which bounds
the sockets held open.

A request that carries a guard (:data:`GUARD_EXTENSION`) gets a pool of its own for its origin,
whose connections are made through that guard (:mod:`services.ingester.pinning`): a connection
opened for a trusted feed URL is never reused for a guarded request to the same origin.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpcore
import httpx

from services.ingester.guard import UrlGuard
from services.ingester.pinning import GuardedBackend, http_transport

Origin = tuple[bytes, bytes, int | None]
#: A pool per guard (None: unguarded) and origin.
PoolKey = tuple[UrlGuard | None, bytes, bytes, int | None]
#: The request extension naming the :class:`UrlGuard` every address of the request must pass.
GUARD_EXTENSION = "stancewatch.guard"


@dataclass
class _HostPool:
    transport: httpx.AsyncBaseTransport
    last_used: float
    open_responses: int = 0


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body that tells its pool when it is closed (so the pool may be evicted again)."""

    def __init__(self, inner: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._release is not None:
                self._release()
                self._release = None


class HostPools(httpx.AsyncBaseTransport):
    def __init__(
        self,
        *,
        per_host: int,
        max_hosts: int = 256,
        keepalive_expiry: float = 5.0,
        verify: bool | ssl.SSLContext = True,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        make_transport: Callable[[UrlGuard | None], httpx.AsyncBaseTransport] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_host = per_host
        self.max_hosts = max_hosts
        self.keepalive_expiry = keepalive_expiry
        self._clock = clock
        self._pools: OrderedDict[PoolKey, _HostPool] = OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()
        self._next_sweep = 0.0
        if make_transport is None:
            # One TLS context for every pool: building one loads the CA bundle (tens of ms).
            context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
            limits = httpx.Limits(
                max_connections=per_host, max_keepalive_connections=per_host, keepalive_expiry=keepalive_expiry
            )

            def make_transport(guard: UrlGuard | None) -> httpx.AsyncBaseTransport:
                backend = network_backend if guard is None else GuardedBackend(guard, network_backend)
                return http_transport(verify=context, limits=limits, network_backend=backend)

        self._make_transport = make_transport

    @property
    def hosts(self) -> list[Origin]:
        """Origins with an open pool, least recently used first."""
        return [(scheme, host, port) for _, scheme, host, port in self._pools]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        guard = request.extensions.get(GUARD_EXTENSION)
        if guard is not None and not isinstance(guard, UrlGuard):
            raise TypeError(f"{GUARD_EXTENSION} must be a UrlGuard, not {type(guard).__name__}")
        key: PoolKey = (guard, url.raw_scheme, url.raw_host, url.port)
        now = self._clock()
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _HostPool(self._make_transport(guard), now)
        else:
            self._pools.move_to_end(key)
            pool.last_used = now
        pool.open_responses += 1
        self._evict(now)
        try:
            response = await pool.transport.handle_async_request(request)
        except BaseException:
            self._release(pool)
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _ReleasingStream(response.stream, lambda: self._release(pool))
        return response

    def _release(self, pool: _HostPool) -> None:
        pool.open_responses -= 1
        pool.last_used = self._clock()

    def _evict(self, now: float) -> None:
        """Close pools idle past the keep-alive expiry (checked at most once a second) or beyond ``max_hosts``."""
        sweep = now >= self._next_sweep
        if not sweep and len(self._pools) <= self.max_hosts:
            return
        if sweep:
            self._next_sweep = now + min(1.0, self.keepalive_expiry)
        excess = len(self._pools) - self.max_hosts
        for key, pool in list(self._pools.items()):  # least recently used first
            if excess <= 0 and now - pool.last_used < self.keepalive_expiry:
                break
            if pool.open_responses:
                continue
            del self._pools[key]
            excess -= 1
            task = asyncio.create_task(pool.transport.aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        await asyncio.gather(*(p.transport.aclose() for p in pools), *self._closing, return_exceptions=True)
