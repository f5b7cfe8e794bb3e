"""Opening a registry from a URL: ``sqlite:///PATH`` (or a file path) or ``postgresql://...``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import ConfigurationError
from ._migrations import load_migrations
from .protocol import Registry, RegistrySpec
from .sqlite import DEFAULT_BUSY_TIMEOUT, SqliteRegistry

__all__ = ["check_schema", "open_registry"]


def open_registry(
    url: str | RegistrySpec, *, schema: str | None = None, migrate: bool = False, busy_timeout: float | None = None
) -> Registry:
    """Open ``sqlite:///PATH`` (or a bare file path) or ``postgresql://...``.

    ``schema`` (PostgreSQL only; also ``postgresql://...?schema=NAME``) keeps every table in that
    schema.  ``migrate`` applies pending
    migrations first; otherwise a registry whose schema is missing or outdated is refused.
    ``busy_timeout`` (SQLite; default 10 s) is how long a write waits for another process's lock
    before :class:`~vaxcert.errors.StorageError` names the lock.
    """
    if isinstance(url, RegistrySpec):
        schema = url.schema or schema
        busy_timeout = url.busy_timeout if busy_timeout is None else busy_timeout
        url = url.url
    timeout = DEFAULT_BUSY_TIMEOUT if busy_timeout is None else busy_timeout
    registry: Registry
    if url.startswith(("postgresql://", "postgres://")) or (url.startswith("host=") or " dbname=" in url):
        from .postgres import PostgresRegistry  # the [registry] extra (psycopg), loaded only when used

        url, in_url = _split_schema(url)
        registry = PostgresRegistry(url, schema=schema or in_url)
    elif url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
        if not path.startswith("/") or path == "/":
            raise ConfigurationError("a SQLite URL is sqlite:///relative/path or sqlite:////absolute/path")
        registry = SqliteRegistry(path[1:], timeout=timeout)
    elif "://" in url:
        raise ConfigurationError("registry URL must start with sqlite:/// or postgresql://")
    else:
        registry = SqliteRegistry(Path(url), timeout=timeout)
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
