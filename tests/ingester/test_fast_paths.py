"""The performance paths keep behaviour: warm connections, per-host pools, parse workers, unchanged bodies."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx
import pytest

from services.ingester.errors import ParseError
from services.ingester.feedlist import FeedSpec
from services.ingester.host_pools import HostPools
from services.ingester.parse import ParsedFeed
from services.ingester.parse_workers import InlineParser, ProcessParser
from tests.ingester.conftest import ListSink, make_poller
from tests.ingester.local_server import LocalServer, Reply, Seen, rss

CORPUS = Path(__file__).parent / "corpus"
DATE = "Wed, 08 Jan 2025 09:00:00 GMT"
TWO = [("First", "https://n.example/1", DATE), ("Second", "https://n.example/2", DATE)]


async def test_polls_of_one_host_reuse_one_connection_even_after_304s_and_errors(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    def route(req: Seen) -> Reply:
        if req.headers.get("if-none-match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(200, rss(TWO), {"ETag": '"v1"'})

    server.routes["/feed"] = route
    server.routes["/gone"] = Reply(404, b"no such feed")
    poller = make_poller(client)
    outcomes = [await poller.poll(FeedSpec(server.url(p))) for p in ("/feed", "/feed", "/gone", "/feed")]
    assert [o.status for o in outcomes] == ["ok", "not_modified", "error", "not_modified"]
    assert len({r.peer for r in server.requests}) == 1, [r.peer for r in server.requests]


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self, name: int, closed: list[int]) -> None:
        self.name, self.closed = name, closed

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(b"body"))

    async def aclose(self) -> None:
        self.closed.append(self.name)


def recording_pools(**kwargs: object) -> tuple[HostPools, list[int], list[float]]:
    closed: list[int] = []
    made = iter(range(100))
    now = [0.0]
    pools = HostPools(
        per_host=2,
        make_transport=lambda guard: RecordingTransport(next(made), closed),
        clock=lambda: now[0],
        **kwargs,  # type: ignore[arg-type]
    )
    return pools, closed, now


async def test_idle_host_pool_closes_after_keepalive_but_not_while_its_response_is_open() -> None:
    pools, closed, now = recording_pools(keepalive_expiry=5.0)
    held = await pools.handle_async_request(httpx.Request("GET", "http://a.example/feed"))  # pool 0, left open
    done = await pools.handle_async_request(httpx.Request("GET", "http://b.example/feed"))  # pool 1
    await done.aclose()
    now[0] = 10.0
    await (await pools.handle_async_request(httpx.Request("GET", "http://c.example/feed"))).aclose()  # pool 2
    await asyncio.sleep(0)
    assert closed == [1]
    await held.aclose()
    now[0] = 20.0
    await (await pools.handle_async_request(httpx.Request("GET", "http://c.example/x"))).aclose()
    await asyncio.sleep(0)
    assert sorted(closed) == [0, 1]
    assert [host for _, host, _ in pools.hosts] == [b"c.example"]
    await pools.aclose()
    assert sorted(closed) == [0, 1, 2]


async def test_beyond_max_hosts_the_least_recently_used_pool_is_closed() -> None:
    pools, closed, _ = recording_pools(max_hosts=2)
    for host in ("h1", "h2", "h1", "h3"):
        await (await pools.handle_async_request(httpx.Request("GET", f"http://{host}.example/"))).aclose()
    await asyncio.sleep(0)
    assert closed == [1]  # h2: h1 was used again after it
    assert [host for _, host, _ in pools.hosts] == [b"h1.example", b"h3.example"]
    await pools.aclose()


async def test_parse_workers_give_the_same_entries_and_errors_as_parsing_inline() -> None:
    inline = InlineParser()
    async with ProcessParser(2) as workers:
        for name in ("rss20-basic.xml", "atom10-basic.xml", "rss20-odd-dates.xml"):
            body = (CORPUS / name).read_bytes()
            expected = await inline.parse(body, url="http://127.0.0.1/f", content_type=None)
            got = await workers.parse(body, url="http://127.0.0.1/f", content_type=None)
            assert isinstance(got, ParsedFeed) and got == expected, name
        for name in ("reject-html-page.xml", "reject-entity-bomb.xml", "reject-garbage.xml"):
            body = (CORPUS / name).read_bytes()
            with pytest.raises(ParseError) as want:
                await inline.parse(body, url="http://127.0.0.1/f", content_type=None)
            with pytest.raises(ParseError) as got_error:
                await workers.parse(body, url="http://127.0.0.1/f", content_type=None)
            assert str(got_error.value) == str(want.value), name


async def test_a_worker_killed_mid_parse_fails_that_feed_only_and_is_replaced() -> None:
    big = rss([(f"Story {i}", f"https://n.example/{i}", DATE) for i in range(6000)])
    small = rss(TWO)
    async with ProcessParser(1) as workers:
        assert len((await workers.parse(small, url="http://x/a", content_type=None)).entries) == 2
        victim = workers._all[0].process
        slow = asyncio.create_task(workers.parse(big, url="http://x/big", content_type=None))
        await asyncio.sleep(0.3)
        assert victim.pid is not None
        os.kill(victim.pid, signal.SIGKILL)
        with pytest.raises(ParseError, match="worker process died"):
            await asyncio.wait_for(slow, 10)
        assert len((await workers.parse(small, url="http://x/b", content_type=None)).entries) == 2
        assert workers._all[0].process.pid != victim.pid


class CountingParser(InlineParser):
    def __init__(self) -> None:
        self.calls = 0

    async def parse(self, body: bytes, *, url: str, content_type: str | None) -> ParsedFeed:
        self.calls += 1
        return await super().parse(body, url=url, content_type=content_type)


async def test_an_unchanged_body_from_a_server_without_validators_is_not_parsed_again(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    server.routes["/feed"] = Reply(200, rss(TWO))
    sink = ListSink()
    poller = make_poller(client, sink=sink)
    poller.parser = parser = CountingParser()
    spec = FeedSpec(server.url("/feed"))
    first, second = await poller.poll(spec), await poller.poll(spec)
    assert (first.new_articles, second.status, second.new_articles, parser.calls) == (2, "ok", 0, 1)
    assert poller.metrics.unchanged.total() == 1
    server.routes["/feed"] = Reply(200, rss([("Third", "https://n.example/3", DATE), *TWO]))
    third = await poller.poll(spec)
    assert (third.new_articles, parser.calls) == (1, 2)
    assert [a.title for a in sink.articles] == ["First", "Second", "Third"]
