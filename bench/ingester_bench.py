"""Ingester benchmark: 5,000 distinct feeds from a local server, a full poll cycle, then a 304 cycle.

The feeds are served by a raw asyncio HTTP/1.1 server (keep-alive, ETag/If-None-Match) in a separate
process, listening on 127.0.0.1 .. 127.0.0.<hosts> so per-host politeness applies as with real
publishers. The ingester side is the real poller (fetch, parse, normalise, dedup, publish) writing
to an in-memory bus, with full text off. Run: ``.venv/bin/python bench/ingester_bench.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The service modules are imported inside run(): spawned processes (the feed server, the parse
# workers) re-import this file, and should not carry the service's imports they never use.


def feed_body(i: int, items: int, now: datetime) -> bytes:
    entries = "".join(
        f"<item><title>Feed {i} story {j}: council weighs the harbour plan</title>"
        f"<link>https://news{i % 97}.example/feed{i}/story{j}?utm_source=rss</link>"
        f"<guid>feed{i}-story{j}</guid>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=7 * j + i % 60), usegmt=True)}</pubDate>"
        f"<description>&lt;p&gt;Short summary number {j} of feed {i}, a few sentences long so the "
        f"parser has something to chew on.&lt;/p&gt;</description></item>"
        for j in range(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench feed {i}</title>'
        f"<link>https://news{i % 97}.example/</link><language>en</language>{entries}</channel></rss>"
    ).encode()


def serve(port: int, hosts: int, feeds: int, items: int, ready: mp.Event, stop: mp.Event, cpu: mp.Value) -> None:
    now = datetime.now(UTC)
    bodies = [feed_body(i, items, now) for i in range(feeds)]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                etag_in = None
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    if h[:14].lower() == b"if-none-match:":
                        etag_in = h[14:].strip()
                path = line.split(b" ")[1]
                i = int(path.rsplit(b"/", 1)[1].split(b".")[0])
                etag = b'"v1-%d"' % i
                if etag_in == etag:
                    writer.write(b"HTTP/1.1 304 Not Modified\r\nETag: " + etag + b"\r\nContent-Length: 0\r\n\r\n")
                else:
                    body = bodies[i]
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: "
                        + etag
                        + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
                        + body
                    )
                await writer.drain()
        except (ConnectionError, ValueError, IndexError, asyncio.CancelledError):  # client gone, or shutting down
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, f"127.0.0.{h}", port, backlog=1024) for h in range(1, hosts + 1)]
        ready.set()
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)
        for s in servers:
            s.close()

    asyncio.run(main())
    cpu.value = time.process_time()


def _children() -> dict[int, list[str]]:
    """This process's live children (the parse workers; the feed server is a child too) and their /proc stat."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                out[int(entry)] = fields
    return out


def ingester_cpu(server_pid: int) -> float:
    """CPU seconds of the ingester: this process plus its parse workers (not the feed server)."""
    tick = os.sysconf("SC_CLK_TCK")
    workers = sum((int(f[11]) + int(f[12])) / tick for pid, f in _children().items() if pid != server_pid)
    return time.process_time() + workers


def workers_peak_rss_mb(server_pid: int) -> list[float]:
    peaks = []
    for pid in _children():
        if pid == server_pid:
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                peaks += [int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:")]
        except OSError:
            continue
    return peaks


async def cycle(poller, specs, concurrency: int, server_pid: int) -> tuple[float, float, dict[str, int]]:  # type: ignore[no-untyped-def]
    from services.ingester.cycle import poll_once

    cpu0, t0 = ingester_cpu(server_pid), time.perf_counter()
    outcomes = await poll_once(poller, specs, concurrency=concurrency)
    wall, cpu = time.perf_counter() - t0, ingester_cpu(server_pid) - cpu0
    counts: dict[str, int] = {}
    for o in outcomes:
        key = o.status if o.status != "error" else f"error:{o.error_kind}"
        counts[key] = counts.get(key, 0) + 1
    return wall, cpu, counts


async def baseline(args: argparse.Namespace, port: int) -> float:
    """The plain way on a sample, for comparison: a default httpx client, GET then feedparser, one feed at a time."""
    import feedparser
    import httpx

    sample = range(0, args.feeds, max(1, args.feeds // args.baseline))[: args.baseline]
    async with httpx.AsyncClient(trust_env=False) as client:
        t0 = time.perf_counter()
        for i in sample:
            resp = await client.get(f"http://127.0.0.{i % args.hosts + 1}:{port}/f/{i}.xml")
            feedparser.parse(resp.content)
        return len(sample) / (time.perf_counter() - t0)


async def run(args: argparse.Namespace, port: int, server_pid: int) -> list[float]:
    from services.ingester.build import build_poller, client_for, parser_for
    from services.ingester.feedlist import FeedSpec
    from services.ingester.publish import TopicSink
    from services.ingester.settings import IngesterSettings
    from services.ingester.state import BusStore
    from shared.bus import MemoryBus
    from shared.observability import Metrics
    from shared.topics import Topics

    settings = IngesterSettings(
        fulltext=False,
        max_per_host=args.per_host,
        max_connections=args.concurrency,
        fetch_timeout=30,
        bus="memory",
        parse_workers=args.parse_workers,
    )
    bus = MemoryBus()
    await bus.start()
    topics = Topics()
    await bus.ensure_topics(topics.all())
    specs = [FeedSpec(f"http://127.0.0.{i % args.hosts + 1}:{port}/f/{i}.xml") for i in range(args.feeds)]
    async with client_for(settings) as client, parser_for(settings) as parser:
        poller = await build_poller(
            settings,
            client=client,
            sink=TopicSink(bus, topics.articles.name),
            store=BusStore(bus, topics),
            metrics=Metrics(),
            parser=parser,
        )
        plain = await baseline(args, port) if args.baseline else None
        if plain:
            print(
                f"baseline, {args.baseline} feeds one by one (httpx GET + feedparser, no publish): {plain:,.0f} feeds/s"
            )
        for n, label in ((1, "first cycle (200, parse, publish)"), (2, "second cycle (304)")):
            if args.profile:
                import cProfile
                import pstats

                prof = cProfile.Profile()
                prof.enable()
            wall, cpu, counts = await cycle(poller, specs, args.concurrency, server_pid)
            if args.profile:
                prof.disable()
                pstats.Stats(prof).sort_stats("tottime").print_stats(25)
            print(
                f"cycle {n} {label}: {args.feeds / wall:,.0f} feeds/s ({wall:.2f} s wall), "
                f"{cpu / args.feeds * 1000:.2f} CPU s per 1,000 feeds (incl. parse workers), outcomes {counts}"
                + (f", {args.feeds / wall / plain:.1f}x the baseline" if plain and n == 1 else "")
            )
        worker_peaks = workers_peak_rss_mb(server_pid)
    print(f"articles published: {len(bus.records(topics.articles.name)):,}")
    return worker_peaks


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--feeds", type=int, default=5000)
    p.add_argument("--items", type=int, default=10, help="entries per feed")
    p.add_argument("--hosts", type=int, default=50, help="loopback addresses the feeds are spread over")
    p.add_argument("--per-host", type=int, default=2, help="STANCEWATCH_MAX_PER_HOST")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--parse-workers", type=int, default=None, help="STANCEWATCH_PARSE_WORKERS (default: one per core)")
    p.add_argument("--baseline", type=int, default=300, help="feeds in the plain sequential comparison (0: skip)")
    p.add_argument("--port", type=int, default=18765)
    p.add_argument("--profile", action="store_true", help="print the hottest functions of each cycle")
    args = p.parse_args()
    ctx = mp.get_context("spawn")
    ready, stop, server_cpu = ctx.Event(), ctx.Event(), ctx.Value("d", 0.0)
    proc = ctx.Process(target=serve, args=(args.port, args.hosts, args.feeds, args.items, ready, stop, server_cpu))
    proc.start()
    try:
        if not ready.wait(30):
            raise SystemExit("bench: feed server did not start")
        print(
            f"serving {args.feeds:,} feeds x {args.items} entries from 127.0.0.1-{args.hosts} "
            f"(raw asyncio server, separate process); per-host limit {args.per_host}, "
            f"concurrency {args.concurrency}, full text off"
        )
        assert proc.pid is not None
        worker_peaks = asyncio.run(run(args, args.port, proc.pid))
    finally:
        stop.set()
        proc.join(10)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = " + ".join(f"{w:.0f}" for w in worker_peaks) or "none"
    print(
        f"ingester peak RSS: {peak_mb:.0f} MB main, parse workers {workers} MB, "
        f"total {peak_mb + sum(worker_peaks):.0f} MB; feed server CPU: {server_cpu.value:.1f} s (not counted above)"
    )


if __name__ == "__main__":
    main()
