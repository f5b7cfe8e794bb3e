"""The published test keys: the generator keeps them apart from real keys, and verifiers warn about them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from generate_vectors import SIGNERS, TEST_ONLY_MARK, check_keys_folder, fingerprints, load_or_create_pki

from cli_inprocess import run
from conftest import NOW, make_pki
from vaxcert import ConfigurationError, load_verifier, save_private_key
from vaxcert.pki.certificates import create_dsc
from vaxcert.pki.keys import generate_private_key
from vaxcert.trust import TrustList, find_published_test_keys, published_test_keys

REPO = Path(__file__).resolve().parents[1]
KEYS = REPO / "test_vectors" / "keys"
DATA = REPO / "src" / "vaxcert" / "data" / "published_test_keys.json"


def generator(*args: str) -> subprocess.CompletedProcess[str]:
    """Run tools/generate_vectors.py."""
    return subprocess.run([sys.executable, str(REPO / "tools" / "generate_vectors.py"), *args],
                          capture_output=True, text=True, check=False, timeout=300)  # fmt: skip


def real_signer_folder(folder: Path) -> None:
    """A facility signer folder as `vaxcert keys issue-dsc` writes it (dsc.pem, dsc.key.pem)."""
    pki = make_pki()
    folder.mkdir(parents=True)
    (folder / "dsc.pem").write_bytes(pki.dsc.public_bytes(Encoding.PEM))
    save_private_key(pki.dsc_key, folder / "dsc.key.pem", b"a real password")


def test_generator_refuses_a_folder_with_real_keys(tmp_path: Path) -> None:
    """--keys pointing at a real signer folder: exit 2, a message saying why, and nothing written there."""
    signer = tmp_path / "hn001"
    real_signer_folder(signer)
    before = sorted(p.name for p in signer.iterdir())
    made = generator(str(tmp_path / "out"), "--keys", str(signer))
    assert made.returncode == 2, made.stdout + made.stderr
    assert "refusing to write vaxcert's published TEST-ONLY keys" in made.stderr
    assert "dsc" in made.stderr and "Traceback" not in made.stderr
    assert sorted(p.name for p in signer.iterdir()) == before
    assert not (tmp_path / "out").exists()


def test_generator_refuses_an_output_folder_holding_keys(tmp_path: Path) -> None:
    """An output folder with a certificate in it (outside the test keys folder) is refused."""
    out = tmp_path / "out"
    real_signer_folder(out / "signers")
    made = generator(str(out), "--keys", str(KEYS))
    assert made.returncode == 2 and "is a key or certificate in the output folder" in made.stderr
    assert not (out / "README.md").exists()


def test_old_test_keys_without_the_marking_are_refused(tmp_path: Path) -> None:
    """A test set whose certificates do not say TEST ONLY (the old set) must be recreated, not reused."""
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "csca.pem").write_bytes(make_pki().csca.public_bytes(Encoding.PEM))
    with pytest.raises(ConfigurationError, match="does not say TEST ONLY"):
        check_keys_folder(keys)
    (keys / "csca.pem").unlink()
    (keys / "TEST-ONLY-csca.key.pem").write_text("-----BEGIN PRIVATE KEY-----\n", encoding="ascii")
    with pytest.raises(ConfigurationError, match="without the TEST-ONLY banner"):
        check_keys_folder(keys)


def test_an_empty_or_new_folder_gets_a_marked_test_pki(tmp_path: Path) -> None:
    """In an empty folder new test keys are created; every certificate says TEST ONLY in its subject."""
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "notes.txt").write_text("not a key", encoding="utf-8")
    pki = load_or_create_pki(tmp_path / "keys")
    for cert in (pki.csca, *pki.certificates.values()):
        assert TEST_ONLY_MARK in cert.subject.rfc4514_string()


def test_checked_in_test_certificates_say_test_only() -> None:
    """Every certificate in test_vectors/keys says TEST ONLY in its subject (common name)."""
    for name in ["csca", *(s.name for s in SIGNERS)]:
        cert = x509.load_pem_x509_certificate((KEYS / f"{name}.pem").read_bytes())
        common_names = [a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
        assert any(TEST_ONLY_MARK in str(cn) for cn in common_names), name


def test_the_warning_list_holds_every_checked_in_test_key() -> None:
    """src/vaxcert/data/published_test_keys.json lists every key of test_vectors/keys as current."""
    listed = {(k.name, k.kid.hex(), k.spki_sha256.hex()) for k in published_test_keys() if k.status == "current"}
    current = {(f["name"], f["kid"], f["spki_sha256"]) for f in fingerprints(load_or_create_pki(KEYS))}
    assert current == listed, ("regenerate with: .venv/bin/python tools/generate_vectors.py test_vectors "
                               "--fingerprints src/vaxcert/data/published_test_keys.json")
    assert json.loads(DATA.read_text(encoding="utf-8"))["format"] == "vaxcert.published-test-keys/1"
    assert any(k.status == "retired" for k in published_test_keys())  # keys published before stay listed


def test_load_verifier_warns_about_published_test_keys() -> None:
    """Trusting test_vectors/keys gives one warning per test DSC (by kid); still verifies (tests need it)."""
    loaded = load_verifier(trust=[KEYS], now=NOW)
    warnings = [w for w in loaded.warnings if "published test key" in w]
    assert len(warnings) >= len(SIGNERS)
    assert all("never trust test keys outside tests" in w for w in warnings)


def test_a_test_only_certificate_is_flagged_by_its_subject(tmp_path: Path) -> None:
    """A certificate not in the list but marked TEST ONLY is flagged too; an ordinary DSC is not."""
    pki = make_pki()
    key = generate_private_key("ec")
    marked = create_dsc(key, csca=pki.csca, csca_key=pki.csca_key, facility_id="VN-HN-001",
                        facility_name="Clinic TEST ONLY", now=NOW)  # fmt: skip
    flagged = find_published_test_keys(TrustList.from_certificates([marked, pki.dsc]))
    assert [what for _, what in flagged] == ["certificate marked TEST ONLY"]
    folder = tmp_path / "trust"
    folder.mkdir()
    (folder / "real.pem").write_bytes(pki.dsc.public_bytes(Encoding.PEM))
    assert load_verifier(trust=[folder], now=NOW).warnings == ()


def test_cli_prints_the_warning_and_no_personal_data() -> None:
    """`vaxcert verify --trust test_vectors/keys` warns on stderr naming kids only."""
    hc1 = json.loads((REPO / "test_vectors/VN/2DCode/raw/ES256-v.json").read_text(encoding="utf-8"))["PREFIX"]
    r = run("verify", "--trust", str(KEYS), "--at", "2026-06-01T08:00:00Z", hc1)
    assert r.returncode == 0 and r.stdout.startswith("VALID")
    assert "published test key dsc-es256" in r.stderr and hc1[:20] not in r.stderr


def test_an_ordinary_pki_is_not_flagged() -> None:
    """The signers of an ordinary ministry PKI are not taken for test keys."""
    assert find_published_test_keys(make_pki().trust) == []
