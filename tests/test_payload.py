"""Tests for vaxcert.dcc.payload: building DCC payloads and the issuance checks."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies_dcc import TRICKY_STRINGS, exotic_values, json_values, mutated_payloads
from strategies_dcc import payloads as schema_payloads
from strategies_records import (
    NOW,
    dose_records,
    persons,
    recovery_entries,
    test_entries,
    vaccination_entries,
)
from vaxcert.dcc import schema, uvci
from vaxcert.dcc.model import (
    Dose,
    DoseRecord,
    IdentityDocument,
    Name,
    Person,
    RecoveryEntry,
    TestEntry,
    VaccinationEntry,
)
from vaxcert.dcc.payload import (
    PRODUCTS,
    build_payload,
    check_issuable,
    entry_from_dose,
    normalize_payload,
    payload_from_record,
)
from vaxcert.dcc.valuesets import ValueSets
from vaxcert.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "records"
CI = uvci.generate("VN", "MOH", "TESTCASE42")
WRONG_CI = CI[:-1] + ("A" if CI[-1] != "A" else "B")
ISSUER = "Ministry of Health of Viet Nam"
FAMILY = "Nguyễnqq"  # a marker: must never appear in an error message


def vaccination_payload(**entry: Any) -> dict[str, Any]:
    """A valid vaccination payload; ``entry`` overrides v[0] fields."""
    v = {
        "tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215", "dn": 2, "sd": 2,
        "dt": "2021-09-10", "co": "VN", "is": ISSUER, "ci": CI,
    } | entry  # fmt: skip
    return {
        "ver": "1.3.0",
        "nam": {"fn": FAMILY, "fnt": "NGUYENQQ", "gn": "Văn An", "gnt": "VAN<AN"},
        "dob": "1985-03-14",
        "v": [v],
    }


def naa_payload(**entry: Any) -> dict[str, Any]:
    """A valid NAA test payload; ``entry`` overrides t[0] fields."""
    t = {
        "tg": "840539006", "tt": "LP6464-4", "nm": "Roche LightCycler qPCR", "sc": "2021-09-10T08:00:00+07:00",
        "tr": "260415000", "tc": "Bệnh viện Bạch Mai", "co": "VN", "is": ISSUER, "ci": CI,
    } | entry  # fmt: skip
    payload = vaccination_payload()
    del payload["v"]
    payload["t"] = [t]
    return payload


def recovery_payload(**entry: Any) -> dict[str, Any]:
    """A valid recovery payload; ``entry`` overrides r[0] fields."""
    r = {
        "tg": "840539006", "fr": "2021-09-01", "co": "VN", "is": ISSUER, "df": "2021-09-12", "du": "2022-02-28",
        "ci": CI,
    } | entry  # fmt: skip
    payload = vaccination_payload()
    del payload["v"]
    payload["r"] = [r]
    return payload


def refused(payload: Any, **kwargs: Any) -> InputError:
    """Run check_issuable expecting a refusal; return the error (checked for personal data)."""
    with pytest.raises(InputError) as info:
        check_issuable(payload, now=kwargs.pop("now", NOW), **kwargs)
    assert FAMILY not in str(info.value)
    assert "1985-03-14" not in str(info.value)
    return info.value


def person() -> Person:
    """A person with a Vietnamese name and a citizen identity number."""
    return Person(Name("Trần", "Thị Ánh"), "1992-11-05", IdentityDocument("cccd", "079192004321"))


# --------------------------------------------------------------------------- building


def test_build_vaccination_payload() -> None:
    """build_payload gives ver, nam with transliterations, dob and one v entry."""
    entry = VaccinationEntry.from_json(vaccination_payload()["v"][0])
    payload = build_payload(person(), entry)
    assert payload == {
        "ver": "1.3.0",
        "nam": {"fn": "Trần", "fnt": "TRAN", "gn": "Thị Ánh", "gnt": "THI<ANH"},
        "dob": "1992-11-05",
        "v": [entry.to_json()],
    }
    check_issuable(payload, now=NOW)
    assert schema.validate(payload) == []


def test_build_payload_without_given_name() -> None:
    """gn and gnt are omitted when the person has no given name."""
    entry = VaccinationEntry.from_json(vaccination_payload()["v"][0])
    payload = build_payload(Person(Name("Lý"), "1950"), entry)
    assert payload["nam"] == {"fn": "Lý", "fnt": "LY"}
    check_issuable(payload, now=NOW)


@pytest.mark.parametrize(
    ("maker", "kind"),
    [(naa_payload, "t"), (recovery_payload, "r")],
)
def test_build_test_and_recovery(maker: Any, kind: str) -> None:
    """Test and recovery entries produce t / r payloads that pass the checks."""
    source = maker()[kind][0]
    entry_type: type[TestEntry] | type[RecoveryEntry] = TestEntry if kind == "t" else RecoveryEntry
    payload = build_payload(person(), entry_type.from_json(source))
    assert payload[kind] == [source]
    assert set(payload) == {"ver", "nam", "dob", kind}
    check_issuable(payload, now=NOW)


def test_build_payload_versions() -> None:
    """Only DCC 1.3.x is built; the version lands in ver."""
    entry = VaccinationEntry.from_json(vaccination_payload()["v"][0])
    assert build_payload(person(), entry, version="1.3.2")["ver"] == "1.3.2"
    with pytest.raises(InputError) as info:
        build_payload(person(), entry, version="1.0.0")
    assert info.value.field == "ver"


def test_ready_payloads_of_every_schema_version_are_signable_and_docs_say_so() -> None:
    """check_issuable accepts exactly the schema versions docs/records.md lists (1.0.0-1.3.2), others not."""
    docs = (EXAMPLES.parents[1] / "docs" / "records.md").read_text(encoding="utf-8")
    listed = docs.split("### Schema versions", 1)[1].split("**1.0.0", 1)[1].split("**", 1)[0]
    assert ["1.0.0", *[v.strip() for v in listed.replace(" and ", ", ").split(",") if v.strip()]] == \
        list(schema.versions())  # fmt: skip
    old = json.loads((EXAMPLES.parent / "payloads" / "vaccination-dcc-1.0.0.json").read_text(encoding="utf-8"))
    for version in schema.versions():
        check_issuable({**old, "ver": version}, now=NOW)
    listing = re.escape(", ".join(schema.versions()))
    for version in ("1.4.0", "0.9.0", "1.3.3"):
        with pytest.raises(InputError, match=listing) as info:
            check_issuable({**old, "ver": version}, now=NOW)
        assert info.value.field == "ver"


def test_build_payload_type_checks() -> None:
    """Wrong argument types are refused naming the argument."""
    entry = VaccinationEntry.from_json(vaccination_payload()["v"][0])
    with pytest.raises(InputError, match="person"):
        build_payload("Trần", entry)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="entry"):
        build_payload(person(), {"tg": "840539006"})  # type: ignore[arg-type]


def test_build_payload_uses_mrz_override() -> None:
    """A Name's ICAO override is used for fnt."""
    entry = VaccinationEntry.from_json(vaccination_payload()["v"][0])
    p = Person(Name("Μενεξές", "Μάριος", family_icao="MENEKSES"), "1980", None)
    assert build_payload(p, entry)["nam"]["fnt"] == "MENEKSES"


# --------------------------------------------------------------------------- records


def load_example(name: str) -> DoseRecord:
    """One of the example dose records."""
    return DoseRecord.from_json(json.loads((EXAMPLES / name).read_text(encoding="utf-8")))


def test_examples_are_issuable() -> None:
    """The six README example records load and give issuable payloads."""
    files = sorted(EXAMPLES.glob("*.json"))
    assert len(files) == 6
    for path in files:
        record = DoseRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
        payload = payload_from_record(record, ci=uvci.generate(issuer_entity="MOH"), issuer=ISSUER, now=NOW)
        assert schema.validate(payload) == []
        assert payload["v"][0]["dn"] == record.latest.dose_number


def test_examples_cover_the_demo_cases() -> None:
    """The examples include a booster 3/3, mixed products, a partial series, a year-only dob and a passport."""
    records = [DoseRecord.from_json(json.loads(p.read_text(encoding="utf-8"))) for p in sorted(EXAMPLES.glob("*.json"))]
    assert any(r.latest.dose_number == 3 == r.latest.series_total for r in records)
    assert any(len({d.product for d in r.doses}) > 1 for r in records)
    assert any(r.latest.dose_number < r.latest.series_total for r in records)
    assert any(len(r.person.dob) == 4 for r in records)
    assert any(r.person.identity is not None and r.person.identity.kind == "passport" for r in records)
    assert any(r.latest.product == "EU/1/21/1529" and len(r.doses) == 2 for r in records)
    for record in records:
        assert all(PRODUCTS.get(d.product) for d in record.doses)


def test_payload_from_record_latest_dose() -> None:
    """The certificate is for the highest-numbered dose, with ma / vp filled from PRODUCTS."""
    record = load_example("03-mixed-astrazeneca-pfizer.json")
    payload = payload_from_record(record, ci=CI, issuer=ISSUER, now=NOW)
    v = payload["v"][0]
    assert (v["mp"], v["ma"], v["vp"], v["dn"], v["sd"], v["dt"]) == (
        "EU/1/20/1528", "ORG-100030215", "1119349007", 2, 2, "2021-10-25",
    )  # fmt: skip
    assert payload["nam"] == {"fn": "Phạm", "fnt": "PHAM", "gn": "Thị Hương", "gnt": "THI<HUONG"}
    assert v["ci"] == CI
    assert v["is"] == ISSUER


def _record(*doses: Dose, dob: str = "1980-01-01") -> DoseRecord:
    return DoseRecord(Person(Name("Lê", "Văn Tám"), dob), doses)


def test_payload_from_record_reports_record_fields() -> None:
    """Problems found in the payload are reported against the dose record's fields."""
    future = Dose(dt.date(2024, 3, 1), "EU/1/20/1528", 1, 2, "VN-HN-001")
    with pytest.raises(InputError) as info:
        payload_from_record(_record(future), ci=CI, issuer=ISSUER, now=NOW)
    assert info.value.field == "doses[0].date"
    unknown = Dose(dt.date(2021, 3, 1), "EU/1/20/1528", 1, 2, "VN-HN-001", manufacturer="ORG-999")
    with pytest.raises(InputError) as info:
        payload_from_record(_record(unknown), ci=CI, issuer=ISSUER, now=NOW)
    assert info.value.field == "doses[0].manufacturer"
    with pytest.raises(InputError) as info:
        three_of_two = Dose(dt.date(2021, 3, 1), "EU/1/20/1528", 3, 2, "VN-HN-001")
        payload_from_record(_record(three_of_two), ci=CI, issuer=ISSUER, now=NOW)
    assert info.value.field == "doses[0].dose_number"
    ok = Dose(dt.date(2021, 3, 1), "EU/1/20/1528", 1, 2, "VN-HN-001")
    with pytest.raises(InputError) as info:
        payload_from_record(_record(ok), ci=WRONG_CI, issuer=ISSUER, now=NOW)
    assert info.value.field == "ci"
    with pytest.raises(InputError) as info:
        payload_from_record(_record(ok), ci=CI, issuer="x" * 81, now=NOW)
    assert info.value.field == "issuer"
    with pytest.raises(InputError) as info:
        payload_from_record(_record(ok, dob="2024-01"), ci=CI, issuer=ISSUER, now=NOW)
    assert info.value.field in ("person.dob", "doses[0].date")


def test_payload_from_record_unknown_product() -> None:
    """A product outside PRODUCTS needs ma and vp in the record; a product outside the value set is refused."""
    odd = Dose(dt.date(2021, 3, 1), "CoviVac", 1, 2, "VN-HN-001")
    with pytest.raises(InputError) as info:
        payload_from_record(_record(odd), ci=CI, issuer=ISSUER, now=NOW)
    assert info.value.field == "doses[0].manufacturer"
    chumakov = "Chumakov-Federal-Scientific-Center"
    explicit = Dose(dt.date(2021, 3, 1), "CoviVac", 1, 2, "VN-HN-001", manufacturer=chumakov, prophylaxis="1157024006")
    payload = payload_from_record(_record(explicit), ci=CI, issuer=ISSUER, now=NOW)
    assert payload["v"][0]["ma"] == chumakov
    fake = Dose(dt.date(2021, 3, 1), "VN-NANOCOVAX", 1, 2, "VN-HN-001", manufacturer="ORG-100030215",
                prophylaxis="1119349007")  # fmt: skip
    with pytest.raises(InputError) as info:
        payload_from_record(_record(fake), ci=CI, issuer=ISSUER, now=NOW)
    assert info.value.field == "doses[0].product"


def test_payload_from_record_booster_over_series() -> None:
    """A record with dose 3 of 2 is refused unless allow_dn_over_sd."""
    doses = (
        Dose(dt.date(2021, 3, 1), "EU/1/20/1528", 1, 2, "VN-HN-001"),
        Dose(dt.date(2021, 4, 1), "EU/1/20/1528", 2, 2, "VN-HN-001"),
        Dose(dt.date(2021, 12, 1), "EU/1/20/1528", 3, 2, "VN-HN-001"),
    )
    with pytest.raises(InputError) as info:
        payload_from_record(_record(*doses), ci=CI, issuer=ISSUER, now=NOW)
    assert info.value.field == "doses[2].dose_number"
    payload = payload_from_record(_record(*doses), ci=CI, issuer=ISSUER, now=NOW, allow_dn_over_sd=True)
    assert (payload["v"][0]["dn"], payload["v"][0]["sd"]) == (3, 2)


def test_payload_from_record_nationality_value_set() -> None:
    """A passport nationality outside the country value set is refused."""
    p = Person(Name("Smith"), "1980", IdentityDocument("passport", "123456789", "XX"))
    record = DoseRecord(p, (Dose(dt.date(2021, 3, 1), "EU/1/20/1528", 1, 2, "VN-HN-001"),))
    with pytest.raises(InputError) as info:
        payload_from_record(record, ci=CI, issuer=ISSUER, now=NOW)
    assert info.value.field == "person.identity.nationality"


def test_payload_from_record_type_check() -> None:
    """A non-record is refused."""
    with pytest.raises(InputError, match="record"):
        payload_from_record({"format": "x"}, ci=CI, issuer=ISSUER, now=NOW)  # type: ignore[arg-type]


def test_entry_from_dose_explicit_codes_win() -> None:
    """Explicit manufacturer / prophylaxis in a dose override PRODUCTS."""
    dose = Dose(dt.date(2021, 3, 1), "EU/1/21/1529", 1, 2, "VN-HN-001", prophylaxis="1119305005")
    entry = entry_from_dose(dose, ci=CI, issuer=ISSUER)
    assert (entry.vp, entry.ma) == ("1119305005", "ORG-100001699")


# --------------------------------------------------------------------------- check_issuable


def test_valid_payloads_pass() -> None:
    """The reference vaccination, test and recovery payloads pass."""
    for payload in (vaccination_payload(), naa_payload(), recovery_payload()):
        check_issuable(payload, now=NOW)


def _without(payload: dict[str, Any], *path: Any) -> dict[str, Any]:
    target = payload
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return payload


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**vaccination_payload(), "t": naa_payload()["t"]}, "t"),
        ({**vaccination_payload(), "r": recovery_payload()["r"]}, "r"),
        (_without(vaccination_payload(), "v"), "v"),
        ({**vaccination_payload(), "v": vaccination_payload()["v"] * 2}, "v[1]"),
        ({**vaccination_payload(), "v": []}, "v"),
        ({**vaccination_payload(), "v": {"dn": 1}}, "v"),
        (_without(vaccination_payload(), "nam", "fn"), "nam.fn"),
        (_without(vaccination_payload(), "nam", "fnt"), "nam.fnt"),
        (_without(vaccination_payload(), "nam", "gnt"), "nam.gnt"),
        (_without(vaccination_payload(), "nam", "gn"), "nam.gn"),
        (_without(vaccination_payload(), "nam"), "nam"),
        ({**vaccination_payload(), "nam": {"fnt": "NGUYEN"}}, "nam.fn"),
        ({**vaccination_payload(), "nam": {"gn": "An", "gnt": "AN"}}, "nam.fn"),
        ({**vaccination_payload(), "nam": {"fn": "X", "fnt": "nguyen"}}, "nam.fnt"),
        ({**vaccination_payload(), "nam": {"fn": "X", "fnt": "NGUYEN<"}}, "nam.fnt"),
        ({**vaccination_payload(), "nam": {"fn": "X", "fnt": "N" * 81}}, "nam.fnt"),
        ({**vaccination_payload(), "nam": {"fn": "X" * 81, "fnt": "X"}}, "nam.fn"),
        ({**vaccination_payload(), "nam": {"fn": "", "fnt": "X"}}, "nam.fn"),
        ({**vaccination_payload(), "nam": {"fn": "X", "fnt": "X", "mn": "Y"}}, "nam.mn"),
        ({**vaccination_payload(), "dob": "2030-01-01"}, "dob"),
        ({**vaccination_payload(), "dob": ""}, "dob"),
        ({**vaccination_payload(), "dob": "1985-02-30"}, "dob"),
        ({**vaccination_payload(), "dob": 1985}, "dob"),
        (_without(vaccination_payload(), "dob"), "dob"),
        (_without(vaccination_payload(), "ver"), "ver"),
        ({**vaccination_payload(), "ver": "7.0.0"}, "ver"),
        ({**vaccination_payload(), "ver": "1.3"}, "ver"),
        ({**vaccination_payload(), "extra": 1}, "extra"),
        (vaccination_payload(dt="2024-02-01"), "v[0].dt"),
        (vaccination_payload(dt="2019-12-31"), "v[0].dt"),
        (vaccination_payload(dt="1985-03-13"), "v[0].dt"),
        (vaccination_payload(dn=3, sd=2), "v[0].dn"),
        (vaccination_payload(dn=0), "v[0].dn"),
        (vaccination_payload(sd=0), "v[0].sd"),
        (vaccination_payload(dn="2"), "v[0].dn"),
        (vaccination_payload(mp="EU/1/99/9999"), "v[0].mp"),
        (vaccination_payload(mp="NVX-CoV2373"), "v[0].mp"),
        (vaccination_payload(ma="ORG-000"), "v[0].ma"),
        (vaccination_payload(tg="12345"), "v[0].tg"),
        (vaccination_payload(vp="J07BX03"), "v[0].vp"),
        (vaccination_payload(vp="123"), "v[0].vp"),
        (vaccination_payload(co="XX"), "v[0].co"),
        (vaccination_payload(ci="URN:UVCI:01:VN:MOH/TESTCASE42"), "v[0].ci"),
        (vaccination_payload(ci=WRONG_CI), "v[0].ci"),
        (vaccination_payload(ci="not a uvci"), "v[0].ci"),
        (vaccination_payload(lot="X1"), "v[0].lot"),
        (naa_payload(sc="2024-01-15T12:00:01Z"), "t[0].sc"),
        (naa_payload(sc="2024-01-15T19:00:01+07:00"), "t[0].sc"),
        (naa_payload(sc="2019-06-01T08:00:00Z"), "t[0].sc"),
        (naa_payload(sc="2021-09-10T08:00:00"), "t[0].sc"),
        (naa_payload(tt="LP000-0"), "t[0].tt"),
        (naa_payload(tr="260000000"), "t[0].tr"),
        (naa_payload(tt="LP217198-3"), "t[0].ma"),
        (naa_payload(tt="LP217198-3", ma="9999999"), "t[0].ma"),
        (naa_payload(dr="2021-09-11T08:00:00Z"), "t[0].dr"),
        (recovery_payload(fr="2024-02-01", df="2024-02-12", du="2024-06-01"), "r[0].fr"),
        (recovery_payload(df="2021-08-31"), "r[0].df"),
        (recovery_payload(du="2021-09-11"), "r[0].du"),
        (recovery_payload(co="VNM"), "r[0].co"),
    ],
)
def test_refusals_name_the_field(payload: dict[str, Any], field: str) -> None:
    """Every refusal names the offending field and never echoes personal data."""
    assert refused(payload).field == field


def test_dn_over_sd_opt_in() -> None:
    """allow_dn_over_sd lets a 3/2 (or 2/1) booster through."""
    check_issuable(vaccination_payload(dn=3, sd=2), now=NOW, allow_dn_over_sd=True)
    check_issuable(vaccination_payload(dn=3, sd=3), now=NOW)


def test_today_in_the_easternmost_time_zone_is_not_future() -> None:
    """A vaccination dated today in Viet Nam is accepted while it is still yesterday in UTC."""
    now = dt.datetime(2021, 9, 9, 20, 0, tzinfo=dt.UTC)  # 03:00 on the 10th in Viet Nam
    check_issuable(vaccination_payload(dt="2021-09-10"), now=now)
    assert refused(vaccination_payload(dt="2021-09-11"), now=now).field == "v[0].dt"


def test_sample_time_boundary() -> None:
    """A sample collected exactly at now is fine; one second later is refused."""
    check_issuable(naa_payload(sc="2024-01-15T12:00:00Z"), now=NOW)
    check_issuable(naa_payload(sc="2024-01-15T19:00:00+07:00"), now=NOW)


def test_year_only_birth_date() -> None:
    """With a year-only dob, a vaccination in that year is possible; dob in the future is not."""
    check_issuable({**vaccination_payload(dt="2021-01-02"), "dob": "2021"}, now=NOW)
    assert refused({**vaccination_payload(), "dob": "2025"}).field == "dob"


def test_now_must_be_aware() -> None:
    """A naive now is refused."""
    with pytest.raises(InputError) as info:
        check_issuable(vaccination_payload(), now=dt.datetime(2024, 1, 1))
    assert info.value.field == "now"


def test_payload_must_be_mapping() -> None:
    """A non-object payload is refused at the root."""
    assert refused([vaccination_payload()]).field == "$"


def test_non_nfc_strings_are_refused_and_normalised() -> None:
    """Decomposed strings or stray spaces are refused; normalize_payload fixes them."""
    payload = vaccination_payload()
    payload["nam"]["fn"] = unicodedata.normalize("NFD", FAMILY)
    assert refused(payload).field == "nam.fn"
    payload["v"][0]["is"] = " Bộ Y tế "
    payload["nam"]["gn"] = "Văn  An"
    fixed = normalize_payload(payload)
    assert fixed["nam"]["fn"] == FAMILY
    assert fixed["nam"]["gn"] == "Văn An"
    assert fixed["v"][0]["is"] == "Bộ Y tế"
    check_issuable(fixed, now=NOW)
    assert payload["nam"]["fn"] != FAMILY  # the input is not modified
    spaced = vaccination_payload()
    spaced["nam"]["gn"] = "Văn  An"
    assert refused(spaced).field == "nam.gn"
    padded = vaccination_payload()
    padded["v"][0]["is"] = "Bộ Y tế "
    assert refused(padded).field == "v[0].is"


def test_normalize_payload_refuses_non_object() -> None:
    """normalize_payload needs an object."""
    with pytest.raises(InputError):
        normalize_payload(["x"])  # type: ignore[arg-type]


def test_custom_valuesets() -> None:
    """A caller-supplied value-set lookup is used instead of the bundled one."""

    class Nothing:
        def contains(self, name: str, code: str) -> bool:
            return name != "vaccine-medicinal-product"

        def is_active(self, name: str, code: str) -> bool:
            return True

    assert refused(vaccination_payload(), valuesets=Nothing()).field == "v[0].mp"
    check_issuable(vaccination_payload(), now=NOW, valuesets=ValueSets.bundled())


def test_schema_errors_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the DCC schema still rejects is refused with the schema's field path."""
    monkeypatch.setattr(schema, "validate", lambda payload, version=None, **_: ["v[0].sd: must be at most 9"])
    # a 1.2.1 payload: the quick pass (which does the 1.3.x schemas' work itself) leaves it to the reference
    error = refused(vaccination_payload() | {"ver": "1.2.1"})
    assert error.field == "v[0].sd"
    assert "schema" in error.message


# --------------------------------------------------------------------------- properties


@given(dose_records())
def test_records_give_issuable_payloads(record: DoseRecord) -> None:
    """Every generated record yields a payload that passes the checks and the DCC schema."""
    payload = payload_from_record(record, ci=CI, issuer=ISSUER, now=NOW)
    assert schema.validate(payload) == []
    assert payload["v"][0]["dt"] == record.latest.date.isoformat()
    assert payload["dob"] == record.person.dob
    nam = payload["nam"]
    assert nam["fnt"] and set(nam["fnt"]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ<")
    assert ("gn" in nam) == (record.person.name.given is not None) == ("gnt" in nam)


@given(persons(), st.one_of(vaccination_entries(), test_entries(), recovery_entries()))
def test_built_payloads_pass(person: Person, entry: VaccinationEntry | TestEntry | RecoveryEntry) -> None:
    """build_payload of any valid person and entry passes check_issuable and round-trips the entry."""
    payload = build_payload(person, entry)
    check_issuable(payload, now=NOW)
    assert schema.validate(payload) == []
    kind = entry.KIND
    assert type(entry).from_json(payload[kind][0]) == entry
    assert [k for k in ("v", "t", "r") if k in payload] == [kind]


@given(dose_records(), st.sampled_from(["dt", "mp", "ma", "co", "ci", "dn", "tg", "vp"]))
def test_corruptions_are_refused(record: DoseRecord, key: str) -> None:
    """Corrupting one field of a valid payload is refused naming exactly that field."""
    payload = copy.deepcopy(payload_from_record(record, ci=CI, issuer=ISSUER, now=NOW))
    bad = {
        "dt": "2099-01-01", "mp": "EU/1/00/0000", "ma": "ORG-0", "co": "ZZ", "ci": WRONG_CI,
        "dn": payload["v"][0]["sd"] + 1, "tg": "000000", "vp": "0000",
    }[key]  # fmt: skip
    payload["v"][0][key] = bad
    assert refused(payload).field == f"v[0].{key}"


@given(
    st.recursive(
        st.text(max_size=6) | st.integers() | st.none(),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["nam", "fn", "gn", "x"]), c, max_size=3),
        max_leaves=12,
    )
)
def test_fast_normalisation_test_is_sound(value: object) -> None:
    """Whenever the fast whole-payload test passes, the exact per-field walk passes too."""
    from vaxcert.dcc.payload import _check_normalized, _obviously_normalized

    payload = {"nam": value} if not isinstance(value, dict) else value
    if _obviously_normalized(payload):
        _check_normalized(payload, "")


def _quick_and_full(payload: Any, now: dt.datetime = NOW, allow: bool = False) -> tuple[bool, bool]:
    """(quick pass accepts, reference checks accept) for one payload."""
    from vaxcert.dcc.payload import _bundled_valuesets, _check_issuable_fully, _quick_issuable

    vs = _bundled_valuesets()
    quick = _quick_issuable(payload, now, vs, allow)
    if quick:  # the quick pass does the schema's work too: the schema must agree
        assert schema.validate(payload) == []
    try:
        _check_issuable_fully(payload, now, vs, allow)
    except InputError:
        return quick, False
    return quick, True


def test_quick_pass_knows_its_schemas() -> None:
    """The quick pass stands in for the 1.3.x schemas as they are: a changed schema needs its review."""
    import hashlib

    from vaxcert.dcc.payload import _QUICK_VERSIONS

    pinned = {
        "1.3.0": "890233a6c2d1466a09945edfa0434ab9da885d8ec976eafb1660fb773a7d4537",
        "1.3.1": "b04ca47334583e966b227e7b89e88b68f07a5f14d28c67b8c97e3817fe890726",
        "1.3.2": "8d4ba1176efb6800a9af8e5299120a0b5cbaf26e0012f63042db938f36f03986",
    }
    root = Path(__file__).resolve().parents[1] / "schemas"
    assert set(_QUICK_VERSIONS) == set(pinned)
    for version, digest in pinned.items():
        text = (root / f"dcc-{version}.schema.json").read_bytes()
        assert hashlib.sha256(text).hexdigest() == digest, f"review _quick_issuable for schema {version}"


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every location in a payload (members and items), for mutations."""
    children = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []
    found = []
    for key, child in children:
        found.append((*path, key))
        found.extend(_leaves(child, (*path, key)))
    return found


_ODD_VALUES = [" x", "x ", "a  b", "Nguye\u0302\u0303n", "ORG-100030215", "2099-01-01", "2019-12-31", "2021-02-30",
               "2021-09-10T08:00:00", "<ABC", "ABC<", "abc", 0, -1, True, 2.0, None, "URN:UVCI:01:VN:ABC#A",
               "urn:uvci:01:vn:abc", "x\x00y", "\u0085"]  # fmt: skip
_REPLACEMENTS = (st.sampled_from(TRICKY_STRINGS) | json_values() | exotic_values() | st.text(max_size=90)
                 | st.sampled_from(_ODD_VALUES))  # fmt: skip


@given(dose_records(), st.sampled_from(["v", "t", "r"]), st.data())
def test_quick_pass_is_sound_on_mutated_payloads(record: DoseRecord, kind: str, data: st.DataObject) -> None:
    """The single-pass check accepts real payloads, and never accepts a mutation the reference refuses."""
    payload = payload_from_record(record, ci=CI, issuer=ISSUER, now=NOW)
    if kind != "v":
        payload = (naa_payload if kind == "t" else recovery_payload)() | {"nam": payload["nam"], "dob": payload["dob"]}
    quick, full = _quick_and_full(payload)
    assert full and quick
    for _ in range(data.draw(st.integers(1, 3))):
        location = data.draw(st.sampled_from(_leaves(payload)))
        node = payload
        for key in location[:-1]:
            node = node[key]
        if data.draw(st.booleans()) and isinstance(node, dict):
            del node[location[-1]]
        else:
            node[location[-1]] = data.draw(_REPLACEMENTS)
        if not _leaves(payload):
            break
    quick, full = _quick_and_full(payload, allow=data.draw(st.booleans()))
    assert full or not quick


@given(schema_payloads() | mutated_payloads())
def test_quick_pass_is_sound_on_schema_payloads(payload: dict[str, Any]) -> None:
    """On the schema tests' payloads and their mutations, whatever the quick pass accepts the reference accepts."""
    quick, full = _quick_and_full(payload, now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert full or not quick


@given(persons(), st.one_of(vaccination_entries(), test_entries(), recovery_entries()))
def test_quick_pass_takes_built_payloads(person: Person, entry: VaccinationEntry | TestEntry | RecoveryEntry) -> None:
    """Every payload build_payload makes is accepted by the quick pass (no fallback in the usual case)."""
    assert _quick_and_full(build_payload(person, entry)) == (True, True)


def test_quick_pass_remembers_only_what_it_accepted() -> None:
    """The quick pass remembers the last is/ci it accepted and the birth dates it read; a changed is or ci is
    checked again, and a refused one is never remembered."""
    from vaxcert.dcc.model import dob_earliest
    from vaxcert.dcc.payload import _bundled_valuesets, _quick_issuable, quick_dob_earliest

    sequence = [(ISSUER, CI, True), (ISSUER + " ", CI, False), (ISSUER, WRONG_CI, False), (ISSUER, WRONG_CI, False),
                ("x\x00y", CI, False), (ISSUER, CI, True)]  # fmt: skip
    for issuer, ci, expected in sequence:
        payload = vaccination_payload(**{"is": issuer, "ci": ci})
        assert _quick_and_full(payload) == (expected, expected)
    for dob in ("1990", "1990-02", "1990-02-28", "1990-02-30", "1990-13", "90-01-01", "2100"):
        for _ in range(2):  # read, then remembered
            try:
                expected_day: dt.date | None = dob_earliest(dob)
            except InputError:
                expected_day = None
            assert quick_dob_earliest(dob) == expected_day
    assert _quick_issuable(vaccination_payload() | {"dob": "1990-02-30"}, NOW, _bundled_valuesets(), False) is False
