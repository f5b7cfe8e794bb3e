"""Format-neutral holder and vaccination events (vaxcert.events), and the EU DCC mapping into them."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, Pki
from test_issue_verify import VACCINATION
from vaxcert import DecodeError, FailureCode, Stage, issue, verify
from vaxcert.events import (
    COVID_19,
    EU_MEDICINAL_PRODUCT,
    Holder,
    NormalisedRecord,
    PartialDate,
    ProductCode,
    VaccinationEvent,
    events_from_dcc,
    normalise_name,
)


@pytest.mark.parametrize(
    ("text", "expected", "iso"),
    [
        ("1951", PartialDate(1951), "1951"),
        ("1951-01", PartialDate(1951, 1), "1951-01"),
        ("1951-01-20", PartialDate(1951, 1, 20), "1951-01-20"),
        (" 1951-01-20 ", PartialDate(1951, 1, 20), "1951-01-20"),
        ("2021-01-01T10:00:00Z", PartialDate(2021, 1, 1), "2021-01-01"),
        ("2021-01-01T10:00:00.5-05:00", PartialDate(2021, 1, 1), "2021-01-01"),
        ("2021-01-01T10:00:00+0700", PartialDate(2021, 1, 1), "2021-01-01"),
    ],
)
def test_partial_dates(text: str, expected: PartialDate, iso: str) -> None:
    """FHIR/DCC dates of year, month or day precision parse; a time part is dropped."""
    parsed = PartialDate.parse(text)
    assert parsed == expected and parsed.isoformat() == iso == str(parsed)
    assert parsed.complete == (parsed.day is not None)
    assert parsed.date == (dt.date(parsed.year, parsed.month, parsed.day) if parsed.day and parsed.month else None)


@pytest.mark.parametrize("text", ["", "51", "1951-1-2", "19510120", "1951-13", "1951-02-30", "1951-01-20x",
                                  "1951-01T10:00", "0000", "2021-01-01T", "١٩٥١"])
def test_partial_date_refusals(text: str) -> None:
    """Anything else is a ValueError that does not echo the input."""
    with pytest.raises(ValueError) as info:
        PartialDate.parse(text)
    assert text.strip() == "" or text not in str(info.value)


def test_partial_date_compatibility() -> None:
    """Dates are compatible when they agree on every part both know."""
    day = PartialDate(1951, 1, 20)
    assert day.compatible(PartialDate(1951)) and day.compatible(PartialDate(1951, 1)) and day.compatible(day)
    assert not day.compatible(PartialDate(1951, 2)) and not day.compatible(PartialDate(1952))
    assert not day.compatible(PartialDate(1951, 1, 21))
    assert repr(day) == "PartialDate(<redacted>)"
    with pytest.raises(ValueError):
        PartialDate(1951, None, 3)


def test_names_and_holders() -> None:
    """Holders compare by accent-, case- and punctuation-insensitive names and compatible birth dates."""
    assert normalise_name("Nguyễn  Văn-Đức") == normalise_name("NGUYEN VAN DUC") == "nguyen van duc"
    assert normalise_name(None) == ""
    a = Holder("Nguyễn", "Văn Đức", PartialDate(1985, 4, 12))
    assert a.same_person(Holder("NGUYEN", "van duc", PartialDate(1985)))
    assert not a.same_person(Holder("Nguyen", "Van Duc", PartialDate(1986)))
    assert not a.same_person(Holder("Nguyen", "Van Duc", None))
    assert not a.same_person(Holder("Tran", "Van Duc", PartialDate(1985, 4, 12)))
    assert Holder(None, None, None, "NGUYEN", "VAN<DUC").comparison_key() == ("nguyen", "van duc")
    assert "Nguy" not in repr(a) and "1985" not in repr(a)
    assert a.to_dict() == {"family": "Nguyễn", "given": "Văn Đức", "family_std": None, "given_std": None,
                           "birth_date": "1985-04-12"}


def test_dcc_payload_mapping() -> None:
    """A DCC vaccination payload maps to one event with mp, dn/sd, date, country, issuer and UVCI."""
    record = events_from_dcc(VACCINATION)
    assert isinstance(record, NormalisedRecord) and "Nguy" not in repr(record)
    assert record.holder == Holder("Nguyễn", "Văn Đức", PartialDate(1985, 4, 12), "NGUYEN", "VAN<DUC")
    (event,) = record.events
    assert event.product == ProductCode(EU_MEDICINAL_PRODUCT, "EU/1/20/1528")
    assert (event.eu_product, event.dose_number, event.series_doses) == ("EU/1/20/1528", 2, 2)
    assert (event.date, event.disease, event.vaccine_type, event.manufacturer) == (
        PartialDate(2026, 5, 1), COVID_19, "1119349007", "ORG-100030215")
    assert (event.country, event.performer, event.certificate_id) == ("VN", "Ministry of Health VN",
                                                                       "URN:UVCI:01:VN:TESTCERT0001#H")
    assert event.codes == (event.product,)
    assert "TESTCERT" not in repr(event)
    assert event.to_dict()["date"] == "2026-05-01"


def test_dcc_mapping_of_a_verified_certificate(pki: Pki) -> None:
    """The payload of a certificate issued and verified by vaxcert maps to the same event."""
    result = verify(issue(VACCINATION, pki.signer, now=NOW, facility_override=True).hc1, pki.trust, now=NOW)
    assert result.valid and result.payload is not None
    assert events_from_dcc(result.payload) == events_from_dcc(VACCINATION)


def test_dcc_tolerances() -> None:
    """Float dose numbers, partial or empty dob and test/recovery payloads are read as the DCC allows."""
    payload = copy.deepcopy(VACCINATION)
    payload["v"][0].update(dn=1.0, sd=2.0)
    payload["dob"] = "1985"
    record = events_from_dcc(payload)
    assert (record.events[0].dose_number, record.events[0].series_doses) == (1, 2)
    assert record.holder.birth_date == PartialDate(1985)
    payload["dob"] = ""
    assert events_from_dcc(payload).holder.birth_date is None
    test_payload = {k: v for k, v in VACCINATION.items() if k != "v"} | {"t": [{"tg": COVID_19}]}
    assert events_from_dcc(test_payload).events == ()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.pop("nam"), "nam"),
        (lambda p: p.update(dob=19850412), "dob"),
        (lambda p: p.update(dob="12/04/1985"), "dob"),
        (lambda p: p.update(v={}), "v"),
        (lambda p: p["v"].__setitem__(0, "x"), "v[0]"),
        (lambda p: p["v"][0].pop("mp"), "v[0].mp"),
        (lambda p: p["v"][0].update(dt="yesterday"), "v[0].dt"),
        (lambda p: p["v"][0].update(dn=0), "v[0].dn"),
        (lambda p: p["v"][0].update(sd=True), "v[0].sd"),
        (lambda p: p["v"][0].update(co=7), "v[0].co"),
        (lambda p: p["nam"].update(fn=["x"]), "nam.fn"),
    ],
)
def test_dcc_mapping_refusals(change: Any, field: str) -> None:
    """Malformed fields raise DecodeError SCHEMA_INVALID naming the field, never its value."""
    payload = copy.deepcopy(VACCINATION)
    change(payload)
    with pytest.raises(DecodeError) as info:
        events_from_dcc(payload)
    assert (info.value.code, info.value.stage) == (FailureCode.SCHEMA_INVALID, Stage.PAYLOAD)
    assert info.value.message.startswith(field + ":")
    assert "Nguy" not in info.value.message and "1985" not in info.value.message


def test_dcc_mapping_of_published_vectors(vectors_dir: Path) -> None:
    """Every published vaccination vector's payload maps, field for field."""
    mapped = 0
    for path in sorted(vectors_dir.glob("*/2DCode/raw/*.json")):
        payload = json.loads(path.read_text(encoding="utf-8")).get("JSON")
        if not isinstance(payload, dict) or not isinstance(payload.get("v"), list):
            continue
        try:
            record = events_from_dcc(payload)
        except DecodeError:
            continue  # a few vectors are deliberately malformed
        for entry, event in zip(payload["v"], record.events, strict=True):
            assert event.eu_product == entry["mp"].strip()
            assert event.date is not None and event.date.isoformat() == entry["dt"][:10]
            assert event.dose_number == int(entry["dn"]) and event.series_doses == int(entry["sd"])
        mapped += 1
    assert mapped >= 50


_LEAVES = st.none() | st.integers(-5, 200) | st.sampled_from(["", "1985", "2021-01-01", "EU/1/20/1528"]) | st.floats()
_VALUES = st.recursive(
    _LEAVES,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["fn", "gn", "mp", "dt", "dn", "sd", "co"]),
                                                        c, max_size=4),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["nam", "dob", "v", "t", "ver"]), _VALUES, max_size=5))
def test_dcc_mapping_never_fails_otherwise(payload: dict[str, Any]) -> None:
    """On arbitrary structures the mapping returns a record or raises DecodeError, nothing else."""
    try:
        record = events_from_dcc(payload)
    except DecodeError as exc:
        assert exc.code == FailureCode.SCHEMA_INVALID
    else:
        assert all(isinstance(e, VaccinationEvent) for e in record.events)
