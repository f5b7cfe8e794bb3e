"""Tests for vaxcert.dcc.model: typed records, their validation and the dose-record JSON format."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import unicodedata
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies_records import (
    dose_records,
    persons,
    recovery_entries,
    test_entries,
    vaccination_entries,
    vn_names,
)
from vaxcert.dcc.model import (
    FORMAT,
    Dose,
    DoseRecord,
    IdentityDocument,
    Name,
    Person,
    RecoveryEntry,
    TestEntry,
    VaccinationEntry,
    dob_earliest,
    parse_dob,
)
from vaxcert.errors import InputError

CCCD = "001085012345"  # Hà Nội, male, born 1985
UVCI = "URN:UVCI:01:VN:MOH/ABC123#N"
SECRET_FAMILY = "Nguyễnzz"
SECRET_NUMBER = "079301123456"


def record_json() -> dict[str, Any]:
    """A valid dose record document."""
    return {
        "format": FORMAT,
        "person": {
            "name": {"family": "Nguyễn", "given": "Văn An"},
            "dob": "1985-03-14",
            "identity": {"type": "cccd", "number": CCCD},
        },
        "doses": [
            {"date": "2021-07-12", "product": "EU/1/21/1529", "dose_number": 1, "series_total": 2,
             "facility": "VN-HN-001", "country": "VN"},
            {"date": "2021-09-20", "product": "EU/1/21/1529", "dose_number": 2, "series_total": 2,
             "facility": "VN-HN-002", "country": "VN"},
        ],
    }  # fmt: skip


def vaccination() -> VaccinationEntry:
    """A valid vaccination entry."""
    return VaccinationEntry(
        tg="840539006", vp="1119349007", mp="EU/1/20/1528", ma="ORG-100030215", dn=1, sd=2,
        dt=dt.date(2021, 8, 1), co="VN", is_="Bộ Y tế", ci=UVCI,
    )  # fmt: skip


def field_of(exc: pytest.ExceptionInfo[InputError]) -> str:
    """The field an InputError names."""
    return exc.value.field


# --------------------------------------------------------------------------- Name


def test_name_normalises() -> None:
    """Names are stored NFC, trimmed, with single spaces."""
    name = Name(unicodedata.normalize("NFD", "  Nguyễn "), "Văn \u00a0  An")
    assert name.family == "Nguyễn"
    assert unicodedata.is_normalized("NFC", name.family)
    assert name.given == "Văn An"


def test_name_machine_readable_forms() -> None:
    """fnt/gnt come from to_icao unless overridden."""
    name = Name("Trần", "Thị Ánh")
    assert (name.fnt(), name.gnt()) == ("TRAN", "THI<ANH")
    assert Name("Trần").gnt() is None
    override = Name("Μενεξές", "Μάριος", family_icao="MENEKSES")
    assert (override.fnt(), override.gnt()) == ("MENEKSES", "MARIOS")
    assert Name("A" * 70 + " B").fnt(50) == "A" * 50


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"family": ""}, "family"),
        ({"family": "   "}, "family"),
        ({"family": 3}, "family"),
        ({"family": "Lê", "given": ""}, "given"),
        ({"family": "Lê", "given": 5}, "given"),
        ({"family": "A" * 81}, "family"),
        ({"family": "Lê\x07"}, "family"),
        ({"family": "Əliyev"}, "family"),
        ({"family": "Lê", "given": "李"}, "given"),
        ({"family": "'"}, "family"),
        ({"family": "Lê", "family_icao": "le"}, "family_icao"),
        ({"family": "Lê", "family_icao": ""}, "family_icao"),
        ({"family": "Lê", "given_icao": "AN"}, "given_icao"),
        ({"family": "Lê", "given": "An", "given_icao": 1}, "given_icao"),
    ],
)
def test_name_refuses(kwargs: dict[str, Any], field: str) -> None:
    """Invalid names raise InputError naming the field."""
    with pytest.raises(InputError) as info:
        Name(**kwargs)
    assert field_of(info) == field


def test_name_override_allows_untransliterable() -> None:
    """A name without ICAO transliteration is accepted when the MRZ form is given."""
    name = Name("Əliyev", "Aysel", family_icao="ALIYEV")
    assert name.fnt() == "ALIYEV"


def test_name_repr_redacted() -> None:
    """repr/str of a Name show no part of it."""
    name = Name(SECRET_FAMILY, "Thị Ánh")
    for text in (repr(name), str(name)):
        assert SECRET_FAMILY not in text
        assert "Ánh" not in text


# --------------------------------------------------------------------------- IdentityDocument


def test_cccd() -> None:
    """A 12-digit citizen identity number is accepted; nationality defaults to VN."""
    doc = IdentityDocument("cccd", CCCD)
    assert doc.nationality == "VN"
    assert doc.birth_year() == 1985
    assert IdentityDocument("cccd", "079301123456").birth_year() == 2001


def test_passport() -> None:
    """A passport needs a nationality; its number is upper-cased."""
    doc = IdentityDocument("passport", "c1234567", "FR")
    assert doc.number == "C1234567"
    assert doc.birth_year() is None


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("cccd", "00108501234"), "number"),
        (("cccd", "0010850123456"), "number"),
        (("cccd", "00108501234A"), "number"),
        (("cccd", "001 085 012 345"), "number"),
        (("cccd", "003085012345"), "number"),
        (("cccd", CCCD, "FR"), "nationality"),
        (("cccd", 1085012345), "number"),
        (("passport", "C1234567"), "nationality"),
        (("passport", "C1234567", "fr"), "nationality"),
        (("passport", "C1234567", "FRA"), "nationality"),
        (("passport", "C12"), "number"),
        (("passport", "C123-4567", "FR"), "number"),
        (("id-card", "C1234567", "FR"), "type"),
    ],
)
def test_identity_refuses(args: tuple[Any, ...], field: str) -> None:
    """Invalid identity documents raise InputError naming the field."""
    with pytest.raises(InputError) as info:
        IdentityDocument(*args)
    assert field_of(info) == field


def test_identity_repr_redacted() -> None:
    """repr shows the kind only, never the number or nationality."""
    doc = IdentityDocument("cccd", SECRET_NUMBER)
    assert SECRET_NUMBER not in repr(doc)
    assert "cccd" in repr(doc)
    passport = IdentityDocument("passport", "ZX998877", "DE")
    assert "ZX998877" not in str(passport)


# --------------------------------------------------------------------------- Person


@pytest.mark.parametrize("dob", ["1985-03-14", "1985-03", "1985", "2000-02-29", "1900-01-01"])
def test_person_dob_forms(dob: str) -> None:
    """Birth dates may be full, year-month or year only."""
    assert Person(Name("Lê"), dob).dob == dob


@pytest.mark.parametrize(
    "dob", ["", "85", "1985-3-14", "1985-02-30", "2021-02-29", "1985-13", "1985-00", "1899", "2100",
            "1985/03/14", "1985-03-14T00:00", " 1985", 1985, "١٩٨٥"]
)  # fmt: skip
def test_person_dob_refused(dob: Any) -> None:
    """Malformed or impossible birth dates raise InputError naming dob."""
    with pytest.raises(InputError) as info:
        Person(Name("Lê"), dob)
    assert field_of(info) == "dob"


def test_person_cccd_must_match_birth_year() -> None:
    """A citizen identity number encoding another birth year is refused."""
    with pytest.raises(InputError) as info:
        Person(Name("Lê"), "1986-03-14", IdentityDocument("cccd", CCCD))
    assert field_of(info) == "identity.number"
    Person(Name("Lê"), "1985", IdentityDocument("cccd", CCCD))


def test_person_repr_redacted() -> None:
    """repr/str of a Person contain no name, birth date or document number."""
    person = Person(Name(SECRET_FAMILY, "Văn"), "1979-04-14", IdentityDocument("cccd", "001079012345"))
    for text in (repr(person), str(person), repr([person])):
        assert SECRET_FAMILY not in text
        assert "1979" not in text
        assert "001079012345" not in text


def test_parse_dob_helpers() -> None:
    """parse_dob splits a birth date; dob_earliest gives its first possible day."""
    assert parse_dob("1985") == (1985, None, None)
    assert parse_dob("1985-03-14") == (1985, 3, 14)
    assert dob_earliest("1985-03") == dt.date(1985, 3, 1)


# --------------------------------------------------------------------------- entries


def test_vaccination_entry_json() -> None:
    """A vaccination entry serialises to the DCC v[0] shape and back."""
    entry = vaccination()
    data = entry.to_json()
    assert data["is"] == "Bộ Y tế"
    assert data["dt"] == "2021-08-01"
    assert list(data) == ["tg", "vp", "mp", "ma", "dn", "sd", "dt", "co", "is", "ci"]
    assert VaccinationEntry.from_json(data) == entry


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dn": 0}, "v[0].dn"),
        ({"dn": True}, "v[0].dn"),
        ({"dn": "1"}, "v[0].dn"),
        ({"sd": 1.0}, "v[0].sd"),
        ({"dt": "2021-02-30"}, "v[0].dt"),
        ({"dt": "20210801"}, "v[0].dt"),
        ({"dt": "2021-08-01T10:00:00Z"}, "v[0].dt"),
        ({"co": "VNM"}, "v[0].co"),
        ({"co": "vn"}, "v[0].co"),
        ({"mp": ""}, "v[0].mp"),
        ({"mp": "EU 1 20"}, "v[0].mp"),
        ({"is": ""}, "v[0].is"),
        ({"is": "x" * 81}, "v[0].is"),
        ({"ci": None}, "v[0].ci"),
        ({"extra": 1}, "v[0].extra"),
    ],
)
def test_vaccination_entry_refuses(change: dict[str, Any], field: str) -> None:
    """Bad vaccination entry JSON raises InputError naming the JSON path."""
    data = vaccination().to_json() | change
    with pytest.raises(InputError) as info:
        VaccinationEntry.from_json(data, path="v[0]")
    assert field_of(info) == field


def test_vaccination_entry_missing_key() -> None:
    """A missing key is named."""
    data = vaccination().to_json()
    del data["ma"]
    with pytest.raises(InputError) as info:
        VaccinationEntry.from_json(data, path="v[0]")
    assert field_of(info) == "v[0].ma"
    assert info.value.message == "is required"


def test_entry_must_be_object() -> None:
    """A non-object entry is refused naming its path."""
    with pytest.raises(InputError) as info:
        VaccinationEntry.from_json([1, 2], path="v[0]")
    assert field_of(info) == "v[0]"


def test_vaccination_entry_direct_construction_checks_types() -> None:
    """Constructing with a datetime for dt, or a string dose number, is refused."""
    with pytest.raises(InputError, match="dt"):
        dataclasses.replace(vaccination(), dt=dt.datetime(2021, 8, 1, tzinfo=dt.UTC))
    with pytest.raises(InputError, match="sd"):
        dataclasses.replace(vaccination(), sd="2")  # type: ignore[arg-type]


def test_test_entry_json() -> None:
    """Test entries keep the sample time zone; UTC is written with Z."""
    entry = TestEntry(
        tg="840539006", tt="LP6464-4", sc=dt.datetime(2021, 8, 1, 9, 30, tzinfo=dt.UTC), tr="260415000",
        co="VN", is_="Bộ Y tế", ci=UVCI, nm="PCR",
    )  # fmt: skip
    data = entry.to_json()
    assert data["sc"] == "2021-08-01T09:30:00Z"
    assert "ma" not in data
    assert "tc" not in data
    assert TestEntry.from_json(data) == entry
    local = TestEntry.from_json(data | {"sc": "2021-08-01T16:30:00+07:00"})
    assert local.sc == entry.sc
    assert local.to_json()["sc"] == "2021-08-01T16:30:00+07:00"


@pytest.mark.parametrize(
    ("sc", "field"),
    [("2021-08-01T09:30:00", "sc"), ("2021-08-01", "sc"), ("2021-08-01 09:30:00Z", "sc"),
     ("2021-08-32T09:30:00Z", "sc"), (1627810200, "sc")],
)  # fmt: skip
def test_test_entry_refuses_bad_sample_time(sc: Any, field: str) -> None:
    """Sample times need a date, a time and a time zone."""
    data = {"tg": "840539006", "tt": "LP6464-4", "sc": sc, "tr": "260415000", "co": "VN", "is": "X",
            "ci": UVCI}  # fmt: skip
    with pytest.raises(InputError) as info:
        TestEntry.from_json(data)
    assert field_of(info) == field


def test_test_entry_naive_datetime_refused() -> None:
    """A naive datetime for sc is refused."""
    with pytest.raises(InputError, match="sc"):
        TestEntry(tg="840539006", tt="LP6464-4", sc=dt.datetime(2021, 8, 1), tr="260415000", co="VN",
                  is_="X", ci=UVCI)  # fmt: skip


def test_recovery_entry_order() -> None:
    """Recovery entries need fr <= df <= du."""
    base = {"tg": "840539006", "fr": "2021-08-01", "df": "2021-08-12", "du": "2022-01-28", "co": "VN",
            "is": "X", "ci": UVCI}  # fmt: skip
    entry = RecoveryEntry.from_json(base)
    assert entry.to_json() == base
    with pytest.raises(InputError) as info:
        RecoveryEntry.from_json(base | {"df": "2021-07-30"}, path="r[0]")
    assert field_of(info) == "r[0].df"
    with pytest.raises(InputError) as info:
        RecoveryEntry.from_json(base | {"du": "2021-08-11"}, path="r[0]")
    assert field_of(info) == "r[0].du"


def test_entry_reprs_hide_personal_data() -> None:
    """Entry reprs show value-set codes only: no dates, identifiers or test results."""
    entry = vaccination()
    assert UVCI not in repr(entry)
    assert "2021" not in repr(entry)
    assert "EU/1/20/1528" in repr(entry)
    test = TestEntry(tg="840539006", tt="LP6464-4", sc=dt.datetime(2021, 8, 1, tzinfo=dt.UTC),
                     tr="260373001", co="VN", is_="X", ci=UVCI)  # fmt: skip
    assert "260373001" not in repr(test)
    assert UVCI not in repr(test)


# --------------------------------------------------------------------------- dose records


def test_dose_record_round_trip() -> None:
    """The documented example loads, and serialises back to the same JSON."""
    data = record_json()
    record = DoseRecord.from_json(data)
    assert record.to_json() == data
    assert record.latest.dose_number == 2
    assert record.latest_index == 1
    assert record.doses[0].manufacturer is None


def test_dose_record_defaults() -> None:
    """country defaults to VN; disease to COVID-19 (and is not written back)."""
    data = record_json()
    del data["doses"][0]["country"]
    record = DoseRecord.from_json(data)
    assert record.doses[0].country == "VN"
    assert record.doses[0].disease == "840539006"
    assert "disease" not in record.doses[0].to_json()


def _mutated(path: list[Any], value: Any) -> dict[str, Any]:
    data = record_json()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["format"], "vaxcert.dose-record/2", "format"),
        (["format"], KeyError, "format"),
        (["person"], KeyError, "person"),
        (["person", "name", "family"], KeyError, "person.name.family"),
        (["person", "name", "family"], "", "person.name.family"),
        (["person", "name", "nickname"], "Bé", "person.name.nickname"),
        (["person", "dob"], "1985-02-29", "person.dob"),
        (["person", "dob"], "1986", "person.identity.number"),
        (["person", "identity", "type"], "cmnd", "person.identity.type"),
        (["person", "identity", "number"], "12345", "person.identity.number"),
        (["person", "identity", "nationality"], "US", "person.identity.nationality"),
        (["person", "phone"], "0912", "person.phone"),
        (["doses"], [], "doses"),
        (["doses"], {}, "doses"),
        (["doses", 1, "date"], "2021-09-31", "doses[1].date"),
        (["doses", 1, "date"], "2021-07-12", "doses[1].date"),
        (["doses", 1, "date"], "2021-07-01", "doses[1].date"),
        (["doses", 1, "dose_number"], 1, "doses[1].dose_number"),
        (["doses", 1, "dose_number"], 0, "doses[1].dose_number"),
        (["doses", 1, "series_total"], "2", "doses[1].series_total"),
        (["doses", 0, "facility"], "vn-hn-001", "doses[0].facility"),
        (["doses", 0, "facility"], "VN--HN", "doses[0].facility"),
        (["doses", 0, "country"], "Viet Nam", "doses[0].country"),
        (["doses", 0, "product"], KeyError, "doses[0].product"),
        (["doses", 0, "lot"], "ABC", "doses[0].lot"),
        (["doses", 0], "dose", "doses[0]"),
        (["signature"], "x", "signature"),
    ],
)
def test_dose_record_refuses(path: list[Any], value: Any, field: str) -> None:
    """Every invalid dose record raises InputError naming the JSON path of the field."""
    with pytest.raises(InputError) as info:
        DoseRecord.from_json(_mutated(path, value))
    assert field_of(info) == field


def test_dose_before_birth_refused() -> None:
    """A dose before the date of birth is refused."""
    data = record_json()
    data["person"] = {"name": {"family": "Lê"}, "dob": "2021-08"}
    with pytest.raises(InputError) as info:
        DoseRecord.from_json(data)
    assert field_of(info) == "doses[0].date"


def test_dose_record_must_be_object() -> None:
    """A non-object document is refused at the root."""
    with pytest.raises(InputError) as info:
        DoseRecord.from_json([])
    assert field_of(info) == "$"


def test_dose_record_limits_dose_count() -> None:
    """More than 20 doses is refused."""
    start = dt.date(2021, 1, 1)
    doses = tuple(Dose(start + dt.timedelta(days=30 * i), "EU/1/20/1528", i + 1, 21, "VN-HN-001") for i in range(21))
    with pytest.raises(InputError) as info:
        DoseRecord(Person(Name("Lê"), "1980"), doses)
    assert field_of(info) == "doses"


def test_dose_record_accepts_list_and_unordered() -> None:
    """Doses may be given as a list and in any order; latest is the highest dose number."""
    d1 = Dose(dt.date(2021, 7, 1), "EU/1/20/1528", 1, 2, "VN-HN-001")
    d2 = Dose(dt.date(2021, 8, 1), "EU/1/20/1528", 2, 2, "VN-HCM-002")
    record = DoseRecord(Person(Name("Lê"), "1980"), [d2, d1])  # type: ignore[arg-type]
    assert record.doses == (d2, d1)
    assert record.latest == d2
    assert record.latest_index == 0


def test_dose_record_repr_redacted() -> None:
    """repr of a record and its doses shows no personal data."""
    record = DoseRecord.from_json(record_json())
    text = repr(record) + repr(record.doses)
    assert "Nguyễn" not in text
    assert "1985" not in text
    assert CCCD not in text
    assert "2021-07-12" not in text
    assert "doses=2" in text


SECRET_VALUES = ["Nguyễnzz", "1985-02-31", "0010850ZZ345", "2021-07-99"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["person", "name", "family"], "Nguyễnzz\x00"),
        (["person", "dob"], "1985-02-31"),
        (["person", "identity", "number"], "0010850ZZ345"),
        (["doses", 0, "date"], "2021-07-99"),
        (["person", "name", "family"], "Nguyễnzz" * 20),
    ],
)
def test_errors_do_not_echo_values(path: list[Any], value: str) -> None:
    """Error messages name the field but never repeat the offending value."""
    with pytest.raises(InputError) as info:
        DoseRecord.from_json(_mutated(path, value))
    for secret in SECRET_VALUES:
        assert secret not in str(info.value)


def test_unknown_key_name_is_bounded() -> None:
    """An unknown key is reported printable and at most 40 characters long."""
    data = record_json()
    data["x\n" * 50] = 1
    with pytest.raises(InputError) as info:
        DoseRecord.from_json(data)
    assert len(info.value.field) <= 40
    assert "\n" not in info.value.field


# --------------------------------------------------------------------------- properties


@given(persons())
def test_person_json_round_trip(person: Person) -> None:
    """Person -> JSON text -> Person is the identity."""
    assert Person.from_json(json.loads(json.dumps(person.to_json()))) == person


@given(vn_names())
def test_name_json_round_trip(name: Name) -> None:
    """Name -> JSON -> Name is the identity, and fnt is always machine-readable."""
    assert Name.from_json(name.to_json()) == name
    assert name.fnt()
    assert set(name.fnt()) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ<")


@given(st.one_of(vaccination_entries(), test_entries(), recovery_entries()))
def test_entry_json_round_trip(entry: VaccinationEntry | TestEntry | RecoveryEntry) -> None:
    """Entries survive a JSON text round trip."""
    kind = type(entry)
    assert kind.from_json(json.loads(json.dumps(entry.to_json()))) == entry


@given(dose_records())
def test_dose_record_json_round_trip(record: DoseRecord) -> None:
    """Dose records survive a JSON text round trip; the latest dose has the highest number."""
    data = json.loads(json.dumps(record.to_json(), ensure_ascii=False))
    assert data["format"] == FORMAT
    assert DoseRecord.from_json(data) == record
    assert record.latest.dose_number == max(d.dose_number for d in record.doses)
    assert record.latest.date == max(d.date for d in record.doses)


@given(dose_records(), st.data())
def test_unknown_keys_always_named(record: DoseRecord, data: st.DataObject) -> None:
    """Adding an unknown key anywhere in a record document is refused, naming that key."""
    doc = copy.deepcopy(record.to_json())
    targets: list[tuple[dict[str, Any], str]] = [
        (doc, ""), (doc["person"], "person."), (doc["person"]["name"], "person.name."),
    ]  # fmt: skip
    targets += [(dose, f"doses[{i}].") for i, dose in enumerate(doc["doses"])]
    target, prefix = data.draw(st.sampled_from(targets))
    target["zz_unknown"] = True
    with pytest.raises(InputError) as info:
        DoseRecord.from_json(doc)
    assert info.value.field == prefix + "zz_unknown"
