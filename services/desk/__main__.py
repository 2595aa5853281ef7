"""``stancewatch desk``: the newsroom's page of positions and evidence, where people correct the machine."""

from __future__ import annotations

import argparse
import functools
import sys

from services.desk.service import body
from services.desk.settings import DeskSettings
from shared.errors import StancewatchError
from shared.runtime import run_service
from shared.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="stancewatch desk",
        description="Serve the desk (pages, JSON API, feedback). Configured by STANCEWATCH_* variables.",
    )
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="empty the store and read every topic again from its beginning (automatic when the store is new)",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings(DeskSettings)
    except StancewatchError as exc:
        print(f"stancewatch desk: {exc}", file=sys.stderr)
        return 2
    return run_service("desk", settings, functools.partial(body, rebuild=args.rebuild))


if __name__ == "__main__":
    sys.exit(main())
