"""Importing facility exports (CSV or JSON lines) into the registry.

Each row is one dose given to one person.  Columns (CSV header / JSON keys):

=================  ====================================================================
``citizen_id``     12-digit citizen identity number (căn cước), or leave empty and give
``passport_number`` + ``nationality`` (ISO 3166-1 alpha-2) for a foreigner
``family_name``    family name as written (Vietnamese with diacritics, NFC)
``given_name``     given names (may be empty)
``dob``            birth date ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``
``facility``       administering facility, e.g. ``VN-HN-001``
``dose_number``    ``dn``; ``series_total``: ``sd``
``date``           vaccination date ``YYYY-MM-DD``
``product``        ``mp`` code; ``manufacturer`` (``ma``) and ``prophylaxis`` (``vp``) may be
                   left empty for products vaxcert knows; ``country`` (default VN);
                   ``disease`` (default COVID-19)
=================  ====================================================================

A JSON-lines file may also hold whole vaxcert dose records (``"format":
"vaxcert.dose-record/1"``), one per line; each of their doses becomes a row.

Every row is checked as strictly as issuance will check it (the model's rules, the value sets,
dates not in the future, the DCC schema — :func:`vaxcert.dcc.payload.check_issuable`, except that
``dn > sd`` is left to reconciliation, which reports it), with placeholders for the two fields
batch issuance adds (``is``, ``ci``; those are checked once per run by
:func:`vaxcert.dcc.payload.check_issuer_fields`).  That is why batch issuance can sign with
``Issuer(..., check=False)``: every field was validated by the one check.  A bad row is reported with
its line number and field (never its values) and the other rows are kept.

Re-importing a file changes nothing: a dose's key is a hash of its natural key (person, dose
number, date, facility); a row whose key exists with the same content is counted as unchanged,
with different content it is rejected (use a correction request).  A row that names a known
person with a different name or birth date is rejected too.  Files are streamed in chunks,
one transaction per chunk, reporting progress to a callback (the CLI draws a bar).

Hostile or broken files cost one rejected row each, never the import: a line longer than
:data:`MAX_LINE_BYTES`, a CSV field over Python's 128 KiB field limit, JSON nested too deeply or
holding a number of more than 4,300 digits, a whole number too long to be a dose number.  An
unknown column is named by its position, never by its header text (a file without a header
would otherwise echo a citizen's ID or name into the error report).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import difflib
import functools
import hashlib
import io
import json
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import queue
import signal
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from .. import jsonio
from ..dcc import payload as payload_mod
from ..dcc.codes import COVID_19
from ..dcc.model import (
    _CCCD_PROVINCES,
    _CCCD_RE,
    _FACILITY_RE,
    FORMAT,
    Dose,
    DoseRecord,
    IdentityDocument,
    Name,
    Person,
)
from ..dcc.valuesets import ValueSets
from ..errors import InputError, VaxcertError
from ..jsonio import ascii_digits
from ..logs import log_event
from .naming import same_name
from .protocol import ProgressCallback, Registry
from .reports import province_of
from .rows import DoseHash, NewDose, PersonRow, StoredDose

__all__ = [
    "COLUMNS",
    "EXPECTED_COLUMNS",
    "LEGACY_ENCODINGS",
    "MAX_LINE_BYTES",
    "DoseRow",
    "ImportResult",
    "RowError",
    "check_encoding",
    "check_header",
    "count_records",
    "guess_encoding",
    "import_data",
    "import_file",
    "import_rows",
    "parse_row",
    "person_key",
]

log = logging.getLogger(__name__)

#: Longest line read (a row, or a JSON line); longer ones are rejected without being held in memory.
MAX_LINE_BYTES = 1024 * 1024
#: Files from this size on (about 10,000 rows) are read and checked in a child process where
#: that is safe (see :class:`_CheckedInChild`); smaller ones are not worth the fork.
CHILD_MIN_BYTES = 1 << 20
#: Most digits of a whole-number column (dose numbers are small).
_MAX_INT_DIGITS = 6

COLUMNS = (
    "citizen_id", "passport_number", "nationality", "family_name", "given_name", "dob", "facility",
    "dose_number", "series_total", "date", "product", "manufacturer", "prophylaxis", "country", "disease",
)  # fmt: skip
_COLUMN_SET = frozenset(COLUMNS)


# Where a model or payload field comes from in a flat row.
_FIELD_TO_COLUMN = {
    "family": "family_name", "given": "given_name", "family_icao": "family_name", "given_icao": "given_name",
    "nam.fn": "family_name", "nam.fnt": "family_name", "nam.gn": "given_name", "nam.gnt": "given_name",
    "dob": "dob", "person.dob": "dob", "identity.number": "citizen_id",
    "v[0].dt": "date", "v[0].mp": "product", "v[0].ma": "manufacturer", "v[0].vp": "prophylaxis",
    "v[0].dn": "dose_number", "v[0].sd": "series_total", "v[0].co": "country", "v[0].tg": "disease",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class RowError:
    """A rejected row: its line number, the field at fault and why (no values: personal data)."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


class DoseRow(NamedTuple):
    """One validated row: the person and the dose as the registry stores them, the line it came
    from, and the hash of everything it says (:func:`row_hash_of`)."""

    line: int
    person: PersonRow
    dose: StoredDose
    row_hash: str

    @classmethod
    def of(cls, line: int, person: PersonRow, dose: StoredDose) -> DoseRow:
        """The row of ``person`` and ``dose``, its hash computed."""
        return cls(line, person, dose, row_hash_of(person, dose))

    def new_dose(self, source: str | None, line: int | None) -> NewDose:
        """The dose to insert for this row."""
        return NewDose(self.dose, self.person.person_key, self.row_hash, source, line)

    def __repr__(self) -> str:
        return f"DoseRow(line={self.line}, facility={self.dose.facility!r}, <redacted>)"


def row_hash_of(person: PersonRow, dose: StoredDose) -> str:
    """Hash of everything an import row says: the JSON array of the person's key, names and birth
    date and the dose's values (what a re-import compares)."""
    p, d = person, dose
    values = (p.person_key, p.fn, p.gn, p.dob, d.facility, d.dn, d.sd, d.date, d.tg, d.vp, d.mp, d.ma, d.co)
    return hashlib.sha256(_json_array(values).encode()).hexdigest()[:32]


def _json_array(values: Sequence[str | int | None]) -> str:
    """``json.dumps(values, ensure_ascii=False)`` for text, integers and None, without the encoder's set-up.

    The same text (a test compares them): json.dumps builds a new encoder on every call, which
    costs more than hashing the row.
    """
    return "[" + ", ".join([_JSON_STR(v) if type(v) is str else "null" if v is None else int.__repr__(v)
                            for v in values]) + "]"  # fmt: skip


_JSON_STR = json.encoder.encode_basestring  # ensure_ascii=False: escapes quotes, backslashes and controls


def dose_key(person_key: str, dn: int, date: str, facility: str) -> str:
    """Hash of a dose's natural key: person, dose number, date, facility."""
    return hashlib.sha256(f"{person_key}|{dn}|{date}|{facility}".encode()).hexdigest()[:32]


@dataclass
class ImportResult:
    """Counts of an import, and the rejected rows (the first ``max_errors`` of them)."""

    rows: int = 0
    inserted: int = 0
    unchanged: int = 0
    rejected: int = 0
    new_persons: int = 0
    errors: list[RowError] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.rows} rows: {self.inserted} new doses, {self.unchanged} unchanged, "
                f"{self.rejected} rejected; {self.new_persons} new persons")  # fmt: skip


def person_key(id_kind: str, number: str, nationality: str) -> str:
    """The registry's key of a person: ``cccd:<number>`` or ``passport:<NAT>:<number>``."""
    return f"cccd:{number}" if id_kind == "cccd" else f"passport:{nationality}:{number}"


def _text(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(key, "must be text")
    text = str(value).strip()
    return text or None


def _int(obj: Mapping[str, Any], key: str) -> int:
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 10**_MAX_INT_DIGITS:
            raise InputError(key, f"must be a whole number of at most {_MAX_INT_DIGITS} digits")
        return value
    if isinstance(value, str) and ascii_digits(value.strip(), max_digits=MAX_LINE_BYTES):  # not '²' or '٣'
        if len(value.strip()) > _MAX_INT_DIGITS:  # (int() only reads the short ones)
            raise InputError(key, f"must be a whole number of at most {_MAX_INT_DIGITS} digits")
        return int(value.strip())
    if value is None or value == "":
        raise InputError(key, "is required")
    raise InputError(key, "must be a whole number")


def _date(obj: Mapping[str, Any], key: str) -> dt.date:
    value = _text(obj, key)
    if value is None:
        raise InputError(key, "is required")
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(key, "must be a date YYYY-MM-DD") from None


@functools.lru_cache(maxsize=65_536)
def _name(family: str, given: str | None) -> Name:
    """Names repeat a lot in a national export; validating (transliterating) each once is enough."""
    return Name(family, given)


#: ``(fn, gn, fnt, gnt)``: a person's names as the registry stores them and a certificate carries them.
_Names = tuple[str, str | None, str, str | None]


def _checked_names(name: Name) -> _Names | None:
    """A name's DCC fields, when the issuance checks' quick pass accepts them; None when unsure."""
    try:
        fnt, gnt = name.fnt(), name.gnt()
    except InputError:
        return None
    given = None if name.given is None else (name.given, gnt)
    return (name.family, name.given, fnt, gnt) if payload_mod.quick_names(name.family, fnt, given) else None


def _row_names(family: str, given: str | None) -> _Names | None:
    """:func:`_checked_names` of a name as written in a row, from its two parts checked apart."""
    fn = _name_part(family)
    if given is None or fn is None:
        return None if fn is None else (fn[0], None, fn[1], None)
    gn = _name_part(given)
    return None if gn is None else (fn[0], gn[0], fn[1], gn[1])


@functools.lru_cache(maxsize=65_536)
def _name_part(text: str) -> tuple[str, str] | None:
    """A family or a given name as written: (as printed, its ICAO form), checked; None when unsure.

    A :class:`Name` checks its family and given names by the same rules, each alone, and so
    does the quick pass (:func:`vaxcert.dcc.payload.quick_names`): checking the parts apart
    gives the whole name's answer.  Remembered per text: family names and given names repeat
    far more than whole names do.
    """
    try:
        part = _checked_names(Name(text))
    except InputError:
        return None
    return None if part is None else (part[0], part[2])


class _DoseValues(NamedTuple):
    """A dose's values as stored (after the facility, in :class:`StoredDose` order), checked."""

    fields: tuple[str, int, int, str, str, str, str, str, str]  # facility, dn, sd, dt, tg, vp, mp, ma, co
    day: dt.date
    json: str  # the fields as JSON array members, the row hash's second half


@functools.lru_cache(maxsize=65_536)
def _dose_values(facility: str, product: str, manufacturer: str | None, prophylaxis: str | None, dn: int, sd: int,
                 day: str, country: str, disease: str) -> _DoseValues | None:  # fmt: skip
    """A dose's values with the product's defaults, checked as issuance checks a vaccination entry
    (:func:`vaxcert.dcc.payload.quick_vaccination`) and a Dose its facility; None when unsure.

    A pure function of the values (the date's window against the birth date and today is the
    caller's): an export's rows share a few facilities, days, products and dose numbers, so most
    rows cost a lookup here.
    """
    if len(facility) > 40 or _FACILITY_RE.fullmatch(facility) is None:
        return None
    known = payload_mod.PRODUCTS.get(product)
    ma = manufacturer or (known.ma if known else None)
    vp = prophylaxis or (known.vp if known else None)
    if ma is None or vp is None:
        return None
    date = payload_mod.quick_vaccination(disease, vp, product, ma, dn, sd, day, country, allow_dn_over_sd=True)
    if date is None:
        return None
    fields = (facility, dn, sd, day, disease, vp, product, ma, country)
    return _DoseValues(fields, date, _json_members(fields))


def _json_members(values: Sequence[str | int | None]) -> str:
    """The members of :func:`_json_array` without the brackets."""
    return _json_array(values)[1:-1]


def _quick_fields(names: _Names | None, dob: str, dose: _DoseValues | None, now: dt.datetime) -> dt.date | None:
    """The quick pass over a row's parts, checked apart: names, dose values, and the dates together.

    The first day the birth date denotes, only when :func:`vaxcert.dcc.payload.quick_issuable`
    accepts the payload these parts make (with the placeholders ``is`` and ``ci`` that batch
    issuance replaces, checked once in :func:`_placeholders_pass`); else None.
    """
    if names is None or dose is None or not _placeholders_pass():
        return None
    earliest = payload_mod.quick_dob_earliest(dob)
    return earliest if earliest is not None and payload_mod.quick_in_window(earliest, dose.day, now) else None


@functools.cache
def _placeholders_pass() -> bool:
    """The placeholder ``is`` and ``ci`` pass the quick pass's checks of those fields (they do: a
    test says so; this keeps the quick path honest if they ever change)."""
    return payload_mod.quick_issuer_fields(payload_mod.PLACEHOLDER_ISSUER, payload_mod.PLACEHOLDER_UVCI)


def _row(line: int, person: PersonRow, dose: _DoseValues, names_json: str | None = None) -> DoseRow:
    """The row of ``person`` and checked dose values; ``names_json``: the person's part of the row
    hash's JSON when the caller has it (see :func:`row_hash_of`)."""
    fields = dose.fields
    stored = StoredDose(dose_key(person.person_key, fields[1], fields[3], fields[0]), *fields)
    if names_json is None:
        return DoseRow.of(line, person, stored)
    digest = hashlib.sha256(f"[{names_json}, {dose.json}]".encode()).hexdigest()[:32]
    return DoseRow(line, person, stored, digest)


def _person_from_row(obj: Mapping[str, Any]) -> Person:
    citizen = _text(obj, "citizen_id")
    passport = _text(obj, "passport_number")
    nationality = _text(obj, "nationality")
    if citizen and passport:
        raise InputError("passport_number", "give either citizen_id or passport_number, not both")
    try:
        if citizen:
            identity = IdentityDocument("cccd", citizen, nationality)
        elif passport:
            identity = IdentityDocument("passport", passport.upper(), nationality.upper() if nationality else None)
        else:
            raise InputError("citizen_id", "a citizen_id, or a passport_number with nationality, is required")
    except InputError as exc:
        if exc.field == "number":
            raise InputError("citizen_id" if citizen else "passport_number", exc.message) from None
        raise
    family = _text(obj, "family_name")
    if family is None:
        raise InputError("family_name", "is required")
    dob = _text(obj, "dob")
    if dob is None:
        raise InputError("dob", "is required")
    try:
        name = _name(family, _text(obj, "given_name"))
        return Person(name, dob, identity)
    except InputError as exc:
        raise InputError(_FIELD_TO_COLUMN.get(exc.field, exc.field), exc.message) from None


def _dose_from_row(obj: Mapping[str, Any]) -> Dose:
    product = _text(obj, "product")
    facility = _text(obj, "facility")
    if product is None:
        raise InputError("product", "is required")
    if facility is None:
        raise InputError("facility", "is required")
    kwargs: dict[str, Any] = {}
    for key in ("manufacturer", "prophylaxis", "country", "disease"):
        value = _text(obj, key)
        if value is not None:
            kwargs[key] = value
    return Dose(
        date=_date(obj, "date"), product=product, dose_number=_int(obj, "dose_number"),
        series_total=_int(obj, "series_total"), facility=facility.upper(), **kwargs,
    )  # fmt: skip


def _quick_parts(person: Person, dose: Dose, now: dt.datetime) -> tuple[_Names, _DoseValues] | None:
    """A checked person and dose through the quick pass (:func:`_quick_fields`), or None when unsure."""
    names = _checked_names(person.name)
    values = _dose_values(dose.facility, dose.product, dose.manufacturer, dose.prophylaxis, dose.dose_number,
                          dose.series_total, dose.date.isoformat(), dose.country, dose.disease)  # fmt: skip
    if names is None or values is None or _quick_fields(names, person.dob, values, now) is None:
        return None
    return names, values


def _validated(line: int, person: Person, dose: Dose, now: dt.datetime, prefix: str = "") -> DoseRow:
    """Check a person and dose as issuance would; raise InputError naming a row column."""
    if not ValueSets.bundled().contains("vaccine-medicinal-product", dose.product):
        raise InputError(f"{prefix}product", "is not in the value set vaccine-medicinal-product")
    identity = person.identity
    assert identity is not None and identity.nationality is not None
    if identity.kind == "passport":
        if not ValueSets.bundled().contains("country-2-codes", identity.nationality):
            raise InputError("nationality", "is not an ISO 3166-1 alpha-2 country code")
    key = person_key(identity.kind, identity.number, identity.nationality)
    quick = _quick_parts(person, dose, now)
    if quick is not None:
        (fn, gn, fnt, gnt), values = quick
        row = PersonRow(key, identity.kind, identity.number, identity.nationality, fn, gn, fnt, gnt, person.dob)
        return _row(line, row, values)
    try:
        placeholders = {"ci": payload_mod.PLACEHOLDER_UVCI, "issuer": payload_mod.PLACEHOLDER_ISSUER}
        entry = payload_mod.entry_from_dose(dose, **placeholders)
        payload = payload_mod.build_payload(person, entry)
        payload_mod.check_issuable(payload, now=now, allow_dn_over_sd=True)
    except InputError as exc:
        column = _FIELD_TO_COLUMN.get(exc.field, exc.field)
        raise InputError(f"{prefix}{column}", exc.message) from None
    nam = payload["nam"]
    v = payload["v"][0]
    row = PersonRow(key, identity.kind, identity.number, identity.nationality, nam["fn"], nam.get("gn"),
                    nam["fnt"], nam.get("gnt"), payload["dob"])  # fmt: skip
    dose_fields = (dose.facility, v["dn"], v["sd"], v["dt"], v["tg"], v["vp"], v["mp"], v["ma"], v["co"])
    return DoseRow.of(line, row, StoredDose(dose_key(key, v["dn"], v["dt"], dose.facility), *dose_fields))


#: The columns the quick pass reads (a passport row, or a dose record, takes the checked path).
_QUICK_COLUMNS = _COLUMN_SET - {"passport_number"}


def _quick_row(line: int, obj: dict[str, Any], now: dt.datetime) -> DoseRow | None:
    """One pass over a flat row of text cells: the row :func:`parse_row` makes, or None when unsure.

    It reads each cell once and checks it with the rules the checked path applies to it (the
    identity number, name, birth date, facility, dose numbers, date and codes: the model's rules
    and the issuance checks' quick pass), in three parts: the name (:func:`_row_names`) and the
    dose's values (:func:`_dose_values`), each remembered per text, and the dates against each
    other and today (:func:`_quick_fields`).  The usual row only: a citizen of Viet Nam, every
    cell text.  Any doubt returns None and the checked path (which names the column) decides; a
    property test compares the two.
    """
    if not obj.keys() <= _QUICK_COLUMNS:
        return None
    for value in obj.values():
        if type(value) is not str:
            return None
    get = obj.get
    number = get("citizen_id", "").strip()
    if _CCCD_RE.fullmatch(number) is None or number[:3] not in _CCCD_PROVINCES:
        return None
    if get("nationality", "").strip() not in ("", "VN"):
        return None
    family, given, dob = get("family_name", "").strip(), get("given_name", "").strip() or None, get("dob", "").strip()
    product, facility = get("product", "").strip(), get("facility", "").strip().upper()
    dn, sd = get("dose_number", "").strip(), get("series_total", "").strip()
    if not (family and dob and product and facility and ascii_digits(dn, max_digits=_MAX_INT_DIGITS)
            and ascii_digits(sd, max_digits=_MAX_INT_DIGITS)):
        return None
    names = _row_names(family, given)
    # the dose's values as a Dose would hold them (defaults VN and COVID-19)
    values = _dose_values(facility, product, get("manufacturer", "").strip() or None,
                          get("prophylaxis", "").strip() or None, int(dn), int(sd), get("date", "").strip(),
                          get("country", "").strip() or "VN", get("disease", "").strip() or COVID_19)  # fmt: skip
    earliest = _quick_fields(names, dob, values, now)
    if earliest is None or earliest.year != 1900 + 100 * (int(number[3]) // 2) + int(number[4:6]):
        return None  # (the number encodes the birth year: a century-and-gender digit, the year's two)
    assert names is not None and values is not None  # (checked by _quick_fields)
    key = "cccd:" + number
    fn, gn, fnt, gnt = names
    person = PersonRow(key, "cccd", number, "VN", fn, gn, fnt, gnt, dob)
    gn_json = "null" if gn is None else _JSON_STR(gn)
    return _row(line, person, values, f"{_JSON_STR(key)}, {_JSON_STR(fn)}, {gn_json}, {_JSON_STR(dob)}")




def parse_row(line: int, obj: Mapping[str, Any], *, now: dt.datetime) -> list[DoseRow]:
    """Validate one row (or one dose-record line); raise InputError naming the field."""
    if type(obj) is dict:
        quick = _quick_row(line, obj, now)
        if quick is not None:
            return [quick]
    if not isinstance(obj, Mapping):
        raise InputError("$", "must be a JSON object")
    if obj.get("format") == FORMAT:
        record = DoseRecord.from_json(obj)
        if record.person.identity is None:
            raise InputError("person.identity", "is required in the registry (citizen ID or passport)")
        return [
            _validated(line, record.person, dose, now, prefix=f"doses[{i}].")
            for i, dose in enumerate(record.doses)
        ]
    unknown = [i for i, k in enumerate(obj, start=1) if k not in _COLUMN_SET]
    if unknown:
        raise InputError(f"column {unknown[0]}", _unknown_column(list(obj)[unknown[0] - 1]))
    person = _person_from_row(obj)
    try:
        dose = _dose_from_row(obj)
    except InputError as exc:
        raise InputError(_FIELD_TO_COLUMN.get(exc.field, exc.field), exc.message) from None
    return [_validated(line, person, dose, now)]


def _suggestion(header: object) -> str:
    """`` (did you mean family_name?)`` for a near miss of a known column, else nothing (never the header)."""
    close = difflib.get_close_matches(str(header).strip().lower(), COLUMNS, n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def _unknown_column(header: object) -> str:
    """Why a column is unknown, suggesting a known name when the header is a near miss (never echoing it)."""
    text = str(header).strip().lower()
    close = difflib.get_close_matches(text, COLUMNS, n=1, cutoff=0.75)
    if close:
        return f"unknown column (did you mean {close[0]}?)"
    return "unknown column (is the header line missing or misspelt?)"


# --------------------------------------------------------------------------- reading files

#: The columns a facility export must have (besides citizen_id, or passport_number + nationality).
REQUIRED_COLUMNS = ("family_name", "dob", "facility", "dose_number", "series_total", "date", "product")
EXPECTED_COLUMNS = ("citizen_id (or passport_number and nationality), family_name, given_name, dob, facility, "
                    "dose_number, series_total, date, product; optional: manufacturer, prophylaxis, country, disease")
#: How much of a file is examined for whole-file problems (encoding) before any row is stored.
SNIFF_BYTES = 1 << 16
#: Letters and combining tone marks that only Vietnamese text has (after decoding as Windows-1258).
_VIETNAMESE = frozenset("ĂăÂâĐđÊêÔôƠơƯư\u0300\u0301\u0303\u0309\u0323")
#: Encodings a legacy (ANSI) export may be read with, by the names users give them.
LEGACY_ENCODINGS = {"cp1258": "Windows-1258 (Vietnamese ANSI)", "cp1252": "Windows-1252 (Western ANSI)",
                    "latin-1": "ISO 8859-1", "utf-16": "UTF-16", "utf-8": "UTF-8"}  # fmt: skip


def guess_encoding(sample: bytes) -> str | None:
    """None when ``sample`` is UTF-8 text; else the codec it most likely is (``cp1258``, ``cp1252``, ``utf-16``)."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return None
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(sample) - 3:
            return None  # the sample ends inside a character
    if b"\x00" in sample[:200]:
        return "utf-16"
    text = sample.decode("cp1258", errors="replace")
    return "cp1258" if any(ch in _VIETNAMESE for ch in text) else "cp1252"


def check_encoding(sample: bytes, encoding: str | None) -> None:
    """Refuse, with one error naming the encoding it looks like, a file that is not in ``encoding`` (UTF-8)."""
    if encoding not in (None, "utf-8", "utf-8-sig"):
        return
    guessed = guess_encoding(sample)
    if guessed is None:
        return
    name = LEGACY_ENCODINGS.get(guessed, guessed)
    raise InputError("file", f"is not UTF-8 text: it looks like {name}. Save it as UTF-8 (Excel: 'CSV UTF-8') "
                             f"or import it with --encoding {guessed}")  # fmt: skip


#: A line longer than MAX_LINE_BYTES, read and dropped in pieces (the reader reports it).
_TOO_LONG = "\ufffevaxcert-line-too-long\ufffe"


class _Counted:
    """Bytes read so far from a binary file, for progress reports; lines decoded with ``encoding`` and
    capped at MAX_LINE_BYTES."""

    def __init__(self, fh: BinaryIO, encoding: str | None = None) -> None:
        self.fh = fh
        self.read = 0
        self.codec = "utf-8" if encoding in (None, "utf-8-sig") else encoding
        self.legacy = self.codec != "utf-8"

    def lines(self) -> Iterator[str]:
        first = True
        while True:
            raw = self.fh.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            self.read += len(raw)
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while True:  # skip the rest of the line without holding it
                    rest = self.fh.readline(MAX_LINE_BYTES)
                    self.read += len(rest)
                    if not rest or rest.endswith(b"\n"):
                        break
                first = False
                yield _TOO_LONG + "\n"
                continue
            text = raw.decode(self.codec or "utf-8", errors="replace")
            if self.legacy:
                text = unicodedata.normalize("NFC", text)
            if first:
                text = text.removeprefix("\ufeff")
                first = False
            yield text


def check_header(names: Sequence[str]) -> None:
    """Refuse a CSV header that is not a facility export's, with one error naming the expected columns."""
    cleaned = [n for n in names if n]
    if len(cleaned) <= 1 and cleaned:
        for delimiter, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
            if delimiter in cleaned[0]:
                raise InputError("file", f"is separated by {label}, not commas: vaxcert reads comma-separated "
                                         f"files with the columns {EXPECTED_COLUMNS}")  # fmt: skip
    unknown = [n for n in cleaned if n not in COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in cleaned]
    if "citizen_id" not in cleaned and "passport_number" not in cleaned:
        missing.insert(0, "citizen_id")
    if unknown or missing:
        # Unknown columns by position, never by their text: without a header line, the "header" is a
        # citizen's data (an ID, a name), which must not reach the error report (issue 10, item 6).
        positions = [i for i, n in enumerate(names, start=1) if n and n not in COLUMNS]
        shown = ", ".join(f"column {i}{_suggestion(names[i - 1])}" for i in positions[:5])
        parts = ([f"unknown {shown}"] if unknown else []) + (
            [f"missing {', '.join(missing)}"] if missing else [])
        raise InputError("file", f"the header does not match a facility export ({'; '.join(parts)}): "
                                 f"the expected columns are {EXPECTED_COLUMNS}")  # fmt: skip


def _too_long() -> InputError:
    return InputError("$", f"line longer than {MAX_LINE_BYTES // 1024} KiB")


def _csv_rows(counted: _Counted) -> Iterator[tuple[int, Mapping[str, Any] | InputError]]:
    reader = csv.reader(counted.lines())
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error:
        yield 1, InputError("$", "the header line is not readable CSV (a field longer than 128 KiB?)")
        return
    names = [h.strip().lower() for h in header]
    check_header(names)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            # e.g. "field larger than field limit (131072)": this row is lost, the next ones are read
            yield reader.line_num, InputError("$", f"is not readable CSV (a field longer than "
                                                   f"{csv.field_size_limit() // 1024} KiB?)")  # fmt: skip
            continue
        # each test on the row's cells joined: a marker or character found there is in one of them
        joined = "".join(row)
        if _TOO_LONG[0] in joined and any(_TOO_LONG in cell for cell in row):
            yield reader.line_num, _too_long()
            continue
        if not joined.strip():  # every cell blank
            continue
        if len(row) != len(names):
            yield reader.line_num, InputError("$", f"has {len(row)} fields, the header has {len(names)}")
            continue
        if "\ufffd" in joined:  # a cell holds bytes that were not text in the file's encoding
            yield reader.line_num, InputError("$", "is not UTF-8 text (the file mixes encodings)")
            continue
        yield reader.line_num, {k: v for k, v in zip(names, row, strict=True) if v.strip() != ""}


def _jsonl_rows(counted: _Counted) -> Iterator[tuple[int, Mapping[str, Any] | InputError]]:
    first = True
    for number, text in enumerate(counted.lines(), start=1):
        if text.startswith(_TOO_LONG):
            yield number, _too_long()
            continue
        if not text.strip():
            continue
        try:
            obj = jsonio.loads(text, what="$")
        except InputError as exc:
            if first and "," in text and "{" not in text:
                raise InputError("file", "is not JSON lines (its first line looks like a CSV header): name it .csv "
                                         "or give the format csv") from None  # fmt: skip
            yield number, InputError("$", "is not UTF-8 text (the file mixes encodings)") if "\ufffd" in text else exc
            continue
        finally:
            first = False
        if not isinstance(obj, dict):
            yield number, InputError("$", "must be a JSON object")
            continue
        yield number, obj


def _reader(counted: _Counted, kind: str) -> Iterator[tuple[int, Mapping[str, Any] | InputError]]:
    if kind not in ("csv", "jsonl"):
        raise InputError("format", "must be csv or jsonl")
    return _csv_rows(counted) if kind == "csv" else _jsonl_rows(counted)


def _sniff(fh: BinaryIO, encoding: str | None) -> None:
    sample = fh.read(SNIFF_BYTES)
    fh.seek(0)
    if not sample.strip():
        raise InputError("file", "is empty: there is nothing to import")
    check_encoding(sample, encoding)


def import_file(
    registry: Registry,
    path: str | Path,
    *,
    now: dt.datetime,
    fmt: str | None = None,
    chunk_size: int = 2000,
    progress: ProgressCallback | None = None,
    max_errors: int = 10_000,
    encoding: str | None = None,
) -> ImportResult:
    """Import a CSV (``.csv``) or JSON-lines (``.jsonl``/``.ndjson``/``.json``) file, streaming.

    Whole-file problems are one :class:`InputError` (field ``file``), raised before any row is
    stored: a file that is not UTF-8 (naming the encoding it looks like; ``encoding`` reads a
    legacy one, e.g. ``cp1258``), a CSV header that is not a facility export's or uses another
    delimiter (naming the expected columns), and an empty or header-only file.  ``progress`` is
    called after each chunk with the bytes read so far and the file's size.
    """
    path = Path(path)
    kind = fmt or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    if encoding is not None and encoding not in LEGACY_ENCODINGS:
        raise InputError("encoding", f"must be one of {', '.join(LEGACY_ENCODINGS)}")
    total = path.stat().st_size
    with path.open("rb") as fh:
        _sniff(fh, encoding)
        counted = _Counted(fh, encoding)
        rows = _reader(counted, kind)

        def tick(read: int) -> None:
            if progress is not None:
                progress(read, total)

        result = import_rows(registry, rows, now=now, source=path.name, chunk_size=chunk_size,
                             max_errors=max_errors, on_progress=tick, position=lambda: counted.read,
                             in_child=total >= CHILD_MIN_BYTES)  # fmt: skip
    if result.rows == 0:
        raise InputError("file", "has no rows (only a header)" if kind == "csv" else "has no records")
    return result


def count_records(data: bytes, fmt: str) -> int:
    """Check a submitted file for whole-file problems (see :func:`import_file`) and count its records.

    Raises :class:`InputError` (field ``file``) for an empty, header-only or non-UTF-8 file, or a
    CSV header that is not a facility export's; rows themselves are checked when processed.
    """
    if not data.strip():
        raise InputError("file", "is empty: there is nothing to import")
    check_encoding(data[:SNIFF_BYTES], None)
    if fmt == "csv":
        counted = _Counted(io.BytesIO(data))
        reader = csv.reader(counted.lines())
        try:
            header = next(reader)
        except StopIteration:
            raise InputError("file", "is empty: there is nothing to import") from None
        check_header([h.strip().lower() for h in header])
        count = sum(1 for row in reader if any(cell.strip() for cell in row))
    elif fmt == "jsonl":
        count = sum(1 for line in data.splitlines() if line.strip())
    else:
        raise InputError("format", "must be csv or jsonl")
    if count == 0:
        raise InputError("file", "has no rows (only a header)" if fmt == "csv" else "has no records")
    return count


def import_data(
    registry: Registry,
    data: bytes,
    fmt: str,
    *,
    now: dt.datetime,
    source: str | None = None,
    facility: str | None = None,
    chunk_size: int = 2000,
    max_errors: int = 10_000,
) -> ImportResult:
    """Import a submitted file held in memory (a service job); ``facility`` limits the rows to that facility."""
    if not data.strip():
        raise InputError("file", "is empty: there is nothing to import")
    check_encoding(data[:SNIFF_BYTES], None)
    rows = _reader(_Counted(io.BytesIO(data)), fmt)
    return import_rows(registry, rows, now=now, source=source, chunk_size=chunk_size, max_errors=max_errors,
                       facility=facility, in_child=len(data) >= CHILD_MIN_BYTES)  # fmt: skip


def _chunks(
    rows: Iterable[tuple[int, Mapping[str, Any] | InputError]], size: int
) -> Iterator[list[tuple[int, Mapping[str, Any] | InputError]]]:
    chunk: list[tuple[int, Mapping[str, Any] | InputError]] = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_rows(
    registry: Registry,
    rows: Iterable[tuple[int, Mapping[str, Any] | InputError]],
    *,
    now: dt.datetime,
    source: str | None = None,
    chunk_size: int = 2000,
    max_errors: int = 10_000,
    on_chunk: Callable[[], None] | None = None,
    facility: str | None = None,
    position: Callable[[], int] | None = None,
    on_progress: Callable[[int], None] | None = None,
    in_child: bool = False,
) -> ImportResult:
    """Import ``(line, row)`` pairs (a row may be an InputError from the reader).

    ``facility``, when given, is the only facility the rows may name (a facility's own submission).
    The rows are read and checked ahead while the previous chunk is stored: in a thread
    (:class:`_CheckedAhead`), or with ``in_child`` in a forked child process where that is safe
    (:class:`_CheckedInChild`, :func:`_can_fork`; the rows are then read only there).  Each chunk
    is stored in its own transaction, in file order; rejected rows are reported in line order.
    ``on_chunk`` is called after each chunk is stored, and ``on_progress`` then with what
    ``position`` (e.g. the bytes read) said once that chunk was read.
    """
    result = ImportResult()
    started = time.perf_counter()

    def check(chunk: list[tuple[int, Mapping[str, Any] | InputError]]) -> _CheckedChunk:
        valid: list[DoseRow] = []
        errors: list[RowError] = []
        for line, obj in chunk:
            try:
                if isinstance(obj, InputError):
                    raise obj
                parsed = parse_row(line, obj, now=now)
                if facility is not None and any(r.dose.facility != facility for r in parsed):
                    raise InputError("facility", "is not the facility of the submitting account")
                valid.extend(parsed)
            except InputError as exc:
                errors.append(RowError(line, exc.field, exc.message))
        return _CheckedChunk(len(chunk), valid, errors, position() if position is not None else 0)

    ahead = _CheckedInChild if in_child and _can_fork() else _CheckedAhead
    with ahead(_chunks(rows, chunk_size), check) as checked:
        for number, chunk in enumerate(checked):
            chunk_started = time.perf_counter()
            before = (result.rows, result.inserted, result.unchanged, result.rejected)
            result.rows += chunk.rows
            for error in chunk.errors:
                _reject(result, error, max_errors)
            if chunk.valid:
                _store_chunk(registry, chunk.valid, result, now=now, source=source, max_errors=max_errors)
            log_event(log, "import.chunk", level=logging.DEBUG, chunk=number, rows=result.rows - before[0],
                      inserted=result.inserted - before[1], unchanged=result.unchanged - before[2],
                      rejected=result.rejected - before[3],
                      duration_ms=round((time.perf_counter() - chunk_started) * 1000, 3))  # fmt: skip
            if on_chunk is not None:
                on_chunk()
            if on_progress is not None:
                on_progress(chunk.read)
    log_event(log, "import.done", rows=result.rows, inserted=result.inserted, unchanged=result.unchanged,
              rejected=result.rejected, new_persons=result.new_persons, backend=registry.backend,
              seconds=round(time.perf_counter() - started, 3))  # fmt: skip
    return result


class _CheckedChunk(NamedTuple):
    """A chunk of rows read and checked: how many rows, the valid ones, the rejected ones (in line
    order), and the reader's position once it was read."""

    rows: int
    valid: list[DoseRow]
    errors: list[RowError]
    read: int


_Chunk = list[tuple[int, Mapping[str, Any] | InputError]]


class _CheckedAhead:
    """Chunks read and checked by ``check`` in a thread, at most one chunk ahead of the consumer.

    An exception of the reader (a whole-file problem, an unreadable file) reaches the consumer
    at the chunk where it happened, after the chunks before it; leaving the ``with`` block early
    (a storage error) stops the thread before it reads another chunk.
    """

    _DONE = object()

    def __init__(self, chunks: Iterator[_Chunk], check: Callable[[_Chunk], _CheckedChunk]) -> None:
        self._chunks, self._check = chunks, check
        self._queue: queue.Queue[object] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vaxcert-import-check", daemon=True)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for chunk in self._chunks:
                if self._stop.is_set() or not self._put(self._check(chunk)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)
            return
        self._put(self._DONE)

    def __enter__(self) -> Iterator[_CheckedChunk]:
        if not _spare_core():  # one core: the thread would only add its hand-overs of the GIL
            return (self._check(chunk) for chunk in self._chunks)
        self._thread.start()
        return self._results()

    def _results(self) -> Iterator[_CheckedChunk]:
        while True:
            item = self._queue.get()
            if item is self._DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, _CheckedChunk)
            yield item

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


class _CheckedInChild:
    """Chunks read and checked by ``check`` in a forked child process, handed over through a pipe.

    The thread of :class:`_CheckedAhead` shares the GIL with the storing thread: each time a SQLite
    step returns, the storing thread waits for the checking thread to let go of it, and an import
    ran at little more than one core's speed.  A child process has its own interpreter; a row it
    checked costs the parent about 3 µs to unpickle.  The fork copies the reader (a generator not
    started yet) and its open file: after the fork only the child reads them.  The pipe's buffer
    keeps the child at most a few chunks ahead.  A reader's exception reaches the consumer at the
    chunk where it happened, as with the thread; leaving the ``with`` block early (a storage
    error, Ctrl-C) ends the child.
    """

    def __init__(self, chunks: Iterator[_Chunk], check: Callable[[_Chunk], _CheckedChunk]) -> None:
        self._chunks, self._check = chunks, check
        self._process: multiprocessing.process.BaseProcess | None = None
        self._pipe: multiprocessing.connection.Connection | None = None

    def __enter__(self) -> Iterator[_CheckedChunk]:
        context = multiprocessing.get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=self._run, args=(sender, receiver), name="vaxcert-import-check",
                                        daemon=True)  # fmt: skip
        self._process.start()
        sender.close()
        self._pipe = receiver
        return self._results()

    def _run(self, sender: multiprocessing.connection.Connection,
             receiver: multiprocessing.connection.Connection) -> None:  # fmt: skip
        """In the child: each chunk checked, sent as plain tuples; then an empty message, or the error.

        (multiprocessing flushes the parent's standard streams before the fork and ends the child
        with ``os._exit``: nothing the parent had buffered is written twice, none of its exit
        handlers runs here.)
        """
        # Only the parent reads: with the child's copy of the reading end open, a parent that
        # stopped reading would leave the child blocked on a full pipe instead of failing.
        receiver.close()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it ends the child
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # whatever handler the parent had, terminate() ends the child
        try:
            for chunk in self._chunks:
                checked = self._check(chunk)
                valid = [(r.line, *r.person, *r.dose, r.row_hash) for r in checked.valid]
                errors = [(e.line, e.field, e.message) for e in checked.errors]
                sender.send_bytes(pickle.dumps((checked.rows, valid, errors, checked.read), pickle.HIGHEST_PROTOCOL))
            sender.send_bytes(b"")
        except (BrokenPipeError, ConnectionResetError):  # the parent stopped reading: nothing to tell
            return
        except BaseException as exc:
            try:
                message = pickle.dumps(exc)
            except Exception:  # an exception that does not pickle: its type is all the parent learns
                message = pickle.dumps(VaxcertError(f"reading the rows failed: {type(exc).__name__}"))
            with contextlib.suppress(OSError):  # the parent may be gone
                sender.send_bytes(b"E" + message)

    def _results(self) -> Iterator[_CheckedChunk]:
        assert self._pipe is not None and self._process is not None
        while True:
            try:
                data = self._pipe.recv_bytes()
            except EOFError:
                self._process.join()
                raise VaxcertError(f"the process reading and checking the rows stopped (exit code "
                                   f"{self._process.exitcode}); the chunks before were stored: import the "
                                   f"file again to finish (stored rows count as unchanged)") from None  # fmt: skip
            if not data:
                return
            if data[:1] == b"E":
                raise pickle.loads(data[1:])  # noqa: S301 (our own child's message)
            rows, valid, errors, read = pickle.loads(data)  # noqa: S301
            yield _CheckedChunk(rows, [_dose_row(values) for values in valid],
                                [RowError(*values) for values in errors], read)  # fmt: skip

    def __exit__(self, *exc: object) -> None:
        if self._pipe is not None:
            self._pipe.close()
        process = self._process
        if process is not None:
            if process.is_alive():
                process.terminate()
                process.join(5)
            if process.is_alive():
                process.kill()
            process.join()


_PERSON_WIDTH = len(PersonRow._fields)
_DOSE_END = 1 + _PERSON_WIDTH + len(StoredDose._fields)


def _dose_row(values: tuple[Any, ...]) -> DoseRow:
    """A DoseRow from the flat tuple :class:`_CheckedInChild` sends: line, person, dose, hash."""
    return DoseRow(values[0], PersonRow(*values[1 : 1 + _PERSON_WIDTH]), StoredDose(*values[1 + _PERSON_WIDTH :
                   _DOSE_END]), values[_DOSE_END])  # fmt: skip


def _can_fork() -> bool:
    """Whether rows may be checked in a forked child: Linux, a spare core, and this process
    running one thread (forking a threaded process, e.g. the service, may copy a lock held by
    another thread; such a process checks in a thread instead)."""
    return sys.platform.startswith("linux") and threading.active_count() == 1 and _spare_core()


def _spare_core() -> bool:
    """Whether this process may run on more than one core (reading ahead pays only then)."""
    try:
        return len(os.sched_getaffinity(0)) > 1
    except AttributeError:  # no affinity on this platform
        return (os.cpu_count() or 1) > 1


def _reject(result: ImportResult, error: RowError, max_errors: int) -> None:
    result.rejected += 1
    if len(result.errors) < max_errors:
        result.errors.append(error)


_COMPARE = (("series_total", "sd"), ("product", "mp"), ("manufacturer", "ma"), ("prophylaxis", "vp"),
            ("country", "co"), ("disease", "tg"))  # fmt: skip


def _store_chunk(
    registry: Registry,
    rows: Sequence[DoseRow],
    result: ImportResult,
    *,
    now: dt.datetime,
    source: str | None,
    max_errors: int,
) -> None:
    stamp = int(now.timestamp())
    with registry.transaction():
        known = registry.person_identities(sorted({r.person.person_key for r in rows}))
        stored = registry.dose_hashes(sorted({r.dose.key for r in rows}))
        new_persons: list[PersonRow] = []
        new_doses: list[NewDose] = []
        touched: set[str] = set()
        facilities: set[str] = set()
        for r in rows:
            p, d = r.person, r.dose
            identity = (p.fn, p.gn, p.dob)
            previous = known.get(p.person_key)
            if previous is None:
                known[p.person_key] = identity
                new_persons.append(p)
            elif previous[2] != p.dob or (previous[0] != p.fn and not same_name(previous[0], p.fn)) or (
                    previous[1] != p.gn and not same_name(previous[1], p.gn)):  # fmt: skip
                # the same person spelt in capitals, NFD or with other spaces is the same person (naming)
                column = "dob" if previous[2] != p.dob else (
                    "family_name" if not same_name(previous[0], p.fn) else "given_name")
                _reject(result, RowError(r.line, column, "differs from what is recorded for this person "
                                                         "(ask for a correction)"), max_errors)  # fmt: skip
                continue
            digest = r.row_hash
            if d.key in stored:
                old = stored[d.key]
                if old.row_hash == digest:
                    result.unchanged += 1
                    continue
                column = next((c for c, f in _COMPARE if getattr(old, f) != getattr(d, f)), "dose_number")
                _reject(result, RowError(r.line, column, "differs from the dose already recorded with this "
                                                         "dose number, date and facility"), max_errors)  # fmt: skip
                continue
            stored[d.key] = DoseHash(digest, d.sd, d.mp, d.ma, d.vp, d.co, d.tg)
            new_doses.append(r.new_dose(source, r.line))
            touched.add(p.person_key)
            facilities.add(d.facility)
        if new_persons:
            registry.add_persons(new_persons, stamp=stamp)
            result.new_persons += len(new_persons)
        if new_doses:
            registry.add_doses(new_doses, stamp=stamp)
            result.inserted += len(new_doses)
        # persons inserted now are marked for reconciliation already (dirty = 1)
        registry.mark_changed(sorted(touched.difference(p.person_key for p in new_persons)), stamp=stamp)
        if facilities:
            registry.add_facilities([(f, province_of(f)) for f in sorted(facilities)], stamp=stamp)
