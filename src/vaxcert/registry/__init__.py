"""The vaccination registry: storage adapters and the national-scale issuance workflows.

* :mod:`.protocol` — the :class:`Registry` Protocol; :mod:`.sqlite` (embedded default, a file
  path) and :mod:`.postgres` (a DSN, pooled) implement it; :func:`open_registry` picks one
  from a URL (``sqlite:///PATH`` or ``postgresql://...``).
* :mod:`.importer` — CSV / JSON-lines facility exports, row-validated and idempotent.
* :mod:`.identity` — the population-register check; :mod:`.reconcile` — merging doses,
  conflicts, each person's current status.
* :mod:`.batch` — issuing certificates for every changed record, exactly once per version.
* :mod:`.corrections` — citizen correction requests and their review; :mod:`.reports`.

The registry builds on the core (model, payload, issuer); core modules never import it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import ConfigurationError
from .protocol import Registry, RegistrySpec
from .sqlite import SqliteRegistry

__all__ = ["Registry", "RegistrySpec", "SqliteRegistry", "open_registry"]


def open_registry(url: str | RegistrySpec, *, schema: str | None = None, migrate: bool = False) -> Registry:
    """Open ``sqlite:///PATH`` (or a bare file path) or ``postgresql://...``.

    ``schema`` (PostgreSQL only; also ``postgresql://...?schema=NAME``) keeps every table in that
    schema.  ``migrate`` applies pending
    migrations first; otherwise a registry whose schema is missing or outdated is refused.
    """
    if isinstance(url, RegistrySpec):
        schema = url.schema or schema
        url = url.url
    registry: Registry
    if url.startswith(("postgresql://", "postgres://")) or (url.startswith("host=") or " dbname=" in url):
        from .postgres import PostgresRegistry

        url, in_url = _split_schema(url)
        registry = PostgresRegistry(url, schema=schema or in_url)
    elif url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
        if not path.startswith("/") or path == "/":
            raise ConfigurationError("a SQLite URL is sqlite:///relative/path or sqlite:////absolute/path")
        registry = SqliteRegistry(path[1:])
    elif "://" in url:
        raise ConfigurationError("registry URL must start with sqlite:/// or postgresql://")
    else:
        registry = SqliteRegistry(Path(url))
    if migrate:
        registry.migrate()
    else:
        check_schema(registry)
    return registry


def _split_schema(url: str) -> tuple[str, str | None]:
    """Take a ``schema=NAME`` query parameter (vaxcert's, not libpq's) out of a PostgreSQL URL."""
    parts = urlsplit(url)
    if not parts.query:
        return url, None
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


def check_schema(registry: Registry) -> None:
    """Refuse a registry whose schema is not initialised or older than this vaxcert."""
    from ._migrations import load_migrations

    latest = len(load_migrations("sqlite" if registry.backend == "sqlite" else "postgres"))
    version = registry.schema_version()
    if version == 0:
        registry.close()
        raise ConfigurationError("the registry is not initialised: run 'vaxcert registry init' first")
    if version < latest:
        registry.close()
        raise ConfigurationError(
            f"the registry schema is at version {version}, this vaxcert needs {latest}: run 'vaxcert registry init'"
        )
