"""The desk's store: :class:`Store`, its SQLite and PostgreSQL implementations, and the choice between them."""

from __future__ import annotations

from pathlib import Path

from services.desk.store.base import (
    MAX_PAGE,
    AlertQuery,
    AlertView,
    DeliveryRow,
    FeedbackQuery,
    ObservationQuery,
    Overview,
    Page,
    PositionRow,
    Store,
    Timeline,
    TimelineEntry,
    Window,
)

#: The SQLite file under the data directory.
SQLITE_FILE = "desk.sqlite3"


def make_store(database_url: str | None, data_dir: Path) -> Store:
    """PostgreSQL when a URL names one, else the SQLite file in ``data_dir``."""
    if database_url:
        from services.desk.store.postgres import PostgresStore

        return PostgresStore(database_url)
    from services.desk.store.sqlite import SqliteStore

    return SqliteStore(data_dir / SQLITE_FILE)


__all__ = [
    "MAX_PAGE",
    "SQLITE_FILE",
    "AlertQuery",
    "AlertView",
    "DeliveryRow",
    "FeedbackQuery",
    "ObservationQuery",
    "Overview",
    "Page",
    "PositionRow",
    "Store",
    "Timeline",
    "TimelineEntry",
    "Window",
    "make_store",
]
