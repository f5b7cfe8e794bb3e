"""The FHIR stage of SMART Health Cards: ``credentialSubject.fhirBundle`` → holder and vaccination events.

The bundle must be a ``collection`` with exactly one ``Patient`` and at least one
``Immunization``; every Immunization's ``patient.reference`` must resolve to the Patient's
``fullUrl`` (``resource:N`` in cards made for QR codes).  Immunizations whose ``status`` is not
``completed`` are reported in the warnings and give no event.  R4 is the version Health Cards
use; the few DSTU2 spellings (``date``, a list ``family``, ``wasNotGiven``) are read too.

Raises :class:`vaxcert.errors.DecodeError` (``FHIR_BUNDLE_INVALID`` / ``FHIR_NO_IMMUNIZATION``,
stage ``fhir``) naming the element, never its value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ...codes import FailureCode, Stage
from ...errors import DecodeError
from ...events import CVX, ICD11_MMS, SNOMED_CT, Holder, PartialDate, ProductCode, VaccinationEvent
from ...jsonio import ascii_digits
from .products import ProductMap, ProductMapping

__all__ = ["BundleContent", "read_bundle"]

_RESOURCE_URI = re.compile(r"resource:(0|[1-9][0-9]*)")
_KNOWN_SYSTEMS: Final = (CVX, SNOMED_CT, ICD11_MMS)
_MAX_TEXT: Final = 512


@dataclass(frozen=True, slots=True)
class BundleContent:
    """What a Health Card's bundle says: the holder, the completed vaccinations, and warnings."""

    holder: Holder
    events: tuple[VaccinationEvent, ...]
    warnings: tuple[str, ...]

    def __repr__(self) -> str:
        return f"BundleContent(holder=<redacted>, events={len(self.events)}, warnings={len(self.warnings)})"


def _invalid(message: str) -> DecodeError:
    return DecodeError(FailureCode.FHIR_BUNDLE_INVALID, Stage.FHIR, message)


def _text(value: Any) -> str | None:
    """A non-empty string, stripped and capped, or None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:_MAX_TEXT] if value else None


def _holder(patient: Mapping[str, Any], path: str, warnings: list[str]) -> Holder:
    names = patient.get("name")
    if not isinstance(names, list) or not names:
        raise _invalid(f"{path}.name is missing")
    chosen = next((n for n in names if isinstance(n, dict) and n.get("use") == "official"), names[0])
    if not isinstance(chosen, dict):
        raise _invalid(f"{path}.name[0] is not an object")
    family_value = chosen.get("family")
    if isinstance(family_value, list):  # DSTU2: family is a list
        family_value = " ".join(part.strip() for part in family_value if isinstance(part, str) and part.strip())
    elif family_value is not None and not isinstance(family_value, str):
        raise _invalid(f"{path}.name.family is not a string")
    given_value = chosen.get("given", [])
    if not isinstance(given_value, list) or not all(isinstance(g, str) for g in given_value):
        raise _invalid(f"{path}.name.given is not a list of strings")
    family = _text(family_value)
    given = _text(" ".join(g.strip() for g in given_value if g.strip()))
    if family is None and given is None:
        family = _text(chosen.get("text"))
        if family is None:
            raise _invalid(f"{path}.name has neither family, given nor text")
        warnings.append(f"{path}.name has only a text form; it is read as the family name")
    birth = patient.get("birthDate")
    birth_date: PartialDate | None = None
    if birth is not None:
        try:
            birth_date = PartialDate.parse(birth)
        except ValueError:
            raise _invalid(f"{path}.birthDate is not a FHIR date") from None
    return Holder(family=family, given=given, birth_date=birth_date)


def _codings(immunization: Mapping[str, Any], path: str) -> list[ProductCode]:
    concept = immunization.get("vaccineCode")
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if not isinstance(codings, list):
        raise _invalid(f"{path}.vaccineCode.coding is missing")
    out = []
    for coding in codings:
        if isinstance(coding, dict):
            system, code = _text(coding.get("system")), _text(coding.get("code"))
            if system is not None and code is not None:
                out.append(ProductCode(system, code))
    if not out:
        raise _invalid(f"{path}.vaccineCode has no coding with a system and a code")
    return out


def _primary(codings: Sequence[ProductCode], products: ProductMap) -> tuple[ProductCode, ProductMapping | None]:
    """The coding to report: the first the table maps, else the first in a known system, else the first."""
    for coding in codings:
        mapping = products.lookup(coding.system, coding.code)
        if mapping is not None:
            return ProductCode(products.canonical_system(coding.system), coding.code), mapping
    for coding in codings:
        system = products.canonical_system(coding.system)
        if system in _KNOWN_SYSTEMS:
            return ProductCode(system, coding.code), None
    return codings[0], None


def _occurrence(immunization: Mapping[str, Any], path: str) -> PartialDate:
    for key in ("occurrenceDateTime", "occurrenceString", "date"):
        value = immunization.get(key)
        if value is None:
            continue
        try:
            return PartialDate.parse(value)
        except ValueError:
            raise _invalid(f"{path}.{key} is not a FHIR date") from None
    raise _invalid(f"{path}.occurrenceDateTime is missing")


def _count(value: Any) -> int | None:
    if isinstance(value, str) and ascii_digits(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 99:
        return None
    return value


def _protocol(immunization: Mapping[str, Any], path: str, warnings: list[str]) -> tuple[int | None, int | None]:
    applied = immunization.get("protocolApplied")
    if applied is None:
        return None, None
    first = applied[0] if isinstance(applied, list) and applied else None
    if not isinstance(first, dict):
        warnings.append(f"{path}.protocolApplied is not readable; dose number unknown")
        return None, None
    dose = _count(first.get("doseNumberPositiveInt", first.get("doseNumberString")))
    series = _count(first.get("seriesDosesPositiveInt", first.get("seriesDosesString")))
    return dose, series


def _performer(immunization: Mapping[str, Any]) -> str | None:
    performers = immunization.get("performer")
    if not isinstance(performers, list):
        return None
    for performer in performers:
        actor = performer.get("actor") if isinstance(performer, dict) else None
        if isinstance(actor, dict) and _text(actor.get("display")):
            return _text(actor.get("display"))
    return None


def _event(
    immunization: Mapping[str, Any], path: str, products: ProductMap, warnings: list[str]
) -> VaccinationEvent:
    codings = _codings(immunization, path)
    product, mapping = _primary(codings, products)
    dose, series = _protocol(immunization, path, warnings)
    if mapping is None:
        warnings.append(f"{path}.vaccineCode is not in the vaccine code table")
    return VaccinationEvent(
        product=product,
        eu_product=mapping.mp if mapping else None,
        date=_occurrence(immunization, path),
        dose_number=dose,
        series_doses=series,
        disease=mapping.disease if mapping else None,
        vaccine_type=mapping.vp if mapping else None,
        manufacturer=mapping.ma if mapping else None,
        performer=_performer(immunization),
        lot=_text(immunization.get("lotNumber")),
        codes=tuple(codings),
    )


def read_bundle(bundle: Any, products: ProductMap) -> BundleContent:
    """Read a Health Card's FHIR bundle, as parsed JSON (dicts and lists; see the module docstring)."""
    if not isinstance(bundle, dict):
        raise _invalid("fhirBundle is not an object")
    if bundle.get("resourceType") != "Bundle":
        raise _invalid("fhirBundle.resourceType is not Bundle")
    if bundle.get("type") != "collection":
        raise _invalid("fhirBundle.type is not collection")
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        raise _invalid("fhirBundle.entry is missing or empty")
    warnings: list[str] = []
    full_urls: dict[str, int] = {}
    patients: list[tuple[int, Mapping[str, Any]]] = []
    immunizations: list[tuple[int, Mapping[str, Any]]] = []
    other = 0
    long_urls = False
    for index, entry in enumerate(entries):
        path = f"entry[{index}]"
        if not isinstance(entry, dict):
            raise _invalid(f"{path} is not an object")
        resource = entry.get("resource")
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise _invalid(f"{path}.resource has no resourceType")
        full_url = entry.get("fullUrl")
        if full_url is not None:
            if not isinstance(full_url, str) or not full_url:
                raise _invalid(f"{path}.fullUrl is not a string")
            if full_url in full_urls:
                raise _invalid(f"{path}.fullUrl repeats entry[{full_urls[full_url]}]")
            full_urls[full_url] = index
            if not _RESOURCE_URI.fullmatch(full_url) and not long_urls:
                long_urls = True
                warnings.append(f"{path}.fullUrl is not a short resource:N URI (cards for QR codes use them)")
        kind = resource["resourceType"]
        if kind == "Patient":
            patients.append((index, resource))
        elif kind == "Immunization":
            immunizations.append((index, resource))
        else:
            other += 1
    if len(patients) != 1:
        raise _invalid("fhirBundle must hold exactly one Patient" if patients else "fhirBundle holds no Patient")
    if not immunizations:
        raise DecodeError(FailureCode.FHIR_NO_IMMUNIZATION, Stage.FHIR, "the card holds no Immunization")
    patient_index, patient = patients[0]
    holder = _holder(patient, f"entry[{patient_index}].resource", warnings)
    patient_url = entries[patient_index].get("fullUrl")
    events = []
    for index, immunization in immunizations:
        path = f"entry[{index}].resource"
        subject = immunization.get("patient")
        reference = subject.get("reference") if isinstance(subject, dict) else None
        if not isinstance(reference, str) or reference != patient_url:
            raise _invalid(f"{path}.patient.reference does not point to the bundle's Patient")
        status = immunization.get("status")
        if not isinstance(status, str):
            raise _invalid(f"{path}.status is missing")
        if status != "completed" or immunization.get("wasNotGiven") is True:
            warnings.append(f"{path} is not a completed vaccination; not counted")
            continue
        events.append(_event(immunization, path, products, warnings))
    if other:
        warnings.append(f"fhirBundle holds {other} resource(s) other than Patient and Immunization; not read")
    events.sort(key=lambda e: e.date.isoformat() if e.date else "")
    return BundleContent(holder=holder, events=tuple(events), warnings=tuple(warnings))
