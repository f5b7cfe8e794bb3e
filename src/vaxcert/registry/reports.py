"""Counts by facility and by province, as a table, CSV or JSON.

Columns (each an exact count over the registry's tables, nothing estimated):

=======================  ===========================================================
``doses``                dose records held for the facility (duplicates included: each
                         is a record; reconciliation reports them)
``people_complete``      persons whose last dose was given there and completes a series
``people_partial``       persons whose last dose was given there and does not
``booster``              of those complete, persons whose last dose is a booster
``certificates_issued``  certificates signed for the facility (current, superseded and
                         revoked: every one that was issued)
``certificates_current`` of those, the current ones
``held_identity``        persons (by last dose) held by the population-register check
``held_conflict``        persons (by last dose) held for conflicting doses
``corrections_pending``  correction requests the facility has to review
``corrections_overdue``  of those, past their 48-hour deadline at the report time
=======================  ===========================================================

Persons are counted at the facility of their last dose, so each person is counted once.

Every CSV vaxcert writes (this report, ``registry import --errors-out``) passes its text cells
through :func:`safe_cell`: a cell starting with ``= + - @``, a tab or a carriage return gets a
leading apostrophe, so a spreadsheet shows it as text instead of running it as a formula.

The **province** of a facility is the second block of its id: ``VN-HN-001`` → ``HN``,
``VN-HCM-014`` → ``HCM`` (country, province, number).  An id not of that shape (fewer than
three blocks, or a first block that is not a two-letter country code) goes to province
``UNKNOWN``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from .protocol import Registry

__all__ = ["COUNT_FIELDS", "ReportRow", "province_of", "render", "report", "safe_cell", "write_row_errors"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula (text starting ``= + - @``, tab, CR)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _RowErrorLike(Protocol):
    @property
    def line(self) -> int: ...

    @property
    def field(self) -> str: ...

    @property
    def message(self) -> str: ...


def write_row_errors(errors: Iterable[_RowErrorLike], path: str | Path) -> None:
    """Write rejected rows (line, field, message: never a value) as CSV, formula-safe."""
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["line", "field", "message"])
        writer.writerows([e.line, safe_cell(e.field), safe_cell(e.message)] for e in errors)

UNKNOWN = "UNKNOWN"
COUNT_FIELDS = (
    "doses", "people_complete", "people_partial", "booster", "certificates_issued", "certificates_current",
    "held_identity", "held_conflict", "corrections_pending", "corrections_overdue",
)  # fmt: skip


def province_of(facility_id: str | None) -> str:
    """The province block of a facility id (``VN-HN-001`` → ``HN``), or ``UNKNOWN``."""
    if not facility_id:
        return UNKNOWN
    parts = facility_id.split("-")
    if len(parts) >= 3 and len(parts[0]) == 2 and parts[0].isalpha() and parts[1]:
        return parts[1].upper()
    return UNKNOWN


@dataclass
class ReportRow:
    """Counts for one facility or province (``key``), or the total (``key`` = ``TOTAL``)."""

    key: str
    province: str
    doses: int = 0
    people_complete: int = 0
    people_partial: int = 0
    booster: int = 0
    certificates_issued: int = 0
    certificates_current: int = 0
    held_identity: int = 0
    held_conflict: int = 0
    corrections_pending: int = 0
    corrections_overdue: int = 0

    def add(self, other: ReportRow) -> None:
        for name in COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def report(
    registry: Registry, *, now: dt.datetime, by: Literal["facility", "province"] = "facility",
    facilities: Collection[str] | None = None,
) -> list[ReportRow]:  # fmt: skip
    """Rows sorted by key, then a ``TOTAL`` row; ``facilities`` limits the report to those (an area's)."""
    wanted = None if facilities is None else set(facilities)
    stamp = int(now.timestamp())
    rows: dict[str, ReportRow] = {}

    def row(facility: str | None) -> ReportRow:
        key = facility or UNKNOWN
        if key not in rows:
            rows[key] = ReportRow(key, province_of(facility))
        return rows[key]

    for facility, counts in registry.facility_counts(now=stamp).items():
        if wanted is not None and facility not in wanted:
            continue
        r = row(facility)
        for name in COUNT_FIELDS:
            setattr(r, name, getattr(r, name) + getattr(counts, name))
    result: list[ReportRow]
    if by == "province":
        provinces: dict[str, ReportRow] = {}
        for r in rows.values():
            p = provinces.setdefault(r.province, ReportRow(r.province, r.province))
            p.add(r)
        result = [provinces[k] for k in sorted(provinces)]
    else:
        result = [rows[k] for k in sorted(rows)]
    total = ReportRow("TOTAL", "")
    for r in result:
        total.add(r)
    return [*result, total]


_SHORT = {
    "doses": "doses", "people_complete": "complete", "people_partial": "partial", "booster": "booster",
    "certificates_issued": "certs", "certificates_current": "current", "held_identity": "held-id",
    "held_conflict": "held-conf", "corrections_pending": "corr-pend", "corrections_overdue": "corr-over",
}  # fmt: skip


def render(
    rows: Sequence[ReportRow], fmt: Literal["table", "csv", "json"] = "table", *, by: str = "facility",
    generated_at: dt.datetime | None = None,
) -> str:  # fmt: skip
    """The report as an aligned text table, CSV (header row first) or JSON."""
    if fmt == "json":
        document: dict[str, Any] = {"by": by, "rows": [asdict(r) for r in rows]}
        if generated_at is not None:
            document["generated_at"] = generated_at.isoformat().replace("+00:00", "Z")
        return json.dumps(document, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        by_province = by == "province"  # then the key is the province: one column, not two
        writer.writerow([by, *([] if by_province else ["province"]), *COUNT_FIELDS])
        for r in rows:
            writer.writerow([safe_cell(r.key), *([] if by_province else [safe_cell(r.province)]),
                             *(getattr(r, n) for n in COUNT_FIELDS)])
        return out.getvalue()
    header = [by, *([] if by == "province" else ["province"]), *(_SHORT[n] for n in COUNT_FIELDS)]
    table = [header]
    for r in rows:
        table.append([r.key, *([] if by == "province" else [r.province]), *(str(getattr(r, n)) for n in COUNT_FIELDS)])
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = []
    for i, line in enumerate(table):
        cells = [c.ljust(w) if j < (1 if by == "province" else 2) else c.rjust(w)
                 for j, (c, w) in enumerate(zip(line, widths, strict=True))]  # fmt: skip
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"
