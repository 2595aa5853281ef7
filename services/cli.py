"""``stancewatch``: one console command in front of every service and tool.

Each sub-command lives in its own package and is imported only when used, so ``stancewatch
ingest`` does not load spaCy and ``stancewatch alerter`` does not load feedparser.
"""

from __future__ import annotations

import importlib
import sys

#: command -> (module, function taking argv and returning an exit status, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "ingester": ("services.ingester.__main__", "main", "run the ingester service (feeds -> articles topic)"),
    "enricher": ("services.enricher.__main__", "main", "run the enricher service (articles -> observations)"),
    "alerter": ("services.alerter.__main__", "main", "run the alerter service (observations -> alerts)"),
    "desk": ("services.desk.__main__", "main", "serve the newsroom desk (positions, evidence, feedback)"),
    "ingest": ("services.ingester.oneshot", "main", "poll a feed list once, write articles as JSON lines"),
    "replay": ("services.replay.__main__", "main", "push an articles file through enrich + alert logic"),
    "evaluate": ("services.evaluate.__main__", "main", "measure the stance judgement on the labelled sets"),
    "feedback": ("services.feedback.__main__", "main", "export people's corrections as labelled sentences"),
    "topics": ("services.topics", "main", "create the declared Kafka topics (idempotent)"),
    "config": ("services.config", "main", "print the effective settings of a service, secrets masked"),
    "healthcheck": ("services.healthcheck", "main", "GET /healthz of a local service: exit 0 when healthy"),
}


def usage() -> str:
    lines = ["usage: stancewatch [--version] COMMAND [ARGS]", "", "commands:"]
    lines += [f"  {name:<11} {help_}" for name, (_, _, help_) in COMMANDS.items()]
    return "\n".join(lines)


def version_line() -> str:
    """The package version and the judge versions, from constants: no model is loaded for this."""
    from importlib import metadata

    from services.enricher import RULES_VERSION
    from services.enricher.judges.combined import VERSION as COMBINED_VERSION

    try:
        package = metadata.version("stancewatch")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        package = "unknown (not installed)"
    return f"stancewatch {package} (judges rules-{RULES_VERSION}, combined-{COMBINED_VERSION})"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    if args[0] in ("-V", "--version"):
        print(version_line())
        return 0
    entry = COMMANDS.get(args[0])
    if entry is None:
        print(f"stancewatch: unknown command {args[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module, func, _ = entry
    return int(getattr(importlib.import_module(module), func)(args[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
