"""Vaccine codes in SMART Health Cards (CVX, SNOMED CT, ICD-11) → the EU products the pass policy counts.

The table is data (``vaxcert/formats/data/shc-vaccine-codes.json``, documented with its sources
in ``docs/foreign-certificates.md``).  A row maps one (code system, code) to the EU DCC value
set codes: ``mp`` (vaccine-medicinal-product; null when the code names a kind of vaccine but
not a product), ``ma`` (marketing authorisation holder), ``vp`` (vaccine type) and ``disease``.
A deployment can load its own table with :meth:`ProductMap.load` (same format), or extend the
bundled one with :meth:`ProductMap.merged`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from ...errors import ConfigurationError

__all__ = ["ProductMap", "ProductMapping"]

_FORMAT: Final = "vaxcert-shc-vaccine-codes/1"
_MAX_TABLE_BYTES: Final = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ProductMapping:
    """What one vaccine code means in EU DCC terms."""

    system: str
    code: str
    display: str | None
    mp: str | None
    ma: str | None
    vp: str | None
    disease: str | None
    source: str | None


def _opt(row: Mapping[str, Any], key: str, where: str) -> str | None:
    value = row.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigurationError(f"{where}: {key} must be a non-empty string or null")
    return value.strip() if isinstance(value, str) else None


class ProductMap:
    """Look-up of vaccine codes (immutable).  :meth:`bundled` is vaxcert's own table."""

    __slots__ = ("_aliases", "_rows", "_sources")

    def __init__(
        self,
        rows: Iterable[ProductMapping],
        *,
        aliases: Mapping[str, str] | None = None,
        sources: Mapping[str, str] | None = None,
    ) -> None:
        table: dict[tuple[str, str], ProductMapping] = {}
        for row in rows:
            key = (row.system, row.code)
            if key in table:
                raise ConfigurationError(f"vaccine code table: {row.system} {row.code} appears twice")
            table[key] = row
        self._rows = MappingProxyType(table)
        self._aliases = MappingProxyType(dict(aliases or {}))
        self._sources = MappingProxyType(dict(sources or {}))

    @classmethod
    def from_document(cls, document: Any, origin: str = "vaccine code table") -> ProductMap:
        """Build from the parsed JSON table (raises :class:`ConfigurationError` naming the bad row)."""
        if not isinstance(document, Mapping) or document.get("format") != _FORMAT:
            raise ConfigurationError(f"{origin}: not a {_FORMAT} document")
        codes = document.get("codes")
        if not isinstance(codes, list):
            raise ConfigurationError(f"{origin}: codes must be a list")
        aliases = document.get("system_aliases", {})
        sources = document.get("sources", {})
        for name, mapping in (("system_aliases", aliases), ("sources", sources)):
            if not isinstance(mapping, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
            ):
                raise ConfigurationError(f"{origin}: {name} must map strings to strings")
        rows = []
        for index, row in enumerate(codes):
            where = f"{origin}: codes[{index}]"
            if not isinstance(row, Mapping):
                raise ConfigurationError(f"{where}: must be an object")
            system, code = _opt(row, "system", where), _opt(row, "code", where)
            if system is None or code is None:
                raise ConfigurationError(f"{where}: system and code are required")
            rows.append(
                ProductMapping(
                    system=system,
                    code=code,
                    display=_opt(row, "display", where),
                    mp=_opt(row, "mp", where),
                    ma=_opt(row, "ma", where),
                    vp=_opt(row, "vp", where),
                    disease=_opt(row, "disease", where),
                    source=_opt(row, "source", where),
                )
            )
        return cls(rows, aliases=aliases, sources=sources)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ProductMap:
        """Load a table file in the bundled table's format."""
        target = Path(path)
        try:
            with target.open("rb") as fh:
                data = fh.read(_MAX_TABLE_BYTES + 1)
        except OSError as exc:
            raise ConfigurationError(f"cannot read {target}: {exc.strerror or exc}") from None
        if len(data) > _MAX_TABLE_BYTES:
            raise ConfigurationError(f"{target} is larger than {_MAX_TABLE_BYTES} bytes")
        try:
            document = json.loads(data.decode("utf-8-sig"))
        except ValueError:
            raise ConfigurationError(f"{target} is not valid JSON") from None
        return cls.from_document(document, str(target))

    @classmethod
    def bundled(cls) -> ProductMap:
        """vaxcert's own table (loaded once)."""
        return _bundled()

    def merged(self, other: ProductMap) -> ProductMap:
        """This table with ``other``'s rows added; ``other`` wins where both map a code."""
        rows = dict(self._rows)
        rows.update(other._rows)
        return ProductMap(
            rows.values(),
            aliases={**self._aliases, **other._aliases},
            sources={**self._sources, **other._sources},
        )

    def canonical_system(self, system: str) -> str:
        """The system URI the table uses for ``system`` (known aliases resolved)."""
        return self._aliases.get(system, system)

    def lookup(self, system: str, code: str) -> ProductMapping | None:
        """The mapping of one code, or None when the table does not know it."""
        return self._rows.get((self.canonical_system(system), code.strip()))

    @property
    def rows(self) -> tuple[ProductMapping, ...]:
        """Every row, in table order."""
        return tuple(self._rows.values())

    @property
    def sources(self) -> Mapping[str, str]:
        """Where the rows come from, by the ``source`` key rows name."""
        return self._sources

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"ProductMap(rows={len(self._rows)})"


@cache
def _bundled() -> ProductMap:
    text = resources.files("vaxcert.formats").joinpath("data/shc-vaccine-codes.json").read_text("utf-8")
    return ProductMap.from_document(json.loads(text), "bundled vaccine code table")
