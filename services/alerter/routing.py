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
        digest_window: 1h
        quiet_hours: {start: "22:00", end: "07:00", timezone: "Europe/Brussels"}
    routes:
      - channels: [ops]              # every figure and topic
        min_severity: shift
      - channels: [newsroom]
        actors: [trump, putin]
        topics: [ceasefire-now, putin-summit]
        min_severity: reversal
"""

from __future__ import annotations

from collections.abc import Mapping
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


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: time
    end: time
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value


class ChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["webhook", "slack", "console"]
    url_env: str | None = None
    secret_env: str | None = None
    delivery: Literal["immediate", "digest"] = "immediate"
    digest_window: timedelta = timedelta(hours=1)
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


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid")

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


def load_routing(settings: AlerterSettings, env: Mapping[str, str]) -> Routing:
    """The routing in effect: the file named by STANCEWATCH_ROUTING, or the env-only default."""
    if settings.routing is None:
        return routing_from_env(settings)
    return parse_routing(settings.routing, env, default_min_severity=settings.min_severity)


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
        raise RoutingError(f"routing {path}: {where}: {first.get('msg')}") from exc
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
