"""Issue 10, items 2 and 4: key files (scrypt, password length, 0600, unencrypted refused); who may sign a payload."""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import serialization

from cli_inprocess import PASSWORD, run
from conftest import NOW, Pki
from test_issue_verify import VACCINATION
from vaxcert import InputError, Issuer, KeyLoadError, KeySigner, TrustList, create_dsc, issue, verify
from vaxcert.errors import ConfigurationError
from vaxcert.pki.keys import generate_private_key, load_private_key, save_private_key

PW = PASSWORD.encode()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- item 2: key files -------------------------------------------------------------------------


def test_new_key_files_use_scrypt(tmp_path: Path) -> None:
    """save_private_key writes PBES2 with scrypt (not PBKDF2 with 2,048 iterations) and reads it back."""
    key = generate_private_key("ec")
    save_private_key(key, tmp_path / "k.pem", PW)
    lines = (tmp_path / "k.pem").read_text().splitlines()
    assert lines[0] == "-----BEGIN ENCRYPTED PRIVATE KEY-----"
    info = asn1_keys.EncryptedPrivateKeyInfo.load(base64.b64decode("".join(lines[1:-1])))
    algorithm = info["encryption_algorithm"]
    assert algorithm["algorithm"].native == "pbes2"
    assert algorithm["parameters"]["key_derivation_func"]["algorithm"].dotted == "1.3.6.1.4.1.11591.4.11"
    loaded = load_private_key(tmp_path / "k.pem", PW)
    assert isinstance(loaded, type(key)) and loaded.private_numbers() == key.private_numbers()  # type: ignore[union-attr]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")
def test_openssl_reads_new_key_files(tmp_path: Path) -> None:
    """The openssl command (default 32 MiB scrypt memory limit) reads vaxcert's key files."""
    save_private_key(generate_private_key("ec"), tmp_path / "k.pem", PW)
    done = subprocess.run(["openssl", "pkey", "-in", str(tmp_path / "k.pem"), "-passin", "env:PW", "-noout"],
                          env={**os.environ, "PW": PASSWORD}, capture_output=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_old_pbkdf2_files_are_still_read(tmp_path: Path) -> None:
    """A key file written the old way (BestAvailableEncryption: PBKDF2, 2,048 iterations) still loads."""
    key = generate_private_key("ec")
    (tmp_path / "old.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.BestAvailableEncryption(PW)))  # fmt: skip
    assert load_private_key(tmp_path / "old.pem", PW).private_numbers() == key.private_numbers()  # type: ignore[union-attr]


def test_short_passwords_refused_when_creating(tmp_path: Path) -> None:
    """Passwords under 12 characters are refused (library and CLI), and nothing is written."""
    key = generate_private_key("ec")
    with pytest.raises(ConfigurationError, match="at least 12 characters"):
        save_private_key(key, tmp_path / "k.pem", b"elevenchars")
    assert not (tmp_path / "k.pem").exists()
    save_private_key(key, tmp_path / "k.pem", "mật khẩu dài!".encode())  # 13 characters (more bytes)
    r = run("keys", "init-ministry", "--country", "VN", "--out", str(tmp_path / "m"),
            env={"VAXCERT_KEY_PASSWORD": "short"})
    assert r.returncode == 2 and "at least 12 characters" in r.stderr
    assert not (tmp_path / "m" / "csca.key.pem").exists() and not (tmp_path / "m" / "csca.pem").exists()


def test_key_files_0600_also_with_force(tmp_path: Path) -> None:
    """Key files are 0600 when created and when --force replaces a world-readable file."""
    m = tmp_path / "m"
    old = os.umask(0)
    try:
        assert run("keys", "init-ministry", "--country", "VN", "--out", str(m)).returncode == 0
        assert _mode(m / "csca.key.pem") == 0o600
        out = tmp_path / "f"
        out.mkdir()
        (out / "dsc.key.pem").write_text("old")
        os.chmod(out / "dsc.key.pem", 0o644)
        r = run("keys", "issue-dsc", "--ministry", str(m), "--facility-id", "VN-HN-001", "--name", "F",
                "--out", str(out), "--force")
        assert r.returncode == 0, r.stderr
        assert _mode(out / "dsc.key.pem") == 0o600
        save_private_key(generate_private_key("ec"), out / "dsc.key.pem", PW)
        assert _mode(out / "dsc.key.pem") == 0o600
        assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left
    finally:
        os.umask(old)


def test_unencrypted_key_refused_saying_so(pki: Pki, tmp_path: Path) -> None:
    """An unencrypted key file is refused as unencrypted (not 'is encrypted'), by the library and the CLI."""
    plain = pki.dsc_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())  # fmt: skip
    (tmp_path / "plain.pem").write_bytes(plain)
    for password in (PW, None):
        with pytest.raises(KeyLoadError, match="is not encrypted") as info:
            load_private_key(tmp_path / "plain.pem", password)
        assert "is encrypted:" not in str(info.value)
    (tmp_path / "dsc.pem").write_bytes(pki.dsc.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "p.json").write_text(json.dumps(VACCINATION))
    r = run("issue", "--key", str(tmp_path / "plain.pem"), "--cert", str(tmp_path / "dsc.pem"),
            str(tmp_path / "p.json"))
    assert r.returncode == 2 and "is not encrypted" in r.stderr and "BEGIN" not in r.stderr
    save_private_key(pki.dsc_key, tmp_path / "enc.pem", PW)
    with pytest.raises(KeyLoadError, match="wrong password"):
        load_private_key(tmp_path / "enc.pem", b"not the right password")
    with pytest.raises(KeyLoadError, match="a password is needed"):
        load_private_key(tmp_path / "enc.pem", None)


# -- item 4: who may sign a plain payload -----------------------------------------------------


def _ministry_signer(pki: Pki) -> KeySigner:
    key = generate_private_key("ec")
    cert = create_dsc(key, csca=pki.csca, csca_key=pki.csca_key, facility_id=None, facility_name="Ministry signer",
                      now=NOW.replace(year=2026, month=5), ministry=True)  # fmt: skip
    return KeySigner(key, cert)


def test_facility_key_may_not_sign_plain_payload(pki: Pki) -> None:
    """The issue's reproduction: a facility DSC signing a plain payload for anyone is refused by default."""
    with pytest.raises(InputError, match="plain DCC payload") as info:
        Issuer(pki.signer).issue(VACCINATION, now=NOW)
    assert info.value.field == "payload" and "NGUYEN" not in str(info.value)
    with pytest.raises(InputError):
        issue(VACCINATION, pki.signer, now=NOW)


def test_ministry_key_and_own_facility_sign(pki: Pki) -> None:
    """A ministry DSC signs any payload; a facility DSC signs when the caller names its own facility."""
    ministry = _ministry_signer(pki)
    cert = issue(VACCINATION, ministry, now=NOW)
    assert verify(cert.hc1, TrustList.from_certificates([ministry.certificate]), now=NOW).valid
    assert Issuer(pki.signer).issue(VACCINATION, now=NOW, facility="VN-HN-001").cert_type == "v"
    with pytest.raises(InputError, match="VN-SG-002") as info:
        Issuer(pki.signer).issue(VACCINATION, now=NOW, facility="VN-SG-002")
    assert info.value.field == "facility"


def test_facility_override_is_logged_without_personal_data(pki: Pki, caplog: pytest.LogCaptureFixture) -> None:
    """With facility_override the certificate is signed and a WARNING names facility, kid and type only."""
    caplog.set_level(logging.DEBUG, logger="vaxcert")
    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)
    events = [r for r in caplog.records if getattr(r, "vaxcert_event", {}).get("event") == "issue.facility_override"]
    assert len(events) == 1 and events[0].levelno == logging.WARNING
    fields = events[0].vaxcert_event  # type: ignore[attr-defined]
    assert fields == {"event": "issue.facility_override", "facility": "VN-HN-001", "kid": cert.kid.hex(), "type": "v"}
    text = caplog.text
    for secret in ("NGUYEN", "Nguy", "1985-04-12", cert.uvci, cert.hc1[4:30]):
        assert secret not in text


def test_cli_issue_facility_override(pki: Pki, tmp_path: Path) -> None:
    """vaxcert issue with a facility key: plain payload exit 2; with --facility-override exit 0 and a log line."""
    save_private_key(pki.dsc_key, tmp_path / "dsc.key.pem", PW)
    (tmp_path / "dsc.pem").write_bytes(pki.dsc.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "p.json").write_text(json.dumps(VACCINATION))
    args = ["issue", "--key", str(tmp_path / "dsc.key.pem"), "--cert", str(tmp_path / "dsc.pem"),
            "--at", NOW.isoformat()]  # fmt: skip
    r = run(*args, str(tmp_path / "p.json"))
    assert r.returncode == 2 and "--facility-override" in r.stderr and r.stdout == ""
    r = run(*args, "--facility-override", str(tmp_path / "p.json"))
    assert r.returncode == 0 and r.stdout.startswith("HC1:")
    assert "issue.facility_override" in r.stderr and "facility=VN-HN-001" in r.stderr and "NGUYEN" not in r.stderr
    r = run("--log-format", "json", *args, "--facility-override", str(tmp_path / "p.json"))
    line = json.loads(r.stderr.strip().splitlines()[-1])
    assert line["event"] == "issue.facility_override" and line["level"] == "WARNING" and line["facility"] == "VN-HN-001"
