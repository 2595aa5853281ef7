"""The default store: one SQLite file in WAL mode (the standard library's sqlite3).

sqlite3 blocks, so it runs off the event loop: one thread owns the writing connection and another a
reading one, so a page renders while a batch of records is written (WAL lets readers and the writer
proceed together).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from services.desk.errors import StoreUnavailable
from services.desk.store.sql import Params, SqlStore, Statement, migrations, split_statements

R = TypeVar("R")


class SqliteStore(SqlStore):
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.description = f"sqlite:{self.path}"
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._write_thread: ThreadPoolExecutor | None = None
        self._read_thread: ThreadPoolExecutor | None = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    async def open(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write_thread = ThreadPoolExecutor(1, thread_name_prefix="desk-sqlite-w")
        self._read_thread = ThreadPoolExecutor(1, thread_name_prefix="desk-sqlite-r")
        self._writer = await self._on(self._write_thread, self._connect)
        self._reader = await self._on(self._read_thread, self._connect)
        return await self._setup()

    async def close(self) -> None:
        for conn, pool in ((self._reader, self._read_thread), (self._writer, self._write_thread)):
            if conn is not None and pool is not None:
                await self._on(pool, conn.close)
                pool.shutdown(wait=True)
        self._reader = self._writer = None
        self._read_thread = self._write_thread = None

    async def reset(self) -> None:
        """The file and its WAL are removed, then a new one is made: a rebuild starts from nothing."""
        await self.close()
        await asyncio.to_thread(self.remove_files)
        await self.open()

    def remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    @staticmethod
    async def _on(pool: ThreadPoolExecutor, fn: Callable[[], R]) -> R:
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn)
        except sqlite3.OperationalError as exc:  # locked, disk full, I/O: the store, not the record
            raise StoreUnavailable(f"sqlite {exc}") from exc

    async def _fetch(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        conn, pool = self._reader, self._read_thread
        if conn is None or pool is None:
            raise StoreUnavailable("sqlite store is closed")
        return await self._on(pool, lambda: conn.execute(sql, tuple(params)).fetchall())

    async def _write(self, statements: Sequence[Statement]) -> None:
        conn, pool = self._writer, self._write_thread
        if conn is None or pool is None:
            raise StoreUnavailable("sqlite store is closed")

        def run() -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    conn.execute(sql, tuple(params))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

        await self._on(pool, run)

    async def _migrate(self) -> int:
        conn, pool = self._writer, self._write_thread
        assert conn is not None and pool is not None

        def run() -> int:
            # BEGIN IMMEDIATE takes the write lock: two processes on one file migrate one after the other.
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version "
                    "(version INTEGER PRIMARY KEY, applied_at_us BIGINT NOT NULL)"
                )
                before = int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])
                for version, _, script in migrations():
                    if version <= before:
                        continue
                    for statement in split_statements(script):
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_version (version, applied_at_us) VALUES (?, ?)",
                        (version, time.time_ns() // 1000),
                    )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return before

        return await self._on(pool, run)
