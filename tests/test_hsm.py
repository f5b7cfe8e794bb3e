"""PKCS#11 signing against SoftHSM2: keys generated in the token, ES256 / PS256, never exported."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from cli_inprocess import run
from conftest import NOW, Pki, require_service
from test_issue_verify import VACCINATION
from vaxcert import Issuer, TrustList, Verifier
from vaxcert.errors import ConfigurationError, SigningError
from vaxcert.pki.certificates import create_dsc, csr_public_key
from vaxcert.pki.hsm import HsmConfig, HsmSigner, HsmToken
from vaxcert.pki.keys import Signer, kid_of
from vaxcert.stages import cose

pytestmark = pytest.mark.hsm


@pytest.fixture(scope="module")
def token() -> Iterator[HsmToken]:
    """A logged-in session on the SoftHSM token of scripts/start-services.sh."""
    require_service("VAXCERT_PKCS11_MODULE")
    with HsmToken(HsmConfig.from_env(os.environ)) as opened:
        yield opened


@pytest.fixture
def label(token: HsmToken) -> Iterator[str]:
    """A key label unique to this test (xdist workers share the token); the key is destroyed after."""
    name = f"test-{uuid.uuid4().hex[:16]}"
    yield name
    token.delete_key(name)


def _dsc(pki: Pki, public_key: Any, facility: str = "VN-HN-001") -> x509.Certificate:
    return create_dsc(public_key, csca=pki.csca, csca_key=pki.csca_key, facility_id=facility,
                      facility_name="HSM facility", now=NOW - dt.timedelta(days=1))


def _raw_session() -> Any:
    """A second, independent PKCS#11 session on the token, as any other program would open."""
    import pkcs11

    lib = pkcs11.lib(os.environ["VAXCERT_PKCS11_MODULE"])
    tok = lib.get_token(token_label=os.environ["VAXCERT_HSM_TOKEN"])
    try:
        return tok.open(rw=True, user_pin=os.environ["VAXCERT_HSM_PIN"])
    except pkcs11.exceptions.UserAlreadyLoggedIn:
        return tok.open(rw=True)


@pytest.mark.parametrize(("kind", "algorithm", "length"), [("ec", "ES256", 64), ("rsa2048", "PS256", 256)])
def test_token_key_signs_verifiable_certificates(pki: Pki, token: HsmToken, label: str, kind: str,
                                                 algorithm: str, length: int) -> None:
    """A key generated in the token signs a certificate that vaxcert's verifier accepts."""
    dsc = _dsc(pki, token.generate_key(label, kind))  # type: ignore[arg-type]
    signer = token.signer(label, dsc)
    assert isinstance(signer, Signer)
    cert = Issuer(signer, facility_override=True).issue(VACCINATION, now=NOW)
    assert len(cose.decode(cert.cose).signature) == length
    result = Verifier(TrustList.from_certificates([dsc])).verify(cert.hc1, now=NOW + dt.timedelta(hours=1))
    assert result.valid, result
    assert result.algorithm == algorithm


def test_es256_signature_is_raw_r_s(pki: Pki, token: HsmToken, label: str) -> None:
    """ES256 signatures from the token are raw r‖s that verify with the public key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    public = token.generate_key(label, "ec")
    assert isinstance(public, ec.EllipticCurvePublicKey)
    signature = token.signer(label, _dsc(pki, public)).sign(b"sig structure")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public.verify(der, b"sig structure", ec.ECDSA(hashes.SHA256()))


def test_token_key_is_never_exported(token: HsmToken, label: str) -> None:
    """The private key is sensitive and non-extractable: its value, a wrap, or re-enabling export all fail."""
    import pkcs11

    token.generate_key(label, "rsa2048")
    assert token.key_protection(label) == {
        "sensitive": True, "extractable": False, "always_sensitive": True,
        "never_extractable": True, "local": True, "private": True,
    }
    session = _raw_session()
    try:
        key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=label)
        with pytest.raises(pkcs11.exceptions.PKCS11Error):
            key[pkcs11.Attribute.PRIVATE_EXPONENT]
        with pytest.raises(pkcs11.exceptions.PKCS11Error):
            key[pkcs11.Attribute.EXTRACTABLE] = True
        wrapping = session.generate_key(pkcs11.KeyType.AES, 256, label=f"{label}-wrap", store=False)
        with pytest.raises(pkcs11.exceptions.PKCS11Error):
            wrapping.wrap_key(key, mechanism=pkcs11.Mechanism.AES_KEY_WRAP_PAD)
        assert key[pkcs11.Attribute.EXTRACTABLE] is False
    finally:
        session.close()


def test_ec_key_value_is_sensitive(token: HsmToken, label: str) -> None:
    """The EC private value cannot be read from the token."""
    import pkcs11

    token.generate_key(label, "ec")
    session = _raw_session()
    try:
        key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=label)
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            key[pkcs11.Attribute.VALUE]
    finally:
        session.close()


def test_signer_refuses_foreign_certificate(pki: Pki, token: HsmToken, label: str) -> None:
    """A token key cannot be paired with a certificate for another key."""
    token.generate_key(label, "ec")
    with pytest.raises(ConfigurationError, match="does not belong"):
        token.signer(label, pki.dsc)


def test_label_in_use_and_missing_label(token: HsmToken, label: str) -> None:
    """Generating over an existing label is refused; a missing label is a clear error."""
    token.generate_key(label, "ec")
    assert token.has_key(label)
    with pytest.raises(ConfigurationError, match="already holds"):
        token.generate_key(label, "ec")
    with pytest.raises(ConfigurationError, match="no public key"):
        token.public_key(f"{label}-absent")


def test_csr_flow(pki: Pki, token: HsmToken, label: str) -> None:
    """The token signs a PKCS#10 request; the ministry issues a DSC for its key; a forged request is refused."""
    public = token.generate_key(label, "ec")
    request = token.create_csr(label, common_name="Bach Mai Hospital")
    requested = csr_public_key(request)
    assert requested.public_numbers() == public.public_numbers()  # type: ignore[union-attr]
    dsc = _dsc(pki, requested)
    signer = token.signer(label, dsc)
    assert isinstance(signer, HsmSigner) and signer.kid == kid_of(dsc)
    forged = bytearray(request)
    forged[-3] ^= 0x01
    with pytest.raises(ConfigurationError):
        csr_public_key(bytes(forged))
    pem = x509.load_der_x509_csr(request).public_bytes(serialization.Encoding.PEM)
    assert csr_public_key(pem).public_numbers() == public.public_numbers()  # type: ignore[union-attr]


def test_threads_share_one_token(pki: Pki, token: HsmToken, label: str) -> None:
    """Several threads signing through one session all get valid signatures."""
    dsc = _dsc(pki, token.generate_key(label, "ec"))
    signer = token.signer(label, dsc)
    trust = TrustList.from_certificates([dsc])
    results: list[bool] = []

    def work() -> None:
        for _ in range(5):
            cert = Issuer(signer, facility_override=True).issue(VACCINATION, now=NOW)
            results.append(Verifier(trust).verify(cert.hc1, now=NOW).valid)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 20


def test_signer_refuses_other_process(pki: Pki, token: HsmToken, label: str) -> None:
    """After a fork the child cannot use the parent's session (it must open its own)."""
    signer = token.signer(label, _dsc(pki, token.generate_key(label, "ec")))
    pid = os.fork()
    if pid == 0:  # child: report through the exit status only
        try:
            signer.sign(b"data")
        except SigningError:
            os._exit(0)
        os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(signer.sign(b"data")) == 64


def test_config_and_reprs_hide_the_pin(token: HsmToken) -> None:
    """The PIN appears in no repr; a missing variable is named in the error."""
    pin = os.environ["VAXCERT_HSM_PIN"]
    assert pin not in repr(HsmConfig.from_env(os.environ))
    assert pin not in repr(token)
    with pytest.raises(ConfigurationError, match="VAXCERT_HSM_PIN"):
        HsmConfig.from_env({"VAXCERT_PKCS11_MODULE": "x", "VAXCERT_HSM_TOKEN": "y"})


def test_cli_hsm_dsc_and_issue(tmp_path: Path, token: HsmToken, label: str) -> None:
    """keys issue-dsc --hsm generates the key in the token; issue --hsm-key signs with it."""
    assert run("keys", "init-ministry", "--country", "VN", "--out", str(tmp_path / "m")).returncode == 0
    r = run("keys", "issue-dsc", "--ministry", str(tmp_path / "m"), "--facility-id", "VN-HN-001",
            "--name", "HSM Hospital", "--out", str(tmp_path / "f"), "--hsm", label)
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "f" / "dsc.key.pem").exists() and token.has_key(label)
    payload = tmp_path / "p.json"
    payload.write_text(json.dumps(VACCINATION), encoding="utf-8")
    r = run("issue", "--hsm-key", label, "--cert", str(tmp_path / "f" / "dsc.pem"), "--facility-override", str(payload))
    assert r.returncode == 0, r.stderr
    r = run("verify", "--trust", str(tmp_path / "f" / "dsc.pem"), r.stdout.strip())
    assert r.returncode == 0 and r.stdout.startswith("VALID")


def _hsm_key_folder(tmp_path: Path, label: str, facility: str = "VN-HN-001") -> Path:
    """A ministry and a registry key folder whose facility key is generated in the token (dsc.hsm)."""
    assert run("keys", "init-ministry", "--country", "VN", "--out", str(tmp_path / "m")).returncode == 0
    r = run("keys", "issue-dsc", "--ministry", str(tmp_path / "m"), "--facility-id", facility,
            "--name", "HSM Hospital", "--out", str(tmp_path / "keys" / facility), "--hsm", label)
    assert r.returncode == 0, r.stderr
    return tmp_path / "keys"


def _registry_with_doses(tmp_path: Path, people: int) -> str:
    """A SQLite registry holding ``people`` citizens with two doses each at VN-HN-001, register loaded."""
    from registry_support import dose_row, register_rows, write_csv

    db = f"sqlite:///{tmp_path}/registry.db"
    rows = [dose_row(i, d) for i in range(people) for d in (1, 2)]
    write_csv(tmp_path / "doses.csv", rows)
    write_csv(tmp_path / "register.csv", register_rows(rows), header=("citizen_id", "family_name", "given_name", "dob"))
    assert run("registry", "init", "--db", db).returncode == 0
    for args in (["--register", str(tmp_path / "register.csv")], [str(tmp_path / "doses.csv")]):
        r = run("registry", "import", "--db", db, *args, "--quiet")
        assert r.returncode == 0, r.stderr
    return db


def test_hsm_key_folder_issues_and_works_in_registry_workers(tmp_path: Path, token: HsmToken, label: str) -> None:
    """keys issue-dsc --hsm writes dsc.hsm; registry issue (2 processes) and registry worker sign with the token."""
    keys = _hsm_key_folder(tmp_path, label)
    assert (keys / "VN-HN-001" / "dsc.hsm").read_text(encoding="utf-8").strip() == label
    assert not (keys / "VN-HN-001" / "dsc.key.pem").exists()
    db = _registry_with_doses(tmp_path, 6)
    r = run("registry", "issue", "--db", db, "--keys", str(keys), "--workers", "2", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "issued 6" in r.stdout, r.stdout
    r = run("registry", "export", "--db", db, "--facility", "VN-HN-001", "--format", "hc1",
            "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    exported = sorted((tmp_path / "out").glob("*.txt"))
    assert len(exported) == 6
    dsc = tmp_path / "keys" / "VN-HN-001" / "dsc.pem"
    verifier = Verifier(TrustList.from_certificates([x509.load_pem_x509_certificate(dsc.read_bytes())]))
    for path in exported:
        result = verifier.verify(path.read_text(encoding="utf-8").strip(), now=dt.datetime.now(dt.UTC))
        assert result.valid, result.code
    # the long-running worker loads the same folder (a third dose for one person: one reissue)
    from registry_support import dose_row, write_csv

    write_csv(tmp_path / "third.csv", [dose_row(0, 3, series=3)])
    assert run("registry", "import", "--db", db, str(tmp_path / "third.csv"), "--quiet").returncode == 0
    r = run("registry", "worker", "--db", db, "--keys", str(keys), "--once")
    assert r.returncode == 0, r.stderr
    assert "1 certificate(s) issued" in r.stderr, r.stderr


def test_hsm_key_folder_without_hsm_settings_is_a_clear_error(tmp_path: Path, token: HsmToken, label: str) -> None:
    """A dsc.hsm folder with no HSM configured: exit 2 naming the settings; a folder with both keys is refused."""
    keys = _hsm_key_folder(tmp_path, label)
    db = _registry_with_doses(tmp_path, 1)
    unset = {"VAXCERT_PKCS11_MODULE": None, "VAXCERT_HSM_TOKEN": None, "VAXCERT_HSM_PIN": None}
    r = run("registry", "issue", "--db", db, "--keys", str(keys), "--quiet", env=unset)
    assert r.returncode == 2 and "VAXCERT_PKCS11_MODULE" in r.stderr and "Traceback" not in r.stderr
    (keys / "VN-HN-001" / "dsc.key.pem").write_text("not a key", encoding="utf-8")
    r = run("registry", "issue", "--db", db, "--keys", str(keys), "--quiet")
    assert r.returncode == 2 and "both dsc.key.pem and dsc.hsm" in r.stderr, r.stderr
