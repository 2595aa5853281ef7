"""Alerter configuration from the environment: durations, secret formats, clear errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.alerter.settings import AlerterSettings, parse_duration
from shared.errors import ConfigError
from shared.settings import load_settings


def test_durations_accept_units_and_plain_seconds() -> None:
    assert parse_duration("48h") == timedelta(hours=48)
    assert parse_duration("90") == timedelta(seconds=90)
    assert parse_duration("1.5m") == timedelta(seconds=90)
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("two days")


def test_environment_configures_channels_and_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCEWATCH_WEBHOOK_URL", "https://hooks.test/in")
    monkeypatch.setenv("STANCEWATCH_WEBHOOK_SECRET", "whsec_c2VjcmV0")
    monkeypatch.setenv("STANCEWATCH_SLACK_WEBHOOK_URL", "https://hooks.slack.test/T/B/X")
    monkeypatch.setenv("STANCEWATCH_MIN_SEVERITY", "shift")
    monkeypatch.setenv("STANCEWATCH_MIN_CONFIDENCE", "0.7")
    monkeypatch.setenv("STANCEWATCH_CORROBORATION_WINDOW", "12h")
    s = load_settings(AlerterSettings)
    assert (s.min_severity, s.min_confidence, s.corroboration_window) == ("shift", 0.7, timedelta(hours=12))
    assert s.slack_webhook_url is not None and "hooks.slack.test" not in repr(s)
    assert "c2VjcmV0" not in str(s.model_dump())


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("STANCEWATCH_WEBHOOK_SECRET", "not-a-whsec"),
        ("STANCEWATCH_WEBHOOK_SECRET", "whsec_not base64!"),
        ("STANCEWATCH_WEBHOOK_SECRET", "whsec_"),
        ("STANCEWATCH_SLACK_WEBHOOK_URL", "ftp://hooks.test"),
        ("STANCEWATCH_MIN_SEVERITY", "catastrophe"),
        ("STANCEWATCH_CORROBORATION_WINDOW", "soon"),
        ("STANCEWATCH_DELIVERY_MAX_AGE", "0s"),
        ("STANCEWATCH_DELIVERY_MAX_AGE", "until it works"),
    ],
)
def test_bad_values_name_their_variable(monkeypatch: pytest.MonkeyPatch, var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=var):
        load_settings(AlerterSettings)


def test_delivery_max_age_defaults_to_an_hour_and_takes_a_duration(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(AlerterSettings).delivery_max_age == timedelta(hours=1)
    monkeypatch.setenv("STANCEWATCH_DELIVERY_MAX_AGE", "15m")
    assert load_settings(AlerterSettings).delivery_max_age == timedelta(minutes=15)


def test_empty_optional_channel_variables_mean_not_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCEWATCH_SLACK_WEBHOOK_URL", "")
    monkeypatch.setenv("STANCEWATCH_ROUTING", " ")
    settings = load_settings(AlerterSettings)
    assert settings.slack_webhook_url is None
    assert settings.routing is None


def test_the_bound_on_held_positions_comes_from_the_environment_and_zero_means_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings(AlerterSettings).max_positions == 5_000
    monkeypatch.setenv("STANCEWATCH_MAX_POSITIONS", "0")
    assert load_settings(AlerterSettings).max_positions == 0
    monkeypatch.setenv("STANCEWATCH_MAX_POSITIONS", "-1")
    with pytest.raises(ConfigError):
        load_settings(AlerterSettings)
