"""Routing: which figures, topics and severities go to which channels, and how each channel delivers.

Without ``STANCEWATCH_ROUTING`` the environment defines at most one webhook (``webhook``), one Slack
channel (``slack``) and ``console``, all immediate, for every figure and topic at
``STANCEWATCH_MIN_SEVERITY``. A routing file names secrets only by environment variable::

    channels:
      ops:
        type: webhook                # webhook | slack | console
        url_env: OPS_WEBHOOK_URL
        secret_env: OPS_WEBHOOK_SECRET
      newsroom:
        type: slack
        url_env: NEWSROOM_SLACK_URL
        delivery: digest             # immediate (default) | digest
        digest_window: 1h            # rolling windows, aligned on the epoch in UTC ...
      morning:
        type: slack
        url_env: MORNING_SLACK_URL
        delivery: digest
        digest_schedule:             # ... or a calendar: 07:00 Brussels time, Monday to Friday
          at: "07:00"                # or a list: ["07:00", "17:30"]
          timezone: Europe/Brussels
          days: [mon, tue, wed, thu, fri]
        quiet_hours: {start: "22:00", end: "07:00", timezone: "Europe/Brussels"}
    routes:
      - channels: [ops]              # every figure and topic
        min_severity: shift
      - name: newsroom-digest        # optional: errors name the route by it
        channels: [newsroom]
        actors: [trump, putin]
        topics: [ceasefire-now, putin-summit]
        min_severity: reversal

Every actor and topic a route names must be in the watchlist (``STANCEWATCH_WATCHLIST``, else the
shipped one): a misspelt id would otherwise match nothing, in silence (:func:`check_routes`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from services.alerter.errors import RoutingError, SignatureError
from services.alerter.settings import AlerterSettings, parse_duration
from services.alerter.signing import SECRET_PREFIX, secret_key
from shared.contracts import SEVERITY_RANK, PositionChange, Severity

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: Also accepted in a file, written out in full (any case).
_DAY_NAMES = {*WEEKDAYS, "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}


def clock_time(value: object) -> time:
    """A wall-clock time written ``"HH:MM"`` (24 h; ``"7:00"`` and ``"07:00:30"`` too). Anything else is
    refused with the reason.

    YAML 1.1 reads an unquoted ``7:00`` as the base-60 number 420 (and ``22:00`` as 1320), which
    pydantic would take as 00:07 in silence: a number is refused and the message says to quote the time.
    """
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        meant = f"{value // 60:02d}:{value % 60:02d}"
        unquoted = f"{value // 60}:{value % 60:02d}"
        raise ValueError(f'{value} is not a time: YAML reads an unquoted {unquoted} as a number; write "{meant}"')
    if not isinstance(value, str):
        raise ValueError(f'{value!r} is not a time: write it "HH:MM", in quotes')
    match = _CLOCK.match(value.strip())
    if not match:
        raise ValueError(f'{value!r} is not a time: use "HH:MM", 24 h (e.g. "07:00")')
    return time(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


def zone_name(value: str) -> str:
    """An IANA zone name that this machine (or the ``tzdata`` package) knows."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {value!r} (use an IANA name such as Europe/Brussels)") from exc
    return value


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: time
    end: time
    timezone: str = "UTC"

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: object) -> time:
        return clock_time(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return zone_name(value)


class DigestSchedule(BaseModel):
    """A digest released at wall-clock times in a timezone, on some weekdays (all by default).

    The release instant is decided by :func:`services.alerter.digest.next_release`; local times that
    daylight saving skips or repeats follow RFC 5545 (see there).
    """

    model_config = ConfigDict(extra="forbid")

    #: One time or several, ``"HH:MM"``.
    at: list[time] = Field(min_length=1)
    timezone: str = "UTC"
    #: Local weekdays on which it is released; empty = every day.
    days: list[Weekday] = Field(default_factory=list)

    @field_validator("at", mode="before")
    @classmethod
    def _times(cls, value: object) -> list[time]:
        values = value if isinstance(value, list) else [value]
        return sorted({clock_time(v) for v in values})

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: object) -> object:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            days = [
                d.strip().lower()[:3] if isinstance(d, str) and d.strip().lower() in _DAY_NAMES else d for d in value
            ]
            bad = [d for d in days if d not in WEEKDAYS]
            if bad:
                raise ValueError(f"unknown weekday(s) {bad}: use {', '.join(WEEKDAYS)}")
            return sorted(set(days), key=WEEKDAYS.index)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return zone_name(value)


class ChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["webhook", "slack", "console"]
    url_env: str | None = None
    secret_env: str | None = None
    delivery: Literal["immediate", "digest"] = "immediate"
    #: Rolling windows (aligned on the epoch, in UTC) ...
    digest_window: timedelta = timedelta(hours=1)
    #: ... or a calendar schedule (exclusive with ``digest_window``).
    digest_schedule: DigestSchedule | None = None
    quiet_hours: QuietHours | None = None
    #: Filled from the environment at load time; never read from the file.
    url: SecretStr | None = Field(default=None, exclude=True)
    secret: SecretStr | None = Field(default=None, exclude=True)

    @field_validator("digest_window", mode="before")
    @classmethod
    def _window(cls, value: object) -> timedelta:
        window = parse_duration(value)
        if window.total_seconds() < 1:
            raise ValueError("digest_window must be at least 1s")
        return window

    @model_validator(mode="after")
    def _needs_url(self) -> ChannelConfig:
        if self.type != "console" and not self.url_env and self.url is None:
            raise ValueError(f"a {self.type} channel needs url_env")
        return self

    @model_validator(mode="after")
    def _one_digest_rule(self) -> ChannelConfig:
        # A digest setting on an immediate channel would be ignored in silence: refuse it instead.
        digest_keys = [k for k in ("digest_window", "digest_schedule") if k in self.model_fields_set]
        if self.delivery != "digest" and digest_keys:
            raise ValueError(f"{digest_keys[0]} needs delivery: digest")
        if len(digest_keys) == 2:
            raise ValueError("digest_window and digest_schedule exclude each other: choose one")
        return self


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Optional, for messages about this route.
    name: str | None = None
    channels: list[str] = Field(min_length=1)
    #: Empty = every figure / topic.
    actors: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    min_severity: Severity | None = None


class Routing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    routes: list[Route] = Field(default_factory=list)
    default_min_severity: Severity = "reversal"

    @model_validator(mode="after")
    def _known_channels(self) -> Routing:
        for route in self.routes:
            unknown = [c for c in route.channels if c not in self.channels]
            if unknown:
                raise ValueError(f"route names unknown channel(s) {unknown}")
        return self


def channels_for(alert: PositionChange, routing: Routing) -> list[str]:
    """The channels an alert goes to, each once, in routing-file order."""
    out: list[str] = []
    for route in routing.routes:
        if route.actors and alert.actor not in route.actors:
            continue
        if route.topics and alert.topic not in route.topics:
            continue
        floor = route.min_severity or routing.default_min_severity
        if SEVERITY_RANK[alert.severity] < SEVERITY_RANK[floor]:
            continue
        out += [c for c in route.channels if c not in out]
    return out


def routing_from_env(settings: AlerterSettings) -> Routing:
    channels: dict[str, ChannelConfig] = {}
    if settings.webhook_url is not None:
        channels["webhook"] = ChannelConfig(type="webhook", url=settings.webhook_url, secret=settings.webhook_secret)
    if settings.slack_webhook_url is not None:
        channels["slack"] = ChannelConfig(type="slack", url=settings.slack_webhook_url)
    if settings.console_alerts:
        channels["console"] = ChannelConfig(type="console")
    routes = [Route(channels=list(channels))] if channels else []
    return Routing(channels=channels, routes=routes, default_min_severity=settings.min_severity)


@dataclass(frozen=True)
class KnownIds:
    """The figure and topic ids of a watchlist: all a route may name."""

    actors: frozenset[str]
    topics: frozenset[str]
    #: Which watchlist, for messages.
    origin: str = "the watchlist"


def watchlist_ids(path: str | Path | None) -> KnownIds:
    """The ids of the watchlist the enricher uses: ``path`` (``STANCEWATCH_WATCHLIST``) or the shipped one.

    Loaded by the enricher's own loader, so both services read one file the same way; that module needs
    only YAML and pydantic (no spaCy, no model), and this import is deferred to the call.
    """
    from services.enricher.watchlist import load_watchlist

    watchlist = load_watchlist(path or None)
    origin = f"watchlist {path}" if path else "the shipped watchlist"
    return KnownIds(frozenset(watchlist.by_figure), frozenset(watchlist.by_topic), origin)


def closest_id(name: str, known: Iterable[str]) -> str | None:
    """The known id ``name`` most likely misspells (difflib), or None when none is close."""
    match = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return match[0] if match else None


def route_problems(routing: Routing, known: KnownIds) -> list[str]:
    """One message per actor or topic a route names that the watchlist lacks (pure).

    Such a route would match nothing, in silence; each message names the route, the key and the
    closest known id.
    """
    problems: list[str] = []
    for index, route in enumerate(routing.routes):
        label = f"route {route.name!r}" if route.name else f"the route to {', '.join(route.channels)}"
        for key, ids, kind in (("actors", known.actors, "figure"), ("topics", known.topics, "topic")):
            for value in getattr(route, key):
                if value in ids:
                    continue
                guess = closest_id(value, ids)
                hint = f"did you mean {guess!r}?" if guess else f"known: {', '.join(sorted(ids)[:12])}"
                problems.append(f"routes.{index}.{key} ({label}): unknown {kind} {value!r} in {known.origin}; {hint}")
    return problems


def check_routes(routing: Routing, known: KnownIds, path: Path) -> None:
    problems = route_problems(routing, known)
    if problems:
        raise RoutingError(f"routing {path}: " + "; ".join(problems))


def load_routing(settings: AlerterSettings, env: Mapping[str, str], *, known: KnownIds | None = None) -> Routing:
    """The routing in effect: the file named by STANCEWATCH_ROUTING, checked against the watchlist, or the
    env-only default (which names no figure or topic)."""
    if settings.routing is None:
        return routing_from_env(settings)
    routing = parse_routing(settings.routing, env, default_min_severity=settings.min_severity)
    if known is None:
        from services.enricher.errors import WatchlistError

        try:
            known = watchlist_ids(settings.watchlist)
        except WatchlistError as exc:
            raise RoutingError(f"routing {settings.routing}: cannot check routes against the watchlist: {exc}") from exc
    check_routes(routing, known, settings.routing)
    return routing


def routing_variables(path: Path) -> set[str]:
    """The environment variables a routing file names; empty when it cannot be read.

    Used by the unknown-variable check of every service, which must not fail on a routing file: an
    unreadable or invalid one is reported by the alerter when it loads its routing.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return set()
    channels = raw.get("channels") if isinstance(raw, dict) else None
    if not isinstance(channels, dict):
        return set()
    return {
        cfg[key]
        for cfg in channels.values()
        if isinstance(cfg, dict)
        for key in ("url_env", "secret_env")
        if isinstance(cfg.get(key), str)
    }


def parse_routing(path: Path, env: Mapping[str, str], *, default_min_severity: Severity = "reversal") -> Routing:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RoutingError(f"routing {path}: cannot read: {exc}") from exc
    if not isinstance(raw, dict):
        raise RoutingError(f"routing {path}: top level must be a mapping")
    raw.setdefault("default_min_severity", default_min_severity)
    try:
        routing = Routing.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        msg = str(first.get("msg", "")).removeprefix("Value error, ")
        raise RoutingError(f"routing {path}: {where}: {msg}") from exc
    for name, cfg in routing.channels.items():
        if cfg.url_env:
            if not env.get(cfg.url_env):
                raise RoutingError(f"routing {path}: channel {name}: environment variable {cfg.url_env} is not set")
            cfg.url = SecretStr(env[cfg.url_env])
        if cfg.secret_env:
            secret = env.get(cfg.secret_env, "")
            try:
                if not secret.startswith(SECRET_PREFIX):
                    raise SignatureError("no whsec_ prefix")
                secret_key(secret)
            except SignatureError as exc:
                raise RoutingError(
                    f"routing {path}: channel {name}: {cfg.secret_env} must hold whsec_ and non-empty base64"
                ) from exc
            cfg.secret = SecretStr(secret)
    return routing
