"""The population register's correction list: corrected entries, and those citizens checked again at once.

The Ministry of Public Security exports the register entries it corrected (``citizen_id,
family_name, given_name, dob``).  :func:`load_register_corrections` replaces those entries and
reconciles the listed citizens right away, so a person held for identity whose record matches the
corrected entry is released (and waits for a certificate) and one that no longer matches is held.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .identity import RegisterEntry, register_entries
from .importer import RowError, person_key
from .protocol import Registry
from .reconciliation import reconcile

__all__ = ["RegisterCorrectionResult", "load_register_corrections"]


@dataclass
class RegisterCorrectionResult:
    """What loading the population register's correction list did."""

    rows: int = 0
    changed: int = 0
    released: int = 0
    still_held: int = 0
    newly_held: int = 0
    not_in_registry: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.rows} corrections: {self.changed} register entries changed, {self.released} person(s) "
                f"released, {self.still_held} still held, {self.newly_held} newly held, "
                f"{self.not_in_registry} not in the registry, {self.rejected} rejected")  # fmt: skip


def load_register_corrections(registry: Registry, path: str | Path, *, now: dt.datetime, by: str,
                              origin: str | None = None) -> RegisterCorrectionResult:  # fmt: skip
    """Apply the population register's correction list (the Ministry of Public Security's export:
    ``citizen_id, family_name, given_name, dob``) and check those citizens again at once.

    Each listed entry replaces the register's; the listed citizens are reconciled right away, so a
    person held for identity whose record matches the corrected entry is released (and waits for
    a certificate), and one that no longer matches is held.  The load is audited (counts only).
    """
    who = (by or "").strip()
    if not who:
        raise InputError("by", "is required (who loads the list)")
    result = RegisterCorrectionResult()
    stamp = int(now.timestamp())
    entries: dict[str, RegisterEntry] = {}
    for entry in register_entries(path, result.errors):
        entries[entry[0]] = entry
        result.rows += 1
    result.rejected = len(result.errors)
    result.rows += result.rejected
    keys = [person_key("cccd", cid, "VN") for cid in sorted(entries)]
    before = registry.person_states(keys)
    result.not_in_registry = len(keys) - len(before)
    for start in range(0, len(keys), 2000):
        part = [entries[k.split(":", 1)[1]] for k in keys[start : start + 2000]]
        result.changed += registry.put_register_entries(part, stamp=stamp)
    reconcile(registry, now=now, persons=list(before))
    after = registry.person_states(list(before))
    for key, state in after.items():
        was = before[key]
        if was == "held_identity" and state != "held_identity":
            result.released += 1
        elif was == "held_identity":
            result.still_held += 1
        elif state == "held_identity":
            result.newly_held += 1
    registry.audit(at=stamp, actor=who, action="register.corrections", subject="population_register", reason=None,
                   detail={"rows": result.rows, "changed": result.changed, "released": result.released,
                           "still_held": result.still_held, "newly_held": result.newly_held},
                   origin=origin)  # fmt: skip
    return result
