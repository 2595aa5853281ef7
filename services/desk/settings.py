"""Desk settings: the `DESK_*` environment variables (with the common prefix; keys and secrets as SecretStr)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from services.desk.auth import parse_api_keys
from shared.settings import ServiceSettings, parse_duration


class DeskSettings(ServiceSettings):
    #: Where the pages and the API listen (health, readiness and metrics are served there too).
    desk_host: str = "0.0.0.0"
    desk_port: int = Field(default=8090, ge=0, le=65535)
    #: The SQLite file (``desk.sqlite3``) lives here unless ``DESK_DATABASE_URL`` names a PostgreSQL database.
    desk_data_dir: Path = Path(".cache/desk")
    #: ``postgresql://user:password@host:5432/db``: one store shared by several desk replicas.
    desk_database_url: SecretStr | None = None
    #: ``name:key`` pairs, comma-separated: who may write (give feedback) and, with ``DESK_READ_AUTH=key``, read.
    desk_api_keys: SecretStr | None = None
    #: Signs session cookies and CSRF tokens. Unset: a random one per process (sessions end with it and are
    #: not shared by replicas), so set it where several replicas serve one newsroom.
    desk_session_secret: SecretStr | None = None
    desk_session_ttl: timedelta = timedelta(hours=12)
    #: ``open``: anyone who reaches the desk reads it; ``key``: reads need a key or a session as writes do.
    desk_read_auth: Literal["open", "key"] = "open"
    #: Mark the session cookie ``Secure`` (set it when the desk is served over HTTPS).
    desk_cookie_secure: bool = False
    #: The consumer group; the store's generation is appended, so a new store reads the topics from the start.
    desk_group_id: str = "stancewatch-desk"
    desk_page_size: int = Field(default=50, ge=1, le=500)

    @field_validator("desk_session_ttl", mode="before")
    @classmethod
    def _duration(cls, value: object) -> timedelta:
        return parse_duration(value)

    @field_validator("desk_database_url", "desk_api_keys", "desk_session_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("desk_database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL (unset: the SQLite file under STANCEWATCH_DESK_DATA_DIR)")
        return value

    @field_validator("desk_api_keys")
    @classmethod
    def _keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_api_keys(value.get_secret_value())  # its errors name entries by position, never a key
        return value

    @field_validator("desk_session_secret")
    @classmethod
    def _secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    def api_keys(self) -> dict[str, str]:
        return parse_api_keys(self.desk_api_keys.get_secret_value()) if self.desk_api_keys else {}
