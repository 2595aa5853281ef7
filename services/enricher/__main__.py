"""``stancewatch enricher``: the service (articles topic -> enriched + observations topics)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from services.enricher.build import build_enricher
from services.enricher.errors import EnricherError
from services.enricher.extract import Enricher
from services.enricher.service import consumer_loop
from services.enricher.settings import EnricherSettings
from shared.errors import ConfigError
from shared.runtime import ServiceContext, run_service
from shared.settings import load_settings


def make_body(enricher: Enricher, group_id: str) -> Callable[[ServiceContext], Awaitable[None]]:
    async def body(ctx: ServiceContext) -> None:
        loop = consumer_loop(enricher, ctx.bus, ctx.topics, ctx.metrics, group_id, watchdog=ctx.watchdog)

        async def mark_ready() -> None:
            await loop.started.wait()
            ctx.ready.set()

        ready = asyncio.create_task(mark_ready())
        try:
            await loop.run(ctx.stop)
        finally:
            ready.cancel()

    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stancewatch enricher", description=__doc__)
    parser.add_argument("--watchlist", help="YAML watchlist (default: STANCEWATCH_WATCHLIST or the shipped one)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(EnricherSettings)
        enricher = build_enricher(settings, args.watchlist)
    except (ConfigError, EnricherError) as exc:
        print(f"stancewatch enricher: {exc}", file=sys.stderr)
        return 2
    return run_service("enricher", settings, make_body(enricher, settings.consumer_group))


if __name__ == "__main__":
    sys.exit(main())
