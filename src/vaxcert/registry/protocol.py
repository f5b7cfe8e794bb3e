"""The registry Protocol: the small surface every storage backend implements.

Workflows (:mod:`~vaxcert.registry.importer`, :mod:`~vaxcert.registry.reconcile`,
:mod:`~vaxcert.registry.batch`, :mod:`~vaxcert.registry.corrections`,
:mod:`~vaxcert.registry.reports`) are written once against this Protocol, in the SQL
subset both SQLite (3.35+) and PostgreSQL share: ``?`` placeholders (an adapter rewrites
them to its own), ``ON CONFLICT``, ``RETURNING``, ``UPDATE ... FROM`` and partial indexes.
What differs between backends stays in the adapter: connecting, migrations, bulk copy and
how a worker claims a chunk of work (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, an
immediate write transaction on SQLite).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = ["CLAIM_COLUMNS", "Backend", "Registry", "RegistrySpec", "Tx", "placeholders"]

Backend = Literal["sqlite", "postgresql"]

#: Columns of ``persons`` that :meth:`Registry.claim` returns, in this order: all a worker
#: needs to build the certificate without another query.
CLAIM_COLUMNS = (
    "person_key", "record_version", "fn", "fnt", "gn", "gnt", "dob",
    "tg", "vp", "mp", "ma", "dn", "sd", "dt", "co", "last_facility",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RegistrySpec:
    """How to open a registry again (e.g. in a worker process): picklable, no open handles.

    ``repr`` hides the URL, which may hold a password.
    """

    url: str
    schema: str | None = None

    def __repr__(self) -> str:
        return f"RegistrySpec(backend={self.url.split(':', 1)[0]}, schema={self.schema!r})"


class Tx(Protocol):
    """One open transaction.  SQL uses ``?`` placeholders; rows come back as tuples."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed (-1 when unknown)."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return all its rows."""
        ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        ...

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Append rows to ``table`` as fast as the backend can (COPY on PostgreSQL)."""
        ...


@runtime_checkable
class Registry(Protocol):
    """A vaxcert registry database.

    A registry object (its connection or pool) serves one thread at a time; a worker that
    persists in a background thread opens a second one from :attr:`spec`.
    """

    @property
    def backend(self) -> Backend: ...

    @property
    def spec(self) -> RegistrySpec:
        """How to open this registry again from another process."""
        ...

    def migrate(self) -> list[int]:
        """Apply pending schema migrations; return the versions applied (idempotent)."""
        ...

    def schema_version(self) -> int:
        """The highest migration applied (0 for an empty database)."""
        ...

    def transaction(self) -> AbstractContextManager[Tx]:
        """A write transaction: committed on normal exit, rolled back on an exception."""
        ...

    def claim(
        self, *, worker: str, limit: int, now: float, lease_seconds: float, facilities: Sequence[str] | None
    ) -> list[tuple[Any, ...]]:
        """Lease up to ``limit`` persons that need a certificate, in one short transaction.

        A person needs one when ``state = 'ready'`` and ``record_version > issued_version``;
        it is claimable when its lease is absent or expired at ``now`` and its last dose's
        facility is in ``facilities`` (the facilities this worker holds keys for; None: any, for a
        worker holding a ministry key that signs for every facility).  Claimed
        rows get ``lease_owner = worker`` and ``lease_until = now + lease_seconds``.  Rows are
        returned as :data:`CLAIM_COLUMNS`.  Concurrent claimers never receive the same person
        while its lease runs.
        """
        ...

    def close(self) -> None: ...


def placeholders(n: int) -> str:
    """``?, ?, ...`` for an ``IN (...)`` list of ``n`` values (n >= 1)."""
    return ", ".join("?" * n)
