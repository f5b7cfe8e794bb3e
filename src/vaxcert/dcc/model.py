"""Typed records: names, people, identity documents, DCC entries and dose records.

Every type is a frozen, slotted dataclass that validates itself on construction and raises
:class:`~vaxcert.errors.InputError` naming the offending field.  Strings are stored
NFC-normalised.  ``to_json()`` / ``from_json()`` convert to and from the "vaxcert dose record"
JSON format documented in ``docs/records.md``; ``from_json`` rejects unknown keys, wrong JSON
types and missing fields, naming the field with a JSON path (``person.name.family``,
``doses[1].date``).  Entries (:class:`VaccinationEntry`, :class:`TestEntry`,
:class:`RecoveryEntry`) use the DCC field names and JSON shapes, so their ``to_json()`` is the
``v`` / ``t`` / ``r`` entry of a DCC payload.

Personal data never appears in ``repr``/``str`` or in error messages: names, birth dates,
document numbers, certificate identifiers, dates of vaccination and test results are redacted;
only value-set codes are shown.

The checks here are those that need nothing but the record itself.  Checks that need the clock,
the value sets or the schema are in :func:`vaxcert.dcc.payload.check_issuable`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import itertools
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self, cast

from ..errors import InputError
from .codes import COVID_19
from .translit import ICAO_PATTERN, MAX_LENGTH, normalize_name, to_icao
from .types import RecoveryJson, TestJson, VaccinationJson, vaccination_json

__all__ = [
    "COVID_19",
    "FORMAT",
    "MAX_TEXT",
    "CertificateEntry",
    "Dose",
    "DoseRecord",
    "IdentityDocument",
    "Name",
    "Person",
    "RecoveryEntry",
    "TestEntry",
    "VaccinationEntry",
    "dob_earliest",
    "parse_dob",
]

FORMAT = "vaxcert.dose-record/1"
"""The ``format`` marker of a dose record document."""

MAX_TEXT = 80
"""DCC 1.3 ``maxLength`` of the names, ``is``, ``ci``, ``nm`` and ``tc``."""

MAX_DOSES = 20

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DOB_RE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_DATETIME_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/._-]{0,79}")
_CCCD_RE = re.compile(r"[0-9]{12}")
_PASSPORT_RE = re.compile(r"[A-Z0-9]{5,20}")
_FACILITY_RE = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)*")
_REDACTED = "<redacted>"


# --------------------------------------------------------------------------- helpers


def _join(path: str, key: str) -> str:
    if not path:
        return key
    if key.startswith("["):
        return path + key
    return f"{path}.{key}"


@contextlib.contextmanager
def _at(path: str) -> Iterator[None]:
    """Prefix the field of any InputError raised inside with ``path``."""
    try:
        yield
    except InputError as exc:
        if not path:
            raise
        raise InputError(_join(path, exc.field), exc.message) from None


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # exactly the Unicode category Cc


def _text(value: object, field: str, *, max_length: int = MAX_TEXT, optional: bool = False) -> str | None:
    """Validate a free-text string: NFC, trimmed, non-empty, no control characters."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InputError(field, "must be a string")
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InputError(field, "must not be empty")
    if _CONTROL.search(text):
        raise InputError(field, "must not contain control characters")
    if len(text) > max_length:
        raise InputError(field, f"is longer than {max_length} characters")
    return text


def _name_text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InputError(field, "must be a string")
    return normalize_name(value)


def _req_text(value: object, field: str, *, max_length: int = MAX_TEXT) -> str:
    text = _text(value, field, max_length=max_length)
    assert text is not None
    return text


def _code(value: object, field: str) -> str:
    """Validate a value-set code (membership is checked by vaxcert.dcc.payload.check_issuable)."""
    if not isinstance(value, str):
        raise InputError(field, "must be a string")
    if not _CODE_RE.fullmatch(value):
        raise InputError(field, "is not a code (letters, digits and / . _ -, at most 80)")
    return value


def _country(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InputError(field, "must be a string")
    if not _COUNTRY_RE.fullmatch(value):
        raise InputError(field, "must be an ISO 3166-1 alpha-2 code in upper case")
    return value


def _positive_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(field, "must be an integer")
    if value < 1:
        raise InputError(field, "must be at least 1")
    return value


def _date(value: object, field: str) -> _dt.date:
    if isinstance(value, _dt.datetime) or not isinstance(value, _dt.date):
        raise InputError(field, "must be a date")
    return value


def _aware(value: object, field: str) -> _dt.datetime:
    if not isinstance(value, _dt.datetime):
        raise InputError(field, "must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(field, "must carry a time zone")
    return value


def _parse_date(value: object, field: str) -> _dt.date:
    if not isinstance(value, str):
        raise InputError(field, "must be a string YYYY-MM-DD")
    if not _DATE_RE.fullmatch(value):
        raise InputError(field, "must be a date YYYY-MM-DD")
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(field, "is not a calendar date") from None


def _parse_datetime(value: object, field: str) -> _dt.datetime:
    if not isinstance(value, str):
        raise InputError(field, "must be a string")
    if not _DATETIME_RE.fullmatch(value):
        raise InputError(field, "must be an RFC 3339 date-time with a time zone (YYYY-MM-DDThh:mm:ssZ)")
    try:
        return _dt.datetime.fromisoformat(value)
    except ValueError:
        raise InputError(field, "is not a valid date-time") from None


def _format_datetime(value: _dt.datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _object(data: object, path: str, allowed: frozenset[str], required: frozenset[str]) -> Mapping[str, Any]:
    """Check ``data`` is a JSON object with only ``allowed`` keys and all ``required`` ones."""
    if not isinstance(data, Mapping):
        raise InputError(path or "$", "must be a JSON object")
    for key in data:
        if not isinstance(key, str):
            raise InputError(path or "$", "has a key that is not a string")
        if key not in allowed:
            raise InputError(_join(path, _safe_key(key)), "unknown key")
    for key in sorted(required):
        if key not in data:
            raise InputError(_join(path, key), "is required")
    return data


def _safe_key(key: str) -> str:
    """An unknown key as it may appear in a field path (printable, bounded)."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in key)
    return cleaned if len(cleaned) <= 40 else cleaned[:37] + "..."


def parse_dob(dob: str, field: str = "dob") -> tuple[int, int | None, int | None]:
    """Split a DCC birth date (YYYY, YYYY-MM or YYYY-MM-DD) into parts, validating it."""
    if not isinstance(dob, str):
        raise InputError(field, "must be a string")
    m = _DOB_RE.fullmatch(dob)
    if m is None:
        raise InputError(field, "must be YYYY, YYYY-MM or YYYY-MM-DD")
    year = int(m[1])
    month = int(m[2]) if m[2] else None
    day = int(m[3]) if m[3] else None
    if not 1900 <= year <= 2099:
        raise InputError(field, "must have a year between 1900 and 2099 (DCC schema)")
    if month is not None and not 1 <= month <= 12:
        raise InputError(field, "has a month outside 01-12")
    if month is not None and day is not None:
        try:
            _dt.date(year, month, day)
        except ValueError:
            raise InputError(field, "is not a calendar date") from None
    return year, month, day


def dob_earliest(dob: str) -> _dt.date:
    """The first day a (possibly partial) birth date can denote."""
    year, month, day = parse_dob(dob)
    return _dt.date(year, month or 1, day or 1)


# --------------------------------------------------------------------------- person


@dataclass(frozen=True, slots=True, repr=False)
class Name:
    """A person's name as printed, plus optional machine-readable (ICAO 9303) overrides.

    ``family`` is required: DCC 1.3.0 requires ``fnt``, and ICAO 9303 puts a single name in
    the primary identifier (the family-name field), so a person with one name has a ``family``
    and no ``given``.  ``family_icao`` / ``given_icao`` override the transliteration (use them to
    copy the MRZ of a foreigner's passport when its national convention differs); otherwise the
    name must be transliterable by :func:`vaxcert.dcc.translit.to_icao`.
    """

    family: str
    given: str | None = None
    family_icao: str | None = None
    given_icao: str | None = None

    KEYS: ClassVar[frozenset[str]] = frozenset({"family", "given", "family_icao", "given_icao"})

    def __post_init__(self) -> None:
        _set(self, "family", _req_text(_name_text(self.family, "family"), "family"))
        if self.given is not None:
            _set(self, "given", _req_text(_name_text(self.given, "given"), "given"))
        for key in ("family_icao", "given_icao"):
            value = getattr(self, key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise InputError(key, "must be a string")
            if not value or not ICAO_PATTERN.fullmatch(value) or len(value) > MAX_LENGTH:
                raise InputError(key, "must be 1-80 characters A-Z and '<'")
        if self.given is None and self.given_icao is not None:
            raise InputError("given_icao", "is set without a given name")
        # Fail at entry time, not at issuance, for a name with no transliteration.
        if self.family_icao is None and not to_icao(self.family, field="family"):
            raise InputError("family", "has no letters")
        if self.given is not None and self.given_icao is None and not to_icao(self.given, field="given"):
            raise InputError("given", "has no letters")

    def fnt(self, max_length: int = MAX_LENGTH) -> str:
        """The DCC ``fnt`` value (standardised family name)."""
        if self.family_icao is not None:
            return self.family_icao[:max_length].rstrip("<")
        return to_icao(self.family, field="family", max_length=max_length)

    def gnt(self, max_length: int = MAX_LENGTH) -> str | None:
        """The DCC ``gnt`` value, or ``None`` without a given name."""
        if self.given is None:
            return None
        if self.given_icao is not None:
            return self.given_icao[:max_length].rstrip("<")
        return to_icao(self.given, field="given", max_length=max_length)

    def __repr__(self) -> str:
        return f"Name({_REDACTED})"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"family": self.family}
        for key in ("given", "family_icao", "given_icao"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_json(cls, data: object, *, path: str = "") -> Self:
        obj = _object(data, path, cls.KEYS, frozenset({"family"}))
        with _at(path):
            return cls(
                family=obj["family"],
                given=obj.get("given"),
                family_icao=obj.get("family_icao"),
                given_icao=obj.get("given_icao"),
            )


# Province / city codes that open a citizen identity number (Circular 07/2016/TT-BCA).
_CCCD_PROVINCES = frozenset(
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 035 "
    "036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 070 072 "
    "074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096".split()
)

DocumentKind = Literal["cccd", "passport"]


@dataclass(frozen=True, slots=True, repr=False)
class IdentityDocument:
    """A Vietnamese citizen identity number (``cccd``) or a passport with its nationality.

    * ``cccd``: the 12-digit number of the căn cước (công dân) card: a 3-digit province code,
      one digit for century of birth and sex, the last two digits of the birth year, six
      digits.  ``nationality`` is ``"VN"`` (implied when omitted).
    * ``passport``: the document number (5-20 characters A-Z, 0-9; spaces are not allowed)
      and the holder's nationality (ISO 3166-1 alpha-2).

    ``repr`` shows only the kind.
    """

    kind: DocumentKind
    number: str
    nationality: str | None = None

    KEYS: ClassVar[frozenset[str]] = frozenset({"type", "number", "nationality"})

    def __post_init__(self) -> None:
        if self.kind not in ("cccd", "passport"):
            raise InputError("type", "must be 'cccd' or 'passport'")
        if not isinstance(self.number, str):
            raise InputError("number", "must be a string")
        if self.kind == "cccd":
            if not _CCCD_RE.fullmatch(self.number):
                raise InputError("number", "must be the 12 digits of a citizen identity number")
            if self.number[:3] not in _CCCD_PROVINCES:
                raise InputError("number", "does not start with a province code")
            nationality = "VN" if self.nationality is None else _country(self.nationality, "nationality")
            if nationality != "VN":
                raise InputError("nationality", "must be VN for a citizen identity number")
            _set(self, "nationality", nationality)
        else:
            _set(self, "number", self.number.upper())
            if not _PASSPORT_RE.fullmatch(self.number):
                raise InputError("number", "must be 5-20 characters A-Z, 0-9 (upper case, no spaces)")
            if self.nationality is None:
                raise InputError("nationality", "is required with a passport")
            _country(self.nationality, "nationality")

    def birth_year(self) -> int | None:
        """The birth year a citizen identity number encodes (``None`` for a passport)."""
        if self.kind != "cccd":
            return None
        century = 1900 + 100 * (int(self.number[3]) // 2)
        return century + int(self.number[4:6])

    def __repr__(self) -> str:
        return f"IdentityDocument(kind={self.kind!r}, {_REDACTED})"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "number": self.number}
        if self.kind == "passport":
            out["nationality"] = self.nationality
        return out

    @classmethod
    def from_json(cls, data: object, *, path: str = "") -> Self:
        obj = _object(data, path, cls.KEYS, frozenset({"type", "number"}))
        with _at(path):
            kind = obj["type"]
            if kind not in ("cccd", "passport"):
                raise InputError("type", "must be 'cccd' or 'passport'")
            return cls(kind=kind, number=obj["number"], nationality=obj.get("nationality"))


@dataclass(frozen=True, slots=True, repr=False)
class Person:
    """A certificate holder: name, birth date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, kept as
    the string the DCC carries) and, optionally, an identity document.

    A citizen identity number encodes the birth year; it must agree with ``dob``.
    ``repr``/``str`` are fully redacted.
    """

    name: Name
    dob: str
    identity: IdentityDocument | None = None

    KEYS: ClassVar[frozenset[str]] = frozenset({"name", "dob", "identity"})

    def __post_init__(self) -> None:
        if not isinstance(self.name, Name):
            raise InputError("name", "must be a Name")
        year, _, _ = parse_dob(self.dob, "dob")
        if self.identity is not None:
            if not isinstance(self.identity, IdentityDocument):
                raise InputError("identity", "must be an IdentityDocument")
            encoded = self.identity.birth_year()
            if encoded is not None and encoded != year:
                raise InputError("identity.number", "does not encode the birth year given in dob")

    def __repr__(self) -> str:
        return f"Person({_REDACTED})"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name.to_json(), "dob": self.dob}
        if self.identity is not None:
            out["identity"] = self.identity.to_json()
        return out

    @classmethod
    def from_json(cls, data: object, *, path: str = "") -> Self:
        obj = _object(data, path, cls.KEYS, frozenset({"name", "dob"}))
        name = Name.from_json(obj["name"], path=_join(path, "name"))
        identity = None
        if obj.get("identity") is not None:
            identity = IdentityDocument.from_json(obj["identity"], path=_join(path, "identity"))
        with _at(path):
            return cls(name=name, dob=obj["dob"], identity=identity)


# --------------------------------------------------------------------------- DCC entries


@dataclass(frozen=True, slots=True, repr=False)
class VaccinationEntry:
    """One DCC vaccination entry (``v[0]``).  ``is_`` is the JSON field ``is``."""

    tg: str
    vp: str
    mp: str
    ma: str
    dn: int
    sd: int
    dt: _dt.date
    co: str
    is_: str
    ci: str

    KIND: ClassVar[str] = "v"
    KEYS: ClassVar[frozenset[str]] = frozenset({"tg", "vp", "mp", "ma", "dn", "sd", "dt", "co", "is", "ci"})

    def __post_init__(self) -> None:
        for key in ("tg", "vp", "mp", "ma"):
            _code(getattr(self, key), key)
        _positive_int(self.dn, "dn")
        _positive_int(self.sd, "sd")
        _date(self.dt, "dt")
        _country(self.co, "co")
        _set(self, "is_", _req_text(self.is_, "is"))
        _set(self, "ci", _req_text(self.ci, "ci"))

    def __repr__(self) -> str:
        return (
            f"VaccinationEntry(tg={self.tg!r}, vp={self.vp!r}, mp={self.mp!r}, ma={self.ma!r}, "
            f"co={self.co!r}, {_REDACTED})"
        )

    def to_json(self) -> VaccinationJson:
        return vaccination_json(tg=self.tg, vp=self.vp, mp=self.mp, ma=self.ma, dn=self.dn, sd=self.sd,
                                dt=self.dt.isoformat(), co=self.co, is_=self.is_, ci=self.ci)

    @classmethod
    def from_json(cls, data: object, *, path: str = "") -> Self:
        obj = _object(data, path, cls.KEYS, cls.KEYS)
        with _at(path):
            return cls(
                tg=obj["tg"], vp=obj["vp"], mp=obj["mp"], ma=obj["ma"], dn=obj["dn"], sd=obj["sd"],
                dt=_parse_date(obj["dt"], "dt"), co=obj["co"], is_=obj["is"], ci=obj["ci"],
            )  # fmt: skip


@dataclass(frozen=True, slots=True, repr=False)
class TestEntry:
    """One DCC test entry (``t[0]``).  ``sc`` (sample collection) is a time-zone-aware datetime."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    tg: str
    tt: str
    sc: _dt.datetime
    tr: str
    co: str
    is_: str
    ci: str
    nm: str | None = None
    ma: str | None = None
    tc: str | None = None

    KIND: ClassVar[str] = "t"
    KEYS: ClassVar[frozenset[str]] = frozenset({"tg", "tt", "nm", "ma", "sc", "tr", "tc", "co", "is", "ci"})
    REQUIRED: ClassVar[frozenset[str]] = frozenset({"tg", "tt", "sc", "tr", "co", "is", "ci"})

    def __post_init__(self) -> None:
        for key in ("tg", "tt", "tr"):
            _code(getattr(self, key), key)
        if self.ma is not None:
            _code(self.ma, "ma")
        _aware(self.sc, "sc")
        _country(self.co, "co")
        _set(self, "is_", _req_text(self.is_, "is"))
        _set(self, "ci", _req_text(self.ci, "ci"))
        _set(self, "nm", _text(self.nm, "nm", optional=True))
        _set(self, "tc", _text(self.tc, "tc", optional=True))

    def __repr__(self) -> str:
        return f"TestEntry(tg={self.tg!r}, tt={self.tt!r}, ma={self.ma!r}, co={self.co!r}, {_REDACTED})"

    def to_json(self) -> TestJson:
        out: dict[str, Any] = {"tg": self.tg, "tt": self.tt}
        if self.nm is not None:
            out["nm"] = self.nm
        if self.ma is not None:
            out["ma"] = self.ma
        out["sc"] = _format_datetime(self.sc)
        out["tr"] = self.tr
        if self.tc is not None:
            out["tc"] = self.tc
        out.update({"co": self.co, "is": self.is_, "ci": self.ci})
        return cast(TestJson, out)

    @classmethod
    def from_json(cls, data: object, *, path: str = "") -> Self:
        obj = _object(data, path, cls.KEYS, cls.REQUIRED)
        with _at(path):
            return cls(
                tg=obj["tg"], tt=obj["tt"], sc=_parse_datetime(obj["sc"], "sc"), tr=obj["tr"],
                co=obj["co"], is_=obj["is"], ci=obj["ci"], nm=obj.get("nm"), ma=obj.get("ma"),
                tc=obj.get("tc"),
            )  # fmt: skip


@dataclass(frozen=True, slots=True, repr=False)
class RecoveryEntry:
    """One DCC recovery entry (``r[0]``): first positive result ``fr``, validity ``df``..``du``."""

    tg: str
    fr: _dt.date
    df: _dt.date
    du: _dt.date
    co: str
    is_: str
    ci: str

    KIND: ClassVar[str] = "r"
    KEYS: ClassVar[frozenset[str]] = frozenset({"tg", "fr", "df", "du", "co", "is", "ci"})

    def __post_init__(self) -> None:
        _code(self.tg, "tg")
        for key in ("fr", "df", "du"):
            _date(getattr(self, key), key)
        if self.df < self.fr:
            raise InputError("df", "is before the first positive result fr")
        if self.du < self.df:
            raise InputError("du", "is before df")
        _country(self.co, "co")
        _set(self, "is_", _req_text(self.is_, "is"))
        _set(self, "ci", _req_text(self.ci, "ci"))

    def __repr__(self) -> str:
        return f"RecoveryEntry(tg={self.tg!r}, co={self.co!r}, {_REDACTED})"

    def to_json(self) -> RecoveryJson:
        return {
            "tg": self.tg, "fr": self.fr.isoformat(), "co": self.co, "is": self.is_,
            "df": self.df.isoformat(), "du": self.du.isoformat(), "ci": self.ci,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: object, *, path: str = "") -> Self:
        obj = _object(data, path, cls.KEYS, cls.KEYS)
        with _at(path):
            return cls(
                tg=obj["tg"], fr=_parse_date(obj["fr"], "fr"), df=_parse_date(obj["df"], "df"),
                du=_parse_date(obj["du"], "du"), co=obj["co"], is_=obj["is"], ci=obj["ci"],
            )  # fmt: skip


CertificateEntry = VaccinationEntry | TestEntry | RecoveryEntry


# --------------------------------------------------------------------------- dose records


@dataclass(frozen=True, slots=True, repr=False)
class Dose:
    """One administered dose as a registry records it.

    ``product`` is the ``vaccine-medicinal-product`` code (DCC ``mp``).  ``manufacturer`` (``ma``)
    and ``prophylaxis`` (``vp``) may be omitted for the products vaxcert knows
    (:data:`vaxcert.dcc.payload.PRODUCTS`).  ``facility`` is the administering facility's id
    (``VN-HN-001``: upper-case blocks of A-Z, 0-9 joined by ``-``); ``country`` is where the dose
    was given (``co``, default ``VN``); ``disease`` is ``tg`` (COVID-19).
    """

    date: _dt.date
    product: str
    dose_number: int
    series_total: int
    facility: str
    country: str = "VN"
    manufacturer: str | None = None
    prophylaxis: str | None = None
    disease: str = COVID_19

    KEYS: ClassVar[frozenset[str]] = frozenset(
        {"date", "product", "dose_number", "series_total", "facility", "country", "manufacturer",
         "prophylaxis", "disease"}
    )  # fmt: skip
    REQUIRED: ClassVar[frozenset[str]] = frozenset({"date", "product", "dose_number", "series_total", "facility"})

    def __post_init__(self) -> None:
        _date(self.date, "date")
        _code(self.product, "product")
        _positive_int(self.dose_number, "dose_number")
        _positive_int(self.series_total, "series_total")
        if not isinstance(self.facility, str) or not _FACILITY_RE.fullmatch(self.facility):
            raise InputError("facility", "must be upper-case blocks of A-Z, 0-9 joined by '-'")
        if len(self.facility) > 40:
            raise InputError("facility", "is longer than 40 characters")
        _country(self.country, "country")
        if self.manufacturer is not None:
            _code(self.manufacturer, "manufacturer")
        if self.prophylaxis is not None:
            _code(self.prophylaxis, "prophylaxis")
        _code(self.disease, "disease")

    def __repr__(self) -> str:
        return f"Dose(product={self.product!r}, facility={self.facility!r}, {_REDACTED})"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "date": self.date.isoformat(),
            "product": self.product,
            "dose_number": self.dose_number,
            "series_total": self.series_total,
            "facility": self.facility,
            "country": self.country,
        }
        if self.manufacturer is not None:
            out["manufacturer"] = self.manufacturer
        if self.prophylaxis is not None:
            out["prophylaxis"] = self.prophylaxis
        if self.disease != COVID_19:
            out["disease"] = self.disease
        return out

    @classmethod
    def from_json(cls, data: object, *, path: str = "") -> Self:
        obj = _object(data, path, cls.KEYS, cls.REQUIRED)
        with _at(path):
            return cls(
                date=_parse_date(obj["date"], "date"),
                product=obj["product"],
                dose_number=obj["dose_number"],
                series_total=obj["series_total"],
                facility=obj["facility"],
                country=obj.get("country", "VN"),
                manufacturer=obj.get("manufacturer"),
                prophylaxis=obj.get("prophylaxis"),
                disease=obj.get("disease", COVID_19),
            )


@dataclass(frozen=True, slots=True, repr=False)
class DoseRecord:
    """A person and the COVID-19 doses they received (from one or several facilities).

    Doses are kept in the order given.  Dose numbers are distinct, and a higher dose number
    has a strictly later date.  :attr:`latest` is the dose a certificate is issued for
    (:func:`vaxcert.dcc.payload.payload_from_record`).
    """

    person: Person
    doses: tuple[Dose, ...]

    KEYS: ClassVar[frozenset[str]] = frozenset({"format", "person", "doses"})

    def __post_init__(self) -> None:
        if not isinstance(self.person, Person):
            raise InputError("person", "must be a Person")
        if isinstance(self.doses, list):
            _set(self, "doses", tuple(self.doses))
        if not isinstance(self.doses, tuple):
            raise InputError("doses", "must be a sequence of Dose")
        if not self.doses:
            raise InputError("doses", "must hold at least one dose")
        if len(self.doses) > MAX_DOSES:
            raise InputError("doses", f"holds more than {MAX_DOSES} doses")
        seen: dict[int, int] = {}
        for i, dose in enumerate(self.doses):
            if not isinstance(dose, Dose):
                raise InputError(f"doses[{i}]", "must be a Dose")
            if dose.dose_number in seen:
                raise InputError(
                    f"doses[{i}].dose_number", f"repeats the dose number of doses[{seen[dose.dose_number]}]"
                )
            seen[dose.dose_number] = i
        ordered = sorted(range(len(self.doses)), key=lambda k: self.doses[k].dose_number)
        for before, after in itertools.pairwise(ordered):
            if self.doses[after].date <= self.doses[before].date:
                raise InputError(f"doses[{after}].date", f"is not after the date of the lower-numbered doses[{before}]")
        earliest = dob_earliest(self.person.dob)
        for i, dose in enumerate(self.doses):
            if dose.date < earliest:
                raise InputError(f"doses[{i}].date", "is before the date of birth")

    @property
    def latest(self) -> Dose:
        """The dose with the highest dose number (which is also the latest)."""
        return max(self.doses, key=lambda d: d.dose_number)

    @property
    def latest_index(self) -> int:
        """Index in :attr:`doses` of :attr:`latest`."""
        return max(range(len(self.doses)), key=lambda k: self.doses[k].dose_number)

    def __repr__(self) -> str:
        return f"DoseRecord(person={_REDACTED}, doses={len(self.doses)})"

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "person": self.person.to_json(),
            "doses": [dose.to_json() for dose in self.doses],
        }

    @classmethod
    def from_json(cls, data: object, *, path: str = "") -> Self:
        obj = _object(data, path, cls.KEYS, frozenset({"format", "person", "doses"}))
        if obj["format"] != FORMAT:
            raise InputError(_join(path, "format"), f"must be {FORMAT!r}")
        person = Person.from_json(obj["person"], path=_join(path, "person"))
        raw_doses = obj["doses"]
        if not isinstance(raw_doses, list):
            raise InputError(_join(path, "doses"), "must be a JSON array")
        doses = tuple(Dose.from_json(d, path=_join(path, f"doses[{i}]")) for i, d in enumerate(raw_doses))
        with _at(path):
            return cls(person=person, doses=doses)
