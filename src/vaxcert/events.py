"""Format-neutral results: the holder and the vaccination events a certificate states.

An EU DCC (``HC1:``) and a SMART Health Card (``shc:/``) say the same things in different
shapes.  Both are mapped into the types here, so that the pass policy, business rules and the
registry's recognition of foreign doses work on either format:

* :class:`Holder`: the names as printed (and the ICAO-standardised ones when the format has
  them), and the birth date, which may be partial (``YYYY`` or ``YYYY-MM``);
* :class:`VaccinationEvent`: the product as coded by the issuer (code system + code), the EU
  product (``mp``) it corresponds to where known, the date, dose number / series doses where
  stated, disease, vaccine type, manufacturer, country, performer and lot.

:func:`events_from_dcc` maps a verified DCC payload; :mod:`vaxcert.formats.shc` maps a FHIR
bundle.  This module is near the bottom of the package: it imports nothing from vaxcert but
:mod:`vaxcert.codes`, :mod:`vaxcert.errors` and the DCC's coded values (:mod:`vaxcert.dcc.codes`).
``repr`` of holders and events is redacted
(they are personal and health data).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .codes import FailureCode, Stage
from .dcc.codes import COVID_19
from .errors import DecodeError

__all__ = [
    "COVID_19",
    "CVX",
    "EU_MEDICINAL_PRODUCT",
    "ICD11_MMS",
    "SNOMED_CT",
    "Holder",
    "NormalisedRecord",
    "PartialDate",
    "ProductCode",
    "VaccinationEvent",
    "events_from_dcc",
    "normalise_name",
]

#: Code systems of vaccine product codes (FHIR system URIs).
CVX: Final = "http://hl7.org/fhir/sid/cvx"
SNOMED_CT: Final = "http://snomed.info/sct"
ICD11_MMS: Final = "http://id.who.int/icd/release/11/mms"
#: The EU DCC value set ``vaccines-covid-19-names`` (``v[].mp``).  The EU publishes no system
#: URI for it; this identifier is vaxcert's own and only used inside normalised events.
EU_MEDICINAL_PRODUCT: Final = "urn:eu-dcc:vaccines-covid-19-names"

_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_DATETIME_TAIL = re.compile(r"T[0-9:.]+(?:Z|[+-][0-9]{2}:?[0-9]{2})?")


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A calendar date that may be known only to the year or the month (FHIR ``date``, DCC ``dob``)."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise ValueError("year out of range")
        if self.month is None:
            if self.day is not None:
                raise ValueError("a day needs a month")
            return
        if not 1 <= self.month <= 12:
            raise ValueError("month out of range")
        if self.day is not None:
            dt.date(self.year, self.month, self.day)  # raises ValueError for 2021-02-30

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, optionally followed by a time (which is dropped).

        Raises :class:`ValueError` (without echoing the text) for anything else.
        """
        if not isinstance(text, str):
            raise ValueError("a date must be a string")
        text = text.strip()
        match = _DATE.match(text)
        if match is None:
            raise ValueError("not a date")
        rest = text[match.end() :]
        if rest and not (match.group(3) and _DATETIME_TAIL.fullmatch(rest)):
            raise ValueError("not a date")
        year, month, day = match.groups()
        return cls(int(year), int(month) if month else None, int(day) if day else None)

    @property
    def complete(self) -> bool:
        """True when year, month and day are all known."""
        return self.day is not None

    @property
    def date(self) -> dt.date | None:
        """The :class:`datetime.date`, or None when the date is partial."""
        if self.month is None or self.day is None:
            return None
        return dt.date(self.year, self.month, self.day)

    def isoformat(self) -> str:
        """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""
        out = f"{self.year:04d}"
        if self.month is not None:
            out += f"-{self.month:02d}"
            if self.day is not None:
                out += f"-{self.day:02d}"
        return out

    def compatible(self, other: PartialDate) -> bool:
        """True when the two dates agree on every part both of them know."""
        if self.year != other.year:
            return False
        if self.month is None or other.month is None:
            return True
        if self.month != other.month:
            return False
        return self.day is None or other.day is None or self.day == other.day

    def __str__(self) -> str:
        return self.isoformat()

    def __repr__(self) -> str:
        return "PartialDate(<redacted>)"


def normalise_name(text: str | None) -> str:
    """A comparison key for a name: accents removed, case folded, punctuation as spaces, spaces collapsed.

    ``"Nguyễn  Văn-An"`` and ``"NGUYEN VAN AN"`` give the same key.  (Registry matching uses the
    stricter ICAO 9303 transliteration; this key is for comparing two cards of one holder.)
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.replace("Đ", "D").replace("đ", "d"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    cleaned = "".join(ch if ch.isalnum() else " " for ch in stripped.casefold())
    return " ".join(cleaned.split())


@dataclass(frozen=True, slots=True)
class Holder:
    """The person a certificate is about.  ``repr`` is redacted.

    ``family`` and ``given`` are the names as printed on the certificate (several given names
    joined by spaces); ``family_std`` / ``given_std`` are the ICAO 9303 machine-readable forms
    when the format carries them (DCC ``fnt`` / ``gnt``; SHC has none).
    """

    family: str | None
    given: str | None
    birth_date: PartialDate | None
    family_std: str | None = None
    given_std: str | None = None

    def comparison_key(self) -> tuple[str, str]:
        """Normalised (family, given) for comparing holders (see :func:`normalise_name`)."""
        return normalise_name(self.family or self.family_std), normalise_name(self.given or self.given_std)

    def same_person(self, other: Holder) -> bool:
        """True when names (normalised) and the known parts of the birth dates agree."""
        if self.comparison_key() != other.comparison_key():
            return False
        if self.birth_date is None or other.birth_date is None:
            return self.birth_date is None and other.birth_date is None
        return self.birth_date.compatible(other.birth_date)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (personal data: show only when asked for)."""
        return {
            "family": self.family,
            "given": self.given,
            "family_std": self.family_std,
            "given_std": self.given_std,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
        }

    def __repr__(self) -> str:
        return "Holder(<redacted>)"


@dataclass(frozen=True, slots=True)
class ProductCode:
    """A vaccine product code as the issuer wrote it: code system URI and code."""

    system: str
    code: str


@dataclass(frozen=True, slots=True)
class VaccinationEvent:
    """One vaccine dose as a certificate states it.  ``repr`` shows only the product.

    * ``product``: the issuer's code (DCC: ``mp`` in :data:`EU_MEDICINAL_PRODUCT`; SHC: the
      Immunization's CVX, SNOMED CT or ICD-11 coding); ``codes`` holds every coding given.
    * ``eu_product``: the EU product code (``mp``) the pass policy counts, where known.
    * ``date``: when the dose was given (a :class:`PartialDate`; a pass needs a complete one).
    * ``dose_number`` / ``series_doses``: as stated (DCC ``dn``/``sd``; FHIR ``protocolApplied``),
      None where the certificate does not say.
    * ``disease``, ``vaccine_type`` (DCC ``tg``, ``vp``), ``manufacturer`` (DCC ``ma``), where known.
    * ``country`` (ISO 3166-1 alpha-2, DCC ``co``), ``performer`` (DCC ``is``; FHIR
      ``performer.actor.display``), ``lot`` (FHIR ``lotNumber``), ``certificate_id`` (DCC ``ci``).
    """

    product: ProductCode
    eu_product: str | None
    date: PartialDate | None
    dose_number: int | None = None
    series_doses: int | None = None
    disease: str | None = None
    vaccine_type: str | None = None
    manufacturer: str | None = None
    country: str | None = None
    performer: str | None = None
    lot: str | None = None
    certificate_id: str | None = None
    codes: tuple[ProductCode, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (health data: show only when asked for)."""
        return {
            "product": {"system": self.product.system, "code": self.product.code},
            "eu_product": self.eu_product,
            "date": self.date.isoformat() if self.date else None,
            "dose_number": self.dose_number,
            "series_doses": self.series_doses,
            "disease": self.disease,
            "vaccine_type": self.vaccine_type,
            "manufacturer": self.manufacturer,
            "country": self.country,
            "performer": self.performer,
            "lot": self.lot,
            "certificate_id": self.certificate_id,
        }

    def __repr__(self) -> str:
        return f"VaccinationEvent(product={self.product.code!r}, eu_product={self.eu_product!r}, <redacted>)"


@dataclass(frozen=True, slots=True)
class NormalisedRecord:
    """A holder and their vaccination events, whatever format they came from."""

    holder: Holder
    events: tuple[VaccinationEvent, ...]

    def __repr__(self) -> str:
        return f"NormalisedRecord(holder=<redacted>, events={len(self.events)})"


# ---------------------------------------------------------------------------------------------
# EU DCC payload -> normalised record
# ---------------------------------------------------------------------------------------------


def _bad(path: str, message: str) -> DecodeError:
    return DecodeError(FailureCode.SCHEMA_INVALID, Stage.PAYLOAD, f"{path}: {message}")


def _opt_str(entry: Mapping[str, Any], key: str, path: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(f"{path}.{key}", "must be a string")
    return value.strip() or None


def _dose_count(entry: Mapping[str, Any], key: str, path: str) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    # Some issuers write 1.0 for 1; the CBOR/JSON number is what the signature covers.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 99:
        raise _bad(f"{path}.{key}", "must be a whole number 1..99")
    return value


def events_from_dcc(payload: Mapping[str, Any]) -> NormalisedRecord:
    """The holder and vaccination events of an EU DCC payload (the ``hcert`` claim's JSON).

    Test (``t``) and recovery (``r``) entries give no vaccination events.  Meant for payloads
    that verified; raises :class:`vaxcert.errors.DecodeError` (``SCHEMA_INVALID``, stage
    ``payload``, naming the field, never its value) if a field the mapping needs is malformed.
    """
    if not isinstance(payload, Mapping):
        raise _bad("$", "payload must be an object")
    nam = payload.get("nam")
    if not isinstance(nam, Mapping):
        raise _bad("nam", "must be an object")
    dob_raw = payload.get("dob")
    if dob_raw is not None and not isinstance(dob_raw, str):
        raise _bad("dob", "must be a string")
    try:
        birth = PartialDate.parse(dob_raw) if dob_raw and dob_raw.strip() else None
    except ValueError:
        raise _bad("dob", "is not a date") from None
    holder = Holder(
        family=_opt_str(nam, "fn", "nam"),
        given=_opt_str(nam, "gn", "nam"),
        birth_date=birth,
        family_std=_opt_str(nam, "fnt", "nam"),
        given_std=_opt_str(nam, "gnt", "nam"),
    )
    entries = payload.get("v", [])
    if not isinstance(entries, list):
        raise _bad("v", "must be a list")
    events = []
    for index, entry in enumerate(entries):
        path = f"v[{index}]"
        if not isinstance(entry, Mapping):
            raise _bad(path, "must be an object")
        mp = _opt_str(entry, "mp", path)
        if mp is None:
            raise _bad(f"{path}.mp", "is missing")
        date_raw = _opt_str(entry, "dt", path)
        try:
            date = PartialDate.parse(date_raw) if date_raw else None
        except ValueError:
            raise _bad(f"{path}.dt", "is not a date") from None
        product = ProductCode(EU_MEDICINAL_PRODUCT, mp)
        country = _opt_str(entry, "co", path)
        events.append(
            VaccinationEvent(
                product=product,
                eu_product=mp,
                date=date,
                dose_number=_dose_count(entry, "dn", path),
                series_doses=_dose_count(entry, "sd", path),
                disease=_opt_str(entry, "tg", path),
                vaccine_type=_opt_str(entry, "vp", path),
                manufacturer=_opt_str(entry, "ma", path),
                country=country.upper() if country else None,
                performer=_opt_str(entry, "is", path),
                certificate_id=_opt_str(entry, "ci", path),
                codes=(product,),
            )
        )
    return NormalisedRecord(holder, tuple(events))
