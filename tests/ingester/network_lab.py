"""What the SSRF tests observe the network with: traps that count connections, a dial log, resolvers.

A :class:`Trap` listens where a request must never arrive; :meth:`Trap.attempts` counts the
connections made to it. :class:`DialLog` is the network backend the client dials through (the
real one, recorded), so a test can say every address the ingester connected to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Sequence

import httpcore

from services.ingester.guard import numeric_host, system_resolver


class Trap:
    """A listening socket on one or more addresses, one port, that counts connections and answers none."""

    def __init__(self, hosts: Sequence[str], port: int = 0) -> None:
        self.hosts = list(hosts)
        self.port = port
        self._peers: list[tuple[str, int]] = []
        self._arrived = asyncio.Condition()
        self._servers: list[asyncio.Server] = []

    async def __aenter__(self) -> Trap:
        for _ in range(20):  # a port free on every address; another process may hold it on one of them
            try:
                await self._listen()
                return self
            except OSError:
                await self._close()
                if self.port == 0:
                    continue
                raise
        raise OSError(f"no port free on all of {self.hosts}")

    async def _listen(self) -> None:
        port = self.port
        for host in self.hosts:
            server = await asyncio.start_server(self._accepted, host, port)
            self._servers.append(server)
            port = server.sockets[0].getsockname()[1]
        self.port = port

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with self._arrived:
            self._peers.append(writer.get_extra_info("peername")[:2])
            self._arrived.notify_all()
        writer.close()

    async def attempts(self) -> int:
        """Connections made to the trap since it opened (or since the last call), not counting probes.

        Proves "none" without waiting for a time: the kernel queues connections in order, so once
        a probe made now has been accepted, every earlier connection has been accepted too.
        """
        return sum([await self._before_probe(host) for host in self.hosts])

    async def _before_probe(self, host: str) -> int:
        _, writer = await asyncio.open_connection(host, self.port)
        probe = writer.get_extra_info("sockname")[:2]
        try:
            async with self._arrived:
                await asyncio.wait_for(self._arrived.wait_for(lambda: probe in self._peers), 5)
                earlier = self._peers.index(probe)
                del self._peers[: earlier + 1]
                return earlier
        finally:
            writer.close()

    async def _close(self) -> None:
        for server in self._servers:
            server.close()
            await server.wait_closed()
        self._servers = []

    async def __aexit__(self, *exc: object) -> None:
        await self._close()


class DialLog(httpcore.AsyncNetworkBackend):
    """httpcore's real backend, recording every ``(host, port)`` it is asked to connect to.

    It dials only loopback addresses and ``localhost``: should the guard ever let a forbidden
    target through, the test fails without a packet leaving the machine.
    """

    def __init__(self) -> None:
        self.dialled: list[tuple[str, int]] = []
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.dialled.append((host, port))
        addr = numeric_host(host)
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        if host != "localhost" and (addr is None or not addr.is_loopback):
            raise httpcore.ConnectError(f"test network: dialling {host} refused (loopback only)")
        return await self._real.connect_tcp(host, port, timeout, local_address, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._real.sleep(seconds)


class Resolutions:
    """An injected resolver: names from ``table``, ``localhost`` from the system; every lookup recorded.

    ``later`` answers a name from its second lookup on: a rebinding DNS server (public, then private).
    """

    def __init__(self, table: dict[str, list[str]], *, later: dict[str, list[str]] | None = None) -> None:
        self.table = table
        self.later = later or {}
        self.asked: list[str] = []

    async def __call__(self, host: str) -> list[str]:
        again = host in self.asked
        self.asked.append(host)
        if again and host in self.later:
            return list(self.later[host])
        if host in self.table:
            return list(self.table[host])
        if host == "localhost":
            return await system_resolver(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
