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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..dcc.model import IdentityDocument, parse_dob
from ..errors import InputError
from .importer import RowError
from .protocol import Registry, placeholders

__all__ = [
    "IdentityCheck",
    "IdentityVerdict",
    "PersonIdentity",
    "RegisterLoadResult",
    "RegisterTable",
    "load_register",
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


@dataclass(frozen=True, slots=True, repr=False)
class PersonIdentity:
    """What the register check needs of a person."""

    person_key: str
    id_kind: str
    id_number: str
    fn: str
    gn: str | None
    dob: str

    def __repr__(self) -> str:
        return f"PersonIdentity(kind={self.id_kind}, <redacted>)"


@dataclass(frozen=True, slots=True)
class IdentityVerdict:
    """``ok``, or held with a reason code (see :data:`REASONS`); ``checked`` is False for foreigners."""

    ok: bool
    reason: str | None = None
    checked: bool = True


class IdentityCheck(Protocol):
    """Checks people against a population register, many at a time."""

    def check(self, people: Sequence[PersonIdentity]) -> list[IdentityVerdict]:
        """One verdict per person, in order."""
        ...


def _norm(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").casefold().split())


def same_name(a: str | None, b: str | None) -> bool:
    """Names equal after NFC, case folding and collapsing spaces."""
    return _norm(a) == _norm(b)


class RegisterTable:
    """:class:`IdentityCheck` backed by the registry's ``population_register`` table."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def check(self, people: Sequence[PersonIdentity]) -> list[IdentityVerdict]:
        citizens = sorted({p.id_number for p in people if p.id_kind == "cccd"})
        register: dict[str, tuple[str, str | None, str]] = {}
        for start in range(0, len(citizens), 1000):
            part = citizens[start : start + 1000]
            with self.registry.transaction() as tx:
                for cid, fn, gn, dob in tx.query(
                    "SELECT citizen_id, fn, gn, dob FROM population_register"  # noqa: S608
                    f" WHERE citizen_id IN ({placeholders(len(part))})",
                    part,
                ):
                    register[cid] = (fn, gn, dob)
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


def load_register(registry: Registry, path: str | Path, *, now: dt.datetime) -> RegisterLoadResult:
    """Load (insert or replace) population-register entries from a CSV file.

    Citizens whose entry is new or changed are marked for reconciliation, so holds are lifted
    (or placed) the next time the registry reconciles; loading the same file again changes
    nothing.
    """
    result = RegisterLoadResult(errors=[])
    stamp = int(now.timestamp())
    batch: list[tuple[str, str, str | None, str, int]] = []

    def flush() -> None:
        if not batch:
            return
        ids = [b[0] for b in batch]
        sql = f"SELECT citizen_id, fn, gn, dob FROM population_register WHERE citizen_id IN ({placeholders(len(ids))})"  # noqa: S608
        with registry.transaction() as tx:
            known = {r[0]: tuple(r[1:]) for r in tx.query(sql, ids)}
            changed = [b for b in batch if known.get(b[0]) != b[1:4]]
            if changed:
                tx.executemany(
                    "INSERT INTO population_register (citizen_id, fn, gn, dob, loaded_at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (citizen_id) DO UPDATE SET fn = excluded.fn, gn = excluded.gn,"
                    " dob = excluded.dob, loaded_at = excluded.loaded_at",
                    changed,
                )
                marks = placeholders(len(changed))
                tx.execute(f"UPDATE persons SET dirty = dirty + 1 WHERE id_kind = 'cccd' AND id_number IN ({marks})",  # noqa: S608
                           [b[0] for b in changed])  # fmt: skip
        result.loaded += len(batch)
        batch.clear()

    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            result.rows += 1
            try:
                entry = _register_row(row)
            except InputError as exc:
                result.rejected += 1
                assert result.errors is not None
                result.errors.append(RowError(reader.line_num, exc.field, exc.message))
                continue
            batch.append((*entry, stamp))
            if len(batch) >= 2000:
                flush()
        flush()
    return result


def _register_row(row: dict[str, str]) -> tuple[str, str, str | None, str]:
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
