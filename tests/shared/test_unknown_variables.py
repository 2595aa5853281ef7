"""A ``STANCEWATCH_*`` variable that nothing reads stops a service at start, naming the one it probably means.

Known is the union over every service (one environment is often shared by all of them), plus the
variables read outside the settings classes, the ones a routing file names, and the declared extras.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shared.errors import ConfigError
from shared.settings import (
    ENV_PREFIX,
    OTHER_VARIABLES,
    SERVICE_SETTINGS,
    ServiceSettings,
    field_variables,
    known_variables,
    load_settings,
    settings_class,
)

ROOT = Path(__file__).resolve().parents[2]
#: Names written wrong on purpose (here and in the README), or a user's own: never settings.
NOT_SETTINGS = {
    "STANCEWATCH_MIN_SEVERTY",
    "STANCEWATCH_JUGDE",
    "STANCEWATCH_WEBHOOK_SECRE",
    "STANCEWATCH_XYZZY",
    "STANCEWATCH_TEAM_TOKEN",
    "STANCEWATCH_OPS_URL",
    "STANCEWATCH_OPS_SECRET",
}
#: Where the project reads or documents variables.
SOURCES = ("services", "shared", "deploy", "tests", "bench", "training", ".ci")
FILES = ("docker-compose.yml", "Makefile", "README.md", "Dockerfile")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what each test sets: a stray variable of the developer's shell must not decide a test."""
    for name in list(os.environ):
        if name.upper().startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


def every_settings_class() -> list[type[ServiceSettings]]:
    return [ServiceSettings, *(settings_class(s) for s in SERVICE_SETTINGS)]


@pytest.mark.parametrize("settings_cls", every_settings_class(), ids=lambda c: c.__name__)
def test_a_misspelt_variable_fails_at_start_naming_it_and_the_one_it_means(
    monkeypatch: pytest.MonkeyPatch, settings_cls: type[ServiceSettings]
) -> None:
    monkeypatch.setenv("STANCEWATCH_MIN_SEVERTY", "shift")
    with pytest.raises(ConfigError, match=r"STANCEWATCH_MIN_SEVERTY \(did you mean STANCEWATCH_MIN_SEVERITY\?\)"):
        load_settings(settings_cls)


@pytest.mark.parametrize("settings_cls", every_settings_class(), ids=lambda c: c.__name__)
def test_a_variable_of_another_service_does_not_fail_this_one(
    monkeypatch: pytest.MonkeyPatch, settings_cls: type[ServiceSettings]
) -> None:
    # Even with a value this service could not parse: it is not this service's to read.
    others = set().union(*(field_variables(c) for c in every_settings_class())) - field_variables(settings_cls)
    assert others, "every other service has variables of its own"
    for name in others:
        monkeypatch.setenv(name, "not-for-this-service")
    load_settings(settings_cls)


def test_variables_read_outside_the_settings_classes_are_known(monkeypatch: pytest.MonkeyPatch) -> None:
    assert {"STANCEWATCH_CACHE", "STANCEWATCH_BIND"} <= set(OTHER_VARIABLES)  # kafka.sh, docker-compose.yml
    for name in OTHER_VARIABLES:
        monkeypatch.setenv(name, "0.0.0.0")
    load_settings(ServiceSettings)


@pytest.mark.parametrize("service", ["ingester", "alerter"])
def test_a_prefixed_secret_the_routing_file_names_is_known_to_every_service(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, service: str
) -> None:
    routing = tmp_path / "routing.yaml"
    routing.write_text(
        "channels:\n"
        "  ops: {type: webhook, url_env: STANCEWATCH_OPS_URL, secret_env: STANCEWATCH_OPS_SECRET}\n"
        "  newsroom: {type: slack, url_env: NEWSROOM_SLACK_URL}\n"
        "routes:\n  - {channels: [ops, newsroom]}\n"
    )
    monkeypatch.setenv("STANCEWATCH_ROUTING", str(routing))
    monkeypatch.setenv("STANCEWATCH_OPS_URL", "https://hooks.test/ops")
    monkeypatch.setenv("STANCEWATCH_OPS_SECRET", "whsec_c2VjcmV0")
    monkeypatch.setenv("NEWSROOM_SLACK_URL", "https://hooks.slack.test/x")  # not prefixed: never checked
    load_settings(settings_class(service))
    monkeypatch.setenv("STANCEWATCH_XYZZY", "1")  # the routing file makes only its own names known
    with pytest.raises(ConfigError, match="unknown variable STANCEWATCH_XYZZY"):
        load_settings(settings_class(service))


def test_an_unreadable_routing_file_makes_nothing_known_and_is_left_to_the_alerter(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STANCEWATCH_ROUTING", str(tmp_path / "absent.yaml"))
    load_settings(settings_class("ingester"))
    monkeypatch.setenv("STANCEWATCH_OPS_URL", "https://hooks.test/ops")
    with pytest.raises(ConfigError, match=r"STANCEWATCH_OPS_URL.*STANCEWATCH_EXTRA_ENV"):
        load_settings(settings_class("ingester"))


def test_a_variable_of_your_own_is_accepted_once_declared_in_extra_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCEWATCH_TEAM_TOKEN", "t0ken")
    with pytest.raises(ConfigError, match="unknown variable STANCEWATCH_TEAM_TOKEN"):
        load_settings(ServiceSettings)
    monkeypatch.setenv("STANCEWATCH_EXTRA_ENV", "STANCEWATCH_OPS_URL, stancewatch_team_token")
    load_settings(ServiceSettings)


def test_the_error_names_the_variable_but_never_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCEWATCH_WEBHOOK_SECRE", "whsec_dG9wLXNlY3JldA==")
    with pytest.raises(ConfigError) as caught:
        load_settings(settings_class("alerter"))
    assert "STANCEWATCH_WEBHOOK_SECRE (did you mean STANCEWATCH_WEBHOOK_SECRET?)" in str(caught.value)
    assert "dG9wLXNlY3JldA" not in str(caught.value)


def test_every_unknown_variable_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCEWATCH_MIN_SEVERTY", "shift")
    monkeypatch.setenv("STANCEWATCH_XYZZY", "1")
    with pytest.raises(ConfigError) as caught:
        load_settings(ServiceSettings)
    message = str(caught.value)
    assert "unknown variable STANCEWATCH_MIN_SEVERTY (did you mean" in message
    # Nothing resembles it: no guess rather than a wrong one.
    assert re.search(r"unknown variable STANCEWATCH_XYZZY(;|\.)", message)


def test_names_are_matched_without_regard_to_case_as_the_settings_read_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("stancewatch_min_severity", "shift")
    assert load_settings(settings_class("alerter")).min_severity == "shift"
    monkeypatch.setenv("stancewatch_min_severty", "shift")
    with pytest.raises(ConfigError, match=r"stancewatch_min_severty \(did you mean STANCEWATCH_MIN_SEVERITY\?\)"):
        load_settings(settings_class("alerter"))


def test_every_stancewatch_variable_the_project_mentions_is_known() -> None:
    paths = [p for d in SOURCES for p in (ROOT / d).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    paths += [ROOT / f for f in FILES]
    mentioned: dict[str, str] = {}
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for name in re.findall(r"STANCEWATCH_[A-Z0-9_]*[A-Z0-9]", text):
            mentioned.setdefault(name, str(path.relative_to(ROOT)))
    known = known_variables({})
    unknown = {n: where for n, where in mentioned.items() if n not in known and n not in NOT_SETTINGS}
    assert not unknown, f"mentioned but not known (add to a settings class or OTHER_VARIABLES): {unknown}"


def test_every_settings_class_of_a_service_is_in_the_catalogue() -> None:
    listed = {settings_class(s) for s in SERVICE_SETTINGS}
    for path in sorted((ROOT / "services").glob("*/settings.py")):
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, ServiceSettings) and value is not ServiceSettings:
                assert value in listed, f"{value.__name__} is missing from shared.settings.SERVICE_SETTINGS"


@pytest.mark.parametrize("service", sorted(SERVICE_SETTINGS))
def test_a_service_process_with_a_misspelt_variable_says_so_and_exits_2(service: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(ENV_PREFIX)}
    env |= {"STANCEWATCH_MIN_SEVERTY": "shift", "STANCEWATCH_BUS": "memory", "STANCEWATCH_HTTP_HOST": "127.0.0.1"}
    done = subprocess.run(
        [sys.executable, "-m", f"services.{service}"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert (
        f"stancewatch {service}: configuration: unknown variable STANCEWATCH_MIN_SEVERTY "
        "(did you mean STANCEWATCH_MIN_SEVERITY?)" in done.stderr
    )
    assert "Traceback" not in done.stderr
