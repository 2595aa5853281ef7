"""The shared store: PostgreSQL through asyncpg, so several desk replicas serve one set of data.

Same SQL as SQLite (``?`` placeholders are numbered here); migrations take an advisory lock so replicas
starting together apply each one once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from services.desk.errors import StoreUnavailable
from services.desk.store.sql import TABLES, Params, SqlStore, Statement, migrations, split_statements

#: Any 64-bit number the desk alone uses: the advisory lock that serialises migrations.
MIGRATION_LOCK = 0x5D35C0DE
_MARK = re.compile(r"\?")
#: Errors that mean the database is away or the connection broke, not that the statement is wrong.
_UNAVAILABLE = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError)


def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, …`` (the desk's SQL has no ``?`` inside literals)."""
    counter = iter(range(1, 10_000))
    return _MARK.sub(lambda _: f"${next(counter)}", sql)


def masked(url: str) -> str:
    """The URL without its password, for logs and /readyz."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresStore(SqlStore):
    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 5) -> None:
        self._url = url
        self.description = masked(url)
        self._min, self._max = min_size, max_size
        self._pool: asyncpg.Pool | None = None
        self._sql: dict[str, str] = {}

    def _q(self, sql: str) -> str:
        out = self._sql.get(sql)
        if out is None:
            out = self._sql[sql] = numbered(sql)
        return out

    async def open(self) -> bool:
        try:
            self._pool = await asyncpg.create_pool(self._url, min_size=self._min, max_size=self._max)
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"postgresql {self.description}: {exc}") from exc
        return await self._setup()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def reset(self) -> None:
        pool = self._need()
        async with pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                async with conn.transaction():
                    for table in TABLES:
                        await conn.execute(f"DROP TABLE IF EXISTS {table}")
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        await self._setup()

    def _need(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreUnavailable("postgresql store is closed")
        return self._pool

    async def _fetch(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        try:
            rows = await self._need().fetch(self._q(sql), *params)
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"postgresql {exc}") from exc
        return [tuple(r) for r in rows]

    async def _write(self, statements: Sequence[Statement]) -> None:
        try:
            async with self._need().acquire() as conn, conn.transaction():
                for sql, params in statements:
                    await conn.execute(self._q(sql), *params)
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"postgresql {exc}") from exc

    async def _migrate(self) -> int:
        async with self._need().acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                async with conn.transaction():
                    await conn.execute(
                        "CREATE TABLE IF NOT EXISTS schema_version "
                        "(version INTEGER PRIMARY KEY, applied_at_us BIGINT NOT NULL)"
                    )
                    before = int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))
                    for version, _, script in migrations():
                        if version <= before:
                            continue
                        for statement in split_statements(script):
                            await conn.execute(statement)
                        await conn.execute(
                            "INSERT INTO schema_version (version, applied_at_us) VALUES ($1, $2)",
                            version,
                            time.time_ns() // 1000,
                        )
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        return before
