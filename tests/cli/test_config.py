"""``stancewatch config SERVICE``: the effective settings, as the service loads them, with every secret masked."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from pydantic import SecretStr

from services.config import MASK, effective_settings, shown
from shared.settings import ENV_PREFIX, SERVICE_SETTINGS, field_variables, load_settings, settings_class
from tests.support import clean_env, stancewatch

WEBHOOK_URL = "https://hooks.test/in/T0p-s3cret-path"
WEBHOOK_SECRET = "whsec_dG9wLXNlY3JldC1rZXk="
SLACK_URL = "https://hooks.slack.test/services/T000/B000/XXXXslacksecret"
SECRETS = (WEBHOOK_URL, "T0p-s3cret-path", WEBHOOK_SECRET, "dG9wLXNlY3JldC1rZXk", SLACK_URL, "XXXXslacksecret")


def parse(out: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in out.splitlines())


@pytest.mark.parametrize("service", sorted(SERVICE_SETTINGS))
async def test_config_prints_every_setting_of_the_service_once_as_key_value(service: str) -> None:
    done = await stancewatch("config", service, env=clean_env(STANCEWATCH_HTTP_PORT="8080"))
    assert done.status == 0, done.err
    lines = done.out.splitlines()
    names = [line.split("=", 1)[0] for line in lines]
    assert sorted(names) == sorted(field_variables(settings_class(service)))
    assert parse(done.out)["STANCEWATCH_HTTP_PORT"] == "8080"


async def test_config_never_shows_a_secret_set_in_the_environment() -> None:
    env = clean_env(
        STANCEWATCH_WEBHOOK_URL=WEBHOOK_URL,
        STANCEWATCH_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STANCEWATCH_SLACK_WEBHOOK_URL=SLACK_URL,
    )
    text = await stancewatch("config", "alerter", env=env)
    as_json = await stancewatch("config", "alerter", "--json", env=env)
    assert text.status == 0 and as_json.status == 0, text.err + as_json.err
    for output in (text.out + text.err, as_json.out + as_json.err):
        for secret in SECRETS:
            assert secret not in output
    values = parse(text.out)
    # Set secrets say that they are set, and nothing more.
    assert values["STANCEWATCH_WEBHOOK_URL"] == values["STANCEWATCH_WEBHOOK_SECRET"] == MASK
    assert json.loads(as_json.out)["STANCEWATCH_SLACK_WEBHOOK_URL"] == MASK


async def test_an_unset_secret_is_shown_empty_so_one_sees_it_is_missing() -> None:
    done = await stancewatch("config", "alerter", "--json")
    assert done.status == 0, done.err
    assert json.loads(done.out)["STANCEWATCH_WEBHOOK_SECRET"] is None


def test_anything_named_like_a_secret_token_or_password_is_masked_whatever_its_type() -> None:
    assert shown("SLACK_BOT_TOKEN", "xoxb-123") == MASK
    assert shown("DB_PASSWORD", "hunter2") == MASK
    assert shown("OPS_SIGNING_SECRET", "whsec_abc") == MASK
    assert shown("ANYTHING", SecretStr("value")) == MASK
    assert shown("ANYTHING", SecretStr("")) is None


def test_credentials_in_a_url_are_masked_and_the_rest_of_it_is_shown() -> None:
    masked = shown("FEED_URL", "https://reader:hunter2@feeds.test/world.xml?token=abc123&lang=en")
    assert masked == f"https://{MASK}@feeds.test/world.xml?token={MASK}&lang=en"
    assert (
        shown("STANCEWATCH_USER_AGENT", "bot/1 (+https://example.test/about)") == "bot/1 (+https://example.test/about)"
    )


@pytest.mark.parametrize("service", ["ingester", "enricher"])
def test_what_config_prints_loads_back_into_the_same_settings(monkeypatch: pytest.MonkeyPatch, service: str) -> None:
    for name in list(os.environ):
        if name.upper().startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.setenv("STANCEWATCH_BROKER_PROBE_INTERVAL", "90")
    monkeypatch.setenv("STANCEWATCH_STALL_AFTER", "1.5m")
    first = load_settings(settings_class(service))
    assert first.broker_probe_interval == timedelta(seconds=90)
    printed = effective_settings(first)
    assert printed["STANCEWATCH_BROKER_PROBE_INTERVAL"] == "90s"
    for name, value in printed.items():
        if value is not None:
            monkeypatch.setenv(name, value)
    assert load_settings(settings_class(service)) == first


async def test_config_fails_like_the_service_would_on_a_misspelt_variable() -> None:
    done = await stancewatch("config", "enricher", env=clean_env(STANCEWATCH_JUGDE="rules"))
    assert done.status == 2
    assert "unknown variable STANCEWATCH_JUGDE (did you mean STANCEWATCH_JUDGE?)" in done.err


async def test_config_of_a_service_that_does_not_exist_is_a_usage_error() -> None:
    done = await stancewatch("config", "notifier")
    assert done.status == 2
    assert "invalid choice" in done.err
