"""Versioned schema migrations: ``migrations/<backend>/NNNN_name.sql``, recorded in ``schema_version``."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigurationError
from .protocol import Tx

__all__ = ["Migration", "apply_migrations", "load_migrations", "split_statements"]

_DIR = Path(__file__).resolve().parent / "migrations"
_NAME = re.compile(r"([0-9]{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    sql: str


def load_migrations(backend: str) -> list[Migration]:
    """The migrations of a backend, in version order."""
    folder = _DIR / backend
    if not folder.is_dir():
        raise ConfigurationError(f"no migrations for backend {backend}")
    found: list[Migration] = []
    for path in sorted(folder.iterdir()):
        m = _NAME.fullmatch(path.name)
        if m:
            found.append(Migration(int(m[1]), m[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise ConfigurationError(f"migrations of {backend} are not numbered 1..n")
    return found


def split_statements(sql: str) -> list[str]:
    """Split a migration into statements (``--`` comments dropped; no ``;`` inside literals)."""
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def apply_migrations(tx: Tx, backend: str, *, epoch_type: str) -> list[int]:
    """Apply the backend's migrations newer than the recorded version, inside ``tx``.

    ``epoch_type`` is the column type for seconds since the epoch (INTEGER in SQLite,
    BIGINT in PostgreSQL).  Returns the versions applied.
    """
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        f"(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at {epoch_type} NOT NULL)"
    )
    current = tx.query("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0][0]
    applied: list[int] = []
    for migration in load_migrations(backend):
        if migration.version <= current:
            continue
        for statement in split_statements(migration.sql):
            tx.execute(statement)
        tx.execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
            (migration.version, migration.name, int(time.time())),
        )
        applied.append(migration.version)
    return applied
