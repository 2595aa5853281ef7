"""One poll of real feeds served by a local HTTP server: validators, throttling, redirects, failures, dedup."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
from datetime import timedelta

import httpx

from services.ingester.cycle import poll_once
from services.ingester.dedup import SeenIds
from services.ingester.feedlist import FeedSpec
from services.ingester.guard import UrlGuard
from services.ingester.state import MemoryStore
from shared.bus.base import MAX_MESSAGE_BYTES
from shared.contracts import RawArticle
from shared.errors import BusError, OversizedMessage
from tests.ingester.conftest import Clock, ListSink, make_poller
from tests.ingester.local_server import LocalServer, Reply, Seen, rss

DATE = "Wed, 08 Jan 2025 09:00:00 GMT"
TWO = [("First", "https://n.example/1", DATE), ("Second", "https://n.example/2", DATE)]


def conditional(body: bytes, etag: str) -> object:
    def route(req: Seen) -> Reply:
        if req.headers.get("if-none-match") == etag:
            return Reply(304, headers={"ETag": etag})
        return Reply(200, body, {"ETag": etag, "Content-Type": "application/rss+xml"})

    return route


async def test_second_poll_sends_the_etag_and_a_304_publishes_nothing(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    server.routes["/feed"] = conditional(rss(TWO), '"v1"')
    sink = ListSink()
    poller = make_poller(client, sink=sink)
    spec = FeedSpec(server.url("/feed"))
    first = await poller.poll(spec)
    second = await poller.poll(spec)
    assert (first.status, first.new_articles, second.status) == ("ok", 2, "not_modified")
    assert server.hits("/feed")[1].headers.get("if-none-match") == '"v1"'
    assert len(sink.articles) == 2
    assert poller.metrics.not_modified.total() == 1


async def test_last_modified_is_sent_back_as_if_modified_since(server: LocalServer, client: httpx.AsyncClient) -> None:
    stamp = "Wed, 08 Jan 2025 10:00:00 GMT"
    server.routes["/feed"] = lambda req: (
        Reply(304) if req.headers.get("if-modified-since") == stamp else Reply(200, rss(TWO), {"Last-Modified": stamp})
    )
    poller = make_poller(client)
    await poller.poll(FeedSpec(server.url("/feed")))
    assert (await poller.poll(FeedSpec(server.url("/feed")))).status == "not_modified"


async def test_changed_etag_publishes_only_the_new_entries(server: LocalServer, client: httpx.AsyncClient) -> None:
    server.routes["/feed"] = conditional(rss(TWO), '"v1"')
    sink = ListSink()
    poller = make_poller(client, sink=sink)
    spec = FeedSpec(server.url("/feed"))
    await poller.poll(spec)
    server.routes["/feed"] = conditional(rss([("Third", "https://n.example/3", DATE), *TWO]), '"v2"')
    out = await poller.poll(spec)
    assert out.new_articles == 1
    assert [a.title for a in sink.articles] == ["First", "Second", "Third"]
    assert poller.states[spec.url].etag == '"v2"'


async def test_relisted_old_entry_is_not_republished(server: LocalServer, client: httpx.AsyncClient) -> None:
    server.routes["/feed"] = Reply(200, rss(TWO))
    sink = ListSink()
    poller = make_poller(client, sink=sink)
    spec = FeedSpec(server.url("/feed"))
    await poller.poll(spec)
    server.routes["/feed"] = Reply(200, rss([("Second", "https://n.example/2?utm_source=x", DATE)]))
    await poller.poll(spec)
    server.routes["/feed"] = Reply(200, rss(TWO))  # the first story comes back after dropping out
    again = await poller.poll(spec)
    assert again.new_articles == 0 and len(sink.articles) == 2


async def test_duplicate_url_across_two_feeds_is_published_once(server: LocalServer, client: httpx.AsyncClient) -> None:
    server.routes["/one"] = Reply(200, rss([("Shared story", "https://n.example/shared?utm_campaign=a", DATE)]))
    server.routes["/two"] = Reply(200, rss([("Shared story, again", "https://n.example/shared#top", DATE)]))
    sink = ListSink()
    poller = make_poller(client, sink=sink)
    outcomes = await poll_once(poller, [FeedSpec(server.url("/one")), FeedSpec(server.url("/two"))])
    assert sorted(o.new_articles for o in outcomes) == [0, 1]
    assert [a.url for a in sink.articles] == ["https://n.example/shared"]


async def test_restart_with_the_same_state_does_not_republish(server: LocalServer, client: httpx.AsyncClient) -> None:
    server.routes["/feed"] = Reply(200, rss(TWO))
    store = MemoryStore()
    first_sink, second_sink = ListSink(), ListSink()
    await make_poller(client, sink=first_sink, store=store).poll(FeedSpec(server.url("/feed")))
    feeds, seen_records = await store.load()
    seen = SeenIds(100, timedelta(days=30))
    for record in seen_records:
        seen.add(record.article_id, record.first_seen)
    restarted = make_poller(client, sink=second_sink, store=store, seen=seen)
    restarted.states.update(feeds)
    out = await restarted.poll(FeedSpec(server.url("/feed")))
    assert (len(first_sink.articles), out.new_articles, second_sink.articles) == (2, 0, [])


async def test_429_with_retry_after_delays_the_next_poll(server: LocalServer, client: httpx.AsyncClient) -> None:
    server.routes["/feed"] = Reply(429, b"slow down", {"Retry-After": "7200"})
    clock = Clock()
    poller = make_poller(client, clock=clock)
    out = await poller.poll(FeedSpec(server.url("/feed")))
    state = poller.states[server.url("/feed")]
    assert (out.status, out.error_kind, state.failures) == ("error", "throttled", 1)
    assert state.next_poll == clock.now + timedelta(seconds=7200)


async def test_failures_back_off_exponentially_and_success_resets(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    server.routes["/feed"] = Reply(500, b"oops")
    clock = Clock()
    poller = make_poller(client, clock=clock)
    spec = FeedSpec(server.url("/feed"))
    delays = []
    for _ in range(4):
        await poller.poll(spec)
        delays.append((poller.states[spec.url].next_poll - clock.now).total_seconds())
    assert poller.states[spec.url].failures == 4
    assert delays[3] > delays[0] and 30 <= delays[0] <= 60 and 240 <= delays[3] <= 480
    server.routes["/feed"] = Reply(200, rss(TWO))
    await poller.poll(spec)
    assert (poller.states[spec.url].failures, poller.states[spec.url].last_error) == (0, None)
    assert poller.metrics.errors.value(kind="http") == 4


async def test_redirects_are_followed_and_loops_are_cut(server: LocalServer, client: httpx.AsyncClient) -> None:
    server.routes["/old"] = Reply(301, headers={"Location": "/new"})
    server.routes["/new"] = Reply(200, rss(TWO))
    server.routes["/loop"] = Reply(302, headers={"Location": "/loop"})
    poller = make_poller(client, max_redirects=3)
    moved = await poller.poll(FeedSpec(server.url("/old")))
    looped = await poller.poll(FeedSpec(server.url("/loop")))
    assert (moved.status, moved.new_articles) == ("ok", 2)
    assert (looped.status, looped.error_kind) == ("error", "redirect")
    assert len(server.hits("/loop")) == 4


async def test_slow_and_broken_feeds_do_not_stop_the_others(server: LocalServer, client: httpx.AsyncClient) -> None:
    server.routes["/drip"] = Reply(200, rss(TWO) * 4, drip=0.2)
    server.routes["/broken"] = Reply(200, b"<rss><channel><item><title>unterminated", {"Content-Type": "text/xml"})
    server.routes["/html"] = Reply(200, b"<!doctype html><html><body>Home</body></html>", {"Content-Type": "text/html"})
    server.routes["/good"] = Reply(200, rss(TWO))
    poller = make_poller(client, total_timeout=1.0)
    names = ["/drip", "/broken", "/html", "/good"]
    outcomes = await poll_once(poller, [FeedSpec(server.url(n)) for n in names])
    got = {o.feed_url.rsplit("/", 1)[1]: (o.status, o.error_kind) for o in outcomes}
    assert got == {
        "drip": ("error", "timeout"),
        "broken": ("error", "parse"),
        "html": ("error", "parse"),
        "good": ("ok", None),
    }


async def test_a_slow_feed_holding_its_hosts_only_slot_does_not_time_out_the_feeds_queued_behind_it(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    release = threading.Event()

    def slow(req: Seen) -> Reply:
        release.wait(10)  # until the test ends: the client gives up first
        return Reply(200, rss(TWO))

    server.routes["/slow"] = slow
    fast = [FeedSpec(server.url(f"/fast{i}")) for i in range(5)]
    for i in range(5):
        server.routes[f"/fast{i}"] = Reply(200, rss([(f"Fast {i}", f"https://n.example/fast{i}", DATE)]))
    poller = make_poller(client, max_per_host=1, total_timeout=1.0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        # Tasks run in order: the slow feed takes the host's one slot, the five queue behind it.
        slow_poll = asyncio.create_task(poller.poll(FeedSpec(server.url("/slow"))))
        fast_polls = asyncio.create_task(poll_once(poller, fast))
        slow_out, fast_out = await slow_poll, await fast_polls
    finally:
        release.set()
    waited = loop.time() - started
    assert (slow_out.status, slow_out.error_kind) == ("error", "timeout")
    assert [(o.status, o.new_articles) for o in fast_out] == [("ok", 1)] * 5
    assert waited >= 1.0  # the five were queued longer than their own timeout
    assert server.requests[0].path == "/slow" and len(server.requests) == 6


async def test_a_feed_that_gets_no_slot_in_time_fails_as_host_busy_without_being_requested(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    arrived, release = threading.Event(), threading.Event()

    def slow(req: Seen) -> Reply:
        arrived.set()
        release.wait(10)
        return Reply(200, rss(TWO))

    server.routes["/slow"] = slow
    server.routes["/queued"] = Reply(200, rss(TWO))
    poller = make_poller(client, max_per_host=1, total_timeout=10.0, slot_timeout=0.2)
    slow_poll = asyncio.create_task(poller.poll(FeedSpec(server.url("/slow"))))
    try:
        assert await asyncio.to_thread(arrived.wait, 10)
        queued = await poller.poll(FeedSpec(server.url("/queued")))
    finally:
        release.set()
    slow_out = await slow_poll
    assert (queued.status, queued.error_kind, slow_out.status) == ("error", "host_busy", "ok")
    assert queued.error and "no free slot" in queued.error and "not requested" in queued.error
    assert server.hits("/queued") == []
    assert poller.metrics.errors.value(kind="host_busy") == 1


async def test_an_article_link_the_http_client_cannot_parse_fails_only_its_full_text(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    server.routes["/feed"] = Reply(200, rss([("Odd", "http://0177.0.0.1/x", DATE)]))  # httpx refuses this IPv4
    sink = ListSink()
    poller = make_poller(client, sink=sink, fulltext=True, allow=())
    out = await poller.poll(FeedSpec(server.url("/feed")))
    [article] = sink.articles
    assert (out.status, out.new_articles) == ("ok", 1)
    assert (article.fulltext_error or "").startswith("fetch: invalid URL 'http://0177.0.0.1/x'")
    assert poller.metrics.fulltext.value(outcome="invalid_url") == 1


async def test_oversize_feed_is_rejected_and_gzip_is_decoded(server: LocalServer, client: httpx.AsyncClient) -> None:
    big = rss([(f"Story {i}", f"https://n.example/{i}", DATE) for i in range(2000)])
    server.routes["/big"] = Reply(200, big)
    server.routes["/gz"] = Reply(200, gzip.compress(rss(TWO)), {"Content-Encoding": "gzip"})
    server.routes["/gzbomb"] = Reply(200, gzip.compress(b" " * 5_000_000), {"Content-Encoding": "gzip"})
    poller = make_poller(client, max_feed_bytes=100_000)
    big_out = await poller.poll(FeedSpec(server.url("/big")))
    gz_out = await poller.poll(FeedSpec(server.url("/gz")))
    bomb_out = await poller.poll(FeedSpec(server.url("/gzbomb")))
    assert (big_out.error_kind, gz_out.new_articles, bomb_out.error_kind) == ("too_large", 2, "too_large")


async def test_closed_port_and_tls_failures_are_classified(server: LocalServer, client: httpx.AsyncClient) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens once the socket is closed
    poller = make_poller(client)
    refused = await poller.poll(FeedSpec(f"http://127.0.0.1:{closed}/feed"))
    # An https:// request to a plain-HTTP server fails in the TLS handshake.
    tls = await poller.poll(FeedSpec(f"https://127.0.0.1:{server.port}/feed"))
    assert (refused.error_kind, tls.error_kind) == ("connect", "tls")


async def test_publish_failure_keeps_validators_so_nothing_is_lost(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    server.routes["/feed"] = conditional(rss(TWO), '"v1"')

    class FlakySink(ListSink):
        fail = True

        async def publish(self, article):  # type: ignore[no-untyped-def]
            if self.fail:
                raise BusError("publish articles: broker unavailable")
            await super().publish(article)

    sink = FlakySink()
    poller = make_poller(client, sink=sink)
    spec = FeedSpec(server.url("/feed"))
    failed = await poller.poll(spec)
    assert (failed.error_kind, poller.states[spec.url].etag) == ("publish", None)
    sink.fail = False
    retried = await poller.poll(spec)
    assert (retried.status, retried.new_articles, len(sink.articles)) == ("ok", 2, 2)


async def test_full_text_is_fetched_from_allowed_local_pages(server: LocalServer, client: httpx.AsyncClient) -> None:
    paragraph = (
        "The harbour council voted on Tuesday to extend the night ferry timetable through the winter, "
        "after commuters from the eastern districts asked for later crossings. "
    )
    page = f"<html><head><title>Ferry</title></head><body><article><h1>Ferry</h1><p>{paragraph * 4}</p>"
    page += f"<p>{paragraph * 3}</p></article></body></html>"
    server.routes["/story"] = Reply(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})
    server.routes["/feed"] = Reply(200, rss([("Ferry", server.url("/story"), DATE)]))
    sink = ListSink()
    await make_poller(client, sink=sink, fulltext=True, allow=("127.0.0.1",)).poll(FeedSpec(server.url("/feed")))
    [article] = sink.articles
    assert article.fulltext and "night ferry timetable" in article.text and article.fulltext_error is None


async def test_article_urls_to_private_addresses_are_blocked_but_the_article_still_goes_out(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    server.routes["/story"] = Reply(200, b"<html><body><p>secret admin page</p></body></html>")
    server.routes["/feed"] = Reply(200, rss([("Inside job", server.url("/story"), DATE)]))
    sink = ListSink()
    poller = make_poller(client, sink=sink, fulltext=True, allow=())
    out = await poller.poll(FeedSpec(server.url("/feed")))  # the operator's feed URL itself is trusted
    [article] = sink.articles
    assert out.status == "ok" and not article.fulltext and "non-public" in (article.fulltext_error or "")
    assert article.text == "About Inside job." and server.hits("/story") == []
    assert poller.metrics.fulltext.value(outcome="blocked") == 1


async def test_unresolvable_article_host_is_a_dns_error(server: LocalServer, client: httpx.AsyncClient) -> None:
    async def no_dns(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    server.routes["/feed"] = Reply(200, rss([("Lost", "https://unknown-host.example/a", DATE)]))
    sink = ListSink()
    poller = make_poller(client, sink=sink, fulltext=True, guard=UrlGuard(resolver=no_dns))
    await poller.poll(FeedSpec(server.url("/feed")))
    assert poller.metrics.fulltext.value(outcome="dns") == 1 and sink.articles[0].fulltext_error


async def test_entries_older_than_the_dedup_window_are_ignored(server: LocalServer, client: httpx.AsyncClient) -> None:
    server.routes["/feed"] = Reply(
        200, rss([("Ancient", "https://n.example/old", "Sun, 01 Sep 2024 09:00:00 GMT"), *TWO])
    )
    sink = ListSink()
    poller = make_poller(client, sink=sink)
    await poller.poll(FeedSpec(server.url("/feed")))
    assert [a.title for a in sink.articles] == ["First", "Second"]
    assert poller.metrics.skipped.value(reason="older_than_dedup_window") == 1


async def test_each_feed_reports_when_it_last_succeeded_and_a_failure_does_not_move_it(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    server.routes["/ok"] = Reply(200, rss([("One", "https://n.example/1", "Wed, 08 Jan 2025 09:00:00 GMT")]))
    server.routes["/bad"] = Reply(500, b"down")
    clock = Clock()
    poller = make_poller(client, clock=clock)
    await poller.poll(FeedSpec(server.url("/ok")))
    first = clock.now
    clock.now += timedelta(minutes=10)
    await poller.poll(FeedSpec(server.url("/bad")))
    server.routes["/ok"] = Reply(500, b"down now")
    await poller.poll(FeedSpec(server.url("/ok")))
    gauge = poller.metrics.feed_last_success
    assert gauge.value(feed_url=server.url("/ok")) == first.timestamp()
    assert gauge.value(feed_url=server.url("/bad")) == 0  # never succeeded: no time to show


class RefusingSink(ListSink):
    """The bus refusing one article as over its size bound, as ``encode_bounded`` does."""

    def __init__(self, refused_url: str) -> None:
        super().__init__()
        self.refused_url = refused_url

    async def publish(self, article: RawArticle) -> None:
        if article.url == self.refused_url:
            raise OversizedMessage(f"articles: message of 1,200,000 bytes over the {MAX_MESSAGE_BYTES} bound")
        await super().publish(article)


async def test_an_article_the_bus_refuses_as_oversized_is_skipped_and_the_feeds_other_articles_go_out(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    server.routes["/feed"] = Reply(200, rss(TWO), {"ETag": '"v1"'})
    sink = RefusingSink("https://n.example/1")
    poller = make_poller(client, sink=sink)
    spec = FeedSpec(server.url("/feed"))
    first = await poller.poll(spec)
    server.routes["/feed"] = Reply(200, rss(TWO) + b"\n", {"ETag": '"v2"'})  # the feed again, changed
    second = await poller.poll(spec)
    assert (first.status, first.new_articles, second.status, second.new_articles) == ("ok", 1, "ok", 0)
    assert [a.url for a in sink.articles] == ["https://n.example/2"]
    assert poller.metrics.skipped.value(reason="oversized") == 1  # once: it is not retried on every poll
