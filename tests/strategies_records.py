"""Hypothesis strategies for vaxcert records (import these; do not redefine them elsewhere).

Main entry points: :func:`vn_names` (``Name`` values with Vietnamese diacritics),
:func:`persons`, :func:`vaccination_entries`, :func:`test_entries`, :func:`recovery_entries`,
:func:`doses_for` and :func:`dose_records`.  Every value they produce is valid for issuance at
:data:`NOW` (dates lie between 2021-01-01 and 2023-12-31; :data:`NOW` is later), with codes
from the bundled EU value sets.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from hypothesis import strategies as st

from vaxcert.dcc import uvci
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
from vaxcert.dcc.payload import PRODUCTS

__all__ = [
    "ISSUER",
    "NOW",
    "cccd_numbers",
    "dobs",
    "dose_records",
    "doses_for",
    "facility_ids",
    "identity_documents",
    "persons",
    "recovery_entries",
    "test_entries",
    "uvcis",
    "vaccination_entries",
    "vn_family_names",
    "vn_given_names",
    "vn_name_strings",
    "vn_names",
    "vn_syllables",
]

NOW = dt.datetime(2024, 1, 15, 12, 0, tzinfo=dt.UTC)
"""A clock reading later than every date the strategies produce."""

ISSUER = "Bộ Y tế (Ministry of Health of Viet Nam)"

FIRST_EVENT = dt.date(2021, 1, 1)
LAST_EVENT = dt.date(2023, 12, 31)

VN_FAMILY = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý", "Trương", "Đinh", "Lương", "Tạ",
)  # fmt: skip
VN_MIDDLE = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Xuân", "Thuỳ", "Bảo")
VN_GIVEN = (
    "An", "Bình", "Cường", "Dũng", "Hương", "Hà", "Lan", "Phương", "Quân", "Thảo", "Tuấn", "Ánh",
    "Đạt", "Yến", "Khoa", "Nhung", "Hải", "Trâm", "Tùng", "Ngân", "Ưng", "Ơn", "Vỹ", "Khuê",
)  # fmt: skip

_ONSETS = (
    "", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh",
    "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x",
)  # fmt: skip
_VOWELS = ("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ươ", "uô", "iê", "oa")
_TONES = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
_CODAS = ("", "c", "ch", "m", "n", "ng", "nh", "p", "t", "i", "o", "u", "y")

# (province code, ...) a few real province codes of citizen identity numbers.
_PROVINCES = ("001", "031", "048", "079", "092", "096", "038", "040")
_NATIONALITIES = ("FR", "DE", "US", "JP", "KR", "GB", "AU", "CN", "TH", "LA", "KH")


@st.composite
def vn_syllables(draw: st.DrawFn) -> str:
    """A capitalised Vietnamese-like syllable with a random tone mark (NFC)."""
    onset = draw(st.sampled_from(_ONSETS))
    vowel = draw(st.sampled_from(_VOWELS))
    tone = draw(st.sampled_from(_TONES))
    coda = draw(st.sampled_from(_CODAS))
    syllable = unicodedata.normalize("NFC", onset + vowel[0] + tone + vowel[1:] + coda)
    return syllable[0].upper() + syllable[1:]


def vn_family_names() -> st.SearchStrategy[str]:
    """Vietnamese family names (common ones and generated syllables)."""
    return st.one_of(st.sampled_from(VN_FAMILY), vn_syllables())


def vn_given_names() -> st.SearchStrategy[str]:
    """Vietnamese middle + given names: one to three words."""
    word = st.one_of(st.sampled_from(VN_MIDDLE), st.sampled_from(VN_GIVEN), vn_syllables())
    return st.lists(word, min_size=1, max_size=3).map(" ".join)


def vn_name_strings() -> st.SearchStrategy[str]:
    """Full Vietnamese names as one string ("Nguyễn Thị Hương")."""
    return st.tuples(vn_family_names(), vn_given_names()).map(" ".join)


def vn_names(*, with_given: bool | None = None) -> st.SearchStrategy[Name]:
    """:class:`Name` values with Vietnamese diacritics; ``with_given`` forces a given name or none."""
    given: st.SearchStrategy[str | None]
    if with_given is True:
        given = vn_given_names()
    elif with_given is False:
        given = st.none()
    else:
        given = st.one_of(st.none(), vn_given_names())
    return st.builds(Name, family=vn_family_names(), given=given)


def dobs(*, latest_year: int = 2015) -> st.SearchStrategy[str]:
    """Birth dates as the DCC carries them: YYYY-MM-DD, YYYY-MM or YYYY."""
    day = st.dates(dt.date(1920, 1, 1), dt.date(latest_year, 12, 31))
    return st.tuples(day, st.sampled_from((10, 7, 4))).map(lambda t: t[0].isoformat()[: t[1]])


@st.composite
def cccd_numbers(draw: st.DrawFn, year: int) -> str:
    """A 12-digit citizen identity number consistent with birth ``year``."""
    province = draw(st.sampled_from(_PROVINCES))
    sex = draw(st.integers(0, 1))
    century = (year - 1900) // 100 * 2 + sex
    rest = draw(st.integers(0, 999_999))  # cheaper to draw than six characters of text
    return f"{province}{century}{year % 100:02d}{rest:06d}"


@st.composite
def identity_documents(draw: st.DrawFn, year: int) -> IdentityDocument:
    """A citizen identity number for ``year`` or a foreign passport."""
    if draw(st.booleans()):
        return IdentityDocument("cccd", draw(cccd_numbers(year)))
    number = draw(st.text("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", min_size=8, max_size=9))
    return IdentityDocument("passport", number, draw(st.sampled_from(_NATIONALITIES)))


@st.composite
def persons(draw: st.DrawFn, *, latest_year: int = 2015, identity: bool | None = None) -> Person:
    """A Vietnamese person (Vietnamese name), born 1920..``latest_year``, usually with an id."""
    dob = draw(dobs(latest_year=latest_year))
    with_id = draw(st.booleans()) if identity is None else identity
    document = draw(identity_documents(int(dob[:4]))) if with_id else None
    return Person(name=draw(vn_names()), dob=dob, identity=document)


def uvcis() -> st.SearchStrategy[str]:
    """Valid, canonical VN UVCIs with a check character."""
    unique = st.text(uvci.RANDOM_ALPHABET, min_size=8, max_size=26)
    entity = st.sampled_from((None, "MOH", "MOH/HN", "MOH/HCM"))
    return st.builds(lambda u, e: uvci.generate("VN", e, u), unique, entity)


def facility_ids() -> st.SearchStrategy[str]:
    """Facility ids like ``VN-HN-001``."""
    region = st.sampled_from(("HN", "HCM", "DN", "HP", "CT", "KH"))
    return st.builds(lambda r, n: f"VN-{r}-{n:03d}", region, st.integers(1, 999))


@st.composite
def vaccination_entries(draw: st.DrawFn) -> VaccinationEntry:
    """Issuable vaccination entries with a known product and dn <= sd."""
    product = draw(st.sampled_from(sorted(PRODUCTS)))
    known = PRODUCTS[product]
    sd = draw(st.integers(1, 4))
    dn = draw(st.integers(1, sd))
    return VaccinationEntry(
        tg="840539006", vp=known.vp, mp=product, ma=known.ma, dn=dn, sd=sd,
        dt=draw(st.dates(FIRST_EVENT, LAST_EVENT)), co="VN", is_=ISSUER, ci=draw(uvcis()),
    )  # fmt: skip


@st.composite
def test_entries(draw: st.DrawFn) -> TestEntry:
    """Issuable test entries (NAA or rapid antigen, with a time zone on ``sc``)."""
    rapid = draw(st.booleans())
    day = draw(st.dates(FIRST_EVENT, LAST_EVENT))
    offset = draw(st.sampled_from((0, 7)))
    sc = dt.datetime(day.year, day.month, day.day, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=offset)))
    return TestEntry(
        tg="840539006",
        tt="LP217198-3" if rapid else "LP6464-4",
        sc=sc,
        tr=draw(st.sampled_from(("260415000", "260373001"))),
        co="VN",
        is_=ISSUER,
        ci=draw(uvcis()),
        nm=None if rapid else "Roche LightCycler qPCR",
        ma="1232" if rapid else None,
        tc=draw(st.sampled_from((None, "Bệnh viện Bạch Mai", "VN-HN-001"))),
    )


# Prevent pytest from collecting the strategy (its name starts with "test").
test_entries.__test__ = False  # type: ignore[attr-defined]


@st.composite
def recovery_entries(draw: st.DrawFn) -> RecoveryEntry:
    """Issuable recovery entries: fr <= df <= du."""
    fr = draw(st.dates(FIRST_EVENT, LAST_EVENT - dt.timedelta(days=11)))
    df = fr + dt.timedelta(days=draw(st.integers(11, 30)))
    du = fr + dt.timedelta(days=180)
    return RecoveryEntry(tg="840539006", fr=fr, df=min(df, LAST_EVENT), du=du, co="VN", is_=ISSUER, ci=draw(uvcis()))


@st.composite
def doses_for(draw: st.DrawFn, *, max_doses: int = 4) -> tuple[Dose, ...]:
    """1..``max_doses`` doses numbered 1..n with increasing dates (possibly mixed products)."""
    n = draw(st.integers(1, max_doses))
    series = draw(st.integers(n, 4)) if n < 3 else n  # boosters are n/n
    start = draw(st.dates(FIRST_EVENT, dt.date(2022, 6, 30)))
    gaps = draw(st.lists(st.integers(21, 120), min_size=n, max_size=n))
    doses: list[Dose] = []
    day = start
    for number in range(1, n + 1):
        if number > 1:
            day = day + dt.timedelta(days=gaps[number - 1])
        product = draw(st.sampled_from(sorted(PRODUCTS)))
        explicit = draw(st.booleans())
        doses.append(
            Dose(
                date=day,
                product=product,
                dose_number=number,
                series_total=series,
                facility=draw(facility_ids()),
                country="VN",
                manufacturer=PRODUCTS[product].ma if explicit else None,
                prophylaxis=PRODUCTS[product].vp if explicit else None,
            )
        )
    if draw(st.booleans()):
        doses.reverse()  # records need not be ordered
    return tuple(doses)


@st.composite
def dose_records(draw: st.DrawFn, *, max_doses: int = 4) -> DoseRecord:
    """Dose records of a Vietnamese person born by 2015 with 1..``max_doses`` doses."""
    return DoseRecord(person=draw(persons()), doses=draw(doses_for(max_doses=max_doses)))
