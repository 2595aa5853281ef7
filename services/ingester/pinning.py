"""Stage 1's connect step under the SSRF guard: resolve once, check every address, dial a checked one.

Checking a URL and then letting the HTTP library resolve its host again leaves a gap a DNS server
can use (rebinding: public at the check, 10.0.0.1 at the connect). Here the guard's own answer is
the one connected: httpcore asks this network backend for a TCP stream to ``host:port``; the
backend resolves ``host`` through the guard, refuses if any address is not allowed, and connects
to the checked addresses in order. TLS (SNI, certificate) and the ``Host`` header still use the
name, which httpcore takes from the URL, not from the socket.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable

import httpcore
import httpx

from services.ingester.errors import BlockedUrl
from services.ingester.guard import UrlGuard


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only where ``guard`` allows, at exactly the address it checked."""

    def __init__(self, guard: UrlGuard, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.guard = guard
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):  # resolving is part of connecting, as it is for a name
                addrs = await self.guard.addresses(host)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"guard: resolving {host} took longer than {timeout}s") from exc
        if addrs is None:  # an allowlisted name: the operator vouches for wherever it resolves
            return await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        failure: Exception | None = None
        for addr in addrs:
            try:
                return await self._inner.connect_tcp(str(addr), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # the guard never returns an empty list
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedUrl(f"guard: unix socket {path} not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def http_transport(
    *, verify: ssl.SSLContext, limits: httpx.Limits, network_backend: httpcore.AsyncNetworkBackend | None
) -> httpx.AsyncHTTPTransport:
    """httpx's transport, connecting through ``network_backend`` (None: httpcore's default).

    httpx 0.28 takes no network backend, so the connection pool it built is replaced by the same
    pool with ours; ``pyproject.toml`` pins httpx below 0.29, and the tests dial through it.
    """
    transport = httpx.AsyncHTTPTransport(verify=verify, limits=limits, trust_env=False)
    if network_backend is not None:
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=verify,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=network_backend,
        )
    return transport
