"""The embedded default registry: one SQLite file in WAL mode.

Several processes may open the same file: readers never block, writers take turns.  A write
transaction first takes an exclusive ``flock`` on ``<file>.lock`` and then ``BEGIN IMMEDIATE``:
the kernel hands the lock to the next waiting writer the moment it is released, where
SQLite's own busy handler would poll with sleeps of up to 100 ms and leave most of the time
idle when several batch workers persist chunks in turn.  Batch workers keep their write
transactions short: they claim a chunk, sign it with no lock held, and persist it in one
transaction (the single-writer discipline SQLite needs, kept by the lock).

**Permissions.**  The registry holds names, birth dates and identity numbers: a new database
file is created readable and writable by its owner only (0600), whatever the umask, and SQLite
gives its ``-wal`` and ``-shm`` files (and the ``.lock`` file) the same mode.

**Durability.**  ``synchronous=FULL``: every commit is on disk before it returns (the WAL is
synced), so what an import or a batch reported as stored survives a crash of the machine, not
only of the process.

**Waiting and failing clearly.**  A writer waits at most ``timeout`` seconds (default
:data:`DEFAULT_BUSY_TIMEOUT`, 10 s) for the lock held by another process (another vaxcert, or the
``sqlite3`` shell in a transaction); then :class:`~vaxcert.errors.StorageError` names the database
and the lock.  A read-only, full or unreadable database gives a StorageError saying so; SQLite
rolls the transaction back, so what was stored before stays intact.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import StorageError
from ._migrations import apply_migrations
from .protocol import Backend, RegistrySpec
from .rows import CLAIM_COLUMNS, ClaimedPerson, StagedCertificate
from .store import PENDING, SqlRegistry, placeholders

__all__ = ["DEFAULT_BUSY_TIMEOUT", "SqliteRegistry", "storage_error"]

_STORAGE_ERRORS = (sqlite3.OperationalError, sqlite3.DatabaseError)
#: Seconds a write waits for another process's lock before giving up with a clear error.
DEFAULT_BUSY_TIMEOUT = 10.0
#: Rows a multi-row ``INSERT`` of :meth:`_SqliteTx.copy_rows` carries (fewer when the columns would
#: pass the connection's limit of bound parameters).
ROWS_PER_INSERT = 250

#: A claim's read: the waiting persons as one JSON array of arrays, in :data:`CLAIM_COLUMNS` order, and
#: their keys as a JSON array (which the lease's ``UPDATE`` reads back, so Python parses nothing under
#: the write lock).
_CLAIM_READ = (
    f"SELECT json_group_array(json_array({', '.join(CLAIM_COLUMNS)})), json_group_array(person_key) FROM ("  # noqa: S608
    f" SELECT {', '.join(CLAIM_COLUMNS)} FROM persons WHERE {PENDING}"
    " AND (lease_until IS NULL OR lease_until < ?){where} LIMIT ?)"
)


def storage_error(exc: BaseException, path: Path | str, timeout: float | None = None) -> StorageError:
    """A StorageError naming the database and the problem (from a sqlite3 or OS error)."""
    text = str(exc).lower()
    if isinstance(exc, sqlite3.Error) and ("locked" in text or "busy" in text):
        return StorageError(f"the SQLite registry {path} is locked by another process (waited {timeout or 0:g} s): "
                            "wait for it to finish, or raise the busy timeout (vaxcert registry --busy-timeout "
                            "SECONDS)")  # fmt: skip
    if "readonly" in text or "read-only" in text or isinstance(exc, PermissionError) or "permission" in text:
        return StorageError(f"the SQLite registry {path} is read-only (file or folder permissions, or a read-only "
                            f"file system): nothing was changed")  # fmt: skip
    if "full" in text or "no space" in text or "file too large" in text or "i/o error" in text:
        return StorageError(f"cannot write the SQLite registry {path}: disk full or write error; the last "
                            f"transaction was rolled back and the data stored before is intact")  # fmt: skip
    if "unable to open" in text or isinstance(exc, OSError):
        return StorageError(f"cannot open the SQLite registry {path} (missing folder or no permission)")
    if "malformed" in text or "not a database" in text:
        return StorageError(f"{path} is not a SQLite registry or is damaged")
    return StorageError(f"the SQLite registry {path} failed: {type(exc).__name__}")


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
        """Rows in multi-row ``INSERT`` statements of :data:`ROWS_PER_INSERT` rows, the rest in a
        few statements of 128, 64, ... 1 rows.

        One statement step per few hundred rows instead of one per row: sqlite3 lets go of the GIL
        around every step, and another thread (a batch worker's signing thread, an import's reading
        thread) then takes it each time (measured: a row inserted by ``executemany`` cost 2.8 µs
        alone, 69 µs beside a busy Python thread; in statements of 250 rows, 1.6 and 2.1 µs).  The
        sizes are few and fixed, so sqlite3's statement cache keeps every text compiled.
        """
        width = len(columns)
        head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608
        one = f"({placeholders(width)})"
        per = max(1, min(ROWS_PER_INSERT, _variable_limit(self._cur.connection) // width))
        rest = iter(rows)
        while part := list(itertools.islice(rest, per)):
            if not all(len(row) == width for row in part):  # sqlite3 names the row of the wrong width
                self._cur.executemany(head + one, part)
                continue
            start = 0
            for size in _statement_sizes(len(part), per):
                values = list(itertools.chain.from_iterable(part[start : start + size]))
                self._cur.execute(head + ",".join([one] * size), values)
                start += size


def _statement_sizes(count: int, per: int) -> list[int]:
    """``count`` rows (at most ``per``) as statements of ``per`` rows or of powers of two."""
    if count == per:
        return [per]
    return [1 << bit for bit in range(count.bit_length() - 1, -1, -1) if count >> bit & 1]


def _variable_limit(conn: sqlite3.Connection) -> int:
    """The most parameters one statement may bind on this connection (999 before SQLite 3.32)."""
    return conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


def _create_private(path: Path) -> None:
    """Create the database file 0600 (whatever the umask) if it does not exist yet."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class SqliteRegistry(SqlRegistry):
    """A registry in a SQLite file (created, with its folder, when missing)."""

    def __init__(self, path: str | Path, *, timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._depth = 0
        self._lock_fd: int | None = None
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
                _create_private(self.path)
            self._conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
        except (sqlite3.Error, OSError) as exc:
            raise storage_error(exc, path) from None
        try:
            self._conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed transaction survives a power loss too (NORMAL, in WAL mode, may lose
            # the last commits): an import acknowledged or a certificate stored is durable.  The
            # cost is one fsync of the WAL per commit (0.3 ms here, one per chunk of rows).
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA temp_store=MEMORY")
            self._conn.execute("PRAGMA cache_size=-65536")
            if str(path) != ":memory:":
                self._lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except (sqlite3.Error, OSError) as exc:
            self._conn.close()
            raise storage_error(exc, path, timeout) from None

    @property
    def backend(self) -> Backend:
        return "sqlite"

    @property
    def spec(self) -> RegistrySpec:
        return RegistrySpec(f"sqlite:///{self.path.resolve()}", busy_timeout=self.timeout)

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
        deadline = time.monotonic() + self.timeout
        if self._lock_fd is not None:
            self._flock(deadline)
        try:
            self._begin(deadline)
            self._depth = 1
            try:
                yield _SqliteTx(self._conn.cursor())
            except BaseException as exc:
                self._depth = 0
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                if type(exc) in _STORAGE_ERRORS:  # locked, read-only, full, I/O: not constraint violations
                    raise storage_error(exc, self.path, self.timeout) from None
                raise
            self._depth = 0
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                raise storage_error(exc, self.path, self.timeout) from None
        finally:
            if self._lock_fd is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _flock(self, deadline: float) -> None:
        """The inter-process writer lock, waiting at most until ``deadline``."""
        assert self._lock_fd is not None
        pause = 0.001
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise storage_error(sqlite3.OperationalError("database is locked"), self.path,
                                        self.timeout) from None  # fmt: skip
                time.sleep(pause)
                pause = min(pause * 2, 0.05)

    def _begin(self, deadline: float) -> None:
        # busy_timeout covers most waits; a retry loop covers the rare immediate SQLITE_BUSY
        # that WAL returns while another connection checkpoints.
        attempt = 0
        while True:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() >= deadline:
                    raise storage_error(exc, self.path, self.timeout) from None
                attempt += 1
                time.sleep(min(0.01 * attempt, 0.5))

    def migrate(self) -> list[int]:
        with self.transaction() as tx:
            return apply_migrations(tx, "sqlite", epoch_type="INTEGER")

    def schema_version(self) -> int:
        try:
            row = self._conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return 0
            raise storage_error(exc, self.path, self.timeout) from None
        except sqlite3.Error as exc:
            raise storage_error(exc, self.path, self.timeout) from None
        return int(row[0])

    def claim(
        self, *, worker: str, limit: int, now: float, lease_seconds: float, facilities: Sequence[str] | None
    ) -> list[ClaimedPerson]:
        """Lease up to ``limit`` waiting persons: read them, then write the lease, in one write transaction.

        The chunk is read as one JSON text (``json_group_array``) and leased by its keys (one
        statement step each, where ``UPDATE ... RETURNING`` steps once per person and sqlite3
        lets go of the GIL at every step, to the worker's signing thread); the text is parsed
        once the lock is released.  The write lock (``flock`` + ``BEGIN IMMEDIATE``) is held from
        the read to the lease, so no other worker can claim the same persons in between.
        """
        if (facilities is not None and not facilities) or limit <= 0:
            return []
        where = "" if facilities is None else f" AND last_facility IN ({placeholders(len(facilities))})"
        with self.transaction() as tx:
            found, keys = tx.query(_CLAIM_READ.format(where=where), (now, *(facilities or ()), limit))[0]
            if keys != "[]":
                tx.execute("UPDATE persons SET lease_owner = ?, lease_until = ?"
                           " WHERE person_key IN (SELECT value FROM json_each(?))",
                           (worker, now + lease_seconds, keys))  # fmt: skip
        return [ClaimedPerson(*r) for r in json.loads(found)]

    def _stage_ahead(self, staged: Sequence[StagedCertificate]) -> bool:
        """A chunk's certificates into this connection's staging table, before the write lock is taken.

        The temporary table is this connection's own (in memory, ``temp_store=MEMORY``): filling it
        needs no lock on the database, so the other workers write while this one copies its
        chunk in, and the write transaction that follows holds the lock only for the statements
        that change the registry.  Inside a transaction already open the chunk is staged there.
        """
        if self._depth:
            return False
        try:
            self._fill_staging(_SqliteTx(self._conn.cursor()), staged)
        except sqlite3.Error as exc:
            if type(exc) in _STORAGE_ERRORS:  # as in transaction(): constraint violations pass unchanged
                raise storage_error(exc, self.path, self.timeout) from None
            raise
        return True

    def close(self) -> None:
        self._conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __repr__(self) -> str:
        return f"SqliteRegistry({self.path.name})"
