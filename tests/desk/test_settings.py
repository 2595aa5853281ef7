"""The desk's settings: wrong values stop it at start naming the variable; secrets are never shown."""

from __future__ import annotations

import pytest

from services.config import effective_settings
from services.desk.settings import DeskSettings
from shared.errors import ConfigError
from shared.settings import load_settings


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        (
            "STANCEWATCH_DESK_DATABASE_URL",
            "mysql://db/desk",
            "STANCEWATCH_DESK_DATABASE_URL: Value error, must be a postgresql",
        ),
        ("STANCEWATCH_DESK_API_KEYS", "editor:tooshort", "STANCEWATCH_DESK_API_KEYS: Value error, the key of 'editor'"),
        ("STANCEWATCH_DESK_SESSION_SECRET", "abc", "at least 32 characters"),
        ("STANCEWATCH_DESK_READ_AUTH", "maybe", "STANCEWATCH_DESK_READ_AUTH"),
        ("STANCEWATCH_DESK_PORT", "70000", "STANCEWATCH_DESK_PORT"),
    ],
)
def test_a_wrong_desk_setting_names_its_variable_and_not_its_secret(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=problem) as caught:
        load_settings(DeskSettings)
    assert "tooshort" not in str(caught.value)


def test_config_masks_the_keys_the_session_secret_and_the_database_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCEWATCH_DESK_API_KEYS", "editor:editor-key-0123456789")
    monkeypatch.setenv("STANCEWATCH_DESK_SESSION_SECRET", "s" * 40)
    monkeypatch.setenv("STANCEWATCH_DESK_DATABASE_URL", "postgresql://desk:hunter2hunter2@db:5432/desk")
    shown = effective_settings(load_settings(DeskSettings))
    assert shown["STANCEWATCH_DESK_API_KEYS"] == shown["STANCEWATCH_DESK_SESSION_SECRET"] == "***"
    assert shown["STANCEWATCH_DESK_DATABASE_URL"] == "***"
    assert "hunter2" not in repr(shown) and "editor-key" not in repr(shown)
    assert load_settings(DeskSettings).api_keys() == {"editor": "editor-key-0123456789"}
