"""EU DCC value sets (the code lists behind ``tg``, ``vp``, ``mp``, ``ma``, ``tt``, ``tr``, ``co``).

vaxcert bundles one snapshot of the eight value sets a verifier needs, in its own compact
format (``vaxcert/data/valuesets.json``), generated from the official EU value-set files by
``scripts/update_valuesets.py``.  :meth:`ValueSets.load` reads either such a snapshot or a
directory of official files, so a newer release can be used without rebuilding vaxcert.

Deprecated codes (``"active": false`` upstream) stay members of their set: certificates issued
while they were current remain well-formed.  :meth:`ValueSets.is_active` tells them apart, for
policies that want to.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .. import jsonio
from ..errors import ConfigurationError, InputError
from .codes import CODED_FIELDS

__all__ = ["SNAPSHOT_FORMAT", "VALUE_SET_NAMES", "ValueSets", "check_payload"]

SNAPSHOT_FORMAT = "vaxcert-valuesets/1"

#: The value sets vaxcert needs, by the names the DCC schemas use (``valueset-uri``).
VALUE_SET_NAMES = (
    "country-2-codes",
    "disease-agent-targeted",
    "test-manf",
    "test-result",
    "test-type",
    "vaccine-mah-manf",
    "vaccine-medicinal-product",
    "vaccine-prophylaxis",
)

# Official ``valueSetId`` -> our name (the EU gateway names files by id, the spec repo by name).
_OFFICIAL_IDS = {
    "country-2-codes": "country-2-codes",
    "disease-agent-targeted": "disease-agent-targeted",
    "covid-19-lab-test-manufacturer-and-name": "test-manf",
    "covid-19-lab-result": "test-result",
    "covid-19-lab-test-type": "test-type",
    "vaccines-covid-19-auth-holders": "vaccine-mah-manf",
    "vaccines-covid-19-names": "vaccine-medicinal-product",
    "sct-vaccines-covid-19": "vaccine-prophylaxis",
}

# What to call an unknown code of each set in a message.
_UNKNOWN = {
    "country-2-codes": "unknown country",
    "disease-agent-targeted": "unknown disease or agent targeted",
    "test-manf": "unknown test device",
    "test-result": "unknown test result",
    "test-type": "unknown test type",
    "vaccine-mah-manf": "unknown vaccine marketing authorisation holder or manufacturer",
    "vaccine-medicinal-product": "unknown vaccine product",
    "vaccine-prophylaxis": "unknown vaccine or prophylaxis",
}

@dataclass(frozen=True, slots=True)
class _ValueSet:
    """One value set: its upstream id and date, each code's display text, the deprecated codes."""

    set_id: str
    date: str | None
    displays: Mapping[str, str]
    inactive: frozenset[str]


class ValueSets:
    """An immutable collection of value sets, keyed by name (see :data:`VALUE_SET_NAMES`).

    Obtain one with :meth:`bundled` or :meth:`load`.  Methods taking a set ``name`` raise
    :class:`KeyError` for a set that is not present.
    """

    __slots__ = ("_sets",)
    _sets: Mapping[str, _ValueSet]

    def __init__(self, sets: Mapping[str, _ValueSet]) -> None:
        """Wrap already parsed sets (internal: use :meth:`bundled` or :meth:`load`)."""
        object.__setattr__(self, "_sets", MappingProxyType(dict(sorted(sets.items()))))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ValueSets is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("ValueSets is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValueSets) and dict(self._sets) == dict(other._sets)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        listed = ", ".join(f"{name}@{value_set.date}" for name, value_set in self._sets.items())
        return f"ValueSets({listed})"

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def bundled(cls) -> ValueSets:
        """Return the snapshot shipped with vaxcert (parsed once, then cached)."""
        return _bundled()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ValueSets:
        """Load a directory of official EU value-set files, or a vaxcert snapshot file.

        Raises :class:`~vaxcert.errors.ConfigurationError` when the input is unreadable,
        malformed, or lacks one of :data:`VALUE_SET_NAMES`.  Extra sets are kept.
        """
        source = Path(path)
        if source.is_dir():
            sets = _load_official_dir(source)
        elif source.is_file():
            sets = _parse_snapshot(_read_json(source), str(source))
        else:
            raise ConfigurationError(f"value sets not found: {source}")
        _require_standard_sets(sets, str(source))
        return cls(sets)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write these value sets as a vaxcert snapshot (atomically replacing ``path``)."""
        target = Path(path)
        text = json.dumps(self._snapshot(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=target.parent, delete=False, prefix=f".{target.name}.", suffix=".tmp"
        ) as handle:
            handle.write(text)
        os.chmod(handle.name, mode)
        os.replace(handle.name, target)

    # -- queries ----------------------------------------------------------------------------

    def names(self) -> tuple[str, ...]:
        """Return the names of the sets present, sorted."""
        return tuple(self._sets)

    def codes(self, name: str) -> frozenset[str]:
        """Return every code of set ``name``, deprecated ones included."""
        return frozenset(self._sets[name].displays)

    def contains(self, name: str, code: str) -> bool:
        """True if ``code`` belongs to set ``name`` (active or deprecated)."""
        return code in self._sets[name].displays

    def display(self, name: str, code: str) -> str | None:
        """Return the display text of ``code`` in set ``name``, or ``None`` if it is not a member."""
        return self._sets[name].displays.get(code)

    def is_active(self, name: str, code: str) -> bool:
        """True if ``code`` is a member of set ``name`` and not deprecated."""
        value_set = self._sets[name]
        return code in value_set.displays and code not in value_set.inactive

    def snapshot_date(self, name: str) -> str | None:
        """Return the date of set ``name`` as published upstream (``valueSetDate``), if known."""
        return self._sets[name].date

    def _snapshot(self) -> dict[str, Any]:
        """Return the JSON document :meth:`save` writes."""
        return {
            "format": SNAPSHOT_FORMAT,
            "sets": {
                name: {
                    "valueSetId": value_set.set_id,
                    "valueSetDate": value_set.date,
                    "values": dict(value_set.displays),
                    "inactive": sorted(value_set.inactive),
                }
                for name, value_set in self._sets.items()
            },
        }


# -------------------------------------------------------------------------------------------
# Reading


@functools.cache
def _bundled() -> ValueSets:
    """Parse the bundled snapshot."""
    resource = resources.files("vaxcert").joinpath("data", "valuesets.json")
    try:
        document = json.loads(resource.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"bundled value sets unreadable: {error}") from error
    sets = _parse_snapshot(document, "bundled value sets")
    _require_standard_sets(sets, "bundled value sets")
    return ValueSets(sets)


def _read_json(path: Path) -> Any:
    """Parse a JSON file (a UTF-8 BOM is tolerated)."""
    try:
        return jsonio.load_file(path)
    except InputError as error:
        raise ConfigurationError(f"{path}: not readable JSON: {error.message}") from None


def _load_official_dir(directory: Path) -> dict[str, _ValueSet]:
    """Read every ``*.json`` file of a directory in the official EU value-set format."""
    sets: dict[str, _ValueSet] = {}
    for path in sorted(directory.glob("*.json")):
        document = _read_json(path)
        value_set = _parse_official(document, str(path))
        name = _OFFICIAL_IDS.get(value_set.set_id, path.stem)
        if name in sets:
            raise ConfigurationError(f"{path}: value set {name!r} given twice in {directory}")
        sets[name] = value_set
    return sets


def _parse_official(document: Any, origin: str) -> _ValueSet:
    """Parse one official value-set document."""
    if not isinstance(document, dict) or not isinstance(document.get("valueSetId"), str):
        raise ConfigurationError(f"{origin}: not an EU value-set file (no valueSetId)")
    values = document.get("valueSetValues")
    if not isinstance(values, dict):
        raise ConfigurationError(f"{origin}: valueSetValues must be an object")
    displays: dict[str, str] = {}
    inactive: set[str] = set()
    for code, entry in values.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("display"), str):
            raise ConfigurationError(f"{origin}: code {code!r} has no display text")
        active = entry.get("active", True)
        if not isinstance(active, bool):
            raise ConfigurationError(f"{origin}: code {code!r}: active must be true or false")
        displays[code] = entry["display"]
        if not active:
            inactive.add(code)
    return _ValueSet(
        document["valueSetId"],
        _optional_str(document.get("valueSetDate"), origin),
        MappingProxyType(displays),
        frozenset(inactive),
    )


def _parse_snapshot(document: Any, origin: str) -> dict[str, _ValueSet]:
    """Parse a vaxcert snapshot document."""
    if not isinstance(document, dict) or document.get("format") != SNAPSHOT_FORMAT:
        raise ConfigurationError(f"{origin}: not a vaxcert value-set snapshot ({SNAPSHOT_FORMAT})")
    sets = document.get("sets")
    if not isinstance(sets, dict):
        raise ConfigurationError(f"{origin}: 'sets' must be an object")
    return {name: _parse_snapshot_set(entry, f"{origin}: {name}") for name, entry in sets.items()}


def _parse_snapshot_set(entry: Any, origin: str) -> _ValueSet:
    """Parse one set of a snapshot."""
    if not isinstance(entry, dict) or not isinstance(entry.get("valueSetId"), str):
        raise ConfigurationError(f"{origin}: a set needs a valueSetId")
    values = entry.get("values")
    if not isinstance(values, dict) or not all(isinstance(text, str) for text in values.values()):
        raise ConfigurationError(f"{origin}: 'values' must map codes to display texts")
    inactive = entry.get("inactive", [])
    if not isinstance(inactive, list) or not all(isinstance(code, str) and code in values for code in inactive):
        raise ConfigurationError(f"{origin}: 'inactive' must list codes of the set")
    return _ValueSet(
        entry["valueSetId"],
        _optional_str(entry.get("valueSetDate"), origin),
        MappingProxyType(dict(values)),
        frozenset(inactive),
    )


def _optional_str(value: object, origin: str) -> str | None:
    """Check an optional string field (the set date)."""
    if value is None or isinstance(value, str):
        return value
    raise ConfigurationError(f"{origin}: valueSetDate must be a string")


def _require_standard_sets(sets: Mapping[str, _ValueSet], origin: str) -> None:
    """Refuse a collection that lacks a set vaxcert checks against."""
    missing = [name for name in VALUE_SET_NAMES if name not in sets]
    if missing:
        raise ConfigurationError(f"{origin}: missing value sets: {', '.join(missing)}")


# -------------------------------------------------------------------------------------------
# Checking a payload


def _entries(payload: Mapping[str, Any], group: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """Yield ``(index, entry)`` for the object entries of a certificate group (v, t or r)."""
    entries = payload.get(group)
    if isinstance(entries, list):
        for index, entry in enumerate(entries):
            if isinstance(entry, Mapping):
                yield index, entry


def check_payload(payload: Mapping[str, Any], vs: ValueSets | None = None) -> list[tuple[str, str]]:
    """Return ``(json_path, message)`` for each coded field whose code is not in its value set.

    Checks ``v[].tg/vp/mp/ma/co``, ``t[].tg/tt/ma/tr/co`` and ``r[].tg/co`` against ``vs`` (the
    bundled snapshot by default).  Deprecated codes are accepted (see
    :meth:`ValueSets.is_active`).  Structure is the schema's business: entries that are not
    objects and codes that are not strings are skipped.  Messages name the value set but not the
    code: a value that is not a known code may be anything (the caller can read it at the path).
    """
    value_sets = ValueSets.bundled() if vs is None else vs
    if not isinstance(payload, Mapping):
        return []
    problems: list[tuple[str, str]] = []
    for group, fields in CODED_FIELDS.items():
        for index, entry in _entries(payload, group):
            for field, name in fields:
                code = entry.get(field)
                if isinstance(code, str) and not value_sets.contains(name, code):
                    problems.append((f"{group}[{index}].{field}", f"{_UNKNOWN[name]} ({name})"))
    return problems
