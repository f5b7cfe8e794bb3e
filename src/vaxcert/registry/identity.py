"""Checking citizens against the population register.

:class:`IdentityCheck` is the Protocol; :class:`RegisterTable` implements it with the
``population_register`` table that the ministry loads (:func:`load_register`, a CSV with
``citizen_id, family_name, given_name, dob``).  A citizen whose number is missing from the
register, or whose name or birth date differs from it, is held with the reason and not
signed.  Names are compared after Unicode NFC normalisation, case folding and collapsing of
spaces (so "NGUYỄN  Văn" matches "Nguyễn Văn", but "Nguyen" does not match "Nguyễn":
diacritics are part of a Vietnamese name).  Foreigners (passport and nationality) skip the
register: the facility that vaccinated them is responsible for their identity.
"""

from __future__ import annotations

import csv
import datetime as dt
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..dcc.model import IdentityDocument, parse_dob
from ..errors import InputError
from .importer import SNIFF_BYTES, RowError, check_encoding
from .naming import same_name
from .protocol import Registry
from .rows import PersonRow

__all__ = [
    "IdentityCheck",
    "IdentityVerdict",
    "RegisterLoadResult",
    "RegisterTable",
    "load_register",
    "register_entries",
    "register_entry",
    "register_rows",
    "same_name",
]

#: Reasons a citizen is held.
NOT_IN_REGISTER = "not_in_register"
NAME_MISMATCH = "name_mismatch"
DOB_MISMATCH = "dob_mismatch"
REASONS = {
    NOT_IN_REGISTER: "citizen ID not found in the population register",
    NAME_MISMATCH: "name does not match the population register",
    DOB_MISMATCH: "birth date does not match the population register",
}


@dataclass(frozen=True, slots=True)
class IdentityVerdict:
    """``ok``, or held with a reason code (see :data:`REASONS`); ``checked`` is False for foreigners."""

    ok: bool
    reason: str | None = None
    checked: bool = True


class IdentityCheck(Protocol):
    """Checks people against a population register, many at a time."""

    def check(self, people: Sequence[PersonRow]) -> list[IdentityVerdict]:
        """One verdict per person, in order."""
        ...


class RegisterTable:
    """:class:`IdentityCheck` backed by the registry's ``population_register`` table."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def check(self, people: Sequence[PersonRow]) -> list[IdentityVerdict]:
        register = self.registry.register_entries(sorted({p.id_number for p in people if p.id_kind == "cccd"}))
        verdicts: list[IdentityVerdict] = []
        for p in people:
            if p.id_kind != "cccd":
                verdicts.append(IdentityVerdict(True, None, checked=False))
                continue
            entry = register.get(p.id_number)
            if entry is None:
                verdicts.append(IdentityVerdict(False, NOT_IN_REGISTER))
            elif not (same_name(entry[0], p.fn) and same_name(entry[1], p.gn)):
                verdicts.append(IdentityVerdict(False, NAME_MISMATCH))
            elif entry[2] != p.dob:
                verdicts.append(IdentityVerdict(False, DOB_MISMATCH))
            else:
                verdicts.append(IdentityVerdict(True))
        return verdicts


@dataclass
class RegisterLoadResult:
    """Counts of a register load."""

    rows: int = 0
    loaded: int = 0
    rejected: int = 0
    errors: list[RowError] | None = None


REGISTER_COLUMNS = ("citizen_id", "family_name", "given_name", "dob")
#: A checked register entry: citizen ID, family name, given name (or None), birth date.
RegisterEntry = tuple[str, str, str | None, str]


def register_rows(path: str | Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a register CSV; whole-file problems (encoding, header, empty) are one InputError."""
    with Path(path).open("rb") as raw:
        sample = raw.read(SNIFF_BYTES)
    if not sample.strip():
        raise InputError("file", "is empty: there is nothing to load")
    check_encoding(sample, None)
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        names = [(n or "").strip().lower() for n in (reader.fieldnames or [])]
        missing = [c for c in REGISTER_COLUMNS if c != "given_name" and c not in names]
        if missing:
            delimiter = next((d for d in (";", "\t", "|") if len(names) == 1 and d in names[0]), None)
            why = f"is separated by {delimiter!r}, not commas" if delimiter else f"lacks {', '.join(missing)}"
            raise InputError("file", f"the header {why}: the expected columns are {', '.join(REGISTER_COLUMNS)}")
        reader.fieldnames = names
        count = 0
        for row in reader:
            count += 1
            yield reader.line_num, row
        if count == 0:
            raise InputError("file", "has no rows (only a header)")


def load_register(registry: Registry, path: str | Path, *, now: dt.datetime) -> RegisterLoadResult:
    """Load (insert or replace) population-register entries from a CSV file.

    Citizens whose entry is new or changed are marked for reconciliation, so holds are lifted
    (or placed) the next time the registry reconciles; loading the same file again changes
    nothing.  Whole-file problems (not UTF-8, a header without the columns, an empty file) are
    one :class:`InputError` (field ``file``).
    """
    errors: list[RowError] = []
    result = RegisterLoadResult(errors=errors)
    stamp = int(now.timestamp())
    batch: list[RegisterEntry] = []

    def flush() -> None:
        registry.put_register_entries(batch, stamp=stamp)
        result.loaded += len(batch)
        batch.clear()

    for entry in register_entries(path, errors):
        batch.append(entry)
        if len(batch) >= 2000:
            flush()
    flush()
    result.rejected = len(errors)
    result.rows = result.loaded + result.rejected
    return result


def register_entries(path: str | Path, errors: list[RowError]) -> Iterator[RegisterEntry]:
    """The valid entries of a register CSV (see :func:`register_rows`); each rejected row is appended
    to ``errors`` (line, field, why) instead."""
    for line, row in register_rows(path):
        try:
            entry = register_entry(row)
        except InputError as exc:
            errors.append(RowError(line, exc.field, exc.message))
            continue
        yield entry


def register_entry(row: dict[str, str]) -> RegisterEntry:
    cid = (row.get("citizen_id") or "").strip()
    try:
        IdentityDocument("cccd", cid)
    except InputError as exc:
        raise InputError("citizen_id", exc.message) from None
    fn = unicodedata.normalize("NFC", (row.get("family_name") or "").strip())
    if not fn:
        raise InputError("family_name", "is required")
    gn = unicodedata.normalize("NFC", (row.get("given_name") or "").strip()) or None
    dob = (row.get("dob") or "").strip()
    parse_dob(dob)
    return cid, fn, gn, dob
