"""vaxcert's own vector set (test_vectors/): reproducible, complete, and agreed with by the runner."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from generate_vectors import CASES, SIGNERS, FixedSaltPssSigner, case_path, load_or_create_pki

from vaxcert.cli import cli
from vaxcert.vectors import CHECKS, evaluate, load, run

REPO = Path(__file__).resolve().parents[1]
OWN_SET = REPO / "test_vectors"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The set generated afresh by the tool's command line into a temporary folder from the checked-in test keys."""
    out = tmp_path_factory.mktemp("vectors")
    made = subprocess.run([sys.executable, str(REPO / "tools" / "generate_vectors.py"), str(out), "--keys",
                           str(OWN_SET / "keys")], capture_output=True, text=True, check=False)  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    return out


def _generated_files(root: Path) -> list[str]:
    return [*sorted(p.relative_to(root).as_posix() for p in root.glob("*/2DCode/raw/*.json")), "README.md"]


def test_regeneration_is_byte_for_byte_identical(regenerated: Path) -> None:
    """Generating again from the checked-in keys reproduces every checked-in file exactly."""
    assert _generated_files(regenerated) == _generated_files(OWN_SET)
    different = [name for name in _generated_files(regenerated)
                 if (regenerated / name).read_bytes() != (OWN_SET / name).read_bytes()]
    assert different == [], "regenerate with: .venv/bin/python tools/generate_vectors.py test_vectors"


def test_generation_does_not_touch_the_keys(regenerated: Path) -> None:
    """The keys folder is only read when complete: nothing is created beside the checked-in keys."""
    assert not (regenerated / "keys").exists()
    names = {p.name for p in (OWN_SET / "keys").iterdir()}
    signers = ["csca", *(s.name for s in SIGNERS)]
    assert names == {f"TEST-ONLY-{n}.key.pem" for n in signers} | {f"{n}.pem" for n in signers}


def test_runner_agrees_with_the_whole_set() -> None:
    """Every stated expectation of every file agrees; none lacks its input."""
    report = run([OWN_SET])
    assert len(report.files) == len(CASES)
    counts = report.counts()
    assert report.ok
    assert counts["disagree"] == 0 and counts["unevaluated"] == 0 and counts["unreadable"] == 0
    assert counts["agree"] == counts["stated"] == sum(len(c.expected) for c in CASES)


def test_every_stated_expectation_can_fail() -> None:
    """Flipping the stated expectations of a file makes each of them disagree (no vacuous check)."""
    for case in CASES:
        vf = load(OWN_SET / case_path(case))
        flipped = dataclasses.replace(vf, expected={k: not v for k, v in vf.expected.items()})
        result = evaluate(flipped)
        assert sorted(result.failures) == sorted(vf.expected), case.id


def test_each_basic_list_row_has_a_case(vectors_dir: Path) -> None:
    """Every row of BasicDgcTestsList (verifier checks) has a file in common/, named by its ID."""
    rows = re.findall(r"^\|\s*([A-Z]+\d+)\s*\|", (vectors_dir / "BasicDgcTestsList.md").read_text(encoding="utf-8"),
                      re.M)
    assert len(rows) >= 40
    ids = {c.id for c in CASES if c.folder == "common"}
    assert set(rows) <= ids
    for row in ("Q2", "CO4", "CO24", "CO25", "CO26", "CO27", "DGC7", "DGC8"):
        assert (OWN_SET / f"common/2DCode/raw/{row}.json").is_file()


def test_set_covers_algorithms_types_and_vietnamese_cases() -> None:
    """Valid v/t/r for ES256, PS256-2048 and PS256-3072, and the Vietnamese cases, all stated valid."""
    by_id = {c.id: c for c in CASES}
    for label in ("ES256", "PS256-RSA2048", "PS256-RSA3072"):
        for kind in "vtr":
            case = by_id[f"{label}-{kind}"]
            assert kind in case.payload and all(case.expected[c] for c in CHECKS)
    assert by_id["booster-3of3"].payload["v"][0]["dn"] == by_id["booster-3of3"].payload["v"][0]["sd"] == 3
    assert by_id["dob-year-only"].payload["dob"] == "1958"
    assert any(ch in by_id["diacritics"].payload["nam"]["fn"] for ch in "ĐđặẶ")


def test_no_pass_cases_are_refused_for_the_stated_reason() -> None:
    """DGC7 (detected) and DGC8 (future sample) verify but grant no pass, for those reasons."""
    for case_id, reason in (("DGC7", "TEST_DETECTED"), ("DGC8", "SAMPLE_IN_FUTURE")):
        result = evaluate(load(OWN_SET / f"common/2DCode/raw/{case_id}.json"))
        assert result.checks["EXPECTEDVERIFY"].actual is True
        check = result.checks["EXPECTEDPASS"]
        assert check.actual is False and check.agree is True
        assert reason in check.note


def test_q2_picture_is_byte_mode_but_holds_the_prefix() -> None:
    """Q2's QR code decodes to exactly PREFIX; only its mode is wrong."""
    from vaxcert import qr

    vf = load(OWN_SET / "common/2DCode/raw/Q2.json")
    assert isinstance(vf.png, bytes)
    (code,) = qr.decode_image(vf.png)
    assert code.text == vf.prefix and not code.alphanumeric


def test_fixed_salt_pss_is_deterministic_and_standard() -> None:
    """The PS256 test signer repeats itself, varies its salt per message, and verifies as PSS."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = FixedSaltPssSigner(key, b"\x00" * 8)
    first, again, other = signer.sign(b"message"), signer.sign(b"message"), signer.sign(b"other")
    assert first == again and first != other and len(first) == 256
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    key.public_key().verify(first, b"message", pss, hashes.SHA256())


def test_keys_are_created_once_in_an_empty_folder(tmp_path: Path) -> None:
    """Without keys a new, consistent PKI is created; with them, nothing changes."""
    keys = tmp_path / "keys"
    shutil.copytree(OWN_SET / "keys", keys)
    (keys / "TEST-ONLY-dsc-es256-test-only.key.pem").unlink()
    before = {p.name: hashlib.sha256(p.read_bytes()).digest() for p in keys.iterdir()}
    pki = load_or_create_pki(keys)
    after = {p.name: hashlib.sha256(p.read_bytes()).digest() for p in keys.iterdir()}
    changed = sorted(n for n in after if before.get(n) != after[n])
    assert changed == ["TEST-ONLY-dsc-es256-test-only.key.pem", "dsc-es256-test-only.pem"]
    assert pki.certificates["dsc-es256-test-only"].issuer == pki.csca.subject


def test_cli_runs_the_regenerated_set(regenerated: Path) -> None:
    """`vaxcert vectors run` on a freshly generated set exits 0 and prints one JSON line per file."""
    ran = CliRunner().invoke(cli, ["vectors", "run", str(regenerated), "--format", "json"])
    assert ran.exit_code == 0, ran.output
    assert len(ran.output.splitlines()) == len(CASES)
