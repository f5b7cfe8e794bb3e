"""The embedded default registry: one SQLite file in WAL mode.

Several processes may open the same file: readers never block, writers take turns.  A write
transaction first takes an exclusive ``flock`` on ``<file>.lock`` and then ``BEGIN IMMEDIATE``:
the kernel hands the lock to the next waiting writer the moment it is released, where
SQLite's own busy handler would poll with sleeps of up to 100 ms and leave most of the time
idle when several batch workers persist chunks in turn.  Batch workers keep their write
transactions short: they claim a chunk, sign it with no lock held, and persist it in one
transaction (the single-writer discipline SQLite needs, kept by the lock).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ._migrations import apply_migrations
from .protocol import Backend, RegistrySpec
from .rows import CLAIM_COLUMNS, ClaimedPerson
from .store import PENDING, SqlRegistry, placeholders

__all__ = ["SqliteRegistry"]


class _SqliteTx:
    """A :class:`~vaxcert.registry.protocol.Tx` over one sqlite3 cursor."""

    __slots__ = ("_cur",)

    def __init__(self, cur: sqlite3.Cursor) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._cur.execute(sql, tuple(params))
        return self._cur.rowcount

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._cur.execute(sql, tuple(params)).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cur.executemany(sql, rows)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders(len(columns))})"  # noqa: S608
        self._cur.executemany(sql, rows)


class SqliteRegistry(SqlRegistry):
    """A registry in a SQLite file (created, with its folder, when missing)."""

    def __init__(self, path: str | Path, *, timeout: float = 120.0) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(
                str(path), timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise ConfigurationError(f"cannot open SQLite registry {path}: {exc}") from None
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA temp_store=MEMORY")
        self._conn.execute("PRAGMA cache_size=-65536")
        self._conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        self._depth = 0
        self._lock_fd: int | None = None
        if str(path) != ":memory:":
            self._lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)

    @property
    def backend(self) -> Backend:
        return "sqlite"

    @property
    def spec(self) -> RegistrySpec:
        return RegistrySpec(f"sqlite:///{self.path.resolve()}")

    @contextmanager
    def transaction(self) -> Iterator[_SqliteTx]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; a nested call joins the open transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield _SqliteTx(self._conn.cursor())
            finally:
                self._depth -= 1
            return
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            self._begin()
            self._depth = 1
            try:
                yield _SqliteTx(self._conn.cursor())
            except BaseException:
                self._depth = 0
                self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self._conn.execute("COMMIT")
        finally:
            if self._lock_fd is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _begin(self) -> None:
        # busy_timeout covers most waits; a retry loop covers the rare immediate SQLITE_BUSY
        # that WAL returns while another connection checkpoints.
        for attempt in range(200):
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                time.sleep(min(0.01 * (attempt + 1), 0.5))
        raise ConfigurationError(f"SQLite registry {self.path} stays locked by another process")

    def migrate(self) -> list[int]:
        with self.transaction() as tx:
            return apply_migrations(tx, "sqlite", epoch_type="INTEGER")

    def schema_version(self) -> int:
        try:
            row = self._conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
        except sqlite3.OperationalError:
            return 0
        return int(row[0])

    def claim(
        self, *, worker: str, limit: int, now: float, lease_seconds: float, facilities: Sequence[str] | None
    ) -> list[ClaimedPerson]:
        if (facilities is not None and not facilities) or limit <= 0:
            return []
        where = "" if facilities is None else f" AND last_facility IN ({placeholders(len(facilities))})"
        sql = (
            "UPDATE persons SET lease_owner = ?, lease_until = ? WHERE person_key IN ("  # noqa: S608
            f" SELECT person_key FROM persons WHERE {PENDING}"
            " AND (lease_until IS NULL OR lease_until < ?)"
            f"{where} LIMIT ?)"
            f" RETURNING {', '.join(CLAIM_COLUMNS)}"
        )
        with self.transaction() as tx:
            rows = tx.query(sql, (worker, now + lease_seconds, now, *(facilities or ()), limit))
        return [ClaimedPerson(*r) for r in rows]

    def close(self) -> None:
        self._conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __repr__(self) -> str:
        return f"SqliteRegistry({self.path.name})"
