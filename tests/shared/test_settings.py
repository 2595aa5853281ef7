"""Settings come from the environment and fail fast, naming the variable."""

from __future__ import annotations

import pytest

from shared.bus import GroupTimeouts
from shared.errors import ConfigError
from shared.settings import ServiceSettings, load_settings


def test_bootstrap_servers_use_the_standard_kafka_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "10.1.2.3:9094")
    assert load_settings(ServiceSettings).kafka_bootstrap_servers == "10.1.2.3:9094"


def test_defaults_point_at_the_local_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    assert load_settings(ServiceSettings).kafka_bootstrap_servers == "127.0.0.1:9092"


def test_an_invalid_value_names_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCEWATCH_HTTP_PORT", "not-a-port")
    with pytest.raises(ConfigError, match="STANCEWATCH_HTTP_PORT"):
        load_settings(ServiceSettings)


def test_an_unknown_bus_kind_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCEWATCH_BUS", "carrier-pigeon")
    with pytest.raises(ConfigError, match="STANCEWATCH_BUS"):
        load_settings(ServiceSettings)


@pytest.mark.parametrize("servers", ["127.0.0.1:notaport", "127.0.0.1", "broker:0", "a:9092,b:99999", ":9092"])
def test_a_bootstrap_server_that_is_not_host_and_port_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, servers: str
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", servers)
    with pytest.raises(ConfigError, match=r"KAFKA_BOOTSTRAP_SERVERS.*host:port"):
        load_settings(ServiceSettings)


def test_several_bootstrap_servers_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-0.kafka:9092, kafka-1.kafka:9092")
    assert load_settings(ServiceSettings).kafka_bootstrap_servers.startswith("kafka-0")


def test_the_group_timeouts_that_bound_fail_over_are_settings_with_kafka_s_usual_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings(ServiceSettings).group_timeouts() == GroupTimeouts(10_000, 1_000)
    monkeypatch.setenv("STANCEWATCH_KAFKA_SESSION_TIMEOUT", "6s")
    monkeypatch.setenv("STANCEWATCH_KAFKA_HEARTBEAT_INTERVAL", "0.5s")
    assert load_settings(ServiceSettings).group_timeouts() == GroupTimeouts(6_000, 500)


def test_a_heartbeat_not_below_the_session_timeout_is_refused_naming_both(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCEWATCH_KAFKA_SESSION_TIMEOUT", "6s")
    monkeypatch.setenv("STANCEWATCH_KAFKA_HEARTBEAT_INTERVAL", "6s")
    with pytest.raises(ConfigError, match=r"HEARTBEAT_INTERVAL.*SESSION_TIMEOUT"):
        load_settings(ServiceSettings)
