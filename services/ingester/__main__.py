"""``stancewatch ingester``: poll the configured feeds continuously and publish new articles to Kafka."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from services.ingester.build import build_poller, client_for, parser_for
from services.ingester.cycle import poll_forever
from services.ingester.feedlist import load_feed_list
from services.ingester.publish import TopicSink
from services.ingester.settings import IngesterSettings
from services.ingester.state import BusStore
from shared.errors import ConfigError
from shared.runtime import ServiceContext, run_service
from shared.settings import load_settings

log = logging.getLogger("stancewatch.ingester")


async def body(ctx: ServiceContext) -> None:
    settings = ctx.settings
    assert isinstance(settings, IngesterSettings)
    specs = load_feed_list(settings.feeds)
    store = BusStore(ctx.bus, ctx.topics)
    sink = TopicSink(ctx.bus, ctx.topics.articles.name)
    async with client_for(settings) as client, parser_for(settings) as parser:
        poller = await build_poller(settings, client=client, sink=sink, store=store, metrics=ctx.metrics, parser=parser)
        poller.metrics.feeds.set(len(specs))
        shown = {"last_success", "last_error", "failures", "next_poll", "interval_s"}
        ctx.routes["/feeds"] = lambda params: {
            url: state.model_dump(mode="json", include=shown) for url, state in poller.states.items()
        }
        last_expiry = poller.clock()
        # The poll loop calls housekeeping on every tick: a loop that stops turning fails liveness.
        turning = ctx.watchdog.heartbeat("ingester poll loop")

        async def housekeeping() -> None:
            nonlocal last_expiry
            turning.beat()
            now = poller.clock()
            if (now - last_expiry).total_seconds() >= 60:
                last_expiry = now
                expired = poller.seen.expire(now)
                if expired:
                    await store.forget_seen(expired)
            poller.metrics.seen_ids.set(len(poller.seen))

        log.info("ingester polling %d feeds", len(specs), extra={"fulltext": settings.fulltext})
        ctx.ready.set()
        await poll_forever(poller, specs, ctx.stop, concurrency=settings.max_connections, on_cycle=housekeeping)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="stancewatch ingester", description=__doc__)
    p.add_argument("--feeds", type=Path, help="feed list (default STANCEWATCH_FEEDS)")
    p.add_argument("--no-fulltext", action="store_true", help="publish feed summaries; fetch no article pages")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    overrides: dict[str, object] = {}
    if args.feeds:
        overrides["feeds"] = args.feeds
    if args.no_fulltext:
        overrides["fulltext"] = False
    try:
        settings = load_settings(IngesterSettings, **overrides)
    except ConfigError as exc:
        print(f"stancewatch ingester: {exc}", file=sys.stderr)
        return 2
    return run_service("ingester", settings, body)


if __name__ == "__main__":
    sys.exit(main())
