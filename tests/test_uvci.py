"""Tests for vaxcert.dcc.uvci: UVCI generation, parsing and the Luhn mod 38 check character."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies_records import uvcis
from vaxcert.dcc import uvci
from vaxcert.errors import InputError

CANONICAL = re.compile(r"URN:UVCI:01:VN:(?:[A-Z0-9]+/)*[A-Z0-9]+#[A-Z0-9/:]")

# Check characters of the EU test certificates that our reading (Luhn mod 38 over
# A-Z 0-9 / :, prefix included) confirms: AT, DK, GR, IS and the upper-case FR ones.
CONFIRMED = [
    "URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B",
    "URN:UVCI:01:AT:71EE2559DE38C6BF7304FB65A1A451EC#3",
    "URN:UVCI:01:AT:858CC18CFCF5965EF82F60E493349AA5#K",
    "URN:UVCI:01:AT:B5921A35D6A0D696421B3E2462178297#I",
    "URN:UVCI:01:DK:0EF88044F7935DF2B4A938A38C14C97C#C",
    "URN:UVCI:01:DK:F573106A0A315AB8A7F7016329C30550#2",
    "URN:UVCI:01:GR:7UXL2ZTSS6KUZAF2XAAA3A4C4I#E",
    "URN:UVCI:01:GR:ZHYTK36RLRF5IN4GEH2DLVBTAQ#G",
    "URN:UVCI:01:IS:VERA1234#F",
    "URN:UVCI:01:IS:T123123323#7",
    "URN:UVCI:01:FR:GGD81AAH16A0#6",
    "URN:UVCI:01:FR:GGD81AAH16A4#Y",
    "URN:UVCI:01:FR:GGD81AAH16AZ#8",
    "URN:UVCI:01:FR:P4LU2647E8HN#/",
    "URN:UVCI:01:FR:Y4996KBJ4Q3Q#:",
    "urn:uvci:01:FR:ZQK0P2MPLH8B#N",
]

# Check characters that no consistent Luhn variant explains (issuer errors, or the BE / IT
# mod-36 variants): our reading must call them wrong.
REFUTED = [
    "urn:uvci:01:BG:CY2V9FAY6YGV36AL#9",
    "urn:uvci:01:FR:3NETGO04J3BI#D",
    "URN:UVCI:01DE/IZ12345A/5CWLU12RNOB9RXSEOP6FG8#W",
    "01ES01T8D8F19849772480B86DE8#C",
    "01ITA65E2BD36C9E4900B0273D2E7C92EEB9#1",
]


@pytest.mark.parametrize("text", CONFIRMED)
def test_vector_check_characters(text: str) -> None:
    """Published UVCIs of AT, DK, GR, IS and FR carry the check character we compute."""
    parsed = uvci.parse(text)
    assert parsed.checksum_ok is True
    assert uvci.is_valid(text, require_checksum=True)


@pytest.mark.parametrize("text", REFUTED)
def test_vector_check_characters_refuted(text: str) -> None:
    """UVCIs whose issuers used another (or no consistent) algorithm fail our check."""
    assert uvci.parse(text).checksum_ok is False
    assert not uvci.is_valid(text)


def test_vectors_majority_agree(vectors_dir: Path) -> None:
    """Every checksummed URN-prefixed UVCI of AT, DK, GR and IS in the vectors checks."""
    found = 0
    for path in vectors_dir.glob("[ADGI][KTRS]/2DCode/raw/*.json"):
        payload = json.loads(path.read_text(encoding="utf-8")).get("JSON")
        if not isinstance(payload, dict):
            continue
        for kind in ("v", "t", "r"):
            for entry in payload.get(kind) or []:
                ci = entry.get("ci", "")
                if ci.upper().startswith("URN:UVCI:") and "#" in ci:
                    found += 1
                    assert uvci.parse(ci).checksum_ok, path
    assert found >= 10


def test_generate_format() -> None:
    """generate() writes the canonical prefixed form with a valid check character."""
    text = uvci.generate()
    assert CANONICAL.fullmatch(text)
    assert len(text) <= 50  # fits even the older 50-character schema limit
    assert uvci.is_valid(text, require_checksum=True)
    parsed = uvci.parse(text)
    assert parsed.country == "VN"
    assert parsed.issuer == ()
    assert len(parsed.opaque) == uvci.RANDOM_LENGTH
    assert set(parsed.opaque) <= set(uvci.RANDOM_ALPHABET)


def test_generate_is_random() -> None:
    """Two generated UVCIs differ."""
    assert len({uvci.generate() for _ in range(50)}) == 50


def test_generate_with_issuer_and_unique() -> None:
    """issuer_entity and unique are placed as blocks; lower case is canonicalised."""
    text = uvci.generate("vn", "moh/hn", "abc123")
    body = "URN:UVCI:01:VN:MOH/HN/ABC123"
    assert text == f"{body}#{uvci.checksum(body)}"
    parsed = uvci.parse(text)
    assert parsed.issuer == ("MOH", "HN")
    assert parsed.opaque == "ABC123"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"country": "VNM"}, "country"),
        ({"country": "V1"}, "country"),
        ({"issuer_entity": "MOH//HN"}, "issuer_entity"),
        ({"issuer_entity": "MOH:HN"}, "issuer_entity"),
        ({"unique": "AB/CD"}, "unique"),
        ({"unique": ""}, "unique"),
        ({"unique": "A" * 70}, "unique"),
    ],
)
def test_generate_refuses_bad_parts(kwargs: dict[str, str], field: str) -> None:
    """Malformed parts or an over-long result raise InputError naming the part."""
    with pytest.raises(InputError) as info:
        uvci.generate(**kwargs)
    assert info.value.field == field


def test_parse_fields_and_case() -> None:
    """parse is case-insensitive and reports every part; str() is canonical upper case."""
    parsed = uvci.parse("urn:uvci:01:se:ehm/v100000024gi5hm")
    assert str(parsed) == "URN:UVCI:01:SE:EHM/V100000024GI5HM"
    assert (parsed.version, parsed.country, parsed.issuer, parsed.opaque) == (
        "01", "SE", ("EHM",), "V100000024GI5HM",
    )  # fmt: skip
    assert parsed.checksum is None
    assert parsed.checksum_ok is None
    assert parsed.has_prefix
    assert parsed.standard_layout


def test_parse_without_prefix() -> None:
    """The prefix is optional; the check character then covers the string as written."""
    body = "01:VN:ABC123"
    text = f"{body}#{uvci.checksum(body)}"
    parsed = uvci.parse(text)
    assert not parsed.has_prefix
    assert parsed.checksum_ok is True
    assert not uvci.is_valid("URN:UVCI:" + text)  # the prefix is covered by the check


def test_parse_lenient_layouts() -> None:
    """Separator-less layouts used in production (DE, IT) parse but are flagged."""
    de = uvci.parse("URN:UVCI:01DE/IZ12345A/5CWLU12RNOB9RXSEOP6FG8#W")
    assert (de.country, de.issuer, de.opaque) == ("DE", ("IZ12345A",), "5CWLU12RNOB9RXSEOP6FG8")
    assert not de.standard_layout
    it = uvci.parse("01IT053059F7676042D9BEE9F874C4901F9B#3")
    assert it.country == "IT"
    assert not it.standard_layout


def test_missing_checksum_and_require_checksum() -> None:
    """A UVCI without check character is valid unless a check character is required."""
    assert uvci.is_valid("URN:UVCI:01:HR:MZ0000000310")
    assert not uvci.is_valid("URN:UVCI:01:HR:MZ0000000310", require_checksum=True)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "URN:UVCI:",
        "URN:UVCI:01:VN:",
        "URN:UVCI:02:VN:ABC#A",
        "URN:UVCI:V1:FR:P50E914L54CIP5J0K4EHSCXOS:",
        "dgci:V1:FR:C51AOQW7CQMFW7WLIWVGADQY6:70",
        "01 IS/ABC4556#8",
        "URN:UVCI:01:VN:ABC#",
        "URN:UVCI:01:VN:ABC#AB",
        "URN:UVCI:01:VN:ABC//DEF",
        "URN:UVCI:01:VN:ÀBC",
        "URN:UVCI:01:VN:" + "A" * 70,
    ],
)
def test_parse_refuses_malformed(text: str) -> None:
    """Malformed identifiers raise InputError naming the field, without echoing the value."""
    with pytest.raises(InputError) as info:
        uvci.parse(text, field="v[0].ci")
    assert info.value.field == "v[0].ci"
    if len(text) > 15:
        assert text not in str(info.value)
    assert not uvci.is_valid(text)


def test_parse_refuses_non_string() -> None:
    """A non-string raises InputError; is_valid says False."""
    with pytest.raises(InputError):
        uvci.parse(None)  # type: ignore[arg-type]
    assert not uvci.is_valid(b"URN:UVCI:01:VN:A#A")  # type: ignore[arg-type]


def test_repr_hides_identifier() -> None:
    """repr of a parsed UVCI shows version and country only."""
    parsed = uvci.parse(uvci.generate(unique="SECRETID42"))
    assert "SECRETID42" not in repr(parsed)
    assert "VN" in repr(parsed)


def test_checksum_known_values() -> None:
    """Luhn mod 38 over the alphabet A-Z 0-9 / : (code points 0..37)."""
    assert uvci.checksum("A") == "A"  # code point 0 stays 0
    assert uvci.checksum("B") == uvci.ALPHABET[(38 - 2) % 38]
    assert uvci.checksum("urn:uvci:01:at:10807843f94aee0ee5093fbc254bd813") == "B"


def test_checksum_refuses_foreign_characters() -> None:
    """Characters outside the alphabet (including '#') raise InputError."""
    with pytest.raises(InputError):
        uvci.checksum("ABC#D")


BODY = st.text(uvci.ALPHABET, min_size=1, max_size=60)


@given(BODY, st.data())
def test_checksum_detects_every_substitution(body: str, data: st.DataObject) -> None:
    """Changing any single character changes the check character."""
    i = data.draw(st.integers(0, len(body) - 1))
    other = data.draw(st.sampled_from(uvci.ALPHABET).filter(lambda c: c != body[i]))
    assert uvci.checksum(body[:i] + other + body[i + 1 :]) != uvci.checksum(body)


@given(BODY.filter(lambda b: len(b) >= 2), st.data())
def test_checksum_detects_adjacent_transpositions(body: str, data: st.DataObject) -> None:
    """Swapping two different adjacent characters changes the check character, except A and ':'."""
    i = data.draw(st.integers(0, len(body) - 2))
    a, b = body[i], body[i + 1]
    swapped = body[:i] + b + a + body[i + 2 :]
    if a == b or {a, b} == {"A", ":"}:
        return
    assert uvci.checksum(swapped) != uvci.checksum(body)


def test_transposition_blind_spot() -> None:
    """The one undetected swap (code points 0 and 37) exists, and breaks a UVCI's structure."""
    assert uvci.checksum("XA:Y") == uvci.checksum("X:AY")
    good = uvci.generate("CA", unique="XYZ")
    swapped = good.replace("CA:", "C:A", 1)
    assert not uvci.is_valid(swapped)


@given(uvcis(), st.data())
def test_generated_uvci_mutations_are_invalid(text: str, data: st.DataObject) -> None:
    """Any single-character change of a generated UVCI makes it invalid."""
    i = data.draw(st.integers(0, len(text) - 1))
    other = data.draw(st.sampled_from(uvci.ALPHABET + "#").filter(lambda c: c != text[i]))
    mutated = text[:i] + other + text[i + 1 :]
    assert not uvci.is_valid(mutated, require_checksum=True)


@given(uvcis())
def test_generated_round_trip(text: str) -> None:
    """Generated UVCIs parse back to themselves and are valid, in any case."""
    parsed = uvci.parse(text.lower())
    assert str(parsed) == text
    assert uvci.is_valid(text.lower(), require_checksum=True)
    assert CANONICAL.fullmatch(text)
    assert len(text) <= uvci.MAX_LENGTH


@given(st.text(alphabet=uvci.ALPHABET, min_size=1, max_size=80))
def test_fast_addends_match_the_reference(body: str) -> None:
    """The byte-table Luhn sum (quick issuance pass, UvciMaker) equals the reference sum."""
    assert uvci._fast_addends(body.encode("ascii")[::-1]) == uvci._addends(body[::-1], doubled_first=True)


def test_maker_check_characters_hold() -> None:
    """UvciMaker's check characters are the ones checksum computes."""
    make = uvci.UvciMaker("VN", "MOH")
    for _ in range(200):
        text = make()
        assert uvci.parse(text).checksum_ok is True
