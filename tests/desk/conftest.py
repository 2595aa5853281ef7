"""Fixtures of the desk's tests: a real PostgreSQL server for the session and a store of each kind."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.desk.store import Store
from services.desk.store.postgres import PostgresStore
from services.desk.store.sqlite import SqliteStore
from tests.desk.postgres import TempPostgres, missing_reason


@pytest.fixture(scope="session")
def pg_server() -> Iterator[TempPostgres]:
    reason = missing_reason()
    if reason:
        pytest.skip(f"PostgreSQL store tests skipped: {reason}")
    server = TempPostgres()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def pg_url(pg_server: TempPostgres) -> str:
    """An empty database of this test's own on the session's server."""
    return await pg_server.new_database()


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """The same tests run on both implementations of the store."""
    if request.param == "sqlite":
        made: Store = SqliteStore(tmp_path / "desk.sqlite3")
    else:
        made = PostgresStore(await _pg(request))
    await made.open()
    try:
        yield made
    finally:
        await made.close()


async def _pg(request: pytest.FixtureRequest) -> str:
    server: TempPostgres = request.getfixturevalue("pg_server")
    return await server.new_database()
