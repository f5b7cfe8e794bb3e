"""``vaxcert scan``: checkpoint mode over pictures, directories and HC1 lines on stdin."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import segno
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image

from conftest import NOW, Pki
from vaxcert import Issuer, KeySigner, qr
from vaxcert.cli import cli
from vaxcert.dcc.uvci import generate
from vaxcert.stages import cose
from vaxcert.trust.revocation import RevocationList

AT = NOW.isoformat()
FIELDS = {"file", "index", "format", "valid", "code", "stage", "pass", "reason", "message", "type", "kid", "issued_at",
          "expires_at", "valid_from", "valid_until"}


def vaccination(dn: int, sd: int, days_ago: int) -> dict[str, Any]:
    """A vaccination payload whose dose was ``days_ago`` days before NOW."""
    when = (NOW - dt.timedelta(days=days_ago)).date().isoformat()
    return {"ver": "1.3.0", "nam": {"fn": "Lê", "gn": "Thị Hồng", "fnt": "LE", "gnt": "THI<HONG"},
            "dob": "1985-02-03",
            "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215",
                   "dn": dn, "sd": sd, "dt": when, "co": "VN", "is": "Bộ Y tế", "ci": generate("VN")}]}


def png(text: str) -> Image.Image:
    """A rendered QR code as a grey Pillow image."""
    return Image.open(io.BytesIO(qr.render_png(text))).convert("L")


def side_by_side(*images: Image.Image) -> Image.Image:
    """One picture holding several codes with white space between them."""
    gap = 40
    width = sum(i.width for i in images) + gap * (len(images) - 1)
    out = Image.new("L", (width, max(i.height for i in images)), 255)
    x = 0
    for image in images:
        out.paste(image, (x, 0))
        x += image.width + gap
    return out


@dataclass(frozen=True)
class Scene:
    """Pictures and trust for the tests."""

    root: Path
    trust: Path
    green: str
    yellow: str
    uvci: str

    def path(self, name: str) -> str:
        return str(self.root / name)


@pytest.fixture(scope="module")
def scene(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Scene:
    """A DSC file and a folder of pictures: certificates, a URL code, a blank and a broken file."""
    root = tmp_path_factory.mktemp("scan")
    trust = root / "dsc.pem"
    trust.write_bytes(pki.dsc.public_bytes(Encoding.PEM))
    issuer = Issuer(pki.signer, facility_override=True)
    green_payload = vaccination(2, 2, 40)
    green = issuer.issue(green_payload, now=NOW).hc1
    yellow = issuer.issue(vaccination(1, 2, 20), now=NOW).hc1
    pics = root / "pics"
    (pics / "more").mkdir(parents=True)
    png(green).save(pics / "green.png")
    png(yellow).convert("RGB").save(pics / "more" / "yellow.jpg", quality=92)
    url = Image.open(io.BytesIO(_segno_png("https://example.org/check-in?id=42"))).convert("L")
    url.save(root / "url.png")
    Image.new("L", (320, 240), 255).save(root / "blank.png")
    side_by_side(png(green), url, png(yellow)).save(root / "three.png")
    (root / "broken.png").write_bytes(b"not an image at all")
    (pics / "notes.txt").write_text("skipped: not an image suffix")
    return Scene(root, trust, green, yellow, green_payload["v"][0]["ci"])


def _segno_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=6)
    return buffer.getvalue()


def scan(scene: Scene, *args: str, stdin: str | None = None) -> Result:
    """Run ``vaxcert scan`` in-process with the scene's trust at NOW."""
    return CliRunner().invoke(cli, ["scan", "--trust", str(scene.trust), "--at", AT, *args], input=stdin)


def json_lines(result: Result) -> list[dict[str, Any]]:
    """The JSON objects printed, one per line."""
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_certificates_in_a_directory(scene: Scene) -> None:
    """A directory is scanned recursively for pictures: GREEN and YELLOW lines, exit 0."""
    r = scan(scene, "--format", "json", scene.path("pics"))
    assert r.exit_code == 0, r.output
    lines = json_lines(r)
    assert [(Path(x["file"]).name, x["pass"], x["reason"]) for x in lines] == [
        ("green.png", "GREEN", "FULLY_VACCINATED"),
        ("yellow.jpg", "YELLOW", "PARTIALLY_VACCINATED"),
    ]
    assert all(set(x) == FIELDS for x in lines)
    first = lines[0]
    assert first["valid"] is True and first["code"] == "OK" and first["type"] == "v"
    assert first["kid"] and first["issued_at"] == "2026-06-01T08:00:00Z" and first["valid_until"]


def test_url_code_is_not_a_certificate(scene: Scene) -> None:
    """A QR code holding a URL is its own RED NOT_A_CERTIFICATE line; exit 1."""
    r = scan(scene, "--format", "json", scene.path("url.png"))
    assert r.exit_code == 1
    (line,) = json_lines(r)
    assert (line["pass"], line["reason"], line["code"], line["valid"]) == (
        "RED", "NOT_A_CERTIFICATE", "NOT_A_CERTIFICATE", False)


def test_blank_and_broken_images(scene: Scene) -> None:
    """A picture without a code gives NO_QR_FOUND, an unreadable file IMAGE_UNREADABLE."""
    r = scan(scene, "--format", "json", scene.path("blank.png"), scene.path("broken.png"))
    assert r.exit_code == 1
    assert [(x["index"], x["reason"]) for x in json_lines(r)] == [(0, "NO_QR_FOUND"), (0, "IMAGE_UNREADABLE")]


def test_several_codes_in_one_picture(scene: Scene) -> None:
    """Every code of a picture gets a line with its own index."""
    r = scan(scene, "--format", "json", "--lang", "en", scene.path("three.png"))
    lines = json_lines(r)
    assert sorted(x["index"] for x in lines) == [0, 1, 2]
    assert sorted(x["reason"] for x in lines) == ["FULLY_VACCINATED", "NOT_A_CERTIFICATE", "PARTIALLY_VACCINATED"]
    assert r.exit_code == 1


def test_stdin_lines(scene: Scene) -> None:
    """'-' reads one HC1 string per line; blank lines are skipped, other text is NOT_A_CERTIFICATE."""
    r = scan(scene, "--format", "json", "-", stdin=f"{scene.green}\n\n  {scene.yellow}  \nhello\n")
    lines = json_lines(r)
    assert [(x["file"], x["index"], x["pass"]) for x in lines] == [
        ("-", 0, "GREEN"), ("-", 1, "YELLOW"), ("-", 2, "RED")]
    assert lines[2]["reason"] == "NOT_A_CERTIFICATE"


def test_binary_garbage_on_stdin(scene: Scene) -> None:
    """Bytes that are not text on stdin give NOT_A_CERTIFICATE lines, not a crash."""
    r = CliRunner().invoke(cli, ["scan", "--trust", str(scene.trust), "--at", AT, "--format", "json", "-"],
                           input=b"\xff\xfe\x00garbage\nHC1:\xc3\x28\n")
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert [x["pass"] for x in json_lines(r)] == ["RED", "RED"]
    assert [x["reason"] for x in json_lines(r)] == ["NOT_A_CERTIFICATE", "NOT_AUTHENTIC"]


def test_empty_directory_warns(scene: Scene, tmp_path: Path) -> None:
    """A directory without pictures prints a warning (Vietnamese by default, like the verdicts) and no verdict."""
    r = scan(scene, str(tmp_path))
    assert r.exit_code == 0 and r.stdout == "" and "cảnh báo: " in r.stderr and "không có ảnh nào" in r.stderr
    r = scan(scene, "--lang", "en", str(tmp_path))
    assert r.exit_code == 0 and r.stdout == "" and "warning: " in r.stderr and "no pictures" in r.stderr


def test_text_output_in_vietnamese(scene: Scene) -> None:
    """Text lines show the colour and message in Vietnamese by default."""
    r = scan(scene, scene.path("pics"))
    assert r.exit_code == 0
    green, yellow = r.stdout.splitlines()
    assert green.endswith("FULLY_VACCINATED\tĐã tiêm đủ liều (2/2 mũi); thẻ có hiệu lực đến hết ngày "
                          f"{_last_day(40)}.")
    assert "\tXANH" in green.replace(" ", "") and "VÀNG" in yellow and "Đã tiêm 1/2 mũi" in yellow


def _last_day(days_ago: int) -> str:
    """The last day (dd/mm/yyyy) of a 365-day pass from a dose ``days_ago`` before NOW."""
    dose = (NOW - dt.timedelta(days=days_ago)).date()
    return (dose + dt.timedelta(days=364)).strftime("%d/%m/%Y")


def test_text_output_in_english(scene: Scene) -> None:
    """--lang en switches colours and messages to English; failures show their code."""
    r = scan(scene, "--lang", "en", scene.path("url.png"), scene.path("pics"))
    out = r.stdout.splitlines()
    assert "RED" in out[0] and "The QR code is not a health certificate. [NOT_A_CERTIFICATE]" in out[0]
    assert "GREEN" in out[1] and "Fully vaccinated (2/2 doses)" in out[1]


def test_policy_file(scene: Scene, tmp_path: Path) -> None:
    """--policy loads a policy: refusing partial vaccination makes the yellow picture RED."""
    policy = tmp_path / "strict.toml"
    policy.write_text("partial_accepted = false\n")
    r = scan(scene, "--format", "json", "--policy", str(policy), scene.path("pics"))
    assert [x["reason"] for x in json_lines(r)] == ["FULLY_VACCINATED", "PARTIAL_NOT_ACCEPTED"]
    assert r.exit_code == 1


def test_time_option_changes_the_verdict(scene: Scene) -> None:
    """--at is the checking time: two years later the certificate has expired."""
    later = (NOW + dt.timedelta(days=730)).isoformat()
    r = CliRunner().invoke(cli, ["scan", "--trust", str(scene.trust), "--at", later, "--format", "json",
                                 scene.path("pics/green.png")])
    (line,) = json_lines(r)
    assert (line["pass"], line["reason"], line["code"]) == ("RED", "CERTIFICATE_EXPIRED", "EXPIRED")


def test_no_personal_data_in_output(scene: Scene) -> None:
    """Neither names, birth date, UVCI nor the HC1 text are printed, in either format."""
    for fmt in ("text", "json"):
        r = scan(scene, "--format", fmt, scene.path("three.png"), "-", stdin=scene.green + "\n")
        for secret in ("Lê", "LE<", "Hồng", "HONG", "1985", scene.uvci, scene.green[:30]):
            assert secret not in r.output


def test_progress_forced_on_a_non_terminal(scene: Scene) -> None:
    """--progress prints one progress line per picture on stderr; without it stderr stays empty."""
    r = scan(scene, "--progress", scene.path("pics"))
    assert r.stderr.count("scan [") == 2 and "[2/2]" in r.stderr
    assert scan(scene, scene.path("pics")).stderr == ""


def test_dash_twice_is_a_usage_error(scene: Scene) -> None:
    """'-' may appear once."""
    r = scan(scene, "-", "-", stdin="")
    assert r.exit_code == 2


def test_without_trust_exits_2(scene: Scene) -> None:
    """No --trust is a configuration error: exit 2 with a message naming --trust."""
    r = subprocess.run([sys.executable, "-m", "vaxcert.cli", "scan", scene.path("blank.png")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--trust" in r.stderr


def test_revoked_certificate_is_red(pki: Pki, tmp_path: Path) -> None:
    """With --csca and a signed --revocation list, a revoked certificate is RED REVOKED, others pass."""
    payload = vaccination(2, 2, 40)
    revoked = Issuer(pki.signer, facility_override=True).issue(payload, now=NOW)
    good = Issuer(pki.signer, facility_override=True).issue(vaccination(2, 2, 40), now=NOW)
    ministry = KeySigner(pki.csca_key, pki.csca)
    listing = RevocationList().with_certificate(cose.decode(revoked.cose), payload)
    (tmp_path / "revoked.cose").write_bytes(listing.sign(ministry, now=NOW, valid_for=dt.timedelta(days=2)))
    (tmp_path / "csca.pem").write_bytes(pki.csca.public_bytes(Encoding.PEM))
    (tmp_path / "dsc.pem").write_bytes(pki.dsc.public_bytes(Encoding.PEM))
    r = CliRunner().invoke(cli, ["scan", "--trust", str(tmp_path / "dsc.pem"), "--csca", str(tmp_path / "csca.pem"),
                                 "--revocation", str(tmp_path / "revoked.cose"), "--at", AT, "--format", "json",
                                 "-"], input=f"{good.hc1}\n{revoked.hc1}\n")
    assert [(x["pass"], x["reason"]) for x in json_lines(r)] == [("GREEN", "FULLY_VACCINATED"), ("RED", "REVOKED")]
    assert r.exit_code == 1
