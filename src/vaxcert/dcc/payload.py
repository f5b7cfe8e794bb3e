"""Building DCC payloads from records, and the checks a payload must pass before it is signed.

* :func:`build_payload` turns a :class:`~vaxcert.dcc.model.Person` and one entry into the DCC JSON
  (``ver``, ``nam``, ``dob`` and exactly one of ``v`` / ``t`` / ``r`` with one entry).
* :func:`payload_from_record` builds, and checks, the certificate for the latest dose of a
  :class:`~vaxcert.dcc.model.DoseRecord`, filling ``ma`` / ``vp`` from :data:`PRODUCTS` when the
  record omits them and reporting problems against the record's own fields (``doses[2].date``).
* :func:`check_issuable` refuses, with :class:`~vaxcert.errors.InputError` naming the field,
  anything vaxcert must not sign: see its docstring for the list.
* :func:`normalize_payload` returns a copy whose strings are NFC-normalised and trimmed (and
  whose names have single spaces); :func:`check_issuable` refuses payloads that are not.

vaxcert builds DCC 1.3.x payloads (:data:`SUPPORTED_VERSIONS`); :func:`check_issuable` also
accepts a ready payload of any version vaxcert has a schema for, 1.0.0 to 1.3.2 (e.g. the JSON of
a test vector), checked against that version's schema (docs/records.md, "Schema versions").
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from ..codes import FailureCode, Stage
from ..errors import DecodeError, InputError
from . import schema
from . import uvci as _uvci
from .codes import CODED_FIELDS, COVID_19, DCC_VERSION, RAPID_ANTIGEN_TEST, SUPPORTED_VERSIONS
from .model import (
    _CODE_RE,
    _CONTROL,
    _COUNTRY_RE,
    _DATE_RE,
    _DATETIME_RE,
    Dose,
    DoseRecord,
    Person,
    RecoveryEntry,
    TestEntry,
    VaccinationEntry,
    dob_earliest,
    parse_dob,
)
from .translit import ICAO_PATTERN, normalize_name
from .types import DccNames, DccPayload, RecoveryJson, TestJson, VaccinationJson, vaccination_json
from .valuesets import ValueSets

__all__ = [
    "DEFAULT_VERSION",
    "EARLIEST_EVENT",
    "PLACEHOLDER_ISSUER",
    "PLACEHOLDER_UVCI",
    "PRODUCTS",
    "SUPPORTED_VERSIONS",
    "Product",
    "ValueSetLookup",
    "assemble_payload",
    "build_payload",
    "certificate_type",
    "check_issuable",
    "check_issuer_fields",
    "entry_from_dose",
    "names_json",
    "normalize_payload",
    "payload_from_record",
    "quick_dob_earliest",
    "quick_in_window",
    "quick_issuable",
    "quick_issuer_fields",
    "quick_names",
    "quick_vaccination",
]

DEFAULT_VERSION = DCC_VERSION

EARLIEST_EVENT = _dt.date(2020, 1, 1)
"""No COVID-19 vaccination, test or infection can predate this: earlier dates are typing errors."""

_LATEST_OFFSET = _dt.timedelta(hours=14)
_VERSION_RE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+")


class ValueSetLookup(Protocol):
    """What :func:`check_issuable` needs of :class:`vaxcert.dcc.valuesets.ValueSets`."""

    def contains(self, name: str, code: str) -> bool: ...

    def is_active(self, name: str, code: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Product:
    """Defaults for a vaccine product: marketing authorisation holder and vaccine type."""

    mp: str
    ma: str
    vp: str
    name: str


def _products(*items: Product) -> Mapping[str, Product]:
    return MappingProxyType({p.mp: p for p in items})


# mRNA 1119349007; viral vector 29061000087103; inactivated 1157024006;
# recombinant spike protein 1162643001 (EU DCC value sets vaccine-prophylaxis / -mah-manf).
PRODUCTS: Mapping[str, Product] = _products(
    Product("EU/1/20/1528", "ORG-100030215", "1119349007", "Comirnaty (Pfizer-BioNTech)"),
    Product("EU/1/20/1507", "ORG-100031184", "1119349007", "Spikevax (Moderna)"),
    Product("EU/1/21/1529", "ORG-100001699", "29061000087103", "Vaxzevria (AstraZeneca)"),
    Product("Covishield", "ORG-100001981", "29061000087103", "Covishield (Serum Institute of India)"),
    Product("EU/1/20/1525", "ORG-100001417", "29061000087103", "Jcovden (Janssen)"),
    Product("Sputnik-V", "Gamaleya-Research-Institute", "29061000087103", "Sputnik V"),
    Product("BBIBP-CorV", "ORG-100020693", "1157024006", "BBIBP-CorV (Sinopharm Beijing)"),
    Product("CoronaVac", "Sinovac-Biotech", "1157024006", "CoronaVac (Sinovac)"),
    Product("Hayat-Vax", "ORG-100023050", "1157024006", "Hayat-Vax"),
    Product("Abdala", "CIGB", "1162643001", "Abdala"),
    Product("EU/1/21/1618", "ORG-100032020", "1162643001", "Nuvaxovid (Novavax)"),
)
"""Known products, keyed by ``mp``, used when a dose record leaves ``ma`` / ``vp`` out."""

_KEYS = {
    "top": frozenset({"ver", "nam", "dob", "v", "t", "r"}),
    "nam": frozenset({"fn", "fnt", "gn", "gnt"}),
}
_ENTRY_TYPES: Mapping[str, type[VaccinationEntry] | type[TestEntry] | type[RecoveryEntry]] = MappingProxyType(
    {"v": VaccinationEntry, "t": TestEntry, "r": RecoveryEntry}
)
# payload field -> dose record field, to report payload_from_record problems on the record.
_RECORD_FIELDS = MappingProxyType(
    {"dt": "date", "mp": "product", "ma": "manufacturer", "vp": "prophylaxis", "dn": "dose_number",
     "sd": "series_total", "co": "country", "tg": "disease"}
)  # fmt: skip

_PAYLOAD_TO_RECORD = MappingProxyType(
    {"v[0].is": "issuer", "v[0].ci": "ci", "nam.fn": "person.name.family", "nam.fnt": "person.name.family",
     "nam.gn": "person.name.given", "nam.gnt": "person.name.given", "dob": "person.dob"}
)  # fmt: skip


def _max_name_length(version: str) -> int:
    return 80 if tuple(int(p) for p in version.split(".")) >= (1, 3, 0) else 50


def _check_version(version: object, field: str = "ver", allowed: tuple[str, ...] = SUPPORTED_VERSIONS) -> str:
    if not isinstance(version, str) or not _VERSION_RE.fullmatch(version):
        raise InputError(field, "must be a version MAJOR.MINOR.PATCH")
    if version not in allowed:
        raise InputError(field, f"vaxcert handles DCC versions {', '.join(allowed)} only")
    return version


# --------------------------------------------------------------------------- building


def build_payload(
    person: Person,
    entry: VaccinationEntry | TestEntry | RecoveryEntry,
    *,
    version: str = DEFAULT_VERSION,
) -> DccPayload:
    """The DCC payload for ``person`` and one ``entry``.

    ``gn`` / ``gnt`` are omitted when the person has no given name.  The result is not checked:
    pass it to :func:`check_issuable` (as :func:`payload_from_record` and the issuer do).
    """
    _check_version(version)
    if not isinstance(person, Person):
        raise InputError("person", "must be a Person")
    if not isinstance(entry, (VaccinationEntry, TestEntry, RecoveryEntry)):
        raise InputError("entry", "must be a VaccinationEntry, TestEntry or RecoveryEntry")
    limit = _max_name_length(version)
    gnt = person.name.gnt(limit)
    given = (person.name.given, gnt) if person.name.given is not None and gnt is not None else None
    nam = names_json(person.name.family, person.name.fnt(limit), given)
    if isinstance(entry, VaccinationEntry):
        return assemble_payload(nam, person.dob, v=entry.to_json(), version=version)
    if isinstance(entry, TestEntry):
        return assemble_payload(nam, person.dob, t=entry.to_json(), version=version)
    return assemble_payload(nam, person.dob, r=entry.to_json(), version=version)


def names_json(fn: str, fnt: str, given: tuple[str, str] | None) -> DccNames:
    """``nam``: ``gn`` / ``gnt`` only when the person has given names (``given`` = (gn, gnt))."""
    if given is None:
        return {"fn": fn, "fnt": fnt}
    return {"fn": fn, "fnt": fnt, "gn": given[0], "gnt": given[1]}


def assemble_payload(
    nam: DccNames,
    dob: str,
    *,
    v: VaccinationJson | None = None,
    t: TestJson | None = None,
    r: RecoveryJson | None = None,
    version: str = DEFAULT_VERSION,
) -> DccPayload:
    """The one place a DCC payload is put together (by :func:`build_payload` and by batch issuance).

    Exactly one of ``v`` / ``t`` / ``r``.  Nothing is checked here: callers check the parts they
    bring (:func:`check_issuable` for a whole payload; see :func:`check_batch_fields`).
    """
    payload: DccPayload = {"ver": version, "nam": nam, "dob": dob}
    if (v is None) + (t is None) + (r is None) != 2:
        raise InputError("payload", "needs exactly one of v, t, r")
    if v is not None:
        payload["v"] = [v]
    elif t is not None:
        payload["t"] = [t]
    elif r is not None:
        payload["r"] = [r]
    return payload


#: Stand-ins for the fields batch issuance adds (``is``, ``ci``) while a record is checked at import.
PLACEHOLDER_ISSUER = "Ministry of Health"
PLACEHOLDER_UVCI = "URN:UVCI:01:VN:MOH/IMPORTCHECK#H"
_SAMPLE_NAMES: DccNames = {"fn": "Nguyễn", "fnt": "NGUYEN"}
_BATCH_FIELDS = MappingProxyType({"v[0].is": "issuer_name", "v[0].ci": "ci", "ver": "version"})


_FIELDS_CHECKED_AT = _dt.datetime(2022, 1, 1, tzinfo=_dt.UTC)  # after the sample dose; the fields are timeless


def check_issuer_fields(issuer: str, ci: str, *, version: str = DCC_VERSION) -> None:
    """Check the fields batch issuance adds to records it validated at import: ``is``, ``ci``, ``ver``.

    The import checks every field a record brings (:func:`check_issuable` with
    :data:`PLACEHOLDER_ISSUER` / :data:`PLACEHOLDER_UVCI`); this checks the others once per run, with
    the same :func:`check_issuable` on a sample record, so every payload the batch assembles passes
    it as a whole.  Raises :class:`InputError` naming ``issuer_name``, ``ci`` or ``version``.
    """
    entry = vaccination_json(tg=COVID_19, vp="1119349007", mp="EU/1/20/1528", ma="ORG-100030215", dn=1, sd=2,
                             dt="2021-06-01", co="VN", is_=issuer, ci=ci)  # fmt: skip
    try:
        check_issuable(assemble_payload(_SAMPLE_NAMES, "1990", v=entry, version=version), now=_FIELDS_CHECKED_AT)
    except InputError as exc:
        raise InputError(_BATCH_FIELDS.get(exc.field, exc.field), exc.message) from None


def entry_from_dose(dose: Dose, *, ci: str, issuer: str) -> VaccinationEntry:
    """The DCC vaccination entry for one dose (``ma``/``vp`` from :data:`PRODUCTS` if omitted)."""
    known = PRODUCTS.get(dose.product)
    ma = dose.manufacturer or (known.ma if known else None)
    vp = dose.prophylaxis or (known.vp if known else None)
    if ma is None:
        raise InputError("manufacturer", "is required for a product vaxcert does not know")
    if vp is None:
        raise InputError("prophylaxis", "is required for a product vaxcert does not know")
    try:
        return VaccinationEntry(
            tg=dose.disease, vp=vp, mp=dose.product, ma=ma, dn=dose.dose_number, sd=dose.series_total,
            dt=dose.date, co=dose.country, is_=issuer, ci=ci,
        )  # fmt: skip
    except InputError as exc:
        raise InputError(_RECORD_FIELDS.get(exc.field, exc.field), exc.message) from None


def _record_field(field: str, index: int) -> str:
    """Translate a payload field path to the dose record path it came from."""
    if field in _PAYLOAD_TO_RECORD:
        return _PAYLOAD_TO_RECORD[field]
    rest = field.removeprefix("v[0].")
    if rest != field and rest in _RECORD_FIELDS:
        return f"doses[{index}].{_RECORD_FIELDS[rest]}"
    return field


def payload_from_record(
    record: DoseRecord,
    *,
    ci: str,
    issuer: str,
    now: _dt.datetime,
    version: str = DEFAULT_VERSION,
    valuesets: ValueSetLookup | None = None,
    allow_dn_over_sd: bool = False,
) -> DccPayload:
    """Build and check the certificate payload for the latest dose of ``record``.

    ``ci`` is the UVCI (see :func:`vaxcert.dcc.uvci.generate`), ``issuer`` the DCC ``is`` text.
    Problems are reported against the record (``doses[2].date``, ``person.dob``) where the field
    comes from the record, else against the payload (``v[0].ci``).
    """
    if not isinstance(record, DoseRecord):
        raise InputError("record", "must be a DoseRecord")
    index = record.latest_index
    try:
        entry = entry_from_dose(record.latest, ci=ci, issuer=issuer)
    except InputError as exc:
        field = {"is": "issuer", "ci": "ci"}.get(exc.field, f"doses[{index}].{exc.field}")
        raise InputError(field, exc.message) from None
    payload = build_payload(record.person, entry, version=version)
    try:
        check_issuable(payload, now=now, valuesets=valuesets, allow_dn_over_sd=allow_dn_over_sd)
    except InputError as exc:
        raise InputError(_record_field(exc.field, index), exc.message) from None
    identity = record.person.identity
    if identity is not None and identity.nationality is not None:
        vs = valuesets if valuesets is not None else _bundled_valuesets()
        if not vs.contains("country-2-codes", identity.nationality):
            raise InputError("person.identity.nationality", "is not in the value set country-2-codes")
    return payload


def certificate_type(payload: Mapping[str, Any]) -> str:
    """The one certificate type (v, t or r) of a payload, or raise DecodeError (for verification).

    Members that are null or empty lists hold no entry and do not count as a type (real
    issuers write ``"t": null`` beside ``v``); two types with entries, or two entries, do.
    """
    present = [k for k in _CERT_TYPES if k in payload]
    if len(present) != 1 or not payload[present[0]]:
        present = [k for k in present if (entries := payload[k]) is not None and entries != _NO_ENTRIES]
    if not present:
        raise DecodeError(FailureCode.PAYLOAD_MISSING, Stage.PAYLOAD, "no v, t or r entry")
    if len(present) > 1:
        raise DecodeError(FailureCode.PAYLOAD_MULTIPLE_TYPES, Stage.PAYLOAD, "more than one of v, t, r")
    entries = payload[present[0]]
    if not isinstance(entries, list):
        raise DecodeError(FailureCode.PAYLOAD_MISSING, Stage.PAYLOAD, f"{present[0]} holds no entry")
    if len(entries) != 1:
        raise DecodeError(FailureCode.PAYLOAD_MULTIPLE_ENTRIES, Stage.PAYLOAD, f"{present[0]} holds several entries")
    return present[0]


_CERT_TYPES = ("v", "t", "r")
_NO_ENTRIES: list[Any] = []


# --------------------------------------------------------------------------- normalising


def normalize_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``payload`` with strings NFC-normalised and trimmed, names single-spaced."""
    out = _normalize(payload, "")
    if not isinstance(out, dict):
        raise InputError("$", "must be a JSON object")
    return out


def _normalize(value: Any, path: str) -> Any:
    if isinstance(value, str):
        text = unicodedata.normalize("NFC", value).strip()
        return normalize_name(text) if path in ("nam.fn", "nam.gn") else text
    if isinstance(value, Mapping):
        return {k: _normalize(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalize(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


_EDGE_SPACE = re.compile(r"\x00\s|\s\x00")


def _collect_strings(value: object, out: list[str]) -> bool:
    """Append every string value of a plain dict/list tree to ``out``; False for anything else."""
    kind = type(value)
    if kind is str:
        out.append(value)  # type: ignore[arg-type]
        return True
    if kind is dict:
        return all(_collect_strings(v, out) for v in value.values())  # type: ignore[attr-defined]
    if kind is list:
        return all(_collect_strings(v, out) for v in value)  # type: ignore[attr-defined]
    return kind is int or kind is float or kind is bool or value is None


def _obviously_normalized(payload: Mapping[str, Any]) -> bool:
    """A fast sufficient test for :func:`_check_normalized` on the whole payload at once.

    The string values joined with NUL (a starter that composes with nothing) are NFC exactly
    when every string is; a string with leading or trailing whitespace shows as whitespace next
    to a NUL.  Anything unusual (non-plain types, NUL in a string) falls back to the exact walk,
    which also names the field.
    """
    strings: list[str] = []
    if type(payload) is not dict or not _collect_strings(payload, strings):
        return False
    joined = "\x00" + "\x00".join(strings) + "\x00"
    if joined.count("\x00") != len(strings) + 1 or _EDGE_SPACE.search(joined):
        return False
    if not unicodedata.is_normalized("NFC", joined):
        return False
    nam = payload.get("nam")
    if isinstance(nam, Mapping):
        for key in ("fn", "gn"):
            name = nam.get(key)
            if isinstance(name, str) and normalize_name(name) != name:
                return False
    return True


def _check_normalized(value: Any, path: str) -> None:
    if isinstance(value, str):
        if not unicodedata.is_normalized("NFC", value):
            raise InputError(path, "is not NFC-normalised (see normalize_payload)")
        if value.strip() != value:
            raise InputError(path, "has leading or trailing spaces (see normalize_payload)")
        if path in ("nam.fn", "nam.gn") and normalize_name(value) != value:
            raise InputError(path, "has repeated spaces (see normalize_payload)")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _check_normalized(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_normalized(v, f"{path}[{i}]")


# --------------------------------------------------------------------------- checking


def _bundled_valuesets() -> ValueSetLookup:
    vs: ValueSetLookup = ValueSets.bundled()
    return vs


def _latest_local_date(now: _dt.datetime) -> _dt.date:
    """The latest calendar date anywhere on Earth at ``now`` (UTC+14)."""
    seen, today = _LAST_TODAY[0]  # one tuple, read at once: safe across threads
    if seen is not now:  # a batch or an import checks many payloads at one ``now``
        today = (now.astimezone(_dt.UTC) + _LATEST_OFFSET).date()
        _LAST_TODAY[0] = (now, today)
    return today


_LAST_TODAY: list[tuple[_dt.datetime | None, _dt.date]] = [(None, _dt.date.min)]


def _unknown_keys(obj: Mapping[str, Any], allowed: frozenset[str], path: str) -> None:
    for key in obj:
        if key not in allowed:
            shown = "".join(ch if ch.isprintable() else "?" for ch in str(key))[:40]
            raise InputError(f"{path}.{shown}" if path else shown, "unknown key")


def _check_names(nam: object, version: str) -> None:
    if not isinstance(nam, Mapping):
        raise InputError("nam", "is required and must be an object")
    _unknown_keys(nam, _KEYS["nam"], "nam")
    limit = _max_name_length(version)
    # No schema version requires fn, and 1.3.2 accepts gnt alone; vaxcert requires fn and fnt:
    # ICAO 9303 puts a single name in the primary identifier (so every holder has one), verifiers
    # match fn/fnt against the travel document's surname field, and a certificate without the
    # printed surname cannot be checked by a person reading it.
    for key in ("fn", "fnt"):
        if key not in nam:
            raise InputError(f"nam.{key}", "is required by vaxcert (put a single name in fn / fnt)")
    if ("gn" in nam) != ("gnt" in nam):
        missing = "gnt" if "gn" in nam else "gn"
        raise InputError(f"nam.{missing}", "is required when the other given-name field is present")
    for key in ("fn", "gn"):
        if key in nam:
            value = nam[key]
            if not isinstance(value, str) or not value:
                raise InputError(f"nam.{key}", "must be a non-empty string")
            if len(value) > limit:
                raise InputError(f"nam.{key}", f"is longer than {limit} characters")
    for key in ("fnt", "gnt"):
        if key in nam:
            value = nam[key]
            if not isinstance(value, str) or not value:
                raise InputError(f"nam.{key}", "must be a non-empty string")
            if not ICAO_PATTERN.fullmatch(value) or value.startswith("<") or value.endswith("<"):
                raise InputError(f"nam.{key}", "must be A-Z and '<' (ICAO 9303), not starting or ending with '<'")
            if len(value) > limit:
                raise InputError(f"nam.{key}", f"is longer than {limit} characters")


def _check_dob(dob: object, today: _dt.date) -> None:
    if dob is None:
        raise InputError("dob", "is required")
    if dob == "":
        raise InputError("dob", "must not be empty (use YYYY when only the year is known)")
    if not isinstance(dob, str):
        raise InputError("dob", "must be a string")
    parse_dob(dob, "dob")
    if dob_earliest(dob) > today:
        raise InputError("dob", "is in the future")


def _check_uvci(ci: str, field: str) -> None:
    """A UVCI; Viet Nam's (country VN, the ones vaxcert makes) must carry a correct check character.

    Other countries' check characters follow other schemes (Belgium uses mod 36, some none), so
    a foreign UVCI in a payload being re-signed is only checked for its form.
    """
    parsed = _uvci.parse(ci, field=field)
    if parsed.country != "VN":
        return
    if parsed.checksum is None:
        raise InputError(field, "has no check character (vaxcert issues UVCIs with '#<check>')")
    if not parsed.checksum_ok:
        raise InputError(field, "has a wrong check character")


def check_issuable(
    payload: Mapping[str, Any],
    *,
    now: _dt.datetime,
    valuesets: ValueSetLookup | None = None,
    allow_dn_over_sd: bool = False,
) -> None:
    """Raise :class:`InputError` naming the field unless ``payload`` may be signed at ``now``.

    Refused, in this order:

    * a payload that is not an object, strings that are not NFC / have surrounding spaces
      (:func:`normalize_payload` fixes those), unknown keys;
    * a ``ver`` vaxcert has no schema for (:func:`vaxcert.dcc.schema.versions`);
    * none or more than one of ``v`` / ``t`` / ``r``, or not exactly one entry;
    * missing ``fn`` or ``fnt`` (the schemas do not require ``fn`` and 1.3.2 accepts ``gnt``
      alone; vaxcert requires both, see the comment in ``_check_names``), ``gn`` without ``gnt``
      or the reverse, badly formed ``fnt``/``gnt``;
    * a ``dob`` that is missing, empty, malformed, not a calendar date or in the future;
    * entry fields with wrong types or formats (:mod:`vaxcert.dcc.model` rules), ``dn`` or ``sd``
      below 1, ``dn`` greater than ``sd`` unless ``allow_dn_over_sd`` (the EU encodes a booster as
      ``n/n``: 3/3 after two doses, 2/2 after a single-dose primary course; some issuers wrote
      3/2 or 2/1, which vaxcert refuses unless the caller opts in);
    * a vaccination date or first positive result later than today anywhere on Earth, a sample
      collection time after ``now``, any of them before 2020 or before the birth date;
      a recovery ``df`` before ``fr`` or ``du`` before ``df``; a rapid antigen test without ``ma``;
    * codes outside the value sets (disease, vaccine type, product, manufacturer, test type,
      test result, test device, country), or deprecated there (new certificates use current codes);
    * a ``ci`` that is not a UVCI; for Viet Nam's UVCIs, one with no or a wrong check character;
    * anything else the DCC schema of the payload's version rejects (:func:`vaxcert.dcc.schema.validate`).

    ``now`` must be time-zone aware.  ``valuesets`` defaults to the bundled value sets.
    """
    if not isinstance(now, _dt.datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise InputError("now", "must be a time-zone-aware datetime")
    vs = valuesets if valuesets is not None else _bundled_valuesets()
    if _quick_issuable(payload, now, vs, allow_dn_over_sd):
        return
    _check_issuable_fully(payload, now, vs, allow_dn_over_sd)


def quick_issuable(
    payload: Mapping[str, Any],
    *,
    now: _dt.datetime,
    valuesets: ValueSetLookup | None = None,
    allow_dn_over_sd: bool = False,
) -> bool:
    """A single pass that says True only when :func:`check_issuable` accepts ``payload``.

    False means "not sure": the usual shape (exact JSON types, DCC 1.3.x, an upper-case UVCI)
    was not met or a rule failed; :func:`check_issuable` then decides and names the field.
    For callers that build a payload on a fast path and fall back to their checked path.
    """
    vs = valuesets if valuesets is not None else _bundled_valuesets()
    return _quick_issuable(payload, now, vs, allow_dn_over_sd)


def _check_issuable_fully(payload: Mapping[str, Any], now: _dt.datetime, vs: ValueSetLookup,
                          allow_dn_over_sd: bool) -> None:
    """The reference checks of :func:`check_issuable`, one rule at a time, naming the first failure.

    :func:`_quick_issuable` is a single pass that accepts only what this accepts (a property test
    compares the two); this one runs when the quick pass has a doubt, and explains the refusal.
    """
    if not isinstance(payload, Mapping):
        raise InputError("$", "must be a JSON object")
    today = _latest_local_date(now)
    if not _obviously_normalized(payload):
        _check_normalized(payload, "")
    _unknown_keys(payload, _KEYS["top"], "")
    if "ver" not in payload:
        raise InputError("ver", "is required")
    version = _check_version(payload["ver"], allowed=schema.versions())

    kinds = [k for k in ("v", "t", "r") if k in payload]
    if not kinds:
        raise InputError("v", "one of v (vaccination), t (test) or r (recovery) is required")
    if len(kinds) > 1:
        raise InputError(kinds[1], f"only one of v, t, r may be present (found {', '.join(kinds)})")
    kind = kinds[0]
    entries = payload[kind]
    if not isinstance(entries, (list, tuple)) or not entries:
        raise InputError(kind, "must be an array holding one entry")
    if len(entries) > 1:
        raise InputError(f"{kind}[1]", "a certificate holds exactly one entry")

    _check_names(payload.get("nam"), version)
    _check_dob(payload.get("dob"), today)
    earliest = max(EARLIEST_EVENT, dob_earliest(payload["dob"]))

    path = f"{kind}[0]"
    entry = _ENTRY_TYPES[kind].from_json(entries[0], path=path)
    if isinstance(entry, VaccinationEntry):
        if entry.dn > entry.sd and not allow_dn_over_sd:
            raise InputError(
                f"{path}.dn",
                "is greater than sd (encode a booster as n/n, e.g. 3/3; pass allow_dn_over_sd to issue it)",
            )
        _check_day(entry.dt, f"{path}.dt", earliest, today)
    elif isinstance(entry, TestEntry):
        if entry.sc > now:
            raise InputError(f"{path}.sc", "is in the future")
        if entry.sc < _dt.datetime.combine(earliest, _dt.time(), _dt.UTC) - _LATEST_OFFSET:
            raise InputError(f"{path}.sc", "is before 2020 or before the date of birth")
        if entry.tt == RAPID_ANTIGEN_TEST and entry.ma is None:
            raise InputError(f"{path}.ma", "is required for a rapid antigen test")
    else:
        _check_day(entry.fr, f"{path}.fr", earliest, today)

    raw = entries[0]
    for key, name in CODED_FIELDS[kind]:
        if key not in raw:
            continue
        if not vs.contains(name, raw[key]):
            raise InputError(f"{path}.{key}", f"is not in the value set {name}")
        if not vs.is_active(name, raw[key]):
            raise InputError(f"{path}.{key}", f"is deprecated in the value set {name}; use its current code")
    _check_uvci(entry.ci, f"{path}.ci")

    errors = schema.validate(payload, version)
    if errors:
        field, _, reason = errors[0].partition(": ")
        raise InputError(field or "$", f"does not match the DCC {version} schema: {reason or errors[0]}")


def _check_day(day: _dt.date, field: str, earliest: _dt.date, today: _dt.date) -> None:
    if day > today:
        raise InputError(field, "is in the future")
    if day < earliest:
        raise InputError(field, "is before 2020 or before the date of birth")


# --------------------------------------------------------------------------- the quick pass

_QUICK_VERSIONS = frozenset(SUPPORTED_VERSIONS)  # 1.3.x: names, is, ci, nm, tc up to 80 characters
_NAME_LIMIT = 80
_V_KEYS = VaccinationEntry.KEYS
_T_KEYS = TestEntry.KEYS
_T_REQUIRED = TestEntry.REQUIRED
_R_KEYS = RecoveryEntry.KEYS
_MIDNIGHT = _dt.time()


def _quick_text(value: object) -> bool:
    """A free-text field (``is``, ``ci``, ``nm``, ``tc``) as signed: normalised, non-empty, no controls."""
    if type(value) is not str or not value or len(value) > _NAME_LIMIT or value.strip() != value:
        return False
    if not value.isascii() and not unicodedata.is_normalized("NFC", value):
        return False
    return _CONTROL.search(value) is None


def _quick_name(value: object) -> bool:
    """``fn`` / ``gn``: a non-empty NFC string of single-spaced words, at most 80 characters."""
    if type(value) is not str or not value or len(value) > _NAME_LIMIT:
        return False
    if not value.isascii() and not unicodedata.is_normalized("NFC", value):
        return False
    return " ".join(value.split()) == value


def _quick_icao(value: object) -> bool:
    """``fnt`` / ``gnt``: A-Z and '<', not starting or ending with '<', at most 80 characters."""
    return (type(value) is str and 0 < len(value) <= _NAME_LIMIT and ICAO_PATTERN.fullmatch(value) is not None
            and value[0] != "<" and value[-1] != "<")  # fmt: skip


def _quick_code(value: object) -> bool:
    return type(value) is str and _CODE_RE.fullmatch(value) is not None


def _quick_date(value: object) -> _dt.date | None:
    if type(value) is not str or _DATE_RE.fullmatch(value) is None:
        return None
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        return None


def _quick_uvci(ci: str) -> bool:
    """What :func:`_check_uvci` accepts, for a UVCI written in upper case (anything else: False)."""
    match = _uvci._UVCI.fullmatch(ci)
    if match is None or match["version"] != _uvci.VERSION:
        return False
    if match["country"] != "VN":
        return True
    check = match["check"]
    if check is None:
        return False
    # the body (everything before "#") matched the pattern: upper-case ASCII in the alphabet
    return _uvci._check_character(_uvci._fast_addends(ci.encode("ascii")[-3::-1])) == check


#: Birth dates seen by the quick pass and the first day each denotes (a pure function of the text;
#: about 36,500 birth dates a century, so an import of millions reads each once).
_DOB_EARLIEST: dict[str, _dt.date] = {}
_DOB_CACHE_MAX = 65_536
#: The last ``is`` and ``ci`` texts the quick pass accepted (both checked alone, with no other
#: field): an import checks every row with the same placeholders, a batch with one ``is``.  One
#: tuple, replaced whole: safe across threads.
_LAST_TEXTS: list[tuple[str | None, str | None]] = [(None, None)]


def quick_names(fn: object, fnt: object, given: tuple[object, object] | None) -> bool:
    """``nam`` as the quick pass checks it: ``fn``/``fnt``, and ``given`` = (``gn``, ``gnt``) when present."""
    if not _quick_name(fn) or not _quick_icao(fnt):
        return False
    return given is None or (_quick_name(given[0]) and _quick_icao(given[1]))


def quick_vaccination(
    tg: object, vp: object, mp: object, ma: object, dn: object, sd: object, dt: object, co: object,
    *, valuesets: ValueSetLookup | None = None, allow_dn_over_sd: bool = False,
) -> _dt.date | None:  # fmt: skip
    """A vaccination entry's own values as the quick pass checks them; the vaccination date, or None.

    Types, code patterns, dose numbers, the date's form, the country and the value sets: what
    :func:`quick_issuable` checks of a ``v`` entry apart from the date's window (not before the
    birth date or 2020, not after today: :func:`quick_in_window`) and ``is``/``ci``.  A pure
    function of its arguments, so a caller checking many rows may remember its answers.
    """
    entry = {"tg": tg, "vp": vp, "mp": mp, "ma": ma, "dn": dn, "sd": sd, "dt": dt, "co": co}
    return _quick_vaccination(entry, valuesets or _bundled_valuesets(), allow_dn_over_sd)


def quick_issuer_fields(issuer: str, ci: str) -> bool:
    """``is`` and ``ci`` as the quick pass checks them (free text as signed; a UVCI in upper case)."""
    return _quick_text(issuer) and _quick_text(ci) and _quick_uvci(ci)


def quick_in_window(dob_earliest: _dt.date, day: _dt.date, now: _dt.datetime) -> bool:
    """The quick pass's date window: a birth date not after today, an event between it (and 2020) and today."""
    today = _latest_local_date(now)
    return dob_earliest <= today and max(EARLIEST_EVENT, dob_earliest) <= day <= today


def _quick_vaccination(entry: Mapping[str, Any], vs: ValueSetLookup, allow_dn_over_sd: bool) -> _dt.date | None:
    dn, sd = entry["dn"], entry["sd"]
    if type(dn) is not int or type(sd) is not int or dn < 1 or sd < 1 or (dn > sd and not allow_dn_over_sd):
        return None
    if not (_quick_code(entry["tg"]) and _quick_code(entry["vp"]) and _quick_code(entry["mp"])
            and _quick_code(entry["ma"])):  # fmt: skip
        return None
    if not _quick_country_and_codes("v", entry, vs):
        return None
    return _quick_date(entry["dt"])


def _quick_country_and_codes(kind: str, entry: Mapping[str, Any], vs: ValueSetLookup) -> bool:
    """``co`` two capital letters, and every coded field of the entry current in its value set."""
    co = entry["co"]
    if type(co) is not str or _COUNTRY_RE.fullmatch(co) is None:
        return False
    exact = type(vs) is ValueSets  # its is_active implies contains; another lookup may differ
    for key, name in CODED_FIELDS[kind]:
        if key in entry and not (vs.is_active(name, entry[key]) and (exact or vs.contains(name, entry[key]))):
            return False
    return True


def quick_dob_earliest(dob: str) -> _dt.date | None:
    """:func:`~vaxcert.dcc.model.dob_earliest` of a birth date text, or None where it raises (remembered)."""
    earliest = _DOB_EARLIEST.get(dob)
    if earliest is None:
        try:
            earliest = dob_earliest(dob)
        except InputError:
            return None
        if len(_DOB_EARLIEST) >= _DOB_CACHE_MAX:
            _DOB_EARLIEST.clear()
        _DOB_EARLIEST[dob] = earliest
    return earliest


def _quick_issuable(payload: object, now: _dt.datetime, vs: ValueSetLookup, allow_dn_over_sd: bool) -> bool:
    """One pass over the payload: True only when :func:`_check_issuable_fully` accepts it.

    It checks each value once, with every rule that applies to it: the schema's (type, pattern,
    length, required members) and the issuance rules (normalisation, dates against ``now`` and the
    birth date, dose numbers, value sets, the UVCI's check character) together, so the schema
    validator need not walk the payload again.  It knows the usual shape only: exact JSON types,
    DCC 1.3.x, an upper-case UVCI.  Anything else returns False, and the reference checks decide
    and name the field.
    """
    if type(payload) is not dict or not payload.keys() <= _KEYS["top"]:
        return False
    version = payload.get("ver")
    if type(version) is not str or version not in _QUICK_VERSIONS:
        return False
    nam = payload.get("nam")
    if type(nam) is not dict or not nam.keys() <= _KEYS["nam"]:
        return False
    given = (nam.get("gn"), nam.get("gnt")) if "gn" in nam or "gnt" in nam else None
    if not quick_names(nam.get("fn"), nam.get("fnt"), given):
        return False
    dob = payload.get("dob")
    if type(dob) is not str or not dob:
        return False
    earliest = _DOB_EARLIEST.get(dob) or quick_dob_earliest(dob)
    if earliest is None:
        return False
    today = _latest_local_date(now)
    if earliest > today:
        return False
    earliest = max(EARLIEST_EVENT, earliest)
    if ("v" in payload) + ("t" in payload) + ("r" in payload) != 1:
        return False
    kind = "v" if "v" in payload else "t" if "t" in payload else "r"
    entries = payload[kind]
    if type(entries) is not list or len(entries) != 1:
        return False
    entry = entries[0]
    if type(entry) is not dict:
        return False
    if kind == "v":
        if entry.keys() != _V_KEYS:
            return False
        day = _quick_vaccination(entry, vs, allow_dn_over_sd)  # with co and the value sets
        if day is None or not earliest <= day <= today:
            return False
    elif kind == "t":
        keys = entry.keys()
        if not keys <= _T_KEYS or not keys >= _T_REQUIRED:
            return False
        if not (_quick_code(entry["tg"]) and _quick_code(entry["tt"]) and _quick_code(entry["tr"])):
            return False
        if "ma" in entry:
            if not _quick_code(entry["ma"]):
                return False
        elif entry["tt"] == RAPID_ANTIGEN_TEST:
            return False
        if ("nm" in entry and not _quick_text(entry["nm"])) or ("tc" in entry and not _quick_text(entry["tc"])):
            return False
        sc = entry["sc"]
        if type(sc) is not str or _DATETIME_RE.fullmatch(sc) is None:
            return False
        try:
            collected = _dt.datetime.fromisoformat(sc)
        except ValueError:
            return False
        if collected > now or collected < _dt.datetime.combine(earliest, _MIDNIGHT, _dt.UTC) - _LATEST_OFFSET:
            return False
    else:
        if entry.keys() != _R_KEYS or not _quick_code(entry["tg"]):
            return False
        fr, df, du = _quick_date(entry["fr"]), _quick_date(entry["df"]), _quick_date(entry["du"])
        if fr is None or df is None or du is None or df < fr or du < df or not earliest <= fr <= today:
            return False
    if kind != "v" and not _quick_country_and_codes(kind, entry, vs):
        return False
    ci, issuer = entry["ci"], entry["is"]
    if type(issuer) is not str or type(ci) is not str:
        return False
    last_issuer, last_ci = _LAST_TEXTS[0]
    if issuer != last_issuer or ci != last_ci:
        if not quick_issuer_fields(issuer, ci):
            return False
        _LAST_TEXTS[0] = (issuer, ci)
    # Nothing is left for the schema of a 1.3.x version to refuse: every member it reads was
    # checked above, as tightly or more (types, required members, one group of one entry, the
    # name and birth-date patterns, dn/sd >= 1, co, lengths up to 80).  tests/test_payload.py pins
    # those schema files and checks, on generated and mutated payloads, that the schema agrees.
    return True
