"""``stancewatch feedback export [--bus kafka|file] [--in FILE] --out FILE``.

Reads every correction once — the whole ``feedback`` topic (all partitions, from the beginning to the end
it has when the command starts), or a JSON-lines file of Feedback events with ``--bus file`` — and writes
them as labelled sentences in the training corpus's format (see :mod:`services.feedback.export`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from services.feedback.export import ExportSummary, export_lines
from shared.bus import KafkaBus, KafkaSecurity
from shared.contracts import Feedback
from shared.errors import PoisonMessage, StancewatchError
from shared.settings import ServiceSettings, load_settings
from shared.topics import Topics

PROG = "stancewatch feedback"


async def read_topic(settings: ServiceSettings, problems: list[str]) -> list[Feedback]:
    """Every record of the feedback topic, partition by partition; a bad record is reported and skipped."""
    bus = KafkaBus(
        settings.kafka_bootstrap_servers,
        client_id="stancewatch-feedback-export",
        security=KafkaSecurity.from_settings(settings),
    )
    topic = Topics(prefix=settings.topic_prefix).feedback.name
    out: list[Feedback] = []
    async for batch in bus.iter_all(topic):
        for rec in batch:
            try:
                out.append(rec.decode(Feedback))
            except PoisonMessage as exc:
                problems.append(f"{topic}[{rec.partition}]@{rec.offset}: {exc}")
    # Each partition is in order; across partitions, the time the verdict was given orders them.
    out.sort(key=lambda fb: fb.created_at)
    return out


def read_file(path: Path, problems: list[str]) -> Iterator[Feedback]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield Feedback.model_validate_json(line)
            except ValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ())) or "line"
                problems.append(f"{path}:{n}: {where}: {first.get('msg', 'invalid')}")


def export(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"{PROG} export", description=__doc__.splitlines()[0])
    parser.add_argument("--bus", choices=("kafka", "file"), default="kafka", help="where the corrections are")
    parser.add_argument("--in", dest="source", type=Path, help="with --bus file: JSON lines of Feedback events")
    parser.add_argument("--out", type=Path, required=True, help="JSON lines in the corpus format")
    args = parser.parse_args(argv)
    problems: list[str] = []
    if args.bus == "file":
        if args.source is None or not args.source.is_file():
            print(f"{PROG} export: --bus file needs --in FILE (an existing file)", file=sys.stderr)
            return 2
        items = list(read_file(args.source, problems))
    else:
        if args.source is not None:
            print(f"{PROG} export: --in is only for --bus file", file=sys.stderr)
            return 2
        try:
            settings = load_settings(ServiceSettings)
        except StancewatchError as exc:
            print(f"{PROG} export: {exc}", file=sys.stderr)
            return 2
        try:
            items = asyncio.run(read_topic(settings, problems))
        except StancewatchError as exc:
            print(f"{PROG} export: {exc}", file=sys.stderr)
            return 1
    summary = ExportSummary()
    lines = export_lines(items, summary)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    os.replace(tmp, args.out)  # a reader never sees half a file
    for problem in problems:
        print(f"{PROG} export: skipped {problem}", file=sys.stderr)
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(summary.skipped.items())) or "none"
    print(
        f"exported {summary.rows} sentences from {summary.feedback} corrections "
        f"({summary.repeated} repeated, {summary.superseded} superseded, {len(problems)} unreadable; "
        f"skipped: {skipped}) -> {args.out}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(f"usage: {PROG} export [--bus kafka|file] [--in FILE] --out FILE")
        return 0 if args else 2
    if args[0] != "export":
        print(f"{PROG}: unknown sub-command {args[0]!r} (known: export)", file=sys.stderr)
        return 2
    return export(args[1:])


if __name__ == "__main__":
    sys.exit(main())
