"""Redirects cannot take the ingester into our own network, and the address checked is the one connected.

A configured feed on 127.0.0.1 redirects to a forbidden target; the target is a :class:`Trap`
where one can listen (loopback), and everything the client dials is logged (:class:`DialLog`),
so "never connected" is observed, not inferred. In a network namespace the metadata and private
addresses themselves get listeners.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.ingester.cycle import due
from services.ingester.errors import FetchError
from services.ingester.feedlist import FeedSpec
from services.ingester.fetch import make_client
from services.ingester.guard import UrlGuard
from tests.ingester.conftest import Clock, ListSink, make_poller
from tests.ingester.local_server import LocalServer, Reply, rss, serving
from tests.ingester.network_lab import DialLog, Resolutions, Trap

DATE = "Wed, 08 Jan 2025 09:00:00 GMT"
TWO = [("First", "https://n.example/1", DATE), ("Second", "https://n.example/2", DATE)]
ROOT = Path(__file__).resolve().parents[2]

#: What the injected resolver answers; ``localhost`` comes from the system.
NAMES = {
    "metadata.test": ["169.254.169.254"],
    "intranet.test": ["127.0.0.1"],
    "mixed.test": ["93.184.216.34", "127.0.0.1"],
}

#: Redirect targets the guard must refuse; ``{trap}`` is the port of a trap on 127.0.0.1 and ::1.
FORBIDDEN = {
    "metadata-ip": "http://169.254.169.254/latest/meta-data/",
    "private-10": "http://10.0.0.1/",
    "cgnat": "http://100.64.0.1/",
    "loopback": "http://127.0.0.1:{trap}/",
    "ipv6-loopback": "http://[::1]:{trap}/",
    "ipv6-unique-local": "http://[fd00::1]/",
    "ipv6-link-local": "http://[fe80::1]/",
    "ipv4-mapped-private": "http://[::ffff:10.0.0.1]/",
    "ipv4-mapped-loopback": "http://[::ffff:127.0.0.1]:{trap}/",
    "6to4-metadata": "http://[2002:a9fe:a9fe::1]/latest/meta-data/",
    "decimal-metadata": "http://2852039166/latest/meta-data/",
    "decimal-loopback": "http://2130706433:{trap}/",
    "hex-loopback": "http://0x7f.1:{trap}/",
    "octal-loopback": "http://0177.1:{trap}/",
    "name-to-metadata": "http://metadata.test/latest/meta-data/",
    "name-to-loopback": "http://intranet.test:{trap}/",
    "localhost": "http://localhost:{trap}/",
    "name-with-a-private-address-among-public-ones": "http://mixed.test:{trap}/",
}


@pytest.fixture
def dial() -> DialLog:
    return DialLog()


@pytest.fixture
async def lab_client(dial: DialLog) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(timeout=2.0, user_agent="stancewatch-test", per_host=16, network_backend=dial) as c:
        yield c


@pytest.fixture
async def trap() -> AsyncIterator[Trap]:
    async with Trap(["127.0.0.1", "::1"]) as t:
        yield t


@pytest.mark.parametrize("target", FORBIDDEN.values(), ids=FORBIDDEN.keys())
async def test_a_feed_redirected_to_a_forbidden_address_fails_as_blocked_and_nothing_dials_it(
    target: str, server: LocalServer, trap: Trap, dial: DialLog, lab_client: httpx.AsyncClient
) -> None:
    url = target.format(trap=trap.port)
    server.routes["/feed"] = Reply(302, headers={"Location": url})
    poller = make_poller(lab_client, guard=UrlGuard(resolver=Resolutions(NAMES)))
    out = await poller.poll(FeedSpec(server.url("/feed")))
    assert (out.status, out.error_kind) == ("error", "blocked"), out.error
    assert out.error and out.error.startswith(f"fetch: redirect 1 to {url} blocked: guard: ")
    assert "a non-public address" in out.error
    assert dial.dialled == [("127.0.0.1", server.port)]  # the configured feed, and nothing after it
    assert await trap.attempts() == 0
    assert poller.metrics.errors.value(kind="blocked") == 1


async def test_the_trap_does_count_a_connection_the_allowlist_lets_through(
    server: LocalServer, trap: Trap, lab_client: httpx.AsyncClient
) -> None:
    # The control for the test above: a redirect to the trap that is allowed reaches it.
    server.routes["/feed"] = Reply(302, headers={"Location": f"http://[::ffff:127.0.0.1]:{trap.port}/"})
    out = await make_poller(lab_client, allow=("127.0.0.1",)).poll(FeedSpec(server.url("/feed")))
    assert out.status == "error" and out.error_kind != "blocked"  # the trap hangs up without answering
    assert await trap.attempts() == 1


async def test_a_feed_whose_redirect_was_blocked_is_polled_again_and_recovers_when_the_redirect_goes(
    server: LocalServer, lab_client: httpx.AsyncClient
) -> None:
    server.routes["/feed"] = Reply(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    clock = Clock()
    poller = make_poller(lab_client, clock=clock, allow=())
    spec = FeedSpec(server.url("/feed"))
    blocked = await poller.poll(spec)
    next_poll = poller.states[spec.url].next_poll
    assert blocked.error_kind == "blocked" and next_poll is not None
    clock.now = next_poll
    assert due(poller, [spec], clock.now, busy=set()) == [spec]
    server.routes["/feed"] = Reply(200, rss(TWO))
    recovered = await poller.poll(spec)
    assert (recovered.status, recovered.new_articles, len(server.hits("/feed"))) == ("ok", 2, 2)
    assert poller.states[spec.url].failures == 0


async def test_the_allowlist_lets_a_redirect_reach_a_private_host_by_address_or_by_name(
    server: LocalServer, dial: DialLog, lab_client: httpx.AsyncClient
) -> None:
    with serving("127.0.0.2") as private:
        private.routes["/feed"] = Reply(200, rss(TWO))
        server.routes["/by-address"] = Reply(302, headers={"Location": private.url("/feed")})
        server.routes["/by-name"] = Reply(302, headers={"Location": f"http://localhost:{server.port}/named"})
        server.routes["/named"] = Reply(200, rss(TWO))
        poller = make_poller(lab_client, allow=("127.0.0.2/32", "localhost"))
        by_address = await poller.poll(FeedSpec(server.url("/by-address")))
        by_name = await poller.poll(FeedSpec(server.url("/by-name")))
    assert (by_address.status, by_name.status) == ("ok", "ok")
    assert len(private.hits("/feed")) == 1 and len(server.hits("/named")) == 1
    assert ("127.0.0.2", private.port) in dial.dialled  # an allowed address is still dialled as checked
    assert ("localhost", server.port) in dial.dialled  # an allowlisted name is dialled by name


async def test_a_rebinding_name_is_connected_at_the_address_that_was_checked(
    server: LocalServer, dial: DialLog, lab_client: httpx.AsyncClient
) -> None:
    # First answer: 127.0.0.1 (allowlisted); every later one: 127.0.0.2, where the trap listens.
    resolver = Resolutions({"rebind.test": ["127.0.0.1"]}, later={"rebind.test": ["127.0.0.2"]})
    async with Trap(["127.0.0.2"], port=server.port) as trap:
        server.routes["/feed"] = Reply(302, headers={"Location": f"http://rebind.test:{server.port}/moved"})
        server.routes["/moved"] = Reply(200, rss(TWO))
        poller = make_poller(lab_client, guard=UrlGuard(["127.0.0.1"], resolver=resolver))
        out = await poller.poll(FeedSpec(server.url("/feed")))
        assert (out.status, out.new_articles) == ("ok", 2)
        assert resolver.asked == ["rebind.test"]  # one answer, checked and dialled
        assert dial.dialled == [("127.0.0.1", server.port), ("127.0.0.1", server.port)]
        assert server.hits("/moved")[0].headers["host"] == f"rebind.test:{server.port}"
        assert await trap.attempts() == 0


async def test_a_name_that_rebinds_to_a_private_address_after_passing_a_check_is_blocked_at_connect(
    server: LocalServer, dial: DialLog, lab_client: httpx.AsyncClient
) -> None:
    resolver = Resolutions({"rebind.test": ["93.184.216.34"]}, later={"rebind.test": ["127.0.0.2"]})
    guard = UrlGuard(resolver=resolver)
    async with Trap(["127.0.0.2"]) as trap:
        url = f"http://rebind.test:{trap.port}/admin"
        await guard.check(url)  # public at the check …
        server.routes["/feed"] = Reply(302, headers={"Location": url})
        out = await make_poller(lab_client, guard=guard).poll(FeedSpec(server.url("/feed")))
        # … private at the connect, which is the answer that counts.
        assert (out.status, out.error_kind) == ("error", "blocked")
        assert out.error and "rebind.test resolves to 127.0.0.2, a non-public address (loopback)" in out.error
        assert resolver.asked == ["rebind.test", "rebind.test"]
        assert dial.dialled == [("127.0.0.1", server.port)] and await trap.attempts() == 0


async def test_an_article_page_redirecting_to_a_private_address_is_blocked_at_that_hop(
    server: LocalServer, lab_client: httpx.AsyncClient
) -> None:
    async with Trap(["127.0.0.2"]) as trap:
        admin = f"http://127.0.0.2:{trap.port}/admin"
        server.routes["/story"] = Reply(302, headers={"Location": admin})
        server.routes["/feed"] = Reply(200, rss([("Moved", server.url("/story"), DATE)]))
        sink = ListSink()
        poller = make_poller(lab_client, sink=sink, fulltext=True, allow=("127.0.0.1",))
        out = await poller.poll(FeedSpec(server.url("/feed")))
        [article] = sink.articles
        assert out.status == "ok" and not article.fulltext and article.text == "About Moved."
        assert article.fulltext_error == (
            f"fetch: redirect 1 to {admin} blocked: guard: 127.0.0.2 is a non-public address (loopback)"
        )
        assert poller.metrics.fulltext.value(outcome="blocked") == 1
        assert await trap.attempts() == 0


def _self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_https_through_the_pinned_connection_still_verifies_the_certificate_for_the_name(
    tmp_path: Path, dial: DialLog
) -> None:
    cert, key = _self_signed(tmp_path, "feeds.test")
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert, key)
    trusted = ssl.create_default_context(cafile=str(cert))
    resolver = Resolutions({"feeds.test": ["127.0.0.1"], "impostor.test": ["127.0.0.1"]})
    with serving(tls=served) as tls_server:
        tls_server.routes["/feed"] = Reply(200, rss(TWO))
        async with make_client(timeout=2.0, user_agent="t", verify=trusted, network_backend=dial) as client:
            fetcher = make_poller(client, guard=UrlGuard(["127.0.0.1"], resolver=resolver)).fetcher
            ok = await fetcher.get(f"https://feeds.test:{tls_server.port}/feed", max_bytes=100_000, trusted=False)
            with pytest.raises(FetchError) as wrong_name:  # same address, a name the certificate is not for
                await fetcher.get(f"https://impostor.test:{tls_server.port}/feed", max_bytes=100_000, trusted=False)
    assert ok.status == 200 and wrong_name.value.kind == "tls"
    assert tls_server.hits("/feed")[0].headers["host"] == f"feeds.test:{tls_server.port}"
    assert dial.dialled == [("127.0.0.1", tls_server.port)] * 2


def _namespaces_work() -> str | None:
    """None when this user may make a network namespace with ``unshare -rn``; else why not."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "needs the unshare and ip commands"
    probe = subprocess.run(["unshare", "-rn", "ip", "link", "set", "lo", "up"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"unshare -rn is not permitted here: {probe.stderr.strip() or probe.returncode}"
    return None


def test_in_a_network_namespace_the_real_metadata_and_private_addresses_are_never_connected() -> None:
    # The lab (tests/ingester/netns_lab.py) gives 169.254.169.254, 10.0.0.1 and fd00::1 real
    # listeners on port 80 in a namespace of its own; each is a feed's redirect target.
    why_not = _namespaces_work()
    if why_not is not None:
        pytest.skip(f"network namespace variant: {why_not} (the main assertions run above without it)")
    done = subprocess.run(
        ["unshare", "-rn", sys.executable, "-m", "tests.ingester.netns_lab"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert set(results) == {
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/latest/meta-data/",
        "http://metadata.test/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::ffff:10.0.0.1]/",
        "http://[fd00::1]/",
    }
    for target, got in results.items():
        assert (got["kind"], got["attempts"]) == ("blocked", 0), target
        assert got["allowed_attempts"] >= 1, target  # the same redirect, allowlisted, does reach the listener
