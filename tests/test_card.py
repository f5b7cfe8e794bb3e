"""The printable certificate card (vaxcert.card and ``vaxcert card``)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pypdf
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

from cli_inprocess import run
from conftest import NOW, Pki, make_pki
from vaxcert import Issuer, card, qr
from vaxcert.cli import cli
from vaxcert.dcc.model import DoseRecord
from vaxcert.dcc.payload import payload_from_record
from vaxcert.dcc.uvci import generate
from vaxcert.errors import ConfigurationError, InputError

REPO = Path(__file__).resolve().parents[1]
MM_PER_PT = 25.4 / 72


def vaccination() -> dict[str, Any]:
    """A vaccination payload with a Vietnamese name full of diacritics."""
    return {"ver": "1.3.0",
            "nam": {"fn": "Nguyễn", "gn": "Thị Thuỷ Trường", "fnt": "NGUYEN", "gnt": "THI<THUY<TRUONG"},
            "dob": "1990-05-17",
            "v": [{"tg": "840539006", "vp": "29061000087103", "mp": "EU/1/20/1525", "ma": "ORG-100001417",
                   "dn": 1, "sd": 1, "dt": "2026-04-20", "co": "VN", "is": "Bộ Y tế Việt Nam",
                   "ci": generate("VN")}]}


def pdf_text(data: bytes) -> str:
    """All text of a PDF, as pypdf extracts it."""
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


@pytest.fixture(scope="module")
def issued(pki: Pki) -> tuple[str, dict[str, Any]]:
    """An HC1 string and its payload."""
    payload = vaccination()
    return Issuer(pki.signer, facility_override=True).issue(payload, now=NOW).hc1, payload


@pytest.fixture(scope="module")
def rendered(issued: tuple[str, dict[str, Any]]) -> tuple[bytes, card.CardLayout]:
    """The card of ``issued``."""
    return card.render_card(issued[0], created=NOW)


def test_card_is_one_a6_page_with_bilingual_fields(rendered: tuple[bytes, card.CardLayout],
                                                   issued: tuple[str, dict[str, Any]]) -> None:
    """One A6 page: surname and given name under their own labels with their ICAO forms, birth date,
    validity (issued, expires in UTC+7), dose, issuer and UVCI."""
    data, layout = rendered
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1 and layout.pages == 1
    box = reader.pages[0].mediabox
    assert round(float(box.width) * MM_PER_PT) == 105 and round(float(box.height) * MM_PER_PT) == 148
    text = pdf_text(data)
    for expected in ("CHỨNG NHẬN TIÊM CHỦNG COVID-19", "COVID-19 vaccination certificate",
                     "Họ / Surname\nNguyễn\nNGUYEN\n", "Tên / Given name\nThị Thuỷ Trường\nTHI THUY TRUONG\n",
                     "Ngày sinh / Birth date", "17/05/1990", "Ngày cấp / Issued", "01/06/2026",
                     "Hết hạn / Expires", "01/06/2027", "1/1", "20/04/2026", "Jcovden", "Bộ Y tế Việt Nam",
                     "Việt Nam / Viet Nam", issued[1]["v"][0]["ci"]):
        assert expected in text
    assert layout.style == "regular"


@pytest.mark.parametrize(("written", "shown"), [
    ("1990-05-17", "17/05/1990"), ("1990-05", "05/1990"), ("1990", "1990"),
    ("١٩٩٠-٠٥-١٧", "١٩٩٠-٠٥-١٧"), ("²²²²-²²", "²²²²-²²"), ("1990-0①", "1990-0①"),
])
def test_card_dates_are_reordered_only_when_written_in_ascii_digits(written: str, shown: str) -> None:
    """Only ASCII-digit dates become dd/mm/yyyy; text in other digits ('²', '①', Arabic-Indic) is shown as written."""
    assert card._vn_date(written) == shown


def test_card_embeds_a_unicode_font(rendered: tuple[bytes, card.CardLayout]) -> None:
    """The fonts are embedded TrueType subsets (Type0 with FontFile2), not standard PDF fonts."""
    page = pypdf.PdfReader(io.BytesIO(rendered[0])).pages[0]
    resources: Any = page["/Resources"]
    fonts: list[Any] = [f.get_object() for f in resources["/Font"].values()]
    assert fonts and all(f["/Subtype"] == "/Type0" for f in fonts)
    for font in fonts:
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor
        assert "DejaVuSans" in str(font["/BaseFont"])


def test_card_qr_decodes_and_has_print_size(rendered: tuple[bytes, card.CardLayout],
                                            issued: tuple[str, dict[str, Any]]) -> None:
    """The embedded QR image decodes to the HC1 string; its symbol is 35-42 mm, diagonal 35-60 mm."""
    data, layout = rendered
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    (image,) = page.images
    assert image.image is not None
    codes = qr.decode_image(image.image)
    assert [c.text for c in codes] == [issued[0]] and codes[0].alphanumeric
    assert 35 <= layout.qr_symbol_mm <= 42 and 35 <= layout.qr_diagonal_mm <= 60
    matrices = [ops for ops, op in pypdf.generic.ContentStream(page.get_contents(), page.pdf).operations
                if op == b"cm"]
    placed = [float(m[0]) * MM_PER_PT for m in matrices if float(m[0]) == float(m[3]) and float(m[0]) > 50]
    assert placed and abs(placed[0] - layout.qr_image_mm) < 0.1


def test_card_metadata_has_no_personal_data(rendered: tuple[bytes, card.CardLayout]) -> None:
    """The PDF's document information names no person."""
    meta = pypdf.PdfReader(io.BytesIO(rendered[0])).metadata
    assert meta is not None and meta.title == "COVID-19 certificate"
    assert "Nguy" not in json.dumps({k: str(v) for k, v in meta.items()}, ensure_ascii=False)


def test_card_lists_every_dose_of_the_record(pki: Pki) -> None:
    """With the dose record, each dose is listed with its date and product."""
    record = DoseRecord.from_json(json.loads((REPO / "examples/records/03-mixed-astrazeneca-pfizer.json")
                                             .read_text(encoding="utf-8")))
    payload = payload_from_record(record, ci=generate("VN"), issuer="Bộ Y tế", now=NOW)
    hc1 = Issuer(pki.signer, facility_override=True).issue(payload, now=NOW).hc1
    data, layout = card.render_card(hc1, record=record)
    text = pdf_text(data)
    assert layout.pages == 1
    assert "1/2 02/08/2021 Vaxzevria" in text and "2/2 25/10/2021 Comirnaty" in text
    assert "Họ / Surname\nPhạm\n" in text and "Tên / Given name\nThị Hương\n" in text


def test_card_refuses_someone_elses_record(issued: tuple[str, dict[str, Any]]) -> None:
    """A dose record of another person is refused rather than printed beside the QR code."""
    record = DoseRecord.from_json(json.loads((REPO / "examples/records/01-astrazeneca-two-doses.json")
                                             .read_text(encoding="utf-8")))
    with pytest.raises(InputError, match="record"):
        card.render_card(issued[0], record=record)


def test_test_and_recovery_cards(pki: Pki) -> None:
    """Test and recovery certificates print their own title and fields; A5 is available."""
    name = {"fn": "Đặng", "gn": "Ngọc Ánh", "fnt": "DANG", "gnt": "NGOC<ANH"}
    test = {"ver": "1.3.0", "nam": name, "dob": "2001",
            "t": [{"tg": "840539006", "tt": "LP217198-3", "ma": "1232", "sc": "2026-05-31T09:30:00+07:00",
                   "tr": "260415000", "tc": "Trung tâm Y tế quận Hoàn Kiếm", "co": "VN", "is": "Bộ Y tế",
                   "ci": generate("VN")}]}
    data, layout = card.render_card(Issuer(pki.signer, facility_override=True).issue(test, now=NOW).hc1, page="A5")
    text = pdf_text(data)
    assert layout.page_mm == (148.0, 210.0)
    for expected in ("CHỨNG NHẬN XÉT NGHIỆM COVID-19", "Nhanh kháng nguyên / Rapid antigen",
                     "09:30 31/05/2026 (UTC+7)", "Âm tính / Not detected", "Hoàn Kiếm", "Đặng\nDANG",
                     "Ngọc Ánh\nNGOC ANH"):
        assert expected in text
    rec = {"ver": "1.3.0", "nam": name, "dob": "2001-03",
           "r": [{"tg": "840539006", "fr": "2026-04-01", "df": "2026-04-12", "du": "2026-09-28", "co": "VN",
                  "is": "Bộ Y tế", "ci": generate("VN")}]}
    text = pdf_text(card.render_card(Issuer(pki.signer, facility_override=True).issue(rec, now=NOW).hc1)[0])
    assert "CHỨNG NHẬN KHỎI BỆNH COVID-19" in text and "12/04/2026 – 28/09/2026" in text and "03/2001" in text


def test_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, issued: tuple[str, dict[str, Any]]) -> None:
    """Without DejaVu and without VAXCERT_CARD_FONT the error says what to install."""
    monkeypatch.delenv("VAXCERT_CARD_FONT", raising=False)
    monkeypatch.setattr(card, "FONT_DIRS", ())
    with pytest.raises(ConfigurationError, match="fonts-dejavu-core"):
        card.render_card(issued[0])
    with pytest.raises(ConfigurationError, match="no such file"):
        card.find_fonts("/nonexistent/font.ttf")


def _ascii_font(path: Path) -> None:
    """Write a tiny TrueType font with glyphs for printable ASCII only."""
    names = [".notdef"] + [f"c{code}" for code in range(32, 127)]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({code: f"c{code}" for code in range(32, 127)})
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0))
    pen.lineTo((0, 500))
    pen.lineTo((400, 500))
    pen.closePath()
    glyph = pen.glyph()
    fb.setupGlyf({name: glyph for name in names})
    fb.setupHorizontalMetrics({name: (500, 0) for name in names})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Ascii", "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=800, usWinAscent=800, usWinDescent=200)
    fb.setupPost()
    fb.save(str(path))


def test_font_without_vietnamese_letters_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    issued: tuple[str, dict[str, Any]]) -> None:
    """A font lacking a letter of the name is refused naming the field, not printed with gaps."""
    font = tmp_path / "ascii.ttf"
    _ascii_font(font)
    with pytest.raises(InputError, match=r"^nam: ") as info:
        card.render_card(issued[0], fonts=card.find_fonts(font))
    assert "Nguy" not in str(info.value)


def test_read_card_payload_refuses_non_certificates() -> None:
    """Text that is not an HC1 certificate is an InputError on field hc1."""
    with pytest.raises(InputError, match=r"^hc1: "):
        card.read_card_payload("HC1:NOT-BASE45")


def test_card_command(tmp_path: Path, issued: tuple[str, dict[str, Any]], pki: Pki) -> None:
    """``vaxcert card --hc1 - -o FILE`` writes the PDF; with --trust a foreign certificate is refused."""
    out = tmp_path / "card.pdf"
    r = CliRunner().invoke(cli, ["card", "--hc1", "-", "-o", str(out)], input=issued[0] + "\n")
    assert r.exit_code == 0, r.output
    assert out.read_bytes().startswith(b"%PDF-") and "Nguyễn" in pdf_text(out.read_bytes())
    assert "Nguy" not in r.output and "mm" in r.output
    other = tmp_path / "other.pem"
    other.write_bytes(make_pki().dsc.public_bytes(Encoding.PEM))
    refused = tmp_path / "refused.pdf"
    r = CliRunner().invoke(cli, ["card", "--hc1", issued[0], "--trust", str(other), "--at", NOW.isoformat(),
                                 "-o", str(refused)])
    assert r.exit_code == 1 and "KID_UNKNOWN" in r.stderr and not refused.exists()
    mine = tmp_path / "mine.pem"
    mine.write_bytes(pki.dsc.public_bytes(Encoding.PEM))
    r = CliRunner().invoke(cli, ["card", "--hc1", issued[0], "--trust", str(mine), "--at", NOW.isoformat(),
                                 "--page", "a5", "-o", str(refused)])
    assert r.exit_code == 0 and refused.exists()


def test_card_command_with_record(tmp_path: Path, pki: Pki) -> None:
    """``--record FILE`` lists the record's doses."""
    source = REPO / "examples/records/02-pfizer-booster.json"
    record = DoseRecord.from_json(json.loads(source.read_text(encoding="utf-8")))
    payload = payload_from_record(record, ci=generate("VN"), issuer="Bộ Y tế", now=NOW)
    hc1 = Issuer(pki.signer, facility_override=True).issue(payload, now=NOW).hc1
    out = tmp_path / "c.pdf"
    r = CliRunner().invoke(cli, ["card", "--hc1", hc1, "--record", str(source), "-o", str(out)])
    assert r.exit_code == 0, r.output
    text = pdf_text(out.read_bytes())
    assert "1/2 20/08/2021" in text and "3/3 15/01/2022" in text


# --------------------------------------------------------------------------- fitting, checked on rendered pages

#: Names as long as the DCC schema allows (80 characters each), in Vietnamese syllables.
LONGEST_FAMILY = ("Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Trương Đinh "
                  "Lương")[:80].strip()
LONGEST_GIVEN = ("Thị Thuỷ Trường Ngọc Ánh Xuân Hương Bảo Quốc Thanh Minh Đức Hữu Văn Khuê Yến Nhung "
                 "Tùng")[:80].strip()
LONGEST_ISSUER = "Bộ Y tế Việt Nam — Trung tâm Kiểm soát Bệnh tật thành phố Hồ Chí Minh (HCDC) số 1"[:80]


def long_record(doses: int) -> DoseRecord:
    """A holder with the longest names the schema allows and ``doses`` doses (Spikevax, Comirnaty, ...)."""
    products = ("EU/1/21/1529", "EU/1/20/1528", "EU/1/20/1507", "EU/1/20/1525")
    return DoseRecord.from_json({
        "format": "vaxcert.dose-record/1",
        "person": {"name": {"family": LONGEST_FAMILY, "given": LONGEST_GIVEN}, "dob": "1961-02-28",
                   "identity": {"type": "cccd", "number": "001061012345"}},
        "doses": [{"date": (dt.date(2021, 7, 1) + dt.timedelta(days=40 * i)).isoformat(),
                   "product": products[i % len(products)], "dose_number": i + 1,
                   "series_total": 2 if i < 2 else i + 1, "facility": "VN-HN-001", "country": "VN"}
                  for i in range(doses)],
    })  # fmt: skip


def long_hc1(pki: Pki, record: DoseRecord) -> str:
    """The certificate of ``record``'s last dose, with an 80-character issuer name and a long UVCI."""
    payload = payload_from_record(record, ci=generate("VN", "MOH/HCM/" + "X" * 20), issuer=LONGEST_ISSUER, now=NOW)
    return Issuer(pki.signer, facility_override=True).issue(payload, now=NOW).hc1


def pdf_pages_as_png(data: bytes, tmp_path: Path, dpi: int = 200) -> list[Path]:
    """Render every page with pdftoppm (poppler-utils, installed by scripts/start-services.sh)."""
    if shutil.which("pdftoppm") is None:
        if os.environ.get("VAXCERT_REQUIRE_SERVICES"):
            pytest.fail("pdftoppm not found: run scripts/start-services.sh (installs poppler-utils)")
        pytest.skip("pdftoppm not found: run scripts/start-services.sh (installs poppler-utils)")
    source = tmp_path / "card.pdf"
    source.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(source), str(tmp_path / "page")], check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    return sorted(tmp_path.glob("page*.png"))


@pytest.mark.parametrize("doses", [4, 6, 12])
def test_longest_names_and_many_doses_fit_one_a6_page(pki: Pki, tmp_path: Path, doses: int) -> None:
    """80-character names, an 80-character issuer and 4, 6 or 12 doses: one A6 page whose picture scans."""
    record = long_record(doses)
    hc1 = long_hc1(pki, record)
    data, layout = card.render_card(hc1, record=record, created=NOW)
    pages = pdf_pages_as_png(data, tmp_path)
    assert len(pages) == 1 and layout.pages == 1
    assert [c.text for c in qr.decode_image(pages[0])] == [hc1]
    text = pdf_text(data)
    for word in (*LONGEST_FAMILY.split(), *LONGEST_GIVEN.split(), "Ngày cấp / Issued", "01/06/2026",
                 "Hết hạn / Expires", "01/06/2027"):  # fmt: skip
        assert word in text
    for dose in record.doses:
        assert dose.date.strftime("%d/%m/%Y") in text and f"{dose.dose_number}/{dose.series_total}" in text
    assert layout.style != "regular"  # it had to step down to fit
    assert 35 <= layout.qr_symbol_mm <= 42  # the QR code never shrinks to make room


def test_card_that_cannot_fit_is_refused_not_spilled(pki: Pki, tmp_path: Path) -> None:
    """Twenty doses and the longest names do not fit A6: a clear error, no second page; A5 holds them."""
    record = long_record(20)
    hc1 = long_hc1(pki, record)
    with pytest.raises(InputError, match=r"^page: .*does not fit on one A6 page.*20 doses.*A5"):
        card.render_card(hc1, record=record)
    data, layout = card.render_card(hc1, record=record, page="A5")
    assert layout.pages == 1 and len(pdf_pages_as_png(data, tmp_path)) == 1
    source = tmp_path / "record.json"
    source.write_text(json.dumps(record.to_json(), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "overflow.pdf"
    r = run("card", "--hc1", hc1, "--record", str(source), "-o", str(out))
    assert r.returncode == 2 and "does not fit on one A6 page" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists() and "Nguy" not in r.stderr


def test_foreign_holder_card_labels_surname_and_given_name(pki: Pki, tmp_path: Path) -> None:
    """A foreigner's surname and given name each sit under their own label (not run together family-first)."""
    payload = {"ver": "1.3.0", "nam": {"fn": "Smith-Worthington", "fnt": "SMITH<WORTHINGTON",
                                       "gn": "Elizabeth Anne", "gnt": "ELIZABETH<ANNE"},
               "dob": "1979-11-02",
               "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215",
                      "dn": 3, "sd": 3, "dt": "2026-03-02", "co": "VN", "is": "Ministry of Health of Viet Nam",
                      "ci": generate("VN")}]}  # fmt: skip
    hc1 = Issuer(pki.signer, facility_override=True).issue(payload, now=NOW).hc1
    data, layout = card.render_card(hc1)
    text = pdf_text(data)
    assert "Họ / Surname\nSmith-Worthington\nSMITH WORTHINGTON\n" in text
    assert "Tên / Given name\nElizabeth Anne\nELIZABETH ANNE\n" in text
    assert layout.style == "regular" and len(pdf_pages_as_png(data, tmp_path)) == 1
