"""SSRF guard: article URLs come from third parties and must not reach our own network.

Feed URLs the operator configured are trusted; URLs found inside feeds are checked here before
every request (and every redirect hop): the host must resolve only to public addresses unless
it is on the allowlist (``STANCEWATCH_FETCH_ALLOW_HOSTS``: host names, IPs or CIDRs).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from services.ingester.errors import BlockedUrl, FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: host -> its addresses; raises ``socket.gaierror`` when the name does not resolve.
Resolver = Callable[[str], Awaitable[list[str]]]


async def system_resolver(host: str) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def is_public(addr: IPAddress) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return not (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or (isinstance(addr, ipaddress.IPv4Address) and addr in _CGNAT)
    )


_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class UrlGuard:
    def __init__(self, allow: Iterable[str] = (), resolver: Resolver = system_resolver) -> None:
        self._hosts: set[str] = set()
        self._nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for item in allow:
            item = item.strip().lower()
            if not item:
                continue
            try:
                self._nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self._hosts.add(item)
        self._resolver = resolver

    def _allowed_addr(self, addr: IPAddress) -> bool:
        return is_public(addr) or any(addr in net for net in self._nets)

    async def check(self, url: str) -> None:
        """Raise :class:`BlockedUrl` unless ``url`` may be fetched; :class:`FetchError` if its host is unknown."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise BlockedUrl(f"guard: scheme {parts.scheme!r} not allowed: {url}")
        host = (parts.hostname or "").lower()
        if not host:
            raise BlockedUrl(f"guard: no host in {url}")
        if host in self._hosts:
            return
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addrs = [literal]
        else:
            try:
                addrs = [ipaddress.ip_address(a.split("%", 1)[0]) for a in await self._resolver(host)]
            except (OSError, UnicodeError) as exc:
                raise FetchError(f"guard: cannot resolve {host}: {exc}", kind="dns") from exc
            if not addrs:
                raise FetchError(f"guard: {host} has no addresses", kind="dns")
        for addr in addrs:
            if not self._allowed_addr(addr):
                raise BlockedUrl(f"guard: {host} resolves to non-public address {addr}")
