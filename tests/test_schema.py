"""Tests for vaxcert.dcc.schema: our schemas give the official schemas' verdicts, and messages stay clean."""

from __future__ import annotations

import functools
import json
import os
import re
from collections import OrderedDict
from collections.abc import Iterator
from decimal import Decimal
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategies_dcc import (
    SCHEMA_VERSIONS,
    TRICKY_STRINGS,
    exotic_values,
    mutated_payloads,
    payloads,
)
from vaxcert.dcc import schema
from vaxcert.errors import ConfigurationError

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VAXCERT_SHARED") or REPO.parent / "shared")
OFFICIAL_SCHEMAS = SHARED / "reference" / "dcc-schema"
TEST_DATA = SHARED / "dgc-testdata"

COMPARE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def official_validator(version: str) -> Any:
    """The reference: the official combined schema under Python jsonschema (its declared draft)."""
    (path,) = (OFFICIAL_SCHEMAS / version).glob("*.combined-schema.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(document)(document)


def official_valid(payload: object, version: str) -> bool:
    """Verdict of the official schema of ``version``."""
    return bool(official_validator(version).is_valid(payload))


def assert_same_verdicts(payload: object) -> None:
    """Our verdict equals the official one for every bundled version."""
    for version in schema.versions():
        ours = schema.validate(payload, version)
        assert (ours == []) == official_valid(payload, version), (version, ours)


def vector_payloads() -> Iterator[Any]:
    """Yield a pytest param for the JSON field of every test-data file that has one."""
    for path in sorted(TEST_DATA.glob("**/raw/*.json")):
        document = json.loads(path.read_text(encoding="utf-8-sig"))
        if isinstance(document, dict) and "JSON" in document:
            yield pytest.param(document["JSON"], id=str(path.relative_to(TEST_DATA)))


VECTORS = list(vector_payloads())


def base_payload(version: str = "1.3.2") -> dict[str, Any]:
    """A valid vaccination payload."""
    return {
        "ver": version,
        "nam": {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": "Văn An", "gnt": "VAN<AN"},
        "dob": "1990-01-02",
        "v": [
            {
                "tg": "840539006",
                "vp": "1119349007",
                "mp": "EU/1/20/1528",
                "ma": "ORG-100030215",
                "dn": 2,
                "sd": 2,
                "dt": "2021-08-01",
                "co": "VN",
                "is": "Ministry of Health",
                "ci": "URN:UVCI:01:VN:ABCDEF123456#X",
            }
        ],
    }


def walk_schema(node: Any) -> Iterator[Any]:
    """Yield every object and array nested in a JSON document."""
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from walk_schema(child)


def bundled_schema(version: str) -> dict[str, Any]:
    """Load one of our schema files."""
    text = (REPO / "schemas" / f"dcc-{version}.schema.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


# -- the bundle -------------------------------------------------------------------------------


def test_reference_data_present() -> None:
    """The official schemas and test vectors the comparisons rely on are where we look for them."""
    assert all((OFFICIAL_SCHEMAS / version).is_dir() for version in SCHEMA_VERSIONS)
    assert len(VECTORS) > 100


def test_versions_are_the_official_releases() -> None:
    """One bundled schema per official DCC schema release, sorted."""
    official = sorted((path.name for path in OFFICIAL_SCHEMAS.iterdir() if path.is_dir()), key=schema._version_key)
    assert schema.versions() == tuple(official) == SCHEMA_VERSIONS


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_bundled_schema_is_valid_draft_2020_12(version: str) -> None:
    """Each bundled schema is a valid Draft 2020-12 schema whose patterns Python can compile."""
    document = bundled_schema(version)
    jsonschema.Draft202012Validator.check_schema(document)
    for node in walk_schema(document):
        if isinstance(node, dict) and isinstance(node.get("pattern"), str):
            re.compile(node["pattern"])


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_bundled_schema_leaves_format_out(version: str) -> None:
    """No bundled schema uses ``format``, so no validator can assert it (the reference does not)."""
    assert not [node for node in walk_schema(bundled_schema(version)) if isinstance(node, dict) and "format" in node]


def test_validators_are_compiled_once() -> None:
    """Each version is compiled lazily, once, and then reused."""
    assert schema._compiled("1.3.2") is schema._compiled("1.3.2")


# -- same verdict as the official schemas ---------------------------------------------------------


@pytest.mark.parametrize("payload", VECTORS)
def test_vector_verdicts_match_official(payload: Any) -> None:
    """Every test-vector payload gets the official verdict under every bundled version."""
    assert_same_verdicts(payload)


def test_vectors_cover_both_verdicts() -> None:
    """The vectors include payloads valid and invalid under the official schemas."""
    verdicts = {official_valid(param.values[0], version) for param in VECTORS for version in SCHEMA_VERSIONS}
    assert verdicts == {True, False}


@COMPARE
@given(payloads())
def test_generated_payloads_match_official(payload: dict[str, Any]) -> None:
    """Well-formed generated payloads get the official verdict under every version."""
    assert_same_verdicts(payload)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_payloads())
def test_mutated_payloads_match_official(payload: dict[str, Any]) -> None:
    """Broken payloads (missing, retyped, extra, over-long, ...) get the official verdict."""
    assert_same_verdicts(payload)


@COMPARE
@given(st.lists(st.integers() | st.text(max_size=3), max_size=3) | st.text() | st.none() | st.integers())
def test_non_object_payloads_match_official(payload: object) -> None:
    """Payloads that are not objects get the official verdict (invalid)."""
    assert_same_verdicts(payload)


FIELDS = [("ver",), ("dob",), ("nam", "fnt"), ("nam", "gnt"), ("nam", "fn"), ("v", 0, "co"), ("v", 0, "is")]


def payload_with(field: tuple[str | int, ...], value: object) -> Any:
    """The base payload with the member at path ``field`` set to ``value``."""
    payload = base_payload()
    target: Any = payload
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    return payload


@pytest.mark.parametrize("field", FIELDS, ids=lambda field: ".".join(map(str, field)))
@pytest.mark.parametrize("text", TRICKY_STRINGS)
def test_tricky_strings_match_official(field: tuple[str | int, ...], text: str) -> None:
    """Strings on the edge of the official patterns (newlines, Unicode digits, ...) get its verdict."""
    assert_same_verdicts(payload_with(field, text))


@COMPARE
@given(st.sampled_from([*FIELDS, ("v", 0, "dn"), ("v", 0), ("v",), ("nam",)]), exotic_values())
def test_exotic_values_match_official(field: tuple[str | int, ...], value: object) -> None:
    """Python values outside the JSON model (tuples, Decimal, bytes, subclasses, ...) get the official verdict."""
    assert_same_verdicts(payload_with(field, value))


class Dose(IntEnum):
    """An ``int`` subclass."""

    TWO = 2


class Surname(StrEnum):
    """A ``str`` subclass."""

    NGUYEN = "NGUYEN"


HOSTILE: list[dict[Any, Any]] = [
    {1: "x", "ver": "1.3.2"},
    {**base_payload(), 7: b"bytes", "extra": {"deep": [[[[[]]]]]}},
    {**base_payload(), "nam": {"fnt": "ABC", 3: 4}},
    {**base_payload(), "v": ({},)},
    {**base_payload(), "v": [{**base_payload()["v"][0], "dn": float("nan")}]},
    {**base_payload(), "v": [{**base_payload()["v"][0], "dn": 2.0, "sd": 10**30}]},
    {**base_payload(), "v": [[1, 2]]},
    {**base_payload(), "dob": "1979-04-14\ud800"},
    {**base_payload(), "v": [{**base_payload()["v"][0], "dn": Decimal(2)}]},
    {**base_payload(), "v": [{**base_payload()["v"][0], "dn": Dose.TWO}]},
    {**base_payload(), "nam": {"fnt": Surname.NGUYEN}},
    {**base_payload(), "nam": OrderedDict(fnt="NGUYEN")},
]


@pytest.mark.parametrize(
    "payload",
    HOSTILE,
    ids=[
        "int-key",
        "foreign-extras",
        "int-key-in-name",
        "tuple-group",
        "nan",
        "floats-and-bigints",
        "nested",
        "lone-surrogate",
        "decimal-dose",
        "int-enum-dose",
        "str-enum-name",
        "ordered-dict-name",
    ],
)
def test_hostile_payloads_match_official(payload: dict[Any, Any]) -> None:
    """Hand-picked hostile payloads get the official verdict and never make validation raise."""
    assert_same_verdicts(payload)


def test_digit_class_is_python_digit() -> None:
    """Our version pattern accepts exactly the code points Python's ``\\d`` matches (BMP and beyond)."""
    ours = jsonschema_rs.validator_for(bundled_schema("1.3.2")["$defs"]["version"])
    official = official_validator("1.3.2").schema["properties"]["ver"]["pattern"]
    disagree = [
        code
        for code in range(0x110000)
        if not 0xD800 <= code <= 0xDFFF
        and ours.is_valid(f"1.{chr(code)}.0") != bool(re.search(official, f"1.{chr(code)}.0"))
    ]
    assert disagree == []


def test_digit_class_case_is_not_vacuous() -> None:
    """Python's ``\\d`` does match non-ASCII digits, so the class above matters."""
    assert official_valid({**base_payload(), "ver": "١.٣.٢"}, "1.3.2")
    assert schema.validate({**base_payload(), "ver": "١.٣.٢"}, "1.3.2") == []


# -- choosing a version ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ver", "expected"),
    [
        ("1.0.0", "1.0.0"),
        ("1.3.2", "1.3.2"),
        ("1.0.5", "1.0.1"),
        ("1.1.9", "1.1.0"),
        ("1.2.2", "1.2.1"),
        ("1.3.3", "1.3.2"),
        ("1.4.0", "1.3.2"),
        ("1.99.7", "1.3.2"),
        ("2.0.0", None),
        ("0.9.0", None),
        ("1.3", None),
        ("1.3.2.1", None),
        ("1.03.0", None),
        ("1.3.2-rc1", None),
        ("1.3.2\n", None),
        ("١.٣.٢", None),
        ("1.².0", None),
        pytest.param("1." + "1" * 5000 + ".0", None, id="5000-digit-minor"),  # past int()'s 4,300 digits
        pytest.param("1" * 5000 + ".0.0", None, id="5000-digit-major"),
        ("1.1000000000000000000.0", None),  # 19 digits: no schema version is that long
        (" 1.3.2", None),
        ("", None),
        (None, None),
        (1.3, None),
        (["1.3.2"], None),
    ],
)
def test_resolve_version(ver: object, expected: str | None) -> None:
    """Exact match, else highest patch of the minor, else newest for a newer minor of a known major."""
    assert schema.resolve_version(ver) == expected


@given(st.integers(0, 3), st.integers(0, 12), st.integers(0, 99))
def test_resolve_version_keeps_major(major: int, minor: int, patch: int) -> None:
    """A resolved version has the requested major, and the requested minor when that one is bundled."""
    resolved = schema.resolve_version(f"{major}.{minor}.{patch}")
    if major != 1:
        assert resolved is None
    else:
        assert resolved is not None
        assert resolved.startswith(f"1.{minor}.") if minor <= 3 else resolved == "1.3.2"


def test_validate_uses_the_payload_version() -> None:
    """Without an explicit version the payload's ``ver`` picks the schema (two groups: fine before 1.3)."""
    payload = base_payload("1.2.7")
    payload["r"] = [{"tg": "840539006", "fr": "2021-01-01", "co": "VN", "is": "MoH", "df": "x", "du": "y", "ci": "z"}]
    assert schema.validate(payload) == []
    assert schema.validate({**payload, "ver": "1.3.9"}) == ["$: must contain only one of v, t, r"]


@pytest.mark.parametrize("ver", ["2.0.0", "garbage", 5, None, "1.3"])
def test_unsupported_payload_version(ver: object) -> None:
    """A payload whose ``ver`` has no schema gets one message naming the problem."""
    assert schema.validate({**base_payload(), "ver": ver}) == [schema.UNSUPPORTED_VERSION]


def test_missing_version_and_non_objects() -> None:
    """A payload without ``ver``, or not an object, is reported without a schema choice."""
    payload = base_payload()
    del payload["ver"]
    assert schema.validate(payload) == ["ver: required property is missing"]
    assert schema.validate(["not", "an", "object"]) == ["$: must be of type object"]


def test_unknown_explicit_version_is_a_configuration_error() -> None:
    """Asking for a version that is not bundled raises ConfigurationError."""
    with pytest.raises(ConfigurationError, match=r"1\.9\.9"):
        schema.validate(base_payload(), "1.9.9")


# -- messages -----------------------------------------------------------------------------------


def test_messages_name_path_and_reason() -> None:
    """Messages are ``<json path>: <reason>`` with the reason taken from the schema."""
    payload = base_payload()
    payload["v"][0]["dn"] = 0
    payload["v"][0]["co"] = "vn"
    del payload["v"][0]["ci"]
    del payload["nam"]["fnt"]
    payload["dob"] = "1990-1-2"
    assert sorted(schema.validate(payload, "1.3.1")) == [
        "dob: does not match the required pattern (YYYY, YYYY-MM or YYYY-MM-DD in 1900-2099, or empty)",
        "nam.fnt: required property is missing",
        "v[0].ci: required property is missing",
        "v[0].co: does not match the required pattern (contains an upper-case letter A-Z)",
        "v[0].dn: must be at least 1",
    ]
    assert schema.validate({**payload, "nam": {"fn": "X"}}, "1.3.2")[0] == "nam: must contain at least one of fnt, gnt"


def test_format_is_not_asserted() -> None:
    """Dates that only ``format`` would reject pass, in every version, like the reference."""
    payload = base_payload()
    payload["v"][0]["dt"] = "not a date"
    assert_same_verdicts(payload)
    assert all(schema.validate(payload, version) == [] for version in ("1.3.0", "1.3.1", "1.3.2"))


def test_many_broken_entries_give_bounded_messages() -> None:
    """Thousands of broken entries are judged in full but explained from the first 20 only."""
    payload = {**base_payload("1.2.1"), "v": [{}] * 50_000}
    assert_same_verdicts(payload)
    messages = schema.validate(payload)
    assert len(messages) == 20 * 10
    assert messages[-1] == "v[19].ci: required property is missing"


def test_problem_beyond_the_explained_items_is_still_reported() -> None:
    """A payload broken only after the first 20 entries is invalid, with a message saying where."""
    payload = base_payload("1.2.1")
    payload["v"] = payload["v"] * 25 + [{}]
    assert_same_verdicts(payload)
    assert schema.validate(payload) == ["$: an array item after the first 20 is invalid"]


SENTINEL_TEXT = "SeNtInEl"
SENTINEL_NUMBER = 987654321


def _plant_sentinels(node: Any) -> Any:
    """Replace every string and integer value (not keys) with a recognisable sentinel."""
    if isinstance(node, dict):
        return {key: _plant_sentinels(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plant_sentinels(value) for value in node]
    if isinstance(node, str):
        return SENTINEL_TEXT + node
    if isinstance(node, int) and not isinstance(node, bool):
        return SENTINEL_NUMBER
    return node


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_payloads(), st.sampled_from(SCHEMA_VERSIONS))
def test_messages_never_contain_values(payload: dict[str, Any], version: str) -> None:
    """No message quotes a value from the payload (names and birth dates must not reach logs)."""
    planted = _plant_sentinels(payload)
    messages = schema.validate(planted, version) + schema.validate(planted)
    assert messages
    assert not [m for m in messages if SENTINEL_TEXT in m or str(SENTINEL_NUMBER) in m]


@COMPARE
@given(mutated_payloads())
def test_messages_are_path_colon_reason(payload: dict[str, Any]) -> None:
    """Every message starts with a JSON path built from schema names, then ``": "`` and a reason."""
    shape = re.compile(r"(\$|[a-z]+(\[\d+\])?(\.[a-z]+)?): [a-z].*")
    for version in SCHEMA_VERSIONS:
        assert all(shape.fullmatch(message) for message in schema.validate(payload, version))


# -- refusing schemas the projection cannot handle ------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        {"type": "object", "additionalProperties": False},
        {"type": "object", "properties": {"a": {"format": "date"}}},
        {"type": ["string", "null"]},
        {"pattern": "^a$"},
        {"$defs": {"n": {"type": "object", "properties": {"c": {"$ref": "#/$defs/n"}}}}, "$ref": "#/$defs/n"},
        {"$ref": "https://example.org/other.json"},
    ],
    ids=["additionalProperties", "format", "null-type", "untyped-pattern", "recursive-ref", "remote-ref"],
)
def test_unsupported_schema_constructs_are_refused(document: dict[str, Any]) -> None:
    """Schemas using constructs the payload projection does not understand are refused up front."""
    with pytest.raises(ConfigurationError):
        schema._shape_of(document, document, ())
