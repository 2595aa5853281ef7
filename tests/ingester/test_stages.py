"""Pure stages: feed list, URL canonicalisation and ids, scheduling, dedup, SSRF guard, parse prechecks."""

from __future__ import annotations

import ipaddress
import random
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.ingester.dedup import SeenIds
from services.ingester.errors import BlockedUrl, FeedListError, FetchError, ParseError
from services.ingester.feedlist import load_feed_list, parse_feed_list
from services.ingester.guard import UrlGuard, is_public, non_public_reason, numeric_host, refusal
from services.ingester.normalize import article_id, canonical_url, html_to_text, language_tag, to_article
from services.ingester.parse import FeedEntry, ParsedFeed, parse_feed
from services.ingester.schedule import backoff_delay, cadence_interval
from services.ingester.settings import DEFAULT_FEEDS, IngesterSettings
from shared.errors import ConfigError
from shared.http import parse_retry_after
from shared.settings import load_settings

T0 = datetime(2025, 1, 8, 12, 0, tzinfo=UTC)


# --- feed list -------------------------------------------------------------------------------


def test_yaml_feed_list_keeps_names_and_intervals_and_drops_duplicates() -> None:
    specs = parse_feed_list(
        "feeds:\n  - url: https://a.example/rss\n    name: A\n    interval: 120\n"
        "  - https://b.example/atom\n  - url: https://a.example/rss\n"
    )
    assert [(s.url, s.name, s.interval) for s in specs] == [
        ("https://a.example/rss", "A", 120.0),
        ("https://b.example/atom", "", None),
    ]


def test_plain_feed_list_skips_comments_and_blank_lines() -> None:
    specs = parse_feed_list("# world\nhttps://a.example/rss\n\n  http://b.example/feed  \n")
    assert [s.url for s in specs] == ["https://a.example/rss", "http://b.example/feed"]


@pytest.mark.parametrize(
    "text",
    [
        "feeds: 3\n",
        "feeds:\n  - name: no url\n",
        "ftp://a.example/x\n",
        "feeds:\n  - url: https://a/x\n    interval: -1\n",
    ],
)
def test_bad_feed_lists_are_rejected_with_a_reason(text: str) -> None:
    with pytest.raises(FeedListError, match="feed list"):
        parse_feed_list(text)


def test_missing_feed_list_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FeedListError, match=r"nope\.yaml"):
        load_feed_list(tmp_path / "nope.yaml")


def test_shipped_world_feed_list_loads() -> None:
    specs = load_feed_list(DEFAULT_FEEDS)
    assert len(specs) >= 10 and all(s.url.startswith("https://") and s.name for s in specs)


# --- settings --------------------------------------------------------------------------------


def test_settings_read_the_documented_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCEWATCH_FULLTEXT", "0")
    monkeypatch.setenv("STANCEWATCH_FETCH_ALLOW_HOSTS", "127.0.0.1, 10.0.0.0/8")
    monkeypatch.setenv("STANCEWATCH_MAX_PER_HOST", "3")
    monkeypatch.setenv("STANCEWATCH_POLL_MIN_INTERVAL", "1")
    s = load_settings(IngesterSettings)
    assert (s.fulltext, s.allow_hosts, s.max_per_host, s.poll_min_interval) == (
        False,
        ["127.0.0.1", "10.0.0.0/8"],
        3,
        1.0,
    )


def test_invalid_allowlist_cidr_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCEWATCH_FETCH_ALLOW_HOSTS", "10.0.0.0/99")
    with pytest.raises(ConfigError, match="STANCEWATCH_FETCH_ALLOW_HOSTS"):
        load_settings(IngesterSettings)


# --- normalisation ---------------------------------------------------------------------------


def test_canonical_url_strips_tracking_fragment_default_port_and_sorts_query() -> None:
    url = "HTTPS://News.Example.org:443/a/b?z=1&utm_source=rss&fbclid=x&a=2#comments"
    assert canonical_url(url) == "https://news.example.org/a/b?a=2&z=1"


def test_same_story_with_different_tracking_has_one_id() -> None:
    a = article_id("https://n.example/s/1?utm_medium=feed", None, "https://feed-one.example/rss")
    b = article_id("https://n.example/s/1#top", "other-guid", "https://feed-two.example/rss")
    assert a == b and a is not None and a.startswith("a_")


def test_entry_without_link_falls_back_to_guid_scoped_to_its_feed() -> None:
    one = article_id(None, "item-7", "https://feed-one.example/rss")
    two = article_id(None, "item-7", "https://feed-two.example/rss")
    assert one and two and one != two
    assert article_id(None, None, "https://feed-one.example/rss") is None


def test_html_snippet_becomes_plain_text() -> None:
    assert html_to_text("<p>One &amp; <b>two</b></p><script>x()</script><p>three&nbsp;four</p>") == (
        "One & two\nthree four"
    )


def test_language_tags_are_reduced_to_the_primary_subtag() -> None:
    assert [language_tag(v) for v in ("en-GB", "FR", "x", "", None, "zh_Hant")] == ["en", "fr", None, None, None, "zh"]


def _feed() -> ParsedFeed:
    return ParsedFeed(title="Desk", language="en-us", version="rss20", entries=[])


def test_entry_without_date_is_dated_when_first_seen_and_future_dates_are_not_believed() -> None:
    undated = FeedEntry(link="https://n.example/1", guid=None, title="T", summary="S", published=None)
    future = FeedEntry(link="https://n.example/2", guid=None, title="T", summary="", published=T0 + timedelta(days=3))
    a = to_article(undated, _feed(), feed_url="https://f.example/rss", source="", now=T0)
    b = to_article(future, _feed(), feed_url="https://f.example/rss", source="", now=T0)
    assert a is not None and b is not None
    assert a.published == T0 and b.published == T0
    assert (a.source, a.language, a.text, b.text) == ("Desk", "en", "S", "T")


# --- schedule --------------------------------------------------------------------------------


def test_hourly_feed_is_polled_every_half_hour_not_every_minute() -> None:
    times = [T0 - timedelta(hours=h) for h in range(10)]
    assert cadence_interval(times, default=300, low=60, high=7200) == 1800


def test_cadence_interval_respects_bounds_and_defaults_without_history() -> None:
    assert cadence_interval([], default=300, low=60, high=3600) == 300
    burst = [T0 - timedelta(seconds=s) for s in range(10)]
    assert cadence_interval(burst, default=300, low=60, high=3600) == 60
    rare = [T0 - timedelta(days=d) for d in range(5)]
    assert cadence_interval(rare, default=300, low=60, high=3600) == 3600


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(1)
    delays = [backoff_delay(n, base=60, cap=3600, rng=rng) for n in range(1, 10)]
    for n, d in enumerate(delays, 1):
        raw = min(3600, 60 * 2 ** (n - 1))
        assert raw / 2 <= d <= raw
    assert delays[-1] <= 3600


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("120", T0) == 120
    assert parse_retry_after("Wed, 08 Jan 2025 12:10:00 GMT", T0) == 600
    assert parse_retry_after("soon", T0) is None and parse_retry_after(None, T0) is None


# --- dedup -----------------------------------------------------------------------------------


def test_claim_lets_only_the_first_caller_take_an_id() -> None:
    seen = SeenIds(10, timedelta(days=1))
    assert seen.claim("a") and not seen.claim("a")
    seen.release("a")
    assert seen.claim("a")
    seen.add("a", T0)
    assert not seen.claim("a") and len(seen) == 1


def test_seen_ids_are_bounded_by_count_and_age() -> None:
    seen = SeenIds(3, timedelta(days=1))
    for i in range(5):
        seen.add(f"id{i}", T0 + timedelta(minutes=i))
    assert seen.expire(T0) == ["id0", "id1"]
    assert seen.expire(T0 + timedelta(days=1, minutes=3, seconds=1)) == ["id2", "id3"]
    assert "id4" in seen and "id0" not in seen


# --- SSRF guard ------------------------------------------------------------------------------


def _resolver(table: dict[str, list[str]]):
    async def resolve(host: str) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    ("addr", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.0.9", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("100.64.0.1", "shared (CGNAT)"),
        ("100.100.100.200", "shared (CGNAT)"),  # Alibaba Cloud's metadata
        ("0.0.0.0", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fd00:ec2::254", "private"),  # AWS's IPv6 metadata
        ("::ffff:10.0.0.1", "private"),  # IPv4-mapped
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:a9fe:a9fe::", "link-local"),  # 6to4 of 169.254.169.254
        ("::10.0.0.1", "reserved"),  # IPv4-compatible (deprecated)
    ],
)
def test_private_loopback_link_local_and_metadata_addresses_are_not_public_in_any_spelling(addr: str, why: str) -> None:
    assert (is_public(ipaddress.ip_address(addr)), non_public_reason(ipaddress.ip_address(addr))) == (False, why)


@pytest.mark.parametrize("addr", ["93.184.216.34", "2606:4700::1111", "::ffff:93.184.216.34", "2002:5db8:d822::"])
def test_public_addresses_are_public_in_their_ipv6_forms_too(addr: str) -> None:
    assert is_public(ipaddress.ip_address(addr))


@pytest.mark.parametrize(
    "host",
    ["2852039166", "2130706433", "0x7f.1", "0x7F000001", "0177.1", "0177.0.0.1", "127.1", "10.1", "010.0.0.1", "0"],
)
def test_numeric_ipv4_spellings_are_read_as_the_system_resolver_reads_them(host: str) -> None:
    assert numeric_host(host) == ipaddress.IPv4Address(socket.inet_aton(host))


@pytest.mark.parametrize("host", ["news.example", "1.2.3.4.5", "08.1", "0x", "0x100.1", "256.1", "4294967296", "1."])
def test_hosts_the_system_does_not_read_as_numbers_are_names(host: str) -> None:
    with pytest.raises(OSError):
        socket.inet_aton(host)
    assert numeric_host(host) is None


def test_a_refusal_names_the_host_the_address_and_why() -> None:
    v4 = ipaddress.ip_address
    assert refusal("169.254.169.254", [v4("169.254.169.254")]) == "169.254.169.254 is a non-public address (link-local)"
    assert refusal("2852039166", [v4("169.254.169.254")]) == (
        "2852039166 is 169.254.169.254, a non-public address (link-local)"
    )
    assert refusal("mixed.example", [v4("93.184.216.34"), v4("10.0.0.1")]) == (
        "mixed.example resolves to 10.0.0.1, a non-public address (private)"
    )
    assert refusal("news.example", [v4("93.184.216.34")]) is None
    assert refusal("gone.example", []) == "gone.example has no addresses"


def test_an_allowlisted_network_covers_the_ipv4_mapped_form_of_its_addresses() -> None:
    nets = [ipaddress.ip_network("10.0.0.0/8")]
    assert refusal("::ffff:10.0.0.1", [ipaddress.ip_address("::ffff:10.0.0.1")], nets) is None
    assert refusal("::ffff:10.0.0.1", [ipaddress.ip_address("::ffff:10.0.0.1")]) is not None


async def test_guard_blocks_names_resolving_to_private_addresses() -> None:
    table = {
        "intranet.example": ["10.0.0.5"],
        "news.example": ["93.184.216.34"],
        "mixed.example": ["93.184.216.34", "10.0.0.5"],  # a client could fall back to the second
    }
    guard = UrlGuard(resolver=_resolver(table))
    await guard.check("https://news.example/story")
    with pytest.raises(BlockedUrl, match=r"10\.0\.0\.5"):
        await guard.check("https://intranet.example/admin")
    with pytest.raises(BlockedUrl, match=r"mixed\.example resolves to 10\.0\.0\.5"):
        await guard.check("https://mixed.example/admin")
    with pytest.raises(BlockedUrl):
        await guard.check("http://169.254.169.254/latest/meta-data/")
    with pytest.raises(BlockedUrl, match=r"169\.254\.169\.254"):
        await guard.check("http://2852039166/latest/meta-data/")  # no resolver needed for a number
    with pytest.raises(BlockedUrl, match="scheme"):
        await guard.check("file:///etc/passwd")


async def test_guard_gives_the_addresses_to_connect_at_and_none_for_an_allowlisted_name() -> None:
    guard = UrlGuard(["feeds.internal", "10.0.0.0/8"], resolver=_resolver({"news.example": ["93.184.216.34"]}))
    assert await guard.addresses("news.example") == [ipaddress.ip_address("93.184.216.34")]
    assert await guard.addresses("0xa000001") == [ipaddress.ip_address("10.0.0.1")]
    assert await guard.addresses("feeds.internal") is None  # connected by name: the operator vouches for it


async def test_guard_allowlist_accepts_hosts_and_cidrs() -> None:
    guard = UrlGuard(["localhost", "10.0.0.0/8"], resolver=_resolver({"intranet.example": ["10.0.0.5"]}))
    await guard.check("http://localhost:8080/x")
    await guard.check("http://intranet.example/x")
    with pytest.raises(BlockedUrl):
        await guard.check("http://127.0.0.1/x")


async def test_guard_reports_unresolvable_hosts_as_dns_errors() -> None:
    guard = UrlGuard(resolver=_resolver({}))
    with pytest.raises(FetchError) as info:
        await guard.check("https://nowhere.example/x")
    assert info.value.kind == "dns"


# --- parse prechecks -------------------------------------------------------------------------

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>
<rss version="2.0"><channel><title>&c;</title></channel></rss>"""


@pytest.mark.parametrize(
    ("body", "ctype", "reason"),
    [
        (b"", None, "empty"),
        (BOMB, "application/rss+xml", "entities"),
        (b"<!DOCTYPE html><html><body>Welcome</body></html>", "text/html", "HTML"),
        (b"<html><head><title>x</title></head></html>", None, "HTML"),
        (b"this is not xml at all", "application/xml", "not a feed"),
        (b"<?xml version='1.0'?><notafeed><x>1</x></notafeed>", "application/xml", "not a feed"),
    ],
)
def test_unusable_documents_are_rejected_with_a_reason(body: bytes, ctype: str | None, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_feed(body, url="http://127.0.0.1/feed", content_type=ctype)
