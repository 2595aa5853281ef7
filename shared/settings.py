"""Settings from the environment (12-factor): ``STANCEWATCH_*`` plus the standard ``KAFKA_BOOTSTRAP_SERVERS``.

Each service subclasses :class:`ServiceSettings`; :func:`load_settings` turns a validation error
into a :class:`ConfigError` that names the environment variable.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal, TypeVar

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import ConfigError

ENV_PREFIX = "STANCEWATCH_"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> timedelta:
    """``90``, ``90s``, ``15m``, ``48h``, ``2d`` (or a timedelta) -> timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 48h, 2d)")
    return timedelta(seconds=float(match.group(1)) * _UNIT_S[match.group(2)])


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", case_sensitive=False)

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS"),
        min_length=3,
    )

    @field_validator("broker_probe_interval", "broker_max_outage", "stall_after", mode="before")
    @classmethod
    def _service_duration(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return parse_duration(value)

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _host_port_list(cls, value: str) -> str:
        """Every entry is ``host:port`` with a port in range: a typo fails at start, not as a traceback later."""
        for server in value.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{server.strip()!r} is not host:port (e.g. 127.0.0.1:9092)")
        return value

    #: ``kafka`` for the services; ``memory`` runs a single process with no broker.
    bus: Literal["kafka", "memory"] = "kafka"
    topic_prefix: str = Field(default="stancewatch.", pattern=r"^[A-Za-z0-9._-]*$")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    #: Host and port of the /healthz, /readyz and /metrics endpoint (0 = pick a free port).
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=0, ge=0, le=65535)
    #: How often readiness checks that the broker answers (/readyz is 503 within one interval of an outage).
    broker_probe_interval: timedelta = timedelta(seconds=2)
    #: Exit (status 1) when the broker has been away this long; unset (the default): ride out any outage.
    broker_max_outage: timedelta | None = None
    #: A loop that has not turned for this long fails /healthz (liveness), so the orchestrator restarts it.
    stall_after: timedelta = timedelta(minutes=5)
    #: Create missing topics at start-up (off where an operator such as Strimzi owns them).
    create_topics: bool = True
    #: Replication factor for topics this service creates (3 on a production cluster).
    replication_factor: int = Field(default=1, ge=1, le=10)


S = TypeVar("S", bound=BaseSettings)


def env_name(settings_cls: type[BaseSettings], field: str) -> str:
    info = settings_cls.model_fields.get(field)
    alias = info.validation_alias if info else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    if isinstance(alias, str):
        return alias
    prefix = settings_cls.model_config.get("env_prefix", "")
    return f"{prefix}{field}".upper()


def load_settings(settings_cls: type[S], **overrides: object) -> S:
    """Build settings from the environment; fail fast naming the variable that is wrong."""
    try:
        return settings_cls(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = err.get("loc", ())
            field = str(loc[0]) if loc else "?"
            var = env_name(settings_cls, field) if field in settings_cls.model_fields else field.upper()
            problems.append(f"{var}: {err.get('msg')}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from exc
