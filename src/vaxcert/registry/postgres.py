"""The PostgreSQL registry: psycopg 3 with a connection pool (psycopg_pool).

Many workers, on one machine or several, share issuance work by claiming chunks of persons
with ``FOR UPDATE SKIP LOCKED`` and a lease (see :meth:`PostgresRegistry.claim`).  ``schema``
puts every table in that PostgreSQL schema (created by :meth:`migrate`); the default is the
connection's ``search_path`` (normally ``public``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..errors import ConfigurationError, MissingExtraError, StorageError
from ._migrations import apply_migrations
from .protocol import Backend, RegistrySpec, Tx
from .rows import CLAIM_COLUMNS, ClaimedPerson
from .store import PENDING, SqlRegistry

try:
    import psycopg
    from psycopg import sql as pgsql
    from psycopg_pool import ConnectionPool
except ImportError as exc:  # pragma: no cover - the lean-install test runs without the extra
    raise MissingExtraError("registry", "a PostgreSQL registry") from exc

__all__ = ["PostgresRegistry"]

_SCHEMA_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_MIGRATION_LOCK = 0x7661786365727431  # pg_advisory_xact_lock key ("vaxcert1")


@functools.lru_cache(maxsize=512)
def _convert(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s`` (the registry's SQL holds no ``?``/``%`` literals)."""
    return sql.replace("?", "%s")


class _PgTx:
    """A :class:`~vaxcert.registry.protocol.Tx` over one psycopg cursor."""

    __slots__ = ("_cur",)

    def __init__(self, cur: psycopg.Cursor[Any]) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._cur.execute(_convert(sql), tuple(params) or None)
        return self._cur.rowcount

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._cur.execute(_convert(sql), tuple(params) or None)
        return list(self._cur.fetchall())

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cur.executemany(_convert(sql), rows)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN").format(
            pgsql.Identifier(table), pgsql.SQL(", ").join(pgsql.Identifier(c) for c in columns)
        )
        with self._cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)


class PostgresRegistry(SqlRegistry):
    """A registry in PostgreSQL, reached through ``dsn`` (a libpq URI or key=value string)."""

    def __init__(self, dsn: str, *, schema: str | None = None, max_connections: int = 4) -> None:
        if schema is not None and not _SCHEMA_RE.fullmatch(schema):
            raise ConfigurationError("schema must be a lower-case SQL identifier")
        self._dsn = dsn
        self._schema = schema
        self._conn: psycopg.Connection[Any] | None = None
        self._depth = 0
        try:
            self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
                dsn, min_size=1, max_size=max_connections, open=True, configure=self._configure,
                kwargs={"autocommit": False}, timeout=60,
            )  # fmt: skip
            self._pool.wait(timeout=30)
        except (psycopg.Error, Exception) as exc:  # pool raises PoolTimeout with the DSN inside
            raise ConfigurationError(f"cannot connect to the PostgreSQL registry ({type(exc).__name__})") from None

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        if self._schema is not None:
            conn.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(self._schema)))
        conn.execute("SET jit TO off")  # compiling the batch statements costs more than running them
        # Index probes cost little on SSDs and in cache; at the default (4) the planner prefers a
        # sequential scan of all persons to a few thousand primary-key probes per chunk.
        conn.execute("SET random_page_cost TO 1.1")
        conn.commit()

    @property
    def backend(self) -> Backend:
        return "postgresql"

    @property
    def spec(self) -> RegistrySpec:
        return RegistrySpec(self._dsn, self._schema)

    @property
    def schema(self) -> str | None:
        """The PostgreSQL schema holding the tables (None: the connection's search_path)."""
        return self._schema

    @contextmanager
    def transaction(self) -> Iterator[_PgTx]:
        """One pooled connection in a transaction; a nested call joins the open transaction."""
        if self._conn is not None:
            self._depth += 1
            try:
                yield _PgTx(self._conn.cursor())
            finally:
                self._depth -= 1
            return
        try:
            with self._pool.connection() as conn:
                self._conn = conn
                try:
                    with conn.transaction():
                        yield _PgTx(conn.cursor())
                finally:
                    self._conn = None
        except psycopg.OperationalError as exc:  # server gone, disk full, read-only, ...: rolled back
            raise StorageError(f"the PostgreSQL registry failed ({type(exc).__name__}); the transaction was "
                               "rolled back and the data stored before is intact") from None

    def migrate(self) -> list[int]:
        with self.transaction() as tx:
            tx.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            if self._schema is not None:
                tx.execute(f"CREATE SCHEMA IF NOT EXISTS {self._schema}")
            applied = apply_migrations(tx, "postgres", epoch_type="BIGINT")
        return applied

    def schema_version(self) -> int:
        with self.transaction() as tx:
            exists = tx.query("SELECT to_regclass('schema_version') IS NOT NULL")[0][0]
            if not exists:
                return 0
            return int(tx.query("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0][0])

    def claim(
        self, *, worker: str, limit: int, now: float, lease_seconds: float, facilities: Sequence[str] | None
    ) -> list[ClaimedPerson]:
        if (facilities is not None and not facilities) or limit <= 0:
            return []
        where = "" if facilities is None else " AND last_facility = ANY(?)"
        sql = (
            # = ANY(ARRAY(...)): the claimed keys drive primary-key probes (IN (...) would hash-join
            # against a sequential scan of every person).
            "UPDATE persons SET lease_owner = ?, lease_until = ? WHERE person_key = ANY(ARRAY("  # noqa: S608
            f" SELECT person_key FROM persons WHERE {PENDING}"
            f" AND (lease_until IS NULL OR lease_until < ?){where}"
            " LIMIT ? FOR UPDATE SKIP LOCKED))"
            f" RETURNING {', '.join(CLAIM_COLUMNS)}"
        )
        with self.transaction() as tx:
            params = (worker, now + lease_seconds, now, *(() if facilities is None else (list(facilities),)), limit)
            rows = tx.query(sql, params)
        return [ClaimedPerson(*r) for r in rows]

    # -- hooks of the shared SQL (see vaxcert.registry.store) -------------------------------------

    def _lock(self, tx: Tx, key: int) -> None:
        tx.execute(f"SELECT pg_advisory_xact_lock({int(key)})")

    def _staged_keys(self) -> str:
        # The staged keys as an index condition on persons / certificates, so that each chunk costs
        # primary-key probes and never a scan of every person (PostgreSQL plans IN (SELECT ...)
        # as a hash join over a sequential scan; = ANY(ARRAY(...)) as index probes).
        return "= ANY(ARRAY(SELECT person_key FROM staged_certs))"

    def _clear_staging(self, tx: Tx) -> None:
        # TRUNCATE, not DELETE: autovacuum never visits temporary tables, so deleted chunks would
        # pile up as dead rows that every later chunk's statements scan (a worker's stores grew
        # from 0.1 s to 0.5 s per chunk of 2,000 over 100,000 certificates).  Truncating a
        # temporary table touches only this session's files.
        tx.execute("TRUNCATE staged_certs")

    def _skip_locked(self) -> str:
        return " FOR UPDATE SKIP LOCKED"

    def _new_staging_table(self, tx: Tx) -> bool:
        return bool(tx.query("SELECT to_regclass('pg_temp.staged_certs') IS NULL")[0][0])

    def _prepare_staged(self, tx: Tx, new_table: bool) -> None:
        if new_table:  # a new temp table has no statistics: give the planner a chunk's row count, once
            tx.execute("ANALYZE staged_certs")

    def drop_schema(self) -> None:
        """Drop this registry's schema and everything in it (tests and benchmarks)."""
        if self._schema is None:
            raise ConfigurationError("drop_schema needs a registry opened with a schema")
        with self.transaction() as tx:
            tx.execute(f"DROP SCHEMA IF EXISTS {self._schema} CASCADE")

    def close(self) -> None:
        self._pool.close()

    def __repr__(self) -> str:
        return f"PostgresRegistry(schema={self._schema!r})"
