"""``stancewatch topics``: create every declared topic that is missing (the compose topic-init step)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from shared.bus import KafkaBus
from shared.errors import StancewatchError
from shared.settings import ServiceSettings, load_settings
from shared.topics import Topics


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="stancewatch topics", description=__doc__)
    parser.add_argument("--list", action="store_true", help="print the declared topics and exit")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(ServiceSettings)
    except StancewatchError as exc:
        print(f"stancewatch topics: {exc}", file=sys.stderr)
        return 2
    topics = Topics(prefix=settings.topic_prefix)
    if args.list:
        for spec in topics.all():
            print(
                f"{spec.name}\tpartitions={spec.partitions}\t{','.join(f'{k}={v}' for k, v in spec.config().items())}"
            )
        return 0

    async def run() -> list[str]:
        bus = KafkaBus(settings.kafka_bootstrap_servers, client_id="stancewatch-topics")
        return await bus.ensure_topics(topics.all())

    try:
        created = asyncio.run(run())
    except StancewatchError as exc:
        print(f"stancewatch topics: {exc}", file=sys.stderr)
        return 1
    print(f"topics: {len(created)} created, {len(topics.all()) - len(created)} already present")
    return 0
