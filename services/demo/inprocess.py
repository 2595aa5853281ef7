"""The demo pipeline in one process on the in-memory bus: for machines without Java or Maven.

The three services run their real bodies (the same code as the separate processes), sharing one
:class:`MemoryBus` instead of Kafka.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from services.alerter.service import body as alerter_body
from services.alerter.settings import AlerterSettings
from services.demo.feedserver import DEMO_ALERT_GRACE, FeedServer, StoryFeeds
from services.demo.receiver import WebhookReceiver
from services.demo.render import render_event
from services.enricher.__main__ import make_body as enricher_body
from services.enricher.build import build_enricher
from services.enricher.settings import EnricherSettings
from services.ingester.__main__ import body as ingester_body
from services.ingester.settings import IngesterSettings
from shared.bus import MemoryBus
from shared.runtime import install_signal_handlers, serve
from shared.settings import load_settings
from shared.topics import Topics

ROOT = Path(__file__).resolve().parents[2]


async def run_pipeline_in_memory(args: argparse.Namespace) -> int:
    from services.demo.__main__ import new_secret

    secret = new_secret()
    bus = MemoryBus()
    await bus.start()
    stop = asyncio.Event()
    install_signal_handlers(stop)
    feeds = FeedServer(StoryFeeds(speed=args.speed)).start()
    colour = sys.stdout.isatty()
    receiver = WebhookReceiver(
        secret, on_alert=lambda r: print("\n" + render_event(r.type, r.alert, colour=colour) + "\n", flush=True)
    ).start()
    feeds_file = ROOT / ".cache" / "demo" / "memory-feeds.txt"
    feeds_file.parent.mkdir(parents=True, exist_ok=True)
    feeds_file.write_text("\n".join(feeds.feed_urls()) + "\n")
    common = {"bus": "memory", "http_host": "127.0.0.1", "http_port": 0, "log_level": "WARNING"}
    ingester = load_settings(
        IngesterSettings,
        feeds=feeds_file,
        fetch_allow_hosts="127.0.0.1",
        poll_min_interval=args.poll_interval,
        poll_default_interval=args.poll_interval,
        poll_max_interval=max(10.0, args.poll_interval),
        **common,
    )
    enricher_settings = load_settings(EnricherSettings, **common)
    enricher = build_enricher(enricher_settings, None)
    alerter = load_settings(
        AlerterSettings, webhook_url=receiver.url, webhook_secret=secret, alert_grace=DEMO_ALERT_GRACE, **common
    )
    topics = Topics(prefix=ingester.topic_prefix)
    await bus.ensure_topics(topics.all())
    services = [
        asyncio.create_task(
            serve("enricher", enricher_settings, enricher_body(enricher, "demo-enricher"), bus=bus, stop=stop)
        ),
        asyncio.create_task(serve("alerter", alerter, alerter_body, bus=bus, stop=stop)),
        asyncio.create_task(serve("ingester", ingester, ingester_body, bus=bus, stop=stop)),
    ]
    print(f"demo (in-memory): feeds at {feeds.base_url}, webhooks to {receiver.url}; Ctrl-C stops")
    started = time.monotonic()
    try:
        while not stop.is_set():
            await asyncio.sleep(2)
            counts = {
                name: len(bus.records(spec.name))
                for name, spec in (
                    ("articles", topics.articles),
                    ("enriched", topics.enriched),
                    ("observations", topics.observations),
                    ("alerts", topics.alerts),
                )
            }
            print(
                f"  [{time.monotonic() - started:5.0f}s] " + " · ".join(f"{k} {v}" for k, v in counts.items()),
                flush=True,
            )
            if any(t.done() for t in services):
                break
            if args.duration and time.monotonic() - started >= args.duration:
                break
    finally:
        stop.set()
        results = await asyncio.gather(*services, return_exceptions=True)
        feeds.stop()
        receiver.stop()
    errors = [r for r in results if isinstance(r, BaseException)]
    for err in errors:
        print(f"demo: a service failed: {err}", file=sys.stderr)
    print(f"demo: {len(receiver.stats.accepted)} alerts received (signatures verified)")
    return 1 if errors else 0
