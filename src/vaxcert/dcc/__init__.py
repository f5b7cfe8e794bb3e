"""The EU DCC content: records, the one payload builder, schemas, value sets, coded values, UVCIs.

* :mod:`.model` — typed records (people, names, identity documents, doses, DCC entries);
* :mod:`.payload` — the one payload builder (:func:`build_payload`, :func:`payload_from_record`)
  and the issuance checks (:func:`check_issuable`);
* :mod:`.schema` — the DCC JSON schemas (jsonschema-rs); :mod:`.valuesets` — the value sets;
* :mod:`.codes` — coded values and versions defined once (COVID-19, test types, DCC version);
* :mod:`.types` — the payload as typed dictionaries;
* :mod:`.uvci` — certificate identifiers; :mod:`.translit` — ICAO 9303 transliteration.

Nothing here signs or reads keys: this layer sits on :mod:`vaxcert.stages` and below.
"""

from __future__ import annotations

from .codes import COVID_19, DCC_VERSION, RAPID_ANTIGEN_TEST, SUPPORTED_VERSIONS
from .model import (
    FORMAT,
    Dose,
    DoseRecord,
    IdentityDocument,
    Name,
    Person,
    RecoveryEntry,
    TestEntry,
    VaccinationEntry,
)
from .payload import PRODUCTS, build_payload, check_issuable, entry_from_dose, normalize_payload, payload_from_record
from .types import DccPayload
from .valuesets import ValueSets, check_payload

__all__ = [
    "COVID_19",
    "DCC_VERSION",
    "FORMAT",
    "PRODUCTS",
    "RAPID_ANTIGEN_TEST",
    "SUPPORTED_VERSIONS",
    "DccPayload",
    "Dose",
    "DoseRecord",
    "IdentityDocument",
    "Name",
    "Person",
    "RecoveryEntry",
    "TestEntry",
    "VaccinationEntry",
    "ValueSets",
    "build_payload",
    "check_issuable",
    "check_payload",
    "entry_from_dose",
    "normalize_payload",
    "payload_from_record",
]
