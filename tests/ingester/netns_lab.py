"""Run as ``unshare -rn python -m tests.ingester.netns_lab``: SSRF targets with real listeners.

In a network namespace of its own (so nothing outside is touched, and no root is needed) it puts
169.254.169.254, 10.0.0.1 and fd00::1 on the loopback device with a trap on port 80 of each, and
lets a feed on 127.0.0.1 redirect to each of them, once guarded and once allowlisted. It prints
``{target: {"kind", "attempts", "allowed_attempts"}}`` as JSON; the test asserts on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys

from services.ingester.feedlist import FeedSpec
from services.ingester.fetch import make_client
from services.ingester.guard import UrlGuard
from tests.ingester.conftest import make_poller
from tests.ingester.local_server import Reply, serving
from tests.ingester.network_lab import Resolutions, Trap

#: Redirect target -> the address whose listener it would reach.
TARGETS = {
    "http://169.254.169.254/latest/meta-data/": "169.254.169.254",
    "http://2852039166/latest/meta-data/": "169.254.169.254",
    "http://metadata.test/latest/meta-data/": "169.254.169.254",
    "http://10.0.0.1/": "10.0.0.1",
    "http://[::ffff:10.0.0.1]/": "10.0.0.1",
    "http://[fd00::1]/": "fd00::1",
}
NAMES = {"metadata.test": ["169.254.169.254"]}


def setup_namespace() -> None:
    for command in (
        "ip link set lo up",
        "ip addr add 169.254.169.254/32 dev lo",
        "ip addr add 10.0.0.1/32 dev lo",
        "ip -6 addr add fd00::1/128 dev lo nodad",
    ):
        subprocess.run(command.split(), check=True)


async def run() -> dict[str, dict[str, object]]:
    results: dict[str, dict[str, object]] = {}
    async with contextlib.AsyncExitStack() as stack:
        traps = {addr: await stack.enter_async_context(Trap([addr], port=80)) for addr in set(TARGETS.values())}
        with serving() as server:
            async with make_client(timeout=2.0, user_agent="stancewatch-netns-lab", per_host=4) as client:
                for i, (target, addr) in enumerate(TARGETS.items()):
                    server.routes[f"/feed{i}"] = Reply(302, headers={"Location": target})
                    spec = FeedSpec(server.url(f"/feed{i}"))
                    guarded = make_poller(client, guard=UrlGuard(resolver=Resolutions(NAMES)))
                    out = await guarded.poll(spec)
                    attempts = await traps[addr].attempts()
                    allowed = make_poller(client, guard=UrlGuard([addr], resolver=Resolutions(NAMES)))
                    await allowed.poll(spec)  # the trap hangs up: an error, but a connection was made
                    results[target] = {
                        "kind": out.error_kind,
                        "error": out.error,
                        "attempts": attempts,
                        "allowed_attempts": await traps[addr].attempts(),
                    }
    return results


def main() -> int:
    setup_namespace()
    print(json.dumps(asyncio.run(run()), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
