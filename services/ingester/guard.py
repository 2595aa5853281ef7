"""SSRF guard: third-party URLs must not reach our own network.

The operator trusts the feed URLs they configured, not where a server redirects them. Every
request to a third-party URL — an article link, and every redirect hop, a feed's included — is
guarded: the host must resolve only to public addresses unless it is on the allowlist
(``STANCEWATCH_FETCH_ALLOW_HOSTS``: host names, IPs or CIDRs).

The decisions here are pure functions of host names and addresses. They are enforced when the
connection is made (:mod:`services.ingester.pinning`): the host is resolved once, every address is
checked, and the socket goes to a checked address, so DNS cannot answer differently in between.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from urllib.parse import urlsplit

from services.ingester.errors import BlockedUrl, FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: host -> its addresses; raises ``socket.gaierror`` when the name does not resolve.
Resolver = Callable[[str], Awaitable[list[str]]]


async def system_resolver(host: str) -> list[str]:
    """The host's addresses in the system's order of preference (the order they are tried in)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (``::ffff:10.0.0.1``, 6to4 ``2002:a00:1::``)."""
    return addr.ipv4_mapped or addr.sixtofour


def non_public_reason(addr: IPAddress) -> str | None:
    """Why ``addr`` is part of some private network (None: it is public). IPv6 forms of IPv4 count as IPv4."""
    if isinstance(addr, ipaddress.IPv6Address):
        inner = _embedded_ipv4(addr)
        if inner is not None:
            return non_public_reason(inner)
    checks = (
        (addr.is_loopback, "loopback"),
        (addr.is_link_local, "link-local"),
        (isinstance(addr, ipaddress.IPv4Address) and addr in _CGNAT, "shared (CGNAT)"),
        (addr.is_unspecified, "unspecified"),
        (addr.is_multicast, "multicast"),
        (addr.is_private, "private"),
        (addr.is_reserved, "reserved"),
    )
    return next((why for hit, why in checks if hit), None)


def is_public(addr: IPAddress) -> bool:
    return non_public_reason(addr) is None


def numeric_host(host: str) -> IPAddress | None:
    """The address a host written as a number stands for, as the C resolver reads it; None for a name.

    Besides ``10.0.0.1`` and IPv6 literals, ``inet_aton`` accepts one to four parts, each decimal,
    octal (``0177``) or hex (``0x7f``), the last filling the remaining bytes: ``2852039166``,
    ``0x7f.1`` and ``127.1`` are all addresses to ``getaddrinfo``, so they are addresses here too.
    """
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_INET_PART.fullmatch(p) for p in parts):
        return None
    *head, last = [_inet_part_value(p) for p in parts]
    if any(v > 0xFF for v in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    number = last
    for i, v in enumerate(head):
        number |= v << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


#: One part of a numeric IPv4 host: hex, octal (a leading zero; "0" itself) or decimal.
_INET_PART = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")


def _inet_part_value(part: str) -> int:
    if part[:2] in ("0x", "0X"):
        return int(part, 16)
    return int(part, 8) if part.startswith("0") else int(part)


def refusal(host: str, addrs: Sequence[IPAddress], allowed: Sequence[IPNetwork] = ()) -> str | None:
    """Why ``host`` must not be connected at ``addrs`` (None: every one is public or allowlisted)."""
    if not addrs:
        return f"{host} has no addresses"
    for addr in addrs:
        why = non_public_reason(addr)
        if why is None or _allowlisted(addr, allowed):
            continue
        literal = numeric_host(host)
        if literal is None:
            return f"{host} resolves to {addr}, a non-public address ({why})"
        if literal.version == 6 or str(literal) == host:  # one IPv6 address has many spellings
            return f"{host} is a non-public address ({why})"
        return f"{host} is {addr}, a non-public address ({why})"
    return None


def _allowlisted(addr: IPAddress, allowed: Sequence[IPNetwork]) -> bool:
    inner = _embedded_ipv4(addr) if isinstance(addr, ipaddress.IPv6Address) else None
    return any(addr in net or (inner is not None and inner in net) for net in allowed)


class UrlGuard:
    def __init__(self, allow: Iterable[str] = (), resolver: Resolver = system_resolver) -> None:
        self._hosts: set[str] = set()
        self._nets: list[IPNetwork] = []
        for item in allow:
            item = item.strip().lower()
            if not item:
                continue
            try:
                self._nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self._hosts.add(item)
        self._resolver = resolver

    def check_url(self, url: str) -> None:
        """Raise :class:`BlockedUrl` unless ``url`` is http(s) with a host (its addresses are checked at connect)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise BlockedUrl(f"guard: scheme {parts.scheme!r} not allowed: {url}")
        if not parts.hostname:
            raise BlockedUrl(f"guard: no host in {url}")

    async def addresses(self, host: str) -> list[IPAddress] | None:
        """The addresses ``host`` may be connected at, every one checked; None: an allowlisted name.

        Raises :class:`BlockedUrl` when one is not public nor allowlisted (a name that also resolves
        to a private address is refused: a client may fall back to it), :class:`FetchError` when
        the name does not resolve.
        """
        host = host.lower()
        if host in self._hosts:
            return None
        literal = numeric_host(host)
        if literal is not None:
            addrs = [literal]
        else:
            try:
                addrs = [ipaddress.ip_address(a.split("%", 1)[0]) for a in await self._resolver(host)]
            except (OSError, UnicodeError, ValueError) as exc:
                raise FetchError(f"guard: cannot resolve {host}: {exc}", kind="dns") from exc
            if not addrs:
                raise FetchError(f"guard: {host} has no addresses", kind="dns")
        why = refusal(host, addrs, self._nets)
        if why is not None:
            raise BlockedUrl(f"guard: {why}")
        return addrs

    async def check(self, url: str) -> None:
        """Raise :class:`BlockedUrl` unless ``url`` may be fetched; :class:`FetchError` if its host is unknown."""
        self.check_url(url)
        await self.addresses(urlsplit(url).hostname or "")
