"""Tests for vaxcert.dcc.valuesets: the bundled snapshot, loading and saving, and payload checks."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategies_dcc import lab_test_entries, mutated_payloads, payloads, recovery_entries, vaccination_entries
from vaxcert.dcc.valuesets import VALUE_SET_NAMES, ValueSets, check_payload
from vaxcert.errors import ConfigurationError

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VAXCERT_SHARED") or REPO.parent / "shared")
OFFICIAL = SHARED / "reference" / "valuesets"
SNAPSHOT = REPO / "src" / "vaxcert" / "data" / "valuesets.json"

# Official valueSetId of each set, as published.
OFFICIAL_IDS = {
    "country-2-codes": "country-2-codes",
    "disease-agent-targeted": "disease-agent-targeted",
    "test-manf": "covid-19-lab-test-manufacturer-and-name",
    "test-result": "covid-19-lab-result",
    "test-type": "covid-19-lab-test-type",
    "vaccine-mah-manf": "vaccines-covid-19-auth-holders",
    "vaccine-medicinal-product": "vaccines-covid-19-names",
    "vaccine-prophylaxis": "sct-vaccines-covid-19",
}

VS = ValueSets.bundled()


def official_document(name: str) -> dict[str, Any]:
    """Read one official value-set file, straight from the reference directory."""
    document: dict[str, Any] = json.loads((OFFICIAL / f"{name}.json").read_text(encoding="utf-8"))
    return document


def write_snapshot(path: Path, document: object) -> Path:
    """Write a JSON document and return its path."""
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# -- the bundled snapshot ---------------------------------------------------------------------


def test_bundled_has_the_standard_sets() -> None:
    """The bundled snapshot holds exactly the eight value sets vaxcert checks against."""
    assert VS.names() == VALUE_SET_NAMES


@pytest.mark.parametrize("name", VALUE_SET_NAMES)
def test_bundled_equals_official(name: str) -> None:
    """Each bundled set has the official codes, displays, activity flags and date."""
    document = official_document(name)
    values = document["valueSetValues"]
    assert VS.codes(name) == frozenset(values)
    assert {code: VS.display(name, code) for code in values} == {
        code: entry["display"] for code, entry in values.items()
    }
    assert {code for code in values if not VS.is_active(name, code)} == {
        code for code, entry in values.items() if not entry["active"]
    }
    assert VS.snapshot_date(name) == document["valueSetDate"]
    assert document["valueSetId"] == OFFICIAL_IDS[name]


def test_bundled_equals_loading_the_official_directory() -> None:
    """Loading the official directory gives the same value sets as the bundled snapshot."""
    assert ValueSets.load(OFFICIAL) == VS


def update_script() -> Any:
    """scripts/update_valuesets.py, loaded as a module."""
    spec = importlib.util.spec_from_file_location("update_valuesets", REPO / "scripts" / "update_valuesets.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_bundled_snapshot_is_what_the_script_generates(tmp_path: Path) -> None:
    """scripts/update_valuesets.py regenerates the committed snapshot byte for byte."""
    script = update_script()
    out = tmp_path / "valuesets.json"
    assert script.main([str(OFFICIAL), str(out)]) == 0
    assert out.read_bytes() == SNAPSHOT.read_bytes()


def test_update_script_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The update script fails with a message, writing nothing, when the source lacks a set."""
    script = update_script()
    out = tmp_path / "out.json"
    assert script.main([str(tmp_path), str(out)]) == 1
    assert "missing value sets" in capsys.readouterr().err
    assert not out.exists()


def test_bundled_is_cached() -> None:
    """ValueSets.bundled() parses the snapshot once."""
    assert ValueSets.bundled() is ValueSets.bundled()


@pytest.mark.parametrize(
    ("code", "display"),
    [
        ("EU/1/20/1528", "Comirnaty"),
        ("EU/1/21/1529", "Vaxzevria"),
        ("Covishield", "Covishield"),
        ("Sputnik-V", "Sputnik-V"),
        ("BBIBP-CorV", "BBIBP-CorV"),
        ("CoronaVac", "CoronaVac"),
        ("Covaxin", "Covaxin"),
        ("Hayat-Vax", "Hayat-Vax"),
        ("Abdala", "Abdala"),
    ],
)
def test_vaccines_used_in_viet_nam_are_official_codes(code: str, display: str) -> None:
    """Vaccines administered in Viet Nam are in the official product set (nothing invented)."""
    assert VS.is_active("vaccine-medicinal-product", code)
    assert VS.display("vaccine-medicinal-product", code) == display


def test_queries() -> None:
    """contains / display / is_active distinguish active, deprecated and unknown codes."""
    assert VS.contains("country-2-codes", "VN") and VS.display("country-2-codes", "VN") == "Viet Nam"
    assert VS.contains("vaccine-medicinal-product", "NVX-CoV2373")
    assert not VS.is_active("vaccine-medicinal-product", "NVX-CoV2373")
    assert not VS.contains("vaccine-medicinal-product", "comirnaty")
    assert VS.display("vaccine-medicinal-product", "nope") is None
    assert not VS.is_active("vaccine-medicinal-product", "nope")


def test_unknown_set_name_is_a_key_error() -> None:
    """Asking about a set that is not loaded raises KeyError rather than answering."""
    with pytest.raises(KeyError):
        VS.contains("vaccine-colour", "red")


def test_value_sets_are_immutable() -> None:
    """Attributes cannot be set or deleted, and codes come back as frozensets."""
    with pytest.raises(AttributeError):
        VS._sets = {}
    with pytest.raises(AttributeError):
        del VS._sets
    assert isinstance(VS.codes("test-type"), frozenset)
    assert "ValueSets(" in repr(VS)


# -- loading and saving ----------------------------------------------------------------------


def test_save_load_round_trip(tmp_path: Path) -> None:
    """save() writes a snapshot that load() reads back equal, readable by others."""
    path = tmp_path / "sub" / "snapshot.json"
    VS.save(path)
    assert ValueSets.load(path) == VS
    assert path.stat().st_mode & 0o644 == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["snapshot.json"]


codes_st = st.text(st.characters(codec="utf-8"), min_size=1, max_size=8)


@st.composite
def snapshots(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a snapshot document holding the standard sets (plus perhaps one more)."""
    names = list(VALUE_SET_NAMES) + draw(st.lists(st.sampled_from(["extra-set"]), max_size=1))
    sets: dict[str, Any] = {}
    for name in names:
        values = draw(st.dictionaries(codes_st, st.text(max_size=12), max_size=4))
        inactive = draw(st.lists(st.sampled_from(sorted(values)), unique=True)) if values else []
        date = draw(st.none() | st.dates().map(str))
        sets[name] = {"valueSetId": f"id-{name}", "valueSetDate": date, "values": values, "inactive": inactive}
    return {"format": "vaxcert-valuesets/1", "sets": sets}


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(snapshots())
def test_generated_snapshots_round_trip(tmp_path: Path, document: dict[str, Any]) -> None:
    """Any well-formed snapshot loads, answers queries from its data, and survives save/load."""
    loaded = ValueSets.load(write_snapshot(tmp_path / "in.json", document))
    for name, entry in document["sets"].items():
        assert loaded.codes(name) == frozenset(entry["values"])
        assert all(loaded.display(name, code) == text for code, text in entry["values"].items())
        assert {code for code in entry["values"] if not loaded.is_active(name, code)} == set(entry["inactive"])
        assert loaded.snapshot_date(name) == entry["valueSetDate"]
    loaded.save(tmp_path / "out.json")
    assert ValueSets.load(tmp_path / "out.json") == loaded


def test_load_official_files_named_by_id(tmp_path: Path) -> None:
    """Official files are recognised by valueSetId, whatever they are called (gateway downloads)."""
    for name, set_id in OFFICIAL_IDS.items():
        shutil.copy(OFFICIAL / f"{name}.json", tmp_path / f"{set_id}.json")
    assert ValueSets.load(tmp_path) == VS


def test_load_keeps_extra_sets(tmp_path: Path) -> None:
    """An extra official file in the directory becomes an extra set, named after the file."""
    for name in VALUE_SET_NAMES:
        shutil.copy(OFFICIAL / f"{name}.json", tmp_path)
    extra = {"valueSetId": "local-x", "valueSetDate": "2024-01-01", "valueSetValues": {"A": {"display": "a"}}}
    write_snapshot(tmp_path / "local-extra.json", extra)
    loaded = ValueSets.load(tmp_path)
    assert loaded.names() == tuple(sorted((*VALUE_SET_NAMES, "local-extra")))
    assert loaded.is_active("local-extra", "A")


def test_load_reports_missing_sets(tmp_path: Path) -> None:
    """A directory lacking standard sets is refused, naming them."""
    shutil.copy(OFFICIAL / "test-type.json", tmp_path)
    with pytest.raises(ConfigurationError, match="missing value sets: country-2-codes, disease-agent-targeted"):
        ValueSets.load(tmp_path)


def test_load_refuses_duplicate_sets(tmp_path: Path) -> None:
    """Two files carrying the same set are refused."""
    for name in VALUE_SET_NAMES:
        shutil.copy(OFFICIAL / f"{name}.json", tmp_path)
    shutil.copy(OFFICIAL / "test-type.json", tmp_path / "copy-of-test-type.json")
    with pytest.raises(ConfigurationError, match="given twice"):
        ValueSets.load(tmp_path)


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"format": "something-else", "sets": {}},
        {"format": "vaxcert-valuesets/1", "sets": []},
        {"format": "vaxcert-valuesets/1", "sets": {"x": {"values": {}}}},
        {"format": "vaxcert-valuesets/1", "sets": {"x": {"valueSetId": "x", "values": {"A": 1}}}},
        {"format": "vaxcert-valuesets/1", "sets": {"x": {"valueSetId": "x", "values": {}, "inactive": ["B"]}}},
        {"format": "vaxcert-valuesets/1", "sets": {"x": {"valueSetId": "x", "values": {}, "valueSetDate": 3}}},
        {"format": "vaxcert-valuesets/1", "sets": {}},
    ],
    ids=[
        "not-object",
        "wrong-format",
        "sets-not-object",
        "no-id",
        "display-not-text",
        "bad-inactive",
        "bad-date",
        "empty",
    ],
)
def test_load_refuses_malformed_snapshots(tmp_path: Path, document: object) -> None:
    """Malformed snapshots raise ConfigurationError."""
    with pytest.raises(ConfigurationError):
        ValueSets.load(write_snapshot(tmp_path / "bad.json", document))


@pytest.mark.parametrize(
    "document",
    [
        {"valueSetValues": {}},
        {"valueSetId": "test-type", "valueSetValues": []},
        {"valueSetId": "test-type", "valueSetValues": {"A": {"active": True}}},
        {"valueSetId": "test-type", "valueSetValues": {"A": {"display": "a", "active": "yes"}}},
    ],
    ids=["no-id", "values-not-object", "no-display", "active-not-boolean"],
)
def test_load_refuses_malformed_official_files(tmp_path: Path, document: object) -> None:
    """Malformed official files raise ConfigurationError."""
    write_snapshot(tmp_path / "broken.json", document)
    with pytest.raises(ConfigurationError, match=r"broken\.json"):
        ValueSets.load(tmp_path)


def test_load_refuses_unreadable_input(tmp_path: Path) -> None:
    """Missing paths and files that are not JSON raise ConfigurationError."""
    with pytest.raises(ConfigurationError, match="not found"):
        ValueSets.load(tmp_path / "missing.json")
    (tmp_path / "garbage.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not readable JSON"):
        ValueSets.load(tmp_path / "garbage.json")


# -- checking payloads ------------------------------------------------------------------------


@settings(max_examples=200)
@given(payloads())
def test_payloads_with_official_codes_pass(payload: dict[str, Any]) -> None:
    """Payloads coded from the value sets have no value-set problems."""
    assert check_payload(payload) == []


CODED = [
    ("v", vaccination_entries, "tg", "disease-agent-targeted"),
    ("v", vaccination_entries, "vp", "vaccine-prophylaxis"),
    ("v", vaccination_entries, "mp", "vaccine-medicinal-product"),
    ("v", vaccination_entries, "ma", "vaccine-mah-manf"),
    ("v", vaccination_entries, "co", "country-2-codes"),
    ("t", lab_test_entries, "tg", "disease-agent-targeted"),
    ("t", lab_test_entries, "tt", "test-type"),
    ("t", lab_test_entries, "ma", "test-manf"),
    ("t", lab_test_entries, "tr", "test-result"),
    ("t", lab_test_entries, "co", "country-2-codes"),
    ("r", recovery_entries, "tg", "disease-agent-targeted"),
    ("r", recovery_entries, "co", "country-2-codes"),
]


@pytest.mark.parametrize(("group", "entries", "field", "name"), CODED, ids=[f"{g}.{f}" for g, _, f, _ in CODED])
@settings(max_examples=25)
@given(data=st.data())
def test_unknown_code_is_reported_at_its_path(
    group: str, entries: Any, field: str, name: str, data: st.DataObject
) -> None:
    """A code outside its set is reported once, at its path, naming the set but not the code."""
    entry = data.draw(entries())
    unknown = data.draw(st.text(max_size=20).map(lambda text: f"Xq{text}"))
    assert not VS.contains(name, unknown)
    other = data.draw(entries())
    payload = {"ver": "1.3.2", group: [other, {**entry, field: unknown}]}
    problems = check_payload(payload)
    assert [path for path, _ in problems] == [f"{group}[1].{field}"]
    assert problems[0][1].endswith(f"({name})") and unknown not in problems[0][1]


def test_message_names_the_set() -> None:
    """The message for an unknown vaccine product reads as documented."""
    payload = {"v": [{"mp": "Made-Up-Vax"}]}
    assert check_payload(payload) == [("v[0].mp", "unknown vaccine product (vaccine-medicinal-product)")]


def test_deprecated_codes_are_accepted() -> None:
    """Deprecated codes are still members: certificates issued with them stay well-formed."""
    assert check_payload({"v": [{"mp": "NVX-CoV2373", "vp": "J07BX03"}]}) == []


def test_structure_problems_are_left_to_the_schema() -> None:
    """Non-object entries, non-list groups and non-string codes are skipped, not reported twice."""
    payload: dict[str, Any] = {"v": [None, "x", {"mp": 7, "co": None}], "t": {"tt": "nope"}, "r": "nope"}
    assert check_payload(payload) == []
    assert check_payload(["not", "a", "mapping"]) == []  # type: ignore[arg-type]


def test_custom_value_sets_are_used(tmp_path: Path) -> None:
    """check_payload uses the value sets it is given instead of the bundled ones."""
    document = VS._snapshot()
    document["sets"]["vaccine-medicinal-product"]["values"]["Local-Vax"] = "Local vaccine"
    custom = ValueSets.load(write_snapshot(tmp_path / "custom.json", document))
    payload = {"v": [{"mp": "Local-Vax"}]}
    assert check_payload(payload, custom) == []
    assert check_payload(payload) != []


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_payloads())
def test_check_payload_never_raises(payload: dict[str, Any]) -> None:
    """Broken payloads never make check_payload raise; every problem names a coded field."""
    for path, message in check_payload(payload):
        assert path.split(".")[-1] in {"tg", "vp", "mp", "ma", "co", "tt", "tr"}
        assert message.startswith("unknown ")
