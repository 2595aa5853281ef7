"""``stancewatch ingest --feeds FILE --once --out articles.jsonl``: one poll cycle, no Kafka.

Writes each new article as a JSON line (the replay input format) and ends with a summary line;
the exit status is 0 when every feed answered, 1 when some failed, 2 on bad usage or config.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections import Counter
from pathlib import Path
from typing import IO

from services.ingester.build import build_poller, client_for, parser_for
from services.ingester.cycle import poll_once
from services.ingester.errors import IngesterError
from services.ingester.feedlist import FeedSpec, load_feed_list
from services.ingester.poll import PollOutcome
from services.ingester.publish import JsonlSink
from services.ingester.settings import IngesterSettings
from services.ingester.state import FileStore, MemoryStore, StateStore
from shared.errors import StancewatchError
from shared.observability import Metrics
from shared.settings import load_settings


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="stancewatch ingest", description=__doc__.split("\n\n")[0])
    p.add_argument("--feeds", type=Path, help="feed list (YAML or one URL per line); default STANCEWATCH_FEEDS")
    p.add_argument("--once", action="store_true", help="poll every feed once (the only mode of this command)")
    p.add_argument("--out", required=True, help="JSON-lines output file ('-' for stdout)")
    p.add_argument("--no-fulltext", action="store_true", help="use feed summaries; fetch no article pages")
    p.add_argument("--state", type=Path, help="JSON file keeping validators and seen ids between runs")
    p.add_argument("--allow-hosts", help="hosts/CIDRs article URLs may reach though private (e.g. 127.0.0.1)")
    return p.parse_args(argv)


def summary(outcomes: list[PollOutcome], written: int, out: str) -> str:
    failed = [o for o in outcomes if o.status == "error"]
    not_modified = sum(o.status == "not_modified" for o in outcomes)
    kinds = Counter(o.error_kind for o in failed)
    why = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    line = (
        f"ingest: {len(outcomes)} feeds, {len(outcomes) - len(failed)} ok ({not_modified} not modified), "
        f"{len(failed)} failed"
    )
    if why:
        line += f" [{why}]"
    return line + f"; {written} new articles -> {out}"


async def run(
    settings: IngesterSettings, specs: list[FeedSpec], out: IO[str], state_path: Path | None
) -> tuple[list[PollOutcome], int]:
    store: StateStore = FileStore(state_path) if state_path else MemoryStore()
    sink = JsonlSink(out)
    async with client_for(settings) as client, parser_for(settings) as parser:
        poller = await build_poller(settings, client=client, sink=sink, store=store, metrics=Metrics(), parser=parser)
        outcomes = await poll_once(poller, specs, concurrency=settings.max_connections)
    await store.flush()
    return outcomes, sink.count


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    overrides: dict[str, object] = {"bus": "memory"}
    if args.feeds:
        overrides["feeds"] = args.feeds
    if args.no_fulltext:
        overrides["fulltext"] = False
    if args.state is None:
        overrides["max_entry_age_days"] = 0  # nothing to protect: a backfill keeps old entries
    if args.allow_hosts:
        overrides["fetch_allow_hosts"] = args.allow_hosts
    try:
        settings = load_settings(IngesterSettings, **overrides)
        specs = load_feed_list(settings.feeds)
        with contextlib.ExitStack() as files:
            out = sys.stdout if args.out == "-" else files.enter_context(open(args.out, "w", encoding="utf-8"))
            outcomes, written = asyncio.run(run(settings, specs, out, args.state))
    except (IngesterError, StancewatchError, OSError) as exc:
        print(f"stancewatch ingest: {exc}", file=sys.stderr)
        return 2
    for o in outcomes:
        if o.status == "error":
            print(f"  failed: {o.feed_url}: {o.error}", file=sys.stderr)
    print(summary(outcomes, written, args.out), file=sys.stderr)
    return 1 if any(o.status == "error" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
