"""Signed trust lists, chain checks to the CSCA, DCCG JSON export / import, and the trust CLI."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import pkcs7
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_inprocess import run
from conftest import NOW, Pki, make_pki
from test_issue_verify import VACCINATION
from vaxcert import FailureCode, Issuer, Stage, TrustList, Verifier
from vaxcert.errors import ConfigurationError
from vaxcert.pki import check_chain, create_list_signer, verify_detached_cms
from vaxcert.pki.certificates import certificate_pem, create_csca, create_dsc
from vaxcert.pki.keys import KeySigner, PrivateKey, generate_private_key
from vaxcert.trust import CombinedTrust, dccg_kid, export_dccg, import_dccg, load_signed, load_trust_source, publish
from vaxcert.trust.lists import FORMAT
from vaxcert.trust.signeddoc import DocumentError, sign_document

WEEK = dt.timedelta(days=7)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _csca_signer(pki: Pki) -> KeySigner:
    return KeySigner(pki.csca_key, pki.csca)


def _published(pki: Pki, **kwargs: object) -> bytes:
    return publish([pki.dsc, pki.rsa_dsc], _csca_signer(pki), cscas=[pki.csca], now=NOW, valid_for=WEEK,
                   **kwargs)  # type: ignore[arg-type]


def _upload(pki: Pki, kind: str = "ec") -> tuple[x509.Certificate, PrivateKey]:
    key = generate_private_key(kind)  # type: ignore[arg-type]
    cert = create_dsc(key, csca=pki.csca, csca_key=pki.csca_key, facility_id="UPLOAD", facility_name="Upload",
                      now=NOW - dt.timedelta(days=1))
    return cert, key


# -- signed lists ------------------------------------------------------------------------------


def test_signed_list_round_trip_and_verification(pki: Pki) -> None:
    """A published list loads with its envelope and its DSCs verify certificates."""
    loaded = load_signed(_published(pki, sequence=42), [pki.csca], now=NOW)
    assert loaded.kind == "signed" and len(loaded) == 2 and not loaded.rejected
    assert loaded.document is not None and loaded.document.sequence == 42
    assert loaded.document.issued_at == NOW and loaded.expires_at == NOW + WEEK
    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)
    assert Verifier(loaded).verify(cert.hc1, now=NOW + dt.timedelta(days=1)).valid


def test_stale_list_gives_its_own_code(pki: Pki) -> None:
    """Past its expiry the list still loads, and every verification answers TRUST_LIST_STALE."""
    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)
    later = NOW + WEEK + dt.timedelta(seconds=1)
    loaded = load_signed(_published(pki), [pki.csca], now=later)
    assert loaded.problem(NOW + WEEK) is None
    assert loaded.problem(later) == FailureCode.TRUST_LIST_STALE
    result = Verifier(loaded).verify(cert.hc1, now=later)
    assert (result.valid, result.code, result.stage) == (False, FailureCode.TRUST_LIST_STALE, Stage.TRUST)


def test_tampered_or_foreign_list_is_invalid(pki: Pki) -> None:
    """A flipped byte, another CSCA, or another document type is TRUST_LIST_INVALID."""
    data = bytearray(_published(pki))
    data[-10] ^= 0x01
    with pytest.raises(DocumentError) as info:
        load_signed(bytes(data), [pki.csca], now=NOW)
    assert info.value.code == FailureCode.TRUST_LIST_INVALID
    other = make_pki()
    with pytest.raises(DocumentError, match=r"does not chain|not signed"):
        load_signed(_published(pki), [other.csca], now=NOW)
    not_a_list = sign_document("vaxcert.revocation-list/1", {"country": "VN", "entries": {}}, _csca_signer(pki),
                               issued_at=NOW, expires_at=NOW + WEEK, sequence=1)
    with pytest.raises(DocumentError, match=FORMAT):
        load_signed(not_a_list, [pki.csca], now=NOW)


def test_rollback_is_refused(pki: Pki) -> None:
    """A list older than the sequence number already seen is refused."""
    data = _published(pki, sequence=5)
    assert load_signed(data, [pki.csca], now=NOW, min_sequence=5).document is not None
    with pytest.raises(DocumentError, match="rollback"):
        load_signed(data, [pki.csca], now=NOW, min_sequence=6)


def test_dedicated_list_signer(pki: Pki) -> None:
    """A list-signer certificate from the CSCA may sign lists; a DSC (no list-signer usage) may not."""
    key = generate_private_key("ec")
    signer_cert = create_list_signer(key, csca=pki.csca, csca_key=pki.csca_key, name="TL Signer",
                                     now=NOW - dt.timedelta(days=1))
    data = publish([pki.dsc], KeySigner(key, signer_cert), cscas=[pki.csca], now=NOW, valid_for=WEEK)
    loaded = load_signed(data, [pki.csca], now=NOW)
    assert loaded.document is not None and loaded.document.signer == signer_cert and len(loaded) == 1
    by_dsc = publish([pki.dsc], pki.signer, cscas=[pki.csca], now=NOW, valid_for=WEEK)
    with pytest.raises(DocumentError, match="list-signer key usage"):
        load_signed(by_dsc, [pki.csca], now=NOW)
    with pytest.raises(ConfigurationError, match="list-signer"):
        publish([signer_cert], _csca_signer(pki), cscas=[pki.csca], now=NOW, valid_for=WEEK)


def test_publish_refuses_unchained_or_expired(pki: Pki) -> None:
    """Publishing checks every DSC: another CSCA's or an expired one is refused, naming its kid."""
    other = make_pki()
    with pytest.raises(ConfigurationError, match=r"kid [0-9a-f]{16}: signature does not verify"):
        publish([pki.dsc, other.dsc], _csca_signer(pki), cscas=[pki.csca], now=NOW, valid_for=WEEK)
    with pytest.raises(ConfigurationError, match="expired"):
        publish([pki.dsc], _csca_signer(pki), cscas=[pki.csca], now=NOW + dt.timedelta(days=800), valid_for=WEEK)


def test_load_drops_unchained_dsc(pki: Pki) -> None:
    """A DSC in a signed list that does not chain to the CSCA is dropped and reported."""
    other = make_pki()
    body = {"country": "VN", "dsc": [_der(pki.dsc), _der(other.dsc)]}
    data = sign_document(FORMAT, body, _csca_signer(pki), issued_at=NOW, expires_at=NOW + WEEK, sequence=1)
    loaded = load_signed(data, [pki.csca], now=NOW)
    assert [s.der for s in loaded] == [_der(pki.dsc)]
    assert [r.kid for r in loaded.rejected] == [hashlib.sha256(_der(other.dsc)).digest()[:8].hex()]


def test_check_chain_rules(pki: Pki) -> None:
    """The chain check names the reason: unknown issuer, bad signature, CA certificate, outside validity."""
    assert check_chain(_der(pki.dsc), [pki.csca]) == pki.csca
    stranger_key = generate_private_key("ec")
    stranger = create_csca(stranger_key, country="FR", name="Other", now=NOW)
    with pytest.raises(ConfigurationError, match="not a trusted CSCA"):
        check_chain(_der(pki.dsc), [stranger])
    with pytest.raises(ConfigurationError, match="signature does not verify"):
        check_chain(_der(make_pki().dsc), [pki.csca])
    with pytest.raises(ConfigurationError, match="CA certificate"):
        check_chain(_der(pki.csca), [pki.csca])
    start = pki.csca.not_valid_after_utc + dt.timedelta(days=1)
    late = (x509.CertificateBuilder().subject_name(pki.dsc.subject).issuer_name(pki.csca.subject)
            .public_key(generate_private_key("ec").public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + dt.timedelta(days=30))
            .sign(pki.csca_key, hashes.SHA256()))
    with pytest.raises(ConfigurationError, match="outside the CSCA's validity"):
        check_chain(_der(late), [pki.csca])
    with pytest.raises(ConfigurationError, match="not a usable"):
        check_chain(b"\x30\x03\x02\x01\x00", [pki.csca])


def test_expired_csca_anchors_nothing(pki: Pki) -> None:
    """Only CSCAs valid at the time of use count as anchors."""
    with pytest.raises(DocumentError, match="no trusted CSCA"):
        load_signed(_published(pki), [pki.csca], now=pki.csca.not_valid_after_utc + dt.timedelta(days=1))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_hostile_bytes_never_crash(pki: Pki, data: bytes) -> None:
    """Arbitrary bytes as a signed list give DocumentError, never another exception."""
    with pytest.raises(DocumentError):
        load_signed(data, [pki.csca], now=NOW)


# -- DCCG --------------------------------------------------------------------------------------


def test_dccg_export_fields(pki: Pki) -> None:
    """Items carry kid, timestamp, country, type, thumbprint, CMS signature and rawData as the gateway defines."""
    upload_cert, upload_key = _upload(pki)
    (item,) = export_dccg([pki.dsc], upload_cert=upload_cert, upload_key=upload_key, now=NOW)
    der = _der(pki.dsc)
    assert set(item) == {"kid", "timestamp", "country", "certificateType", "thumbprint", "signature", "rawData"}
    assert item["kid"] == base64.b64encode(hashlib.sha256(der).digest()[:8]).decode() == dccg_kid(der)
    assert item["thumbprint"] == hashlib.sha256(der).hexdigest()
    assert base64.b64decode(item["rawData"]) == der
    assert (item["country"], item["certificateType"], item["timestamp"]) == ("VN", "DSC", "2026-06-01T08:00:00Z")
    signature = base64.b64decode(item["signature"])
    assert verify_detached_cms(signature, der, [upload_cert]) == upload_cert
    assert verify_detached_cms(signature, der + b"x", [upload_cert]) is None
    assert verify_detached_cms(signature, der, [pki.dsc]) is None


def test_dccg_round_trip_through_json(pki: Pki) -> None:
    """Exported JSON imports back with chain and upload-signature checks, and verifies certificates."""
    upload_cert, upload_key = _upload(pki, "rsa2048")
    text = json.dumps(export_dccg([pki.dsc, pki.rsa_dsc], upload_cert=upload_cert, upload_key=upload_key, now=NOW))
    loaded = import_dccg(text, cscas=[pki.csca], upload_certs=[upload_cert], now=NOW)
    assert (loaded.kind, len(loaded), loaded.rejected) == ("dccg", 2, ())
    cert = Issuer(pki.rsa_signer, facility_override=True).issue(VACCINATION, now=NOW)
    assert Verifier(loaded).verify(cert.hc1, now=NOW).valid


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("kid", "AAAAAAAAAAA=", "kid does not match"),
    ("thumbprint", "00" * 32, "thumbprint does not match"),
    ("country", "FR", "country does not match"),
    ("rawData", "***", "not base64"),
])
def test_dccg_item_checks(pki: Pki, field: str, value: str, reason: str) -> None:
    """An item whose fields disagree with its certificate is rejected with the reason."""
    upload_cert, upload_key = _upload(pki)
    items = export_dccg([pki.dsc, pki.rsa_dsc], upload_cert=upload_cert, upload_key=upload_key, now=NOW)
    items[0][field] = value
    loaded = import_dccg(items, cscas=[pki.csca], upload_certs=[upload_cert], now=NOW)
    assert len(loaded) == 1 and len(loaded.rejected) == 1 and reason in loaded.rejected[0].reason


def test_dccg_signature_and_chain_checks(pki: Pki) -> None:
    """A swapped CMS signature, an unknown upload certificate, or another CSCA's DSC is rejected."""
    upload_cert, upload_key = _upload(pki)
    other = make_pki()
    items = export_dccg([pki.dsc, pki.rsa_dsc], upload_cert=upload_cert, upload_key=upload_key, now=NOW)
    items[0]["signature"] = items[1]["signature"]
    loaded = import_dccg(items, cscas=[pki.csca], upload_certs=[upload_cert], now=NOW)
    assert [r.reason for r in loaded.rejected] == ["upload signature does not verify"]
    stranger_cert, _ = _upload(other)
    loaded = import_dccg(items[1:], cscas=[pki.csca], upload_certs=[stranger_cert], now=NOW)
    assert len(loaded) == 0 and len(loaded.rejected) == 1
    foreign = export_dccg([other.dsc], upload_cert=upload_cert, upload_key=upload_key, now=NOW)
    loaded = import_dccg(foreign, cscas=[pki.csca], upload_certs=[upload_cert], now=NOW)
    assert len(loaded) == 0 and "CSCA" in loaded.rejected[0].reason


def test_dccg_skips_other_types_and_accepts_other_cms_shapes(pki: Pki) -> None:
    """CSCA / UPLOAD items are skipped; RSA-PSS and attribute-less CMS signatures verify."""
    upload_cert, upload_key = _upload(pki, "rsa2048")
    der = _der(pki.dsc)
    (item,) = export_dccg([pki.dsc], upload_cert=upload_cert, upload_key=upload_key, now=NOW)
    pss = (pkcs7.PKCS7SignatureBuilder().set_data(der)
           .add_signer(upload_cert, upload_key, hashes.SHA256(),  # type: ignore[arg-type]
                       rsa_padding=padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH))
           .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))
    bare = (pkcs7.PKCS7SignatureBuilder().set_data(der)
            .add_signer(upload_cert, upload_key, hashes.SHA256())  # type: ignore[arg-type]
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary,
                                               pkcs7.PKCS7Options.NoAttributes]))
    assert verify_detached_cms(pss, der, [upload_cert]) == upload_cert
    assert verify_detached_cms(bare, der, [upload_cert]) == upload_cert
    csca_item = dict(item, certificateType="CSCA", rawData=base64.b64encode(_der(pki.csca)).decode())
    loaded = import_dccg([csca_item, item], cscas=[pki.csca], upload_certs=[upload_cert], now=NOW)
    assert len(loaded) == 1 and loaded.rejected == ()


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=200))
def test_cms_garbage_is_not_a_signature(pki: Pki, data: bytes) -> None:
    """Arbitrary bytes never verify as a CMS signature (and never raise)."""
    assert verify_detached_cms(data, _der(pki.dsc), [pki.csca]) is None


def test_dccg_rejects_malformed_documents(pki: Pki) -> None:
    """Non-array JSON is a configuration error; non-object items are reported."""
    with pytest.raises(ConfigurationError):
        import_dccg(b'{"a": 1}', cscas=[pki.csca], now=NOW)
    with pytest.raises(ConfigurationError):
        import_dccg(b"not json", cscas=[pki.csca], now=NOW)
    assert import_dccg([1], cscas=[pki.csca], now=NOW).rejected[0].reason == "item 0 is not an object"


# -- sources and combination -------------------------------------------------------------------


def test_load_trust_source_kinds(pki: Pki, tmp_path: Path) -> None:
    """Folders (key files skipped), PEM files, DCCG JSON and signed lists load by content."""
    folder = tmp_path / "dscs"
    folder.mkdir()
    (folder / "a.pem").write_bytes(certificate_pem(pki.dsc))
    (folder / "b.der").write_bytes(_der(pki.rsa_dsc))
    (folder / "a.key.pem").write_bytes(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
                                       b"-----END ENCRYPTED PRIVATE KEY-----\n")
    assert len(load_trust_source(folder, cscas=None, now=NOW)) == 2
    assert len(load_trust_source(folder / "a.pem", cscas=[pki.csca], now=NOW)) == 1
    foreign = tmp_path / "foreign.pem"
    foreign.write_bytes(certificate_pem(make_pki().dsc))
    checked = load_trust_source(foreign, cscas=[pki.csca], now=NOW)
    assert len(checked) == 0 and len(checked.rejected) == 1
    assert len(load_trust_source(foreign, cscas=None, now=NOW)) == 1
    signed = tmp_path / "list.cose"
    signed.write_bytes(_published(pki))
    assert load_trust_source(signed, cscas=[pki.csca], now=NOW).kind == "signed"
    with pytest.raises(ConfigurationError, match="--csca"):
        load_trust_source(signed, cscas=None, now=NOW)
    upload_cert, upload_key = _upload(pki)
    dccg = tmp_path / "list.json"
    dccg.write_text(json.dumps(export_dccg([pki.dsc], upload_cert=upload_cert, upload_key=upload_key, now=NOW)))
    assert load_trust_source(dccg, cscas=[pki.csca], now=NOW).kind == "dccg"


def test_combined_trust(pki: Pki) -> None:
    """Combined stores offer every candidate once and report the first problem."""
    stale = load_signed(_published(pki), [pki.csca], now=NOW)
    plain = TrustList.from_certificates([pki.dsc])
    combined = CombinedTrust([plain, stale])
    kid = hashlib.sha256(_der(pki.dsc)).digest()[:8]
    assert len(combined.candidates(kid)) == 1
    assert combined.problem(NOW) is None
    assert combined.problem(NOW + WEEK * 2) == FailureCode.TRUST_LIST_STALE


# -- CLI ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ministry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ministry, a list signer and two facilities made with the CLI (validity from 2026-05-01)."""
    base = tmp_path_factory.mktemp("trust-cli")
    at = "2026-05-01T00:00:00Z"
    assert run("keys", "init-ministry", "--country", "VN", "--out", str(base / "m"), "--at", at).returncode == 0
    for facility in ("VN-HN-001", "VN-HN-002"):
        r = run("keys", "issue-dsc", "--ministry", str(base / "m"), "--facility-id", facility, "--name", facility,
                "--out", str(base / facility), "--at", at)
        assert r.returncode == 0, r.stderr
    r = run("keys", "list-signer", "--ministry", str(base / "m"), "--out", str(base / "ls"), "--at", at)
    assert r.returncode == 0, r.stderr
    return base


def test_cli_publish_show_verify(ministry: Path) -> None:
    """trust publish signs a list; show and verify check it; a stale or tampered list exits 1."""
    out = ministry / "tl.cose"
    r = run("trust", "publish", str(ministry / "VN-HN-001" / "dsc.pem"), str(ministry / "VN-HN-002"),
            "-o", str(out), "--signer-key", str(ministry / "ls" / "list-signer.key.pem"),
            "--signer-cert", str(ministry / "ls" / "list-signer.pem"), "--csca", str(ministry / "m" / "csca.pem"),
            "--at", "2026-06-01T00:00:00Z", "--valid-days", "7")
    assert r.returncode == 0, r.stderr
    csca = str(ministry / "m" / "csca.pem")
    r = run("trust", "show", str(out), "--csca", csca, "--at", "2026-06-02T00:00:00Z", "--format", "json")
    shown = json.loads(r.stdout)
    assert shown["checked"] is True and shown["signers"] == 2
    assert {e["facility"] for e in shown["entries"]} == {"VN-HN-001", "VN-HN-002"}
    assert "NOT CHECKED" in run("trust", "show", str(out)).stdout
    assert run("trust", "verify", str(out), "--csca", csca, "--at", "2026-06-02T00:00:00Z").returncode == 0
    stale = run("trust", "verify", str(out), "--csca", csca, "--at", "2026-06-09T00:00:00Z")
    assert stale.returncode == 1 and "TRUST_LIST_STALE" in stale.stdout
    tampered = ministry / "tampered.cose"
    data = bytearray(out.read_bytes())
    data[-5] ^= 1
    tampered.write_bytes(bytes(data))
    bad = run("trust", "verify", str(tampered), "--csca", csca, "--at", "2026-06-02T00:00:00Z")
    assert bad.returncode == 1 and "TRUST_LIST_INVALID" in bad.stdout


def test_cli_dccg_export_and_import(ministry: Path, tmp_path: Path) -> None:
    """trust publish --format dccg writes gateway JSON that trust import checks and unpacks."""
    exported = tmp_path / "dccg.json"
    r = run("trust", "publish", str(ministry / "VN-HN-001" / "dsc.pem"), "-o", str(exported), "--format", "dccg",
            "--upload-key", str(ministry / "VN-HN-002" / "dsc.key.pem"),
            "--upload-cert", str(ministry / "VN-HN-002" / "dsc.pem"), "--at", "2026-06-01T00:00:00Z")
    assert r.returncode == 0, r.stderr
    assert json.loads(exported.read_text())[0]["certificateType"] == "DSC"
    r = run("trust", "import", str(exported), "--csca", str(ministry / "m" / "csca.pem"),
            "--upload", str(ministry / "VN-HN-002" / "dsc.pem"), "--out", str(tmp_path / "imported"),
            "--at", "2026-06-01T00:00:00Z")
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "imported").glob("*.pem"))) == 1 and "rejected 0" in r.stdout
    r = run("trust", "import", str(exported), "--csca", str(ministry / "m" / "csca.pem"),
            "--upload", str(ministry / "VN-HN-001" / "dsc.pem"), "--out", str(tmp_path / "none"),
            "--at", "2026-06-01T00:00:00Z")
    assert "rejected 1" in r.stdout and "upload signature does not verify" in r.stderr


def test_cli_verify_with_signed_list(ministry: Path, tmp_path: Path) -> None:
    """vaxcert verify --trust LIST --csca anchors a signed list; without --csca it is a usage error."""
    out = tmp_path / "tl.cose"
    assert run("trust", "publish", str(ministry / "VN-HN-001" / "dsc.pem"), "-o", str(out),
               "--signer-key", str(ministry / "m" / "csca.key.pem"), "--signer-cert", str(ministry / "m" / "csca.pem"),
               "--at", "2026-06-01T00:00:00Z").returncode == 0
    payload = tmp_path / "p.json"
    payload.write_text(json.dumps(VACCINATION), encoding="utf-8")
    r = run("issue", "--key", str(ministry / "VN-HN-001" / "dsc.key.pem"),
            "--cert", str(ministry / "VN-HN-001" / "dsc.pem"), "--at", "2026-06-01T00:00:00Z", "--facility-override",
            str(payload))
    hc1 = r.stdout.strip()
    r = run("verify", "--trust", str(out), "--csca", str(ministry / "m" / "csca.pem"), "--at", "2026-06-02", hc1)
    assert r.returncode == 0 and r.stdout.startswith("VALID"), r.stdout + r.stderr
    r = run("verify", "--trust", str(out), "--csca", str(ministry / "m" / "csca.pem"), "--at", "2026-06-20", hc1)
    assert r.returncode == 1 and "TRUST_LIST_STALE" in r.stdout
    r = run("verify", "--trust", str(out), "--at", "2026-06-02", hc1)
    assert r.returncode == 2 and "--csca" in r.stderr


def test_der_ending_in_a_whitespace_byte_is_kept_whole() -> None:
    """Binary DER is never stripped: a signature may end in 0x20, 0x0a, ... (this made a test flaky)."""
    from vaxcert.pki.certificates import split_certificates

    for last in b" \n\r\t\x0b\x0c":
        der = b"\x30\x05\x02\x03\x01\x00" + bytes((last,))
        assert split_certificates(der) == [der]
    assert split_certificates(b"  MAUCAwEAIA==\n") == [b"\x30\x05\x02\x03\x01\x00\x20"]
