"""A printable certificate card (PDF) a citizen can print and carry.

Layout: one **A6 portrait** page (105 × 148 mm: a quarter of an A4 sheet, so it prints on any
office printer and folds into a wallet), or A5.  From the top:

* the title in Vietnamese and English (vaccination, test or recovery certificate);
* the QR code, its symbol :data:`QR_SIDE_MM` (38 mm) wide, so its diagonal (about 54 mm) is
  inside the 35-60 mm the EU DCC specification recommends for print; the PNG is rendered at
  600 dpi with whole-pixel modules by :func:`vaxcert.qr.render_png`, with its 4-module quiet zone;
* the holder, each part under its own label: "Họ / Surname" and "Tên / Given name" as written
  (with Vietnamese diacritics), each with its ICAO transliteration; then a row with the birth
  date and the certificate's validity (issued, expires: the CWT ``iat`` and ``exp``, as dates in
  Viet Nam's time, UTC+7);
* the content: for a vaccination every dose (from the dose record when one is given, otherwise
  the dose the certificate is for) with its date and the product's name from the value sets; for
  a test its type, sample time and result; for a recovery the first positive test and the
  recovery's validity;
* the issuer, the country and the certificate identifier (UVCI).

**Fitting.** The card is laid out at the most generous of a few type scales (:data:`_STYLES`)
that fits on the one page: long names (80 characters each, the schema's limit), long issuer
names and many doses make it step down to smaller type and, from four doses on, a dose table in
two columns.  When even the smallest scale does not fit, :func:`render_card` raises
:class:`InputError` (field ``page``) saying so, rather than spilling onto a second page.

Labels are bilingual ("Họ / Surname").  Dates are written dd/mm/yyyy, the usage on
Vietnamese documents.  Text is set in DejaVu Sans (Debian ``fonts-dejavu-core``, which
``scripts/start-services.sh`` installs), embedded as a subset, which has every Vietnamese letter
precomposed; :func:`find_fonts` takes other TrueType files (the CLI reads them from
``VAXCERT_CARD_FONT``, ``VAXCERT_CARD_FONT_BOLD`` and ``VAXCERT_CARD_FONT_MONO``).
A text the font cannot print is refused, naming the field,
rather than printed with missing letters.  The PDF's metadata hold no personal data.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from . import qr
from .dcc.codes import COVID_19, NAAT, RAPID_ANTIGEN_TEST, TEST_DETECTED, TEST_NOT_DETECTED
from .dcc.model import DoseRecord
from .dcc.valuesets import ValueSets
from .errors import ConfigurationError, InputError, needs_extra
from .jsonio import ascii_digits
from .stages.hc1 import read_unverified

with needs_extra("card", "printing certificate cards"):
    from fontTools.ttLib import TTFont, TTLibError
    from fpdf import FPDF
    from PIL import Image

__all__ = [
    "CARD_TIMEZONE",
    "FONT_DIRS",
    "PAGE_SIZES",
    "QR_DPI",
    "QR_SIDE_MM",
    "CardFonts",
    "CardLayout",
    "find_fonts",
    "read_card_payload",
    "render_card",
    "save_card",
]

PageFormat = Literal["A6", "A5"]

#: Page sizes (width, height) in mm.
PAGE_SIZES: Final[Mapping[str, tuple[float, float]]] = {"A6": (105.0, 148.0), "A5": (148.0, 210.0)}
#: Side of the QR symbol (without its quiet zone) on paper.
QR_SIDE_MM: Final = 38.0
#: Resolution of the embedded QR image.
QR_DPI: Final = 600
#: Where the DejaVu fonts are looked for (Debian / Ubuntu, Fedora, Arch, macOS Homebrew).
FONT_DIRS: Final = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/local/share/fonts"),
    Path("/opt/homebrew/share/fonts"),
)
_FONT_FILES: Final = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf", "mono": "DejaVuSansMono.ttf"}
_MISSING_FONT: Final = (
    "no font with Vietnamese letters for the card: install the Debian package fonts-dejavu-core "
    "(scripts/start-services.sh does) or give a TrueType (.ttf) file (the CLI: VAXCERT_CARD_FONT)"
)

_MARGIN: Final = 7.0
_GREY: Final = (90, 90, 90)
_RULE: Final = (170, 170, 170)

_TITLES: Final = {
    "v": ("CHỨNG NHẬN TIÊM CHỦNG COVID-19", "COVID-19 vaccination certificate"),
    "t": ("CHỨNG NHẬN XÉT NGHIỆM COVID-19", "COVID-19 test certificate"),
    "r": ("CHỨNG NHẬN KHỎI BỆNH COVID-19", "COVID-19 recovery certificate"),
}
_TEST_TYPES: Final = {
    NAAT: "RT-PCR / NAAT",
    RAPID_ANTIGEN_TEST: "Nhanh kháng nguyên / Rapid antigen",
}
_TEST_RESULTS: Final = {
    TEST_NOT_DETECTED: "Âm tính / Not detected",
    TEST_DETECTED: "Dương tính / Detected",
}


@dataclass(frozen=True, slots=True)
class CardFonts:
    """The TrueType files the card is set in (``bold`` and ``mono`` fall back to ``regular``)."""

    regular: Path
    bold: Path
    mono: Path


@dataclass(frozen=True, slots=True)
class CardLayout:
    """Where the QR code sits on the page (mm), its physical size and the type density used."""

    page: str
    page_mm: tuple[float, float]
    qr_x_mm: float
    qr_y_mm: float
    qr_image_mm: float
    qr_symbol_mm: float
    qr_diagonal_mm: float
    pages: int
    style: str = "regular"  # the density the text was set in (see the module docstring)


def find_fonts(
    regular: str | os.PathLike[str] | None = None,
    *,
    bold: str | os.PathLike[str] | None = None,
    mono: str | os.PathLike[str] | None = None,
) -> CardFonts:
    """The card's fonts: the TrueType files given (``bold`` and ``mono`` fall back to ``regular``),
    else DejaVu from :data:`FONT_DIRS`.

    Raises :class:`ConfigurationError` for a missing file, or with an install hint when no usable
    font is found.  (The CLI passes ``VAXCERT_CARD_FONT``, ``_BOLD`` and ``_MONO``.)
    """
    if regular is not None:
        chosen = _font_file(regular)
        return CardFonts(chosen, _font_file(bold) if bold else chosen, _font_file(mono) if mono else chosen)
    for directory in FONT_DIRS:
        found = directory / _FONT_FILES["regular"]
        if found.is_file():
            bold_file = directory / _FONT_FILES["bold"]
            mono_file = directory / _FONT_FILES["mono"]
            return CardFonts(found, bold_file if bold_file.is_file() else found,
                             mono_file if mono_file.is_file() else found)  # fmt: skip
    raise ConfigurationError(_MISSING_FONT)


def _font_file(value: str | os.PathLike[str]) -> Path:
    path = Path(value)
    if not path.is_file():
        raise ConfigurationError(f"card font: no such file: {path}")
    return path


@functools.lru_cache(maxsize=8)
def _codepoints(path: Path) -> frozenset[int]:
    """The characters a TrueType font has glyphs for."""
    try:
        with TTFont(str(path), lazy=True) as font:
            cmap = font.getBestCmap() or {}
            return frozenset(cmap)
    except (OSError, TTLibError, AssertionError) as exc:
        raise ConfigurationError(f"card font {path} is not a usable TrueType font ({type(exc).__name__})") from None


# --------------------------------------------------------------------------------------------
# Reading the certificate


def read_card_payload(text: str) -> dict[str, Any]:
    """The DCC payload inside an HC1 string, *without* checking its signature.

    For printing a card for a certificate one already holds; use
    :class:`vaxcert.verifier.Verifier` to know whether it is authentic.  Raises
    :class:`InputError` (field ``hc1``) when the text is not a readable HC1 certificate.
    """
    try:
        _, claims = read_unverified(text.strip())
        return dict(claims.payload)
    except Exception as exc:
        raise InputError("hc1", f"not a readable HC1 certificate ({type(exc).__name__})") from None


# --------------------------------------------------------------------------------------------
# Formatting


def _nfc(value: object) -> str:
    return unicodedata.normalize("NFC", str(value)).strip() if value is not None else ""


def _vn_date(value: object) -> str:
    """``YYYY[-MM[-DD]]`` (or a date-time) as dd/mm/yyyy, mm/yyyy or yyyy; other text unchanged."""
    text = _nfc(value)
    parts = text[:10].split("-")
    if all(ascii_digits(p) for p in parts) and [len(p) for p in parts] in ([4], [4, 2], [4, 2, 2]):
        return "/".join(reversed(parts))
    return text


def _vn_datetime(value: object) -> str:
    text = _nfc(value)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        return moment.strftime("%H:%M %d/%m/%Y")
    offset = moment.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    zone = f"UTC{sign}{hours}" + (f":{mins:02d}" if mins else "")
    return f"{moment.strftime('%H:%M %d/%m/%Y')} ({zone})"


def _display(valuesets: Any, name: str, code: object) -> str:
    text = _nfc(code)
    if valuesets is None or not text:
        return text
    try:
        return _nfc(valuesets.display(name, text) or text)
    except KeyError:
        return text


def _country(valuesets: Any, code: object) -> str:
    text = _nfc(code)
    if text == "VN":
        return "Việt Nam / Viet Nam"
    return _display(valuesets, "country-2-codes", text)


@dataclass(frozen=True, slots=True)
class _Field:
    label: str
    value: str
    mono: bool = False
    field: str = ""  # the payload field, for error messages


@dataclass(frozen=True, slots=True)
class _Content:
    kind: str
    family: str
    given: str
    family_icao: str
    given_icao: str
    dob: str
    issued: str
    expires: str
    doses: tuple[tuple[str, str, str], ...]
    fields: tuple[_Field, ...]


#: Dates on the card are Viet Nam's (UTC+7, no daylight saving time).
CARD_TIMEZONE: Final = dt.timezone(dt.timedelta(hours=7), "ICT")


def _entry(payload: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    kinds = [k for k in ("v", "t", "r") if k in payload]
    if len(kinds) != 1:
        raise InputError("payload", "needs exactly one of v, t, r")
    entries = payload[kinds[0]]
    if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], Mapping):
        raise InputError(kinds[0], "needs exactly one entry")
    return kinds[0], entries[0]


def _check_record(record: DoseRecord, payload: Mapping[str, Any], entry: Mapping[str, Any]) -> None:
    """The dose record must be the certificate holder's and contain the certified dose."""
    nam = payload.get("nam") if isinstance(payload.get("nam"), Mapping) else {}
    assert isinstance(nam, Mapping)
    if _nfc(nam.get("fn")) != record.person.name.family or _nfc(nam.get("gn") or "") != (
        record.person.name.given or ""
    ):
        raise InputError("record.person.name", "does not match the certificate")
    if _nfc(payload.get("dob")) != record.person.dob:
        raise InputError("record.person.dob", "does not match the certificate")
    certified = (entry.get("dn"), entry.get("sd"), _nfc(entry.get("dt"))[:10], entry.get("mp"))
    doses = {(d.dose_number, d.series_total, d.date.isoformat(), d.product) for d in record.doses}
    if certified not in doses:
        raise InputError("record.doses", "do not contain the dose of the certificate")


def _card_date(moment: dt.datetime | None) -> str:
    return moment.astimezone(CARD_TIMEZONE).strftime("%d/%m/%Y") if moment is not None else "-"


def _validity(hc1: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The CWT's issued-at and expiry of ``hc1``, when it can be read (signature not checked)."""
    try:
        _, claims = read_unverified(hc1.strip())
        return (dt.datetime.fromtimestamp(claims.issued_at, dt.UTC),
                dt.datetime.fromtimestamp(claims.expires_at, dt.UTC))  # fmt: skip
    except Exception:  # a card for text that is not readable HC1 shows no validity
        return None, None


def _content(payload: Mapping[str, Any], record: DoseRecord | None, valuesets: Any,
             validity: tuple[dt.datetime | None, dt.datetime | None]) -> _Content:  # fmt: skip
    kind, entry = _entry(payload)
    nam = payload.get("nam")
    if not isinstance(nam, Mapping):
        raise InputError("nam", "is missing")
    family, given = _nfc(nam.get("fn")), _nfc(nam.get("gn"))
    family_icao = _nfc(nam.get("fnt")).replace("<", " ").strip()
    given_icao = _nfc(nam.get("gnt")).replace("<", " ").strip()
    if not family and not given:  # only the transliteration is present
        family, given, family_icao, given_icao = family_icao, given_icao, "", ""
    doses: tuple[tuple[str, str, str], ...] = ()
    fields: list[_Field] = []
    if entry.get("tg", COVID_19) != COVID_19:
        fields.append(_Field("Bệnh / Disease", _display(valuesets, "disease-agent-targeted", entry.get("tg")),
                             field="tg"))  # fmt: skip
    if kind == "v":
        if record is not None:
            if not isinstance(record, DoseRecord):
                raise InputError("record", "must be a DoseRecord")
            _check_record(record, payload, entry)
            ordered = sorted(record.doses, key=lambda d: (d.dose_number, d.date))
            doses = tuple(
                (f"{d.dose_number}/{d.series_total}", _vn_date(d.date.isoformat()),
                 _display(valuesets, "vaccine-medicinal-product", d.product))
                for d in ordered
            )  # fmt: skip
        else:
            doses = (
                (f"{entry.get('dn')}/{entry.get('sd')}", _vn_date(entry.get("dt")),
                 _display(valuesets, "vaccine-medicinal-product", entry.get("mp"))),
            )  # fmt: skip
    elif kind == "t":
        fields += [
            _Field("Loại xét nghiệm / Test type", _TEST_TYPES.get(_nfc(entry.get("tt")), _nfc(entry.get("tt"))),
                   field="tt"),
            _Field("Lấy mẫu / Sample collected", _vn_datetime(entry.get("sc")), field="sc"),
            _Field("Kết quả / Result", _TEST_RESULTS.get(_nfc(entry.get("tr")), _nfc(entry.get("tr"))), field="tr"),
        ]  # fmt: skip
        if entry.get("nm"):
            fields.append(_Field("Tên xét nghiệm / Test name", _nfc(entry.get("nm")), field="nm"))
        if entry.get("ma"):
            fields.append(_Field("Bộ xét nghiệm / Test device", _display(valuesets, "test-manf", entry.get("ma")),
                                 field="ma"))  # fmt: skip
        if entry.get("tc"):
            fields.append(_Field("Cơ sở xét nghiệm / Testing centre", _nfc(entry.get("tc")), field="tc"))
    else:
        fields += [
            _Field("Dương tính lần đầu / First positive test", _vn_date(entry.get("fr")), field="fr"),
            _Field("Khỏi bệnh, giá trị / Recovery valid", f"{_vn_date(entry.get('df'))} – {_vn_date(entry.get('du'))}",
                   field="du"),
        ]  # fmt: skip
    fields += [
        _Field("Nơi cấp / Country", _country(valuesets, entry.get("co")), field="co"),
        _Field("Đơn vị cấp / Issuer", _nfc(entry.get("is")), field="is"),
        _Field("Mã chứng nhận / Certificate ID", _nfc(entry.get("ci")), mono=True, field="ci"),
    ]
    issued, expires = validity
    return _Content(kind, family, given, family_icao, given_icao, _vn_date(payload.get("dob")),
                    _card_date(issued), _card_date(expires), doses, tuple(fields))  # fmt: skip


def _check_printable(content: _Content, fonts: CardFonts) -> None:
    """Refuse text the fonts lack glyphs for, naming the field (never the text)."""
    regular, bold, mono = _codepoints(fonts.regular), _codepoints(fonts.bold), _codepoints(fonts.mono)

    def check(field: str, text: str, glyphs: frozenset[int]) -> None:
        if any(ord(ch) not in glyphs for ch in text if not ch.isspace()):
            raise InputError(field, "has characters the card font cannot print")

    for text in (content.family, content.given):
        check("nam", text, bold)
    for text in (content.family_icao, content.given_icao):
        check("nam", text, regular)
    for text in (content.dob, content.issued, content.expires):
        check("dob", text, bold)
    for dose in content.doses:
        for text in dose:
            check("v", text, regular)
    for item in content.fields:
        check(item.field or "label", item.value, mono if item.mono else regular)
    for label in (*_FIXED_LABELS, *(item.label for item in content.fields)):
        check("label", label, bold)
        check("label", label, regular)


# --------------------------------------------------------------------------------------------
# Drawing


@dataclass(frozen=True, slots=True)
class _Style:
    """Type sizes (pt) and spacing (mm) of one density of the layout."""

    name: str
    title: float
    subtitle: float
    label: float
    name_size: float
    icao: float
    value: float
    mono: float
    gap: float
    dose_columns: int  # 2: the dose table in two columns (used from four doses on)


#: The densities tried in turn, most generous first; the first that fits on the page is used.
_STYLES: Final = (
    _Style("regular", 10.0, 8.0, 6.5, 11.0, 7.5, 9.0, 7.5, 1.0, 1),
    _Style("compact", 9.5, 7.5, 6.0, 9.5, 6.5, 8.0, 7.0, 0.6, 1),
    _Style("compact-2", 9.5, 7.5, 6.0, 9.5, 6.5, 8.0, 7.0, 0.6, 2),
    _Style("small", 9.0, 7.0, 5.5, 8.5, 6.0, 7.0, 6.5, 0.4, 2),
    _Style("smallest", 8.5, 6.5, 5.0, 7.5, 5.5, 6.5, 6.0, 0.3, 2),
)
_LINE: Final = 0.42  # line height per point of type size (mm)

_LABEL_FAMILY: Final = "Họ / Surname"
_LABEL_GIVEN: Final = "Tên / Given name"
_LABEL_DOB: Final = "Ngày sinh / Birth date"
_LABEL_ISSUED: Final = "Ngày cấp / Issued"
_LABEL_EXPIRES: Final = "Hết hạn / Expires"
_DOSE_HEADERS: Final = ("Mũi / Dose", "Ngày / Date", "Vắc xin / Vaccine")
_FOOTER: Final = ("Ngày ghi theo ngày/tháng/năm · Dates are dd/mm/yyyy.\n"
                  "Quét mã QR để xác thực chứng nhận. · Scan the QR code to verify this certificate.")
_FIXED_LABELS: Final = (_LABEL_FAMILY, _LABEL_GIVEN, _LABEL_DOB, _LABEL_ISSUED, _LABEL_EXPIRES, *_DOSE_HEADERS,
                        _FOOTER, *(t for pair in _TITLES.values() for t in pair))  # fmt: skip


class _Card(FPDF):
    """An FPDF with the card's fonts and a few drawing helpers; never breaks pages by itself."""

    def __init__(self, page: PageFormat, fonts: CardFonts, style: _Style) -> None:
        super().__init__(orientation="P", unit="mm", format=PAGE_SIZES[page])
        self.style = style
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(False)  # overflow is measured (see fits), never spilled onto a page
        self.add_font("card", "", str(fonts.regular))
        self.add_font("card", "B", str(fonts.bold))
        self.add_font("cardmono", "", str(fonts.mono))
        self.set_title("COVID-19 certificate")
        self.set_subject("EU DCC-style health certificate")
        self.set_creator("vaxcert")
        self.set_producer("vaxcert")

    @property
    def inner(self) -> float:
        return float(self.w - 2 * _MARGIN)

    def discard(self) -> None:
        """Close the font files of a layout attempt that is not output (output closes them)."""
        for font in self.fonts.values():
            close = getattr(font, "close", None)
            if close is not None:
                close()

    @property
    def fits(self) -> bool:
        """Everything drawn so far is on the one page, inside the bottom margin."""
        return self.pages_count == 1 and self.y <= self.h - _MARGIN + 0.01

    def label(self, text: str, width: float | None = None) -> None:
        self.set_font("card", "", self.style.label)
        self.set_text_color(*_GREY)
        self.multi_cell(width or self.inner, self.style.label * _LINE, text, align="L",
                        new_x="LMARGIN", new_y="NEXT")  # fmt: skip

    def value(self, text: str, *, size: float, style: str = "", mono: bool = False, grey: bool = False,
              width: float | None = None) -> None:  # fmt: skip
        self.set_font("cardmono" if mono else "card", "" if mono else style, size)
        self.set_text_color(*(_GREY if grey else (0, 0, 0)))
        self.multi_cell(width or self.inner, size * _LINE, text or "-", align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)

    def rule(self) -> None:
        self.set_draw_color(*_RULE)
        self.set_line_width(0.2)
        self.line(_MARGIN, self.y, self.w - _MARGIN, self.y)
        self.ln(1.2)

    def columns(self, cells: Sequence[tuple[str, str]], *, size: float, style: str = "B") -> None:
        """Label/value pairs side by side in equal columns; the cursor ends below the tallest."""
        width = self.inner / len(cells)
        top, bottom = self.y, self.y
        for i, (label, text) in enumerate(cells):
            x = _MARGIN + i * width
            self.set_xy(x, top)
            self.set_left_margin(x)
            self.label(label, width - 1.0)
            self.value(text, size=size, style=style, width=width - 1.0)
            bottom = max(bottom, self.y)
        self.set_left_margin(_MARGIN)
        self.set_xy(_MARGIN, bottom)


def _draw(pdf: _Card, content: _Content, png: bytes, image_mm: float) -> tuple[float, float]:
    st = pdf.style
    pdf.add_page()
    vi, en = _TITLES[content.kind]
    pdf.set_font("card", "B", st.title)
    pdf.cell(pdf.inner, st.title * 0.5, vi, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("card", "", st.subtitle)
    pdf.set_text_color(*_GREY)
    pdf.cell(pdf.inner, st.subtitle * 0.5, en, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    qr_x = (pdf.w - image_mm) / 2
    qr_y = pdf.y + 0.5
    pdf.image(io.BytesIO(png), x=qr_x, y=qr_y, w=image_mm, h=image_mm)
    pdf.set_y(qr_y + image_mm + 0.5)
    pdf.rule()

    for label, text, icao in ((_LABEL_FAMILY, content.family, content.family_icao),
                              (_LABEL_GIVEN, content.given, content.given_icao)):  # fmt: skip
        pdf.label(label)
        pdf.value(text, size=st.name_size, style="B")
        if icao and icao != text:
            pdf.value(icao, size=st.icao, grey=True)
        pdf.ln(st.gap)
    pdf.columns([(_LABEL_DOB, content.dob), (_LABEL_ISSUED, content.issued), (_LABEL_EXPIRES, content.expires)],
                size=st.value)  # fmt: skip
    pdf.ln(st.gap)

    if content.doses:
        _dose_table(pdf, content.doses, 2 if st.dose_columns == 2 and len(content.doses) >= 4 else 1)
    for item in content.fields:
        pdf.label(item.label)
        pdf.value(item.value, size=st.mono if item.mono else st.value, mono=item.mono)
        pdf.ln(st.gap)
    pdf.rule()
    pdf.set_font("card", "", st.label)
    pdf.set_text_color(*_GREY)
    pdf.multi_cell(pdf.inner, st.label * _LINE, _FOOTER, align="C", new_x="LMARGIN", new_y="NEXT")
    return qr_x, qr_y


def _dose_table(pdf: _Card, doses: Sequence[tuple[str, str, str]], columns: int) -> None:
    """Dose, date and vaccine per dose, in one or two column groups; long vaccine names wrap.

    The dose and date columns are as wide as their widest text (dates never wrap); the vaccine
    column takes the rest of its group.  Two groups read down the left one first.
    """
    st = pdf.style
    gutter, pad = 3.0, 2 * pdf.c_margin + 0.8
    group = (pdf.inner - (columns - 1) * gutter) / columns
    headers = [h.split(" / ") for h in _DOSE_HEADERS]
    two_line_headers = columns == 2
    pdf.set_font("card", "", st.label)
    header_widths = [max(pdf.get_string_width(p) for p in parts) if two_line_headers
                     else pdf.get_string_width(" / ".join(parts)) for parts in headers]  # fmt: skip
    pdf.set_font("card", "", st.value)
    widths = [max(header_widths[i], *(pdf.get_string_width(d[i]) for d in doses)) + pad for i in (0, 1)]
    widths.append(group - sum(widths))
    starts = [_MARGIN + g * (group + gutter) for g in range(columns)]
    pdf.set_font("card", "", st.label)
    pdf.set_text_color(*_GREY)
    top = pdf.y
    for start in starts:
        x = start
        for parts, width in zip(headers, widths, strict=True):
            pdf.set_xy(x, top)
            pdf.multi_cell(width, st.label * _LINE, "\n".join(parts) if two_line_headers else " / ".join(parts),
                           align="L")  # fmt: skip
            x += width
    pdf.set_xy(_MARGIN, top + (2 if two_line_headers else 1) * st.label * _LINE + 0.4)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("card", "", st.value)
    per_column = -(-len(doses) // columns)
    line = st.value * _LINE
    for r in range(per_column):
        top = bottom = pdf.y
        for start, dose in zip(starts, doses[r::per_column], strict=False):
            x = start
            for text, width in zip(dose, widths, strict=True):
                pdf.set_xy(x, top)
                pdf.multi_cell(width, line, text, align="L",
                               new_x="LEFT", new_y="NEXT")  # fmt: skip
                bottom = max(bottom, pdf.y)
                x += width
        pdf.set_xy(_MARGIN, bottom + 0.3)
    pdf.ln(st.gap)


def _qr_png(hc1: str) -> tuple[bytes, float, float]:
    """The QR PNG, its printed side with quiet zone and the symbol's side (mm)."""
    png = qr.render_png(hc1, size_mm=QR_SIDE_MM, dpi=QR_DPI)
    with Image.open(io.BytesIO(png)) as image:
        pixels = image.size[0]
    modules = qr.encode(hc1).size
    image_mm = pixels / QR_DPI * 25.4
    symbol_mm = image_mm * modules / (modules + 2 * qr.DEFAULT_BORDER)
    return png, image_mm, symbol_mm


def render_card(
    hc1: str,
    payload: Mapping[str, Any] | None = None,
    *,
    record: DoseRecord | None = None,
    page: PageFormat = "A6",
    fonts: CardFonts | None = None,
    valuesets: Any = None,
    created: dt.datetime | None = None,
    issued_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
) -> tuple[bytes, CardLayout]:
    """The card as PDF bytes, and where its QR code is.

    ``payload`` defaults to the one inside ``hc1`` (decoded without checking the signature).
    ``record`` adds every dose of the holder's dose record; it must be the holder's and contain
    the certified dose (:class:`InputError` otherwise).  ``valuesets`` (a
    :class:`vaxcert.dcc.valuesets.ValueSets`) names products; default: the bundled ones.
    ``issued_at`` / ``expires_at`` are the validity shown; default: the CWT ``iat`` / ``exp`` of
    ``hc1``.  ``created`` is the PDF creation date (default: now).

    The layout steps down to smaller type until everything fits on the one page; when nothing
    fits it raises :class:`InputError` (field ``page``).
    """
    if page not in PAGE_SIZES:
        raise InputError("page", f"must be one of {', '.join(PAGE_SIZES)}")
    if payload is None:
        payload = read_card_payload(hc1)
    if valuesets is None:
        valuesets = ValueSets.bundled()
    fonts = fonts or find_fonts()
    read_iat, read_exp = _validity(hc1) if issued_at is None or expires_at is None else (None, None)
    content = _content(payload, record, valuesets, (issued_at or read_iat, expires_at or read_exp))
    _check_printable(content, fonts)
    png, image_mm, symbol_mm = _qr_png(hc1.strip())
    for style in _STYLES:
        pdf = _Card(page, fonts, style)
        if created is not None:
            pdf.set_creation_date(created)
        qr_x, qr_y = _draw(pdf, content, png, image_mm)
        if pdf.fits:
            break
        pdf.discard()
    else:
        smaller = " (try page A5)" if page == "A6" else ""
        raise InputError("page", f"the certificate's text does not fit on one {page} page even in the smallest "
                                 f"type ({len(content.doses)} doses){smaller}")  # fmt: skip
    layout = CardLayout(
        page=page,
        page_mm=PAGE_SIZES[page],
        qr_x_mm=qr_x,
        qr_y_mm=qr_y,
        qr_image_mm=image_mm,
        qr_symbol_mm=symbol_mm,
        qr_diagonal_mm=symbol_mm * 2**0.5,
        pages=pdf.pages_count,
        style=style.name,
    )
    return bytes(pdf.output()), layout


def save_card(path: str | os.PathLike[str], hc1: str, payload: Mapping[str, Any] | None = None,
              **options: Any) -> CardLayout:
    """Write the card to ``path`` (see :func:`render_card`); return its layout."""
    data, layout = render_card(hc1, payload, **options)
    target = Path(path)
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise ConfigurationError(f"cannot write {target}: {exc.strerror}") from None
    return layout
