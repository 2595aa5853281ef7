"""Parsing robustness: our own corpus of varied feeds, and the ~2,100 test feeds of the feedparser project.

Every feed is served by a local HTTP server and polled with full text off (their links point to real
hosts): each one is either turned into well-formed articles or rejected with a reason, and no poll hangs.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

import httpx
import pytest

from services.ingester.cycle import poll_once
from services.ingester.feedlist import FeedSpec
from shared.contracts import RawArticle
from tests.ingester.conftest import ListSink, make_poller
from tests.ingester.feedparser_corpus import feedparser_corpus
from tests.ingester.local_server import LocalServer, Reply, Seen

OWN_CORPUS = Path(__file__).resolve().parent / "corpus"
KNOWN_KINDS = {"parse", "too_large", "http", "timeout", "connect", "redirect", "network", "decoding"}

#: file -> (titles of the articles expected, in feed order) or a fragment of the rejection reason.
EXPECTED: dict[str, list[str] | str] = {
    "rss091.xml": ["Bridge repairs finish early", "Library extends hours"],
    "rss092.xml": ["Snow closes the pass"],
    "rss093.xml": ["Market day moves to Friday"],
    "rss10.rdf": ["Port traffic rises", "Rail strike averted"],
    "rss20-basic.xml": ["Storm warning lifted", "Fishing quotas set", "New pier approved"],
    "rss20-cdata.xml": ["Council & mayor agree <budget>"],
    "rss20-entities.xml": ["Café owners & the new rules — a guide"],
    "rss20-html-entities.xml": ["Très bien : the festival returns"],
    "rss20-relative-links.xml": ["Park reopens", "School budget passed"],
    "rss20-tracking.xml": ["Election date set"],
    "rss20-guid-only.xml": ["Bulletin one", "Bulletin two"],
    "rss20-no-link-no-guid.xml": ["Proper story"],
    "rss20-no-dates.xml": ["Timeless piece"],
    "rss20-odd-dates.xml": ["Two digit year", "Garbage date", "ISO date in RSS"],
    "rss20-language.xml": ["Le tram arrive en ville"],
    "rss20-empty-channel.xml": [],
    "rss20-namespaces.xml": ["Longer story"],
    "rss20-whitespace.xml": ["Lots of space"],
    "rss20-duplicate-items.xml": ["Same story"],
    "atom03.xml": ["Harvest festival dates"],
    "atom10-basic.xml": ["Airport adds routes", "Museum wing opens"],
    "atom10-xhtml.xml": ["Italic headline"],
    "atom10-xmlbase.xml": ["Nested base"],
    "atom10-multiple-links.xml": ["Pick the alternate"],
    "atom10-lang.xml": ["Neue Buslinie"],
    "atom10-timezones.xml": ["East", "West"],
    "enc-latin1.xml": ["Año nuevo en la plaza"],
    "enc-utf16.xml": ["Über die Brücke"],
    "enc-wrong-declared.xml": ["Crème brûlée contest"],
    "enc-bom.xml": ["Byte order mark"],
    "enc-no-declaration.xml": ["Bare document"],
    "broken-unclosed.xml": ["Unclosed tags but a link"],
    "broken-bare-ampersand.xml": ["Fish & chips tax"],
    "reject-html-page.xml": "HTML page",
    "reject-entity-bomb.xml": "entities",
    "reject-external-entity.xml": "entities",
    "reject-json.xml": "not a feed",
    "reject-empty.xml": "empty",
    "reject-garbage.xml": "not a feed",
}

_HEADER = re.compile(rb"^Header:\s*([A-Za-z-]+):\s*(.*?)\s*$", re.MULTILINE)


def serve_directory(server: LocalServer, root: Path, pattern: str = "*") -> dict[str, Path]:
    """Route every file under ``root``; honour ``Header: Name: value`` lines at a file's top."""
    paths = {"/" + p.relative_to(root).as_posix(): p for p in sorted(root.rglob(pattern)) if p.is_file()}

    def route(req: Seen) -> Reply:
        body = paths[req.path].read_bytes()
        headers = {"Content-Type": "application/xml"}
        for name, value in _HEADER.findall(body[:2000]):
            name_s = name.decode("latin-1")
            if name_s.lower() in ("content-type", "content-language", "last-modified", "etag"):
                headers[name_s.title()] = value.decode("latin-1")
        return Reply(200, body, headers)

    for path in paths:
        server.routes[path] = route
    return paths


def well_formed(article: RawArticle) -> bool:
    return (
        article.id.startswith("a_")
        and article.published.utcoffset() is not None
        and article.published.utcoffset().total_seconds() == 0
        and (article.url == "" or (article.url.startswith(("http://", "https://")) and "#" not in article.url))
        and "utm_" not in article.url
        and RawArticle.from_json_bytes(article.to_json_bytes()) == article
    )


async def test_own_corpus_gives_the_expected_articles_or_reasons(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    paths = serve_directory(server, OWN_CORPUS)
    assert len(paths) >= 30 and set(p.name for p in paths.values()) == set(EXPECTED)
    sink = ListSink()
    poller = make_poller(client, sink=sink)
    outcomes = await poll_once(poller, [FeedSpec(server.url(p)) for p in paths])
    by_feed: dict[str, list[str]] = {}
    for a in sink.articles:
        assert well_formed(a), a
        by_feed.setdefault(a.feed_url.rsplit("/", 1)[1], []).append(a.title)
    for outcome in outcomes:
        name = outcome.feed_url.rsplit("/", 1)[1]
        expected = EXPECTED[name]
        if isinstance(expected, str):
            assert (outcome.status, outcome.error_kind) == ("error", "parse"), name
            assert expected in (outcome.error or ""), (name, outcome.error)
        else:
            assert outcome.status == "ok", (name, outcome.error)
            assert by_feed.get(name, []) == expected, name


async def test_own_corpus_normalises_links_dates_and_languages(server: LocalServer, client: httpx.AsyncClient) -> None:
    serve_directory(server, OWN_CORPUS)
    sink = ListSink()
    poller = make_poller(client, sink=sink)
    names = ["rss20-relative-links.xml", "rss20-tracking.xml", "atom10-timezones.xml", "rss10.rdf", "atom10-lang.xml"]
    await poll_once(poller, [FeedSpec(server.url("/" + n)) for n in names])
    got = {a.title: a for a in sink.articles}
    assert got["Park reopens"].url == "https://rel.example/news/park-reopens"
    assert got["School budget passed"].url == "https://rel.example/education/budget"
    assert got["Election date set"].url == "https://track.example/vote?id=5"
    assert got["East"].published.isoformat() == "2025-01-06T04:30:00+00:00"
    assert got["West"].published.isoformat() == "2025-01-06T18:00:00+00:00"
    assert got["Rail strike averted"].published.isoformat() == "2025-01-06T11:00:00+00:00"
    assert got["Neue Buslinie"].language == "de"


@pytest.mark.slow
async def test_every_feedparser_corpus_feed_is_parsed_or_rejected_with_a_reason(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    paths = serve_directory(server, feedparser_corpus(), "*.xml")
    assert len(paths) > 2000
    sink = ListSink()
    poller = make_poller(client, sink=sink, fulltext=False, max_per_host=16)
    outcomes = await asyncio.wait_for(
        poll_once(poller, [FeedSpec(server.url(p)) for p in paths], concurrency=16), timeout=240
    )
    assert len(outcomes) == len(paths)
    rejected = [o for o in outcomes if o.status == "error"]
    for o in rejected:
        assert o.error_kind in KNOWN_KINDS and o.error, o
    assert all(well_formed(a) for a in sink.articles)
    assert all(a.feed_url in {server.url(p) for p in paths} for a in sink.articles)
    kinds = Counter(o.error_kind for o in rejected)
    # Most of the corpus is valid feeds: a blanket rejection would be a bug, not robustness.
    assert len(outcomes) - len(rejected) > len(outcomes) * 0.6, kinds
    assert len(sink.articles) >= 20
