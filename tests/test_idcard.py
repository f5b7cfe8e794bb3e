"""The citizen ID card (CCCD) QR code and the identity check against a certificate holder (vaxcert.idcard)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaxcert.errors import InputError
from vaxcert.events import Holder, PartialDate
from vaxcert.idcard import CitizenCard, Match, looks_like_cccd, match_identity, parse_cccd

CARD = "001090012345|123456789|Nguyễn Văn An|15051990|Nam|Số 1 Phố Huế, Hai Bà Trưng, Hà Nội|20062021"
HOLDER = Holder(family="Nguyễn", given="Văn An", birth_date=PartialDate(1990, 5, 15),
                family_std="NGUYEN", given_std="VAN<AN")


def card(name: str = "Nguyễn Văn An", dob: str = "15051990") -> CitizenCard:
    """A parsed card with this name and birth date."""
    return parse_cccd(f"001090012345||{name}|{dob}|Nam|Hà Nội|20062021")


def test_parse_keeps_only_name_and_birth_date() -> None:
    """Name and birth date are read; ID numbers, sex and address are not kept."""
    parsed = parse_cccd(CARD)
    assert parsed.name == "Nguyễn Văn An"
    assert parsed.birth_date == PartialDate(1990, 5, 15)
    assert parsed.to_dict() == {"name": "Nguyễn Văn An", "birth_date": "1990-05-15"}
    assert set(CitizenCard.__slots__) == {"name", "birth_date"}
    assert "Nguy" not in repr(parsed) and "1990" not in repr(parsed)


def test_parse_accepts_newer_cards_and_spacing() -> None:
    """Extra trailing fields, an empty old ID, surrounding blanks and doubled spaces are accepted."""
    parsed = parse_cccd("  001090012345| | NGUYỄN  VĂN   AN |15051990|Nam|x|20062021|extra|more\r\n")
    assert parsed.name == "NGUYỄN VĂN AN"
    assert parsed.birth_date == PartialDate(1990, 5, 15)


@pytest.mark.parametrize(
    ("dob", "expected"),
    [("00001990", PartialDate(1990)), ("00051990", PartialDate(1990, 5)), ("", None), ("00000000", None)],
)
def test_parse_partial_birth_dates(dob: str, expected: PartialDate | None) -> None:
    """00 for an unknown day or month gives a partial date; none at all gives None."""
    assert card(dob=dob).birth_date == expected


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("001090012345|123456789|Nguyễn Văn An|15051990|Nam|Hà Nội", "cccd"),
        ("00109001234|123456789|Nguyễn Văn An|15051990|Nam|Hà Nội|20062021", "cccd.id_number"),
        ("001090012345|12345|Nguyễn Văn An|15051990|Nam|Hà Nội|20062021", "cccd.old_id_number"),
        ("001090012345||   |15051990|Nam|Hà Nội|20062021", "cccd.name"),
        ("001090012345||Nguyễn Văn An|1990-05-15|Nam|Hà Nội|20062021", "cccd.birth_date"),
        ("001090012345||Nguyễn Văn An|31021990|Nam|Hà Nội|20062021", "cccd.birth_date"),
        ("001090012345||Nguyễn Văn An|15001990|Nam|Hà Nội|20062021", "cccd.birth_date"),
        ("001090012345||Nguyễn Văn An|15131990|Nam|Hà Nội|20062021", "cccd.birth_date"),
        ("001090012345||" + "A" * 3000 + "|15051990|Nam|Hà Nội|20062021", "cccd"),
    ],
)
def test_parse_errors_name_the_field_without_echoing(text: str, field: str) -> None:
    """Malformed card texts raise InputError naming the field; the message holds no value from the text."""
    with pytest.raises(InputError) as info:
        parse_cccd(text)
    assert info.value.field == field
    for value in ("Nguy", "1990", "123456789", "Hà Nội", "AAAA"):
        assert value not in str(info.value)


def test_looks_like_cccd() -> None:
    """Recognition needs a 12-digit first field and seven fields; HC1 texts and URLs are not cards."""
    assert looks_like_cccd(CARD)
    assert not looks_like_cccd("HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N")
    assert not looks_like_cccd("https://example.org/|a|b|c|d|e|f")
    assert not looks_like_cccd("1234|||||")
    assert not looks_like_cccd("1" * 12 + "|" * 3000)


@pytest.mark.parametrize(
    "name",
    ["Nguyễn Văn An", "NGUYỄN VĂN AN", "nguyen van an", "NGUYEN  VAN-AN", "Văn An Nguyễn",
     unicodedata.normalize("NFD", "Nguyễn Văn An")],
)
def test_names_match_across_accents_case_spacing_and_order(name: str) -> None:
    """Accents, case, spacing, hyphens, decomposed input and given-first order still match."""
    check = match_identity(card(name=name), HOLDER)
    assert check.name is Match.MATCH
    assert check.result is Match.MATCH
    assert check.birth_date_precision == "day"


def test_standardised_names_used_when_printed_names_are_missing() -> None:
    """A holder known only by its ICAO forms (fnt/gnt) is compared on them."""
    holder = Holder(family=None, given=None, birth_date=PartialDate(1990, 5, 15), family_std="NGUYEN",
                    given_std="VAN<AN")
    assert match_identity(card(), holder).result is Match.MATCH


def test_d_with_stroke_and_horn_letters() -> None:
    """Đ, Ơ and Ư transliterate the ICAO way (D, O, U)."""
    holder = Holder(family="Đặng", given="Thị Ngọc Hân", birth_date=PartialDate(2001, 2, 3))
    assert match_identity(card(name="DANG THI NGOC HAN", dob="03022001"), holder).result is Match.MATCH
    holder = Holder(family="Trương", given="Thị Lợi", birth_date=PartialDate(2001, 2, 3))
    assert match_identity(card(name="TRUONG THI LOI", dob="03022001"), holder).result is Match.MATCH


@pytest.mark.parametrize(
    ("name", "dob", "expected_name", "expected_dob"),
    [
        ("Nguyễn Văn Anh", "15051990", Match.MISMATCH, Match.MATCH),
        ("Nguyễn Văn", "15051990", Match.MISMATCH, Match.MATCH),
        ("Nguyễn Văn An", "16051990", Match.MATCH, Match.MISMATCH),
        ("Nguyễn Văn An", "15051991", Match.MATCH, Match.MISMATCH),
        ("Trần Thị Bình", "01011980", Match.MISMATCH, Match.MISMATCH),
    ],
)
def test_mismatches(name: str, dob: str, expected_name: Match, expected_dob: Match) -> None:
    """A different name or birth date makes the whole check MISMATCH."""
    check = match_identity(card(name=name, dob=dob), HOLDER)
    assert (check.name, check.birth_date) == (expected_name, expected_dob)
    assert check.result is Match.MISMATCH


@pytest.mark.parametrize(
    ("holder_dob", "card_dob", "expected", "precision"),
    [
        (PartialDate(1990), "15051990", Match.MATCH, "year"),
        (PartialDate(1990, 5), "15051990", Match.MATCH, "month"),
        (PartialDate(1990, 6), "15051990", Match.MISMATCH, None),
        (PartialDate(1991), "15051990", Match.MISMATCH, None),
        (PartialDate(1990, 5, 15), "00001990", Match.MATCH, "year"),
        (PartialDate(1990, 5, 15), "00051990", Match.MATCH, "month"),
        (PartialDate(1990, 5, 15), "00061990", Match.MISMATCH, None),
    ],
)
def test_partial_birth_dates(holder_dob: PartialDate, card_dob: str, expected: Match, precision: str | None) -> None:
    """Year-only and year-month dates (on either side) are compared on the parts both know."""
    holder = Holder(family="Nguyễn", given="Văn An", birth_date=holder_dob)
    check = match_identity(card(dob=card_dob), holder)
    assert check.birth_date is expected
    assert check.birth_date_precision == precision
    assert check.result is expected


@pytest.mark.parametrize(
    ("holder", "card_name", "card_dob", "name", "dob"),
    [
        (Holder(family="Nguyễn", given="Văn An", birth_date=None), "Nguyễn Văn An", "15051990",
         Match.MATCH, Match.NOT_COMPARABLE),
        (HOLDER, "Nguyễn Văn An", "", Match.MATCH, Match.NOT_COMPARABLE),
        (Holder(family=None, given=None, birth_date=PartialDate(1990, 5, 15)), "Nguyễn Văn An", "15051990",
         Match.NOT_COMPARABLE, Match.MATCH),
        (HOLDER, "张伟", "15051990", Match.NOT_COMPARABLE, Match.MATCH),
    ],
)
def test_not_comparable(holder: Holder, card_name: str, card_dob: str, name: Match, dob: Match) -> None:
    """A missing part, or a name with no transliteration, is NOT_COMPARABLE, not a mismatch."""
    check = match_identity(card(name=card_name, dob=card_dob), holder)
    assert (check.name, check.birth_date) == (name, dob)
    assert check.result is Match.NOT_COMPARABLE
    assert check.to_dict()["result"] == "not_comparable"


def test_a_mismatch_wins_over_not_comparable() -> None:
    """One part differing is a mismatch even when the other part cannot be compared."""
    holder = Holder(family="Nguyễn", given="Văn An", birth_date=None)
    assert match_identity(card(name="Lê Thị Hoa"), holder).result is Match.MISMATCH


def test_check_repr_and_dict_hold_no_personal_data() -> None:
    """The check's repr and dict say only match / mismatch / not comparable and the precision."""
    check = match_identity(card(), HOLDER)
    assert repr(check) == "IdentityCheck(result=match)"
    assert check.to_dict() == {"result": "match", "name": "match", "birth_date": "match",
                               "birth_date_precision": "day"}


@given(st.text(max_size=300))
def test_parse_never_fails_other_than_input_error(text: str) -> None:
    """Any text either parses or raises InputError; looks_like_cccd never raises."""
    looks_like_cccd(text)
    try:
        parse_cccd(text)
    except InputError:
        pass


@given(st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặ ", min_size=1, max_size=40).filter(str.strip))
def test_a_name_always_matches_its_upper_case_form(name: str) -> None:
    """Any Vietnamese-letter name matches its own upper-case spelling."""
    holder = Holder(family=name.upper(), given=None, birth_date=PartialDate(1990, 5, 15))
    assert match_identity(card(name=name, dob="15051990"), holder).result is Match.MATCH
