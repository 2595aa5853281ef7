"""``stancewatch alerter``: observations -> positions, alerts, signed webhooks and Slack messages."""

from __future__ import annotations

import argparse
import os
import sys

from services.alerter import sample
from services.alerter.routing import ChannelConfig, load_routing
from services.alerter.service import body
from services.alerter.settings import AlerterSettings
from shared.errors import StancewatchError
from shared.runtime import run_service
from shared.settings import load_settings


def describe_delivery(cfg: ChannelConfig) -> str:
    """``immediate``, ``digest every 1:00:00`` or ``digest at 07:00 Europe/Brussels (mon-fri)``."""
    if cfg.delivery != "digest":
        return cfg.delivery
    schedule = cfg.digest_schedule
    if schedule is None:
        return f"digest every {cfg.digest_window}"
    days = f" ({', '.join(schedule.days)})" if schedule.days else ""
    times = ", ".join(t.strftime("%H:%M:%S" if t.second else "%H:%M") for t in schedule.at)
    return f"digest at {times} {schedule.timezone}{days}"


def watchlist_origin(settings: AlerterSettings) -> str:
    return f"watchlist {settings.watchlist}" if settings.watchlist else "the shipped watchlist"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="stancewatch alerter",
        description="Track positions, detect shifts and deliver alerts. Configured by STANCEWATCH_* variables.",
    )
    parser.add_argument("--check-config", action="store_true", help="validate settings and routing, then exit")
    parser.add_argument(
        "--test-notification",
        metavar="CHANNEL",
        help="send one clearly marked test alert through CHANNEL, print the outcome; exit 0 when delivered",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings(AlerterSettings)
        routing = load_routing(settings, os.environ)
    except StancewatchError as exc:
        print(f"stancewatch alerter: {exc}", file=sys.stderr)
        return 2
    if args.test_notification:
        return sample.run(args.test_notification, routing, settings)
    if args.check_config:
        for name, cfg in routing.channels.items():
            print(
                f"channel {name}: {cfg.type}, {describe_delivery(cfg)}" + (", quiet hours" if cfg.quiet_hours else "")
            )
        checked = f", actors and topics checked against {watchlist_origin(settings)}" if settings.routing else ""
        print(f"{len(routing.routes)} route(s); default min severity {routing.default_min_severity}{checked}")
        return 0
    return run_service("alerter", settings, body)


if __name__ == "__main__":
    sys.exit(main())
