"""Settings from the environment (12-factor): ``STANCEWATCH_*`` plus the standard ``KAFKA_BOOTSTRAP_SERVERS``.

Each service subclasses :class:`ServiceSettings`; :func:`load_settings` turns a validation error
into a :class:`ConfigError` that names the environment variable, and refuses a ``STANCEWATCH_*``
variable that nothing reads (a misspelt one would otherwise be ignored in silence).
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.bus.base import GroupTimeouts
from shared.errors import ConfigError

ENV_PREFIX = "STANCEWATCH_"
#: The escape hatch: comma-separated names of further ``STANCEWATCH_*`` variables that are yours.
EXTRA_ENV = "STANCEWATCH_EXTRA_ENV"

#: Every service's settings class. One environment (a compose file, an env file, a ConfigMap) is often
#: shared by all services, so a variable is known when any of them reads it. By dotted path: the
#: services depend on this module, not the other way round.
SERVICE_SETTINGS: dict[str, str] = {
    "ingester": "services.ingester.settings:IngesterSettings",
    "enricher": "services.enricher.settings:EnricherSettings",
    "alerter": "services.alerter.settings:AlerterSettings",
    "desk": "services.desk.settings:DeskSettings",
}

#: Variables the project reads outside the settings classes, and who reads them.
OTHER_VARIABLES: dict[str, str] = {
    "STANCEWATCH_CACHE": "deploy/kafka/kafka.sh: the local broker's jars and data (default .cache)",
    "STANCEWATCH_BIND": "docker-compose.yml: the interface the health ports are published on",
    EXTRA_ENV: "these checks: names of further STANCEWATCH_ variables that are yours",
}


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

    @field_validator(
        "broker_probe_interval",
        "broker_max_outage",
        "stall_after",
        "kafka_session_timeout",
        "kafka_heartbeat_interval",
        mode="before",
    )
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
    #: A consumer silent this long (killed, host lost) is dropped from its group and its partitions move to
    #: the other instances: it bounds fail-over (README, Reliability). The broker accepts 6s to 30m by default.
    kafka_session_timeout: timedelta = timedelta(seconds=10)
    #: How often consumers tell the group they are alive; they learn of a rebalance on their next beat.
    kafka_heartbeat_interval: timedelta = timedelta(seconds=1)

    #: How every Kafka client (producer, consumers, admin) talks to the broker: see README, Kafka security.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    #: PEM files: the CA to trust (unset: the system's), and a client certificate and key for mutual TLS.
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    kafka_ssl_key_password: SecretStr | None = None

    @field_validator(
        "kafka_sasl_username",
        "kafka_sasl_password",
        "kafka_ssl_cafile",
        "kafka_ssl_certfile",
        "kafka_ssl_keyfile",
        "kafka_ssl_key_password",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """``VAR=`` in an env file means unset, not an empty name or the current directory."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile")
    @classmethod
    def _file_exists(cls, value: Path | None) -> Path | None:
        """A missing certificate fails at start, not as a TLS error on the first connection."""
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @model_validator(mode="after")
    def _group_timeouts(self) -> ServiceSettings:
        if not timedelta(0) < self.kafka_heartbeat_interval < self.kafka_session_timeout:
            raise ValueError(
                "STANCEWATCH_KAFKA_HEARTBEAT_INTERVAL must be positive and below STANCEWATCH_KAFKA_SESSION_TIMEOUT "
                f"({self.kafka_heartbeat_interval.total_seconds():g}s, "
                f"{self.kafka_session_timeout.total_seconds():g}s)"
            )
        return self

    def group_timeouts(self) -> GroupTimeouts:
        """The consumer-group timeouts every consumer of this service is built with."""
        return GroupTimeouts(
            session_timeout_ms=int(self.kafka_session_timeout.total_seconds() * 1000),
            heartbeat_interval_ms=int(self.kafka_heartbeat_interval.total_seconds() * 1000),
        )

    @model_validator(mode="after")
    def _kafka_security_consistent(self) -> ServiceSettings:
        """Credentials the protocol would ignore are a mistake too: they would go unused in silence."""
        protocol = self.kafka_security_protocol
        sasl, tls = protocol.startswith("SASL_"), protocol in ("SSL", "SASL_SSL")
        problems = []
        if sasl:
            missing = [
                name
                for name, value in (
                    ("STANCEWATCH_KAFKA_SASL_USERNAME", self.kafka_sasl_username),
                    ("STANCEWATCH_KAFKA_SASL_PASSWORD", self.kafka_sasl_password),
                )
                if value is None or (isinstance(value, SecretStr) and not value.get_secret_value())
            ]
            if missing:
                problems.append(
                    f"{' and '.join(missing)} must be set with STANCEWATCH_KAFKA_SECURITY_PROTOCOL={protocol}"
                )
        elif self.kafka_sasl_username is not None or self.kafka_sasl_password is not None:
            problems.append(
                f"STANCEWATCH_KAFKA_SASL_USERNAME/PASSWORD are set but STANCEWATCH_KAFKA_SECURITY_PROTOCOL={protocol} "
                "does not use SASL (use SASL_PLAINTEXT or SASL_SSL)"
            )
        if not tls:
            unused = [
                f"STANCEWATCH_{name.upper()}"
                for name in ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile", "kafka_ssl_key_password")
                if getattr(self, name) is not None
            ]
            if unused:
                problems.append(
                    f"{', '.join(unused)} set but STANCEWATCH_KAFKA_SECURITY_PROTOCOL={protocol} does not use TLS "
                    "(use SSL or SASL_SSL)"
                )
        if self.kafka_ssl_keyfile is not None and self.kafka_ssl_certfile is None:
            problems.append("STANCEWATCH_KAFKA_SSL_KEYFILE is set without STANCEWATCH_KAFKA_SSL_CERTFILE")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @classmethod
    def referenced_variables(cls, env: Mapping[str, str]) -> set[str]:
        """Variables that no field reads but this service's configuration names (none by default)."""
        return set()


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


def settings_class(service: str) -> type[ServiceSettings]:
    """The settings class of ``service`` (a key of :data:`SERVICE_SETTINGS`)."""
    module, _, name = SERVICE_SETTINGS[service].partition(":")
    cls = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, ServiceSettings)):
        raise TypeError(f"{SERVICE_SETTINGS[service]} is not a ServiceSettings class")
    return cls


def field_variables(settings_cls: type[BaseSettings]) -> set[str]:
    """The environment variable of every field of ``settings_cls``."""
    return {env_name(settings_cls, field) for field in settings_cls.model_fields}


def env_value(env: Mapping[str, str], name: str) -> str:
    """``env[name]``, matched without regard to case as the settings are ("" when unset)."""
    if name in env:
        return env[name]
    return next((v for k, v in env.items() if k.upper() == name), "")


def known_variables(env: Mapping[str, str]) -> set[str]:
    """Every variable some service reads, the ones its configuration names, and the declared extras."""
    known = set(OTHER_VARIABLES)
    classes: list[type[ServiceSettings]] = [ServiceSettings, *(settings_class(s) for s in SERVICE_SETTINGS)]
    for cls in classes:
        known |= field_variables(cls) | {v.upper() for v in cls.referenced_variables(env)}
    known |= {n.strip().upper() for n in env_value(env, EXTRA_ENV).split(",") if n.strip()}
    return known


def unknown_variables(env: Mapping[str, str], known: set[str]) -> list[str]:
    """``STANCEWATCH_*`` names in ``env`` that are not in ``known`` (names only: values may be secrets)."""
    return sorted(n for n in env if n.upper().startswith(ENV_PREFIX) and n.upper() not in known)


def closest_variable(name: str, known: set[str]) -> str | None:
    """The known prefixed variable ``name`` most likely misspells (compared without the shared prefix)."""
    stems = {k.removeprefix(ENV_PREFIX): k for k in known if k.startswith(ENV_PREFIX)}
    match = difflib.get_close_matches(name.upper().removeprefix(ENV_PREFIX), list(stems), n=1, cutoff=0.6)
    return stems[match[0]] if match else None


def check_environment(env: Mapping[str, str]) -> None:
    """Refuse unknown ``STANCEWATCH_*`` variables, naming each and the known one it probably means."""
    known = known_variables(env)
    unknown = unknown_variables(env, known)
    if not unknown:
        return
    problems = []
    for name in unknown:
        guess = closest_variable(name, known)
        problems.append(f"unknown variable {name}" + (f" (did you mean {guess}?)" if guess else ""))
    them = "it" if len(unknown) == 1 else "them"
    raise ConfigError(
        f"configuration: {'; '.join(problems)}. No stancewatch service reads {them}; "
        f"a variable of your own can be declared in {EXTRA_ENV} (comma-separated names)"
    )


def load_settings(settings_cls: type[S], **overrides: object) -> S:
    """Build settings from the environment; fail fast naming the variable that is wrong or unknown."""
    check_environment(os.environ)
    try:
        return settings_cls(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = err.get("loc", ())
            if not loc:  # a check across fields: its message names the variables itself
                problems.append(str(err.get("msg")).removeprefix("Value error, "))
                continue
            field = str(loc[0])
            var = env_name(settings_cls, field) if field in settings_cls.model_fields else field.upper()
            problems.append(f"{var}: {err.get('msg')}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from exc
