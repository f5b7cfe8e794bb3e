"""The CLI's message tables (English, Vietnamese) and --lang on scan, verify and registry; scan retake hints."""

from __future__ import annotations

import ast
import io
import json
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image, ImageDraw

from cli_inprocess import run
from conftest import NOW, Pki, make_pki
from test_card import vaccination
from vaxcert import FailureCode, Issuer, Verifier, qr
from vaxcert.cli import _messages, messages_en, messages_vi
from vaxcert.codes import Stage
from vaxcert.recipes import scan_image, verify_image
from vaxcert.rules import Pass, Reason

REPO = Path(__file__).resolve().parents[1]
AT = NOW.isoformat()
TABLES = {"en": messages_en.MESSAGES, "vi": messages_vi.MESSAGES}


def placeholders(template: str) -> set[str]:
    """The {names} a template fills in."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.fixture()
def vietnamese() -> Iterator[None]:
    """Messages in Vietnamese for the test, English again afterwards."""
    _messages.set_language("vi")
    yield
    _messages.set_language("en")


# --------------------------------------------------------------------------- the tables


def test_every_key_exists_in_both_tables_with_the_same_placeholders() -> None:
    """English and Vietnamese have the same keys, and each message the same placeholders in both."""
    assert set(TABLES["en"]) == set(TABLES["vi"])
    for key, english in TABLES["en"].items():
        assert placeholders(english) == placeholders(TABLES["vi"][key]), key
        assert TABLES["vi"][key].strip(), key


def test_every_failure_code_has_a_sentence() -> None:
    """Each FailureCode has a failure.<CODE> message (what `verify --lang vi` prints as the reason)."""
    for code in FailureCode:
        assert f"failure.{code}" in TABLES["en"], code
    assert {k for k in TABLES["en"] if k.startswith("failure.")} == {f"failure.{c}" for c in FailureCode}


def _library_source() -> str:
    """Every string literal of the library (f-string parts included; implicit concatenation joined), one per line."""
    pieces: list[str] = []
    for path in (REPO / "src" / "vaxcert").rglob("*.py"):
        if path.name in {"messages_en.py", "messages_vi.py", "_messages.py"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                pieces.append("\x00".join(v.value if isinstance(v, ast.Constant) else "" for v in node.values))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                pieces.append(node.value)
    return "\n".join(pieces)


def test_library_patterns_still_occur_in_the_library() -> None:
    """Every lib.* English text (between its placeholders) is still written by the library.

    When a library message is reworded, this fails: update messages_en.py and messages_vi.py too.
    """
    source = _library_source()
    for key, template in TABLES["en"].items():
        if not key.startswith("lib."):
            continue
        for literal in re.split(r"\{\w+\}", template):
            assert len(literal.strip()) < 3 or literal in source, f"{key}: {literal!r} no longer in src/vaxcert"


def test_every_library_pattern_translates_to_its_own_entry(vietnamese: None) -> None:
    """Each lib.* message, filled with sample values, comes out as its own Vietnamese entry (no pattern shadows it)."""
    for key, template in TABLES["en"].items():
        if not key.startswith("lib."):
            continue
        values = {name: f"V{i}x" for i, name in enumerate(sorted(placeholders(template)))}
        assert _messages.translate(template.format(**values)) == TABLES["vi"][key].format(**values), key


def test_nested_and_unknown_messages(vietnamese: None) -> None:
    """`path: message`, `message (CODE)` and {detail} are translated inside; unknown text stays as written."""
    assert _messages.translate("trust.cose: document signature does not verify (TRUST_LIST_INVALID)") == (
        "trust.cose: chữ ký của tài liệu không hợp lệ (TRUST_LIST_INVALID)")
    assert _messages.translate("doses[1].date: must be a date YYYY-MM-DD") == (
        "doses[1].date: phải là ngày dạng YYYY-MM-DD")
    assert _messages.translate("keys: trusts kid 00ff, a published test key dsc-es256: anyone can sign "
                               "certificates with it; never trust test keys outside tests").startswith(
        "keys: đang tin cậy kid 00ff, là khoá thử nghiệm đã công bố dsc-es256: ")
    assert _messages.translate("v[0].mp: unknown vaccine product (vaccine-medicinal-product)") == (
        "v[0].mp: vắc xin không xác định (vaccine-medicinal-product)")
    assert _messages.translate("something nobody wrote a pattern for") == "something nobody wrote a pattern for"
    _messages.set_language("en")
    assert _messages.translate("doses[1].date: must be a date YYYY-MM-DD") == "doses[1].date: must be a date YYYY-MM-DD"


# --------------------------------------------------------------------------- the commands


@pytest.fixture(scope="module")
def certificate(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """An HC1 string, the folder of its signer certificate, and one of a stranger's."""
    root = tmp_path_factory.mktemp("lang")
    mine, other = root / "mine", root / "other"
    mine.mkdir()
    other.mkdir()
    (mine / "dsc.pem").write_bytes(pki.dsc.public_bytes(Encoding.PEM))
    (other / "dsc.pem").write_bytes(make_pki().dsc.public_bytes(Encoding.PEM))
    return Issuer(pki.signer, facility_override=True).issue(vaccination(), now=NOW).hc1, mine, other


def test_verify_speaks_vietnamese(certificate: tuple[str, Path, Path]) -> None:
    """verify --lang vi: the verdict words, the reason of a failure and configuration errors in Vietnamese."""
    hc1, mine, other = certificate
    r = run("verify", "--lang", "vi", "--trust", str(mine), "--at", AT, hc1)
    assert r.returncode == 0 and r.stdout.startswith("HỢP LỆ format=eu-dcc type=v ")
    r = run("verify", "--lang", "vi", "--trust", str(other), "--at", AT, hc1)
    assert r.returncode == 1
    assert r.stdout.strip() == ("KHÔNG HỢP LỆ format=eu-dcc code=KID_UNKNOWN stage=trust "
                                "reason=bên ký không có trong danh sách tin cậy")
    r = run("verify", "--lang", "vi", "--at", AT, hc1)
    assert r.returncode == 2 and r.stderr.startswith("lỗi: chưa cấu hình tin cậy: dùng --trust")
    assert "Traceback" not in r.stderr


def test_verify_english_is_unchanged(certificate: tuple[str, Path, Path]) -> None:
    """Without --lang, verify prints what it always printed (tools parse it)."""
    hc1, _, other = certificate
    r = run("verify", "--trust", str(other), "--at", AT, hc1)
    assert r.stdout.strip() == ("INVALID format=eu-dcc code=KID_UNKNOWN stage=trust "
                                "reason=no trusted signer with this kid")
    r = run("verify", "--at", AT, hc1)
    assert r.stderr.startswith("error: no trust configured: pass --trust")


def test_vaxcert_lang_environment_variable(certificate: tuple[str, Path, Path]) -> None:
    """VAXCERT_LANG=vi gives Vietnamese without --lang; --lang wins over it."""
    hc1, _, other = certificate
    r = run("verify", "--trust", str(other), "--at", AT, hc1, env={"VAXCERT_LANG": "vi"})
    assert r.stdout.startswith("KHÔNG HỢP LỆ")
    r = run("verify", "--lang", "en", "--trust", str(other), "--at", AT, hc1, env={"VAXCERT_LANG": "vi"})
    assert r.stdout.startswith("INVALID")


def test_scan_errors_follow_its_language(certificate: tuple[str, Path, Path], tmp_path: Path) -> None:
    """scan (Vietnamese by default) writes its errors in Vietnamese too; --lang en in English."""
    missing = tmp_path / "policy.toml"
    missing.write_text("unknown_setting = 1\n", encoding="utf-8")
    picture = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(picture)
    r = run("scan", "--trust", str(certificate[1]), "--policy", str(missing), str(picture))
    assert r.returncode == 2 and r.stderr.strip() == "lỗi: chính sách: thiết lập không xác định 'unknown_setting'"
    r = run("scan", "--lang", "en", "--trust", str(certificate[1]), "--policy", str(missing), str(picture))
    assert r.stderr.strip() == "error: policy: unknown setting 'unknown_setting'"
    r = run("scan", str(picture))
    assert r.returncode == 2 and r.stderr.startswith("lỗi: chưa cấu hình tin cậy")


def test_registry_speaks_vietnamese(tmp_path: Path) -> None:
    """registry --lang vi: unknown URL, unknown person and rejected import rows in Vietnamese (fields kept)."""
    r = run("registry", "init", "--lang", "vi", "--db", "mysql://x")
    assert r.returncode == 2
    assert r.stderr.strip() == "lỗi: địa chỉ sổ đăng ký phải bắt đầu bằng sqlite:/// hoặc postgresql://"
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert run("registry", "init", "--db", db).returncode == 0
    r = run("registry", "--lang", "vi", "status", "--db", db, "--person", "001090012345")
    assert r.returncode == 1 and r.stderr.strip() == "không có người này trong sổ đăng ký"
    rows = tmp_path / "doses.csv"
    rows.write_text("citizen_id,family_name,given_name,dob,date,product,dose_number,series_total,facility\n"
                    "001090012345,Lê,Văn An,1990-02-30,2021-08-01,EU/1/20/1528,1,2,VN-HN-001\n",
                    encoding="utf-8")  # fmt: skip
    r = run("registry", "import", "--lang", "vi", "--db", db, "--quiet", "--at", AT, str(rows))
    assert r.returncode == 1
    assert "bị từ chối dòng 2: dob: không phải là ngày có thật" in r.stderr
    assert "Lê" not in r.stderr and "001090012345" not in r.stderr
    r = run("registry", "import", "--db", db, "--quiet", "--at", AT, str(rows))
    assert "rejected line 2: dob: is not a calendar date" in r.stderr


# --------------------------------------------------------------------------- scan retake hints


def damaged(hc1: str) -> Image.Image:
    """A QR code whose middle is painted over: the symbol is found, its data cannot be corrected."""
    image = Image.open(io.BytesIO(qr.render_png(hc1, scale=4))).convert("L")
    draw = ImageDraw.Draw(image)
    w, h = image.size
    draw.rectangle([w * 0.2, h * 0.2, w * 0.8, h * 0.8], fill=255)  # finder patterns intact, data beyond repair
    return image


def test_found_but_undecodable_code_is_not_no_qr(certificate: tuple[str, Path, Path], pki: Pki) -> None:
    """A damaged code gives QR_UNREADABLE (found, not decodable); a blank picture NO_QR_FOUND; both say what to do."""
    picture = damaged(certificate[0])
    result = verify_image(picture, Verifier(pki.trust), now=NOW)
    assert (result.code, result.stage) == (FailureCode.QR_UNREADABLE, Stage.IMAGE)
    (verdict,) = scan_image(picture, Verifier(pki.trust), now=NOW)
    assert verdict.colour is Pass.RED and verdict.assessment.reason is Reason.QR_UNREADABLE
    assert "could not be read" in verdict.assessment.message("en") and "Retake" in verdict.assessment.message("en")
    assert "không đọc được" in verdict.assessment.message("vi")
    (blank,) = scan_image(Image.new("L", (300, 300), 255), Verifier(pki.trust), now=NOW)
    assert blank.assessment.reason is Reason.NO_QR_FOUND
    hint = blank.assessment.message("en")
    assert "hold the phone steady" in hint and "fill most of the frame" in hint and "add light" in hint
    assert "giữ máy thật chắc" in blank.assessment.message("vi")


def test_scan_command_prints_the_retake_hints(certificate: tuple[str, Path, Path], tmp_path: Path) -> None:
    """`vaxcert scan` shows the hint for a damaged code and for a picture without one, in both languages."""
    damaged(certificate[0]).save(tmp_path / "damaged.png")
    Image.new("L", (300, 300), 255).save(tmp_path / "blank.png")
    r = run("scan", "--trust", str(certificate[1]), "--at", AT, "--lang", "en", "--format", "json", str(tmp_path))
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(Path(x["file"]).name, x["reason"]) for x in lines] == [("blank.png", "NO_QR_FOUND"),
                                                                     ("damaged.png", "QR_UNREADABLE")]
    assert r.returncode == 1 and all("Retake" in x["message"] for x in lines)
    r = run("scan", "--trust", str(certificate[1]), "--at", AT, str(tmp_path / "damaged.png"))
    assert "Thấy mã QR nhưng không đọc được" in r.stdout
