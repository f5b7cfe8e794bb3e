"""Revocation: the three DCC hash types, the compact hash set, signed lists, the verifier and the CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_inprocess import run
from conftest import NOW, Pki, make_pki
from test_issue_verify import VACCINATION
from vaxcert import FailureCode, Issuer, Stage, Verifier
from vaxcert.errors import ConfigurationError
from vaxcert.pki.keys import KeySigner
from vaxcert.stages import cose
from vaxcert.trust.lists import publish
from vaxcert.trust.revocation import (
    HashSet,
    HashType,
    RevocationList,
    RevocationSet,
    certificate_hashes,
    country_uci_hash,
    signature_hash,
    uci_hash,
)
from vaxcert.trust.signeddoc import DocumentError

DAY = dt.timedelta(days=1)
UVCI = VACCINATION["v"][0]["ci"]


def _issued(pki: Pki, rsa: bool = False, uvci: str = UVCI) -> tuple[str, cose.CoseSign1]:
    payload = dict(VACCINATION, v=[dict(VACCINATION["v"][0], ci=uvci)])
    cert = Issuer(pki.rsa_signer if rsa else pki.signer, facility_override=True).issue(payload, now=NOW)
    return cert.hc1, cose.decode(cert.cose)


def _signed(pki: Pki, lst: RevocationList, valid_for: dt.timedelta = DAY) -> bytes:
    return lst.sign(KeySigner(pki.csca_key, pki.csca), now=NOW, valid_for=valid_for)


# -- hashes ------------------------------------------------------------------------------------


def test_hash_definitions() -> None:
    """UCI, COUNTRYCODEUCI and SIGNATURE hashes are SHA-256 truncated to 16 bytes over the defined input."""
    assert uci_hash(UVCI) == hashlib.sha256(UVCI.encode()).digest()[:16]
    assert country_uci_hash("VN", UVCI) == hashlib.sha256(("VN" + UVCI).encode()).digest()[:16]
    rsa_signature = bytes(range(256))
    assert signature_hash(rsa_signature, cose.ALG_PS256) == hashlib.sha256(rsa_signature).digest()[:16]


def test_ecdsa_signature_hash_uses_only_r() -> None:
    """For ES256 only r counts: the same r with another s (a malleated signature) has the same hash."""
    r, s1, s2 = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
    assert signature_hash(r + s1, cose.ALG_ES256) == signature_hash(r + s2, cose.ALG_ES256)
    assert signature_hash(r + s1, cose.ALG_ES256) == hashlib.sha256(r).digest()[:16]
    assert signature_hash(r + s1, cose.ALG_PS256) != signature_hash(r + s2, cose.ALG_PS256)


def test_certificate_hashes_of_an_issued_certificate(pki: Pki) -> None:
    """The hashes of a certificate come from its ci, co and COSE signature."""
    _, message = _issued(pki)
    hashes = certificate_hashes(message, VACCINATION)
    assert hashes == {
        HashType.UCI: uci_hash(UVCI),
        HashType.COUNTRYCODEUCI: country_uci_hash("VN", UVCI),
        HashType.SIGNATURE: hashlib.sha256(message.signature[:32]).digest()[:16],
    }


# -- compact set -------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(min_size=16, max_size=16), max_size=200), st.lists(st.binary(min_size=16, max_size=16),
                                                                            max_size=50))
def test_hash_set_membership(members: list[bytes], probes: list[bytes]) -> None:
    """Membership equals membership of the 8-byte prefixes, before and after serialization."""
    built = HashSet.from_hashes(members)
    restored = HashSet.from_bytes(built.to_bytes())
    prefixes = {m[:8] for m in members}
    assert len(built) == len(prefixes) == len(restored)
    for digest in [*members, *probes]:
        assert (digest in built) == (digest[:8] in prefixes) == (digest in restored)
    assert sorted(prefixes) == list(restored)


def test_hash_set_serialization_is_strict() -> None:
    """Serialized sets are sorted big-endian 8-byte values; anything else is refused."""
    built = HashSet.from_hashes([b"\x00" * 7 + b"\x02", b"\x00" * 7 + b"\x01", b"\xff" * 8])
    assert built.to_bytes() == b"\x00" * 7 + b"\x01" + b"\x00" * 7 + b"\x02" + b"\xff" * 8
    with pytest.raises(ValueError, match="multiple of 8"):
        HashSet.from_bytes(b"\x00" * 9)
    with pytest.raises(ValueError, match="increasing"):
        HashSet.from_bytes(b"\x00" * 7 + b"\x02" + b"\x00" * 7 + b"\x01")
    with pytest.raises(ValueError, match="increasing"):
        HashSet.from_bytes(b"\x00" * 16)
    with pytest.raises(ConfigurationError):
        HashSet.from_hashes([b"short"])
    assert b"short" not in built and "text" not in built


def test_hash_set_is_compact() -> None:
    """A large set holds at most 8.5 bytes per entry (8-byte prefixes plus the bucket index) and finds them all."""
    digests = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(50_000)]
    built = HashSet.from_hashes(digests)
    assert built.nbytes <= 8.5 * len(digests)
    assert all(d in built for d in digests[::97])
    assert sum(hashlib.sha256(b"x" + i.to_bytes(4, "big")).digest() in built for i in range(2000)) == 0


def test_hash_set_union() -> None:
    """A union holds the entries of both sets once."""
    a = HashSet.from_hashes([bytes([1]) * 16, bytes([2]) * 16])
    b = HashSet.from_hashes([bytes([2]) * 16, bytes([3]) * 16])
    assert list(a.union(b)) == [bytes([i]) * 8 for i in (1, 2, 3)]


# -- lists and the verifier --------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(HashType))
def test_each_hash_type_revokes(pki: Pki, kind: HashType) -> None:
    """A certificate listed by any one hash type is REVOKED at the revocation stage; others stay valid."""
    hc1, message = _issued(pki)
    other_hc1, _ = _issued(pki, uvci="URN:UVCI:01:VN:OTHERCERT0002#K")
    lst = RevocationList.load(_signed(pki, RevocationList().with_certificate(message, VACCINATION, [kind])),
                              [pki.csca], now=NOW)
    verifier = Verifier(pki.trust, revocation=lst)
    result = verifier.verify(hc1, now=NOW)
    assert (result.valid, result.code, result.stage) == (False, FailureCode.REVOKED, Stage.REVOCATION)
    assert verifier.verify(other_hc1, now=NOW).valid


def test_rsa_signature_revocation(pki: Pki) -> None:
    """SIGNATURE revocation works for PS256 certificates (whole signature hashed)."""
    hc1, message = _issued(pki, rsa=True)
    lst = RevocationList().with_certificate(message, VACCINATION, [HashType.SIGNATURE])
    assert Verifier(pki.trust, revocation=lst).verify(hc1, now=NOW).code == FailureCode.REVOKED


def test_stale_list(pki: Pki) -> None:
    """Past expiry: listed certificates are still REVOKED, others get REVOCATION_LIST_STALE."""
    hc1, message = _issued(pki)
    other_hc1, _ = _issued(pki, uvci="URN:UVCI:01:VN:OTHERCERT0002#K")
    lst = RevocationList.load(_signed(pki, RevocationList().with_certificate(message, VACCINATION)),
                              [pki.csca], now=NOW)
    later = NOW + DAY + dt.timedelta(seconds=1)
    verifier = Verifier(pki.trust, revocation=lst)
    assert verifier.verify(hc1, now=later).code == FailureCode.REVOKED
    stale = verifier.verify(other_hc1, now=later)
    assert (stale.valid, stale.code, stale.stage) == (False, FailureCode.REVOCATION_LIST_STALE, Stage.REVOCATION)


def test_signed_list_round_trip_and_refusals(pki: Pki) -> None:
    """Signed lists keep entries and envelope; tampering, another CSCA or a trust list are REVOCATION_LIST_INVALID."""
    lst = RevocationList(country="VN").with_hashes(HashType.UCI, [uci_hash(UVCI)])
    data = lst.sign(KeySigner(pki.csca_key, pki.csca), now=NOW, valid_for=DAY, sequence=7)
    loaded = RevocationList.load(data, [pki.csca], now=NOW)
    assert (loaded.country, loaded.sequence, loaded.expires_at, len(loaded)) == ("VN", 7, NOW + DAY, 1)
    tampered = bytearray(data)
    tampered[-3] ^= 0x40
    for bad, anchors in ((bytes(tampered), [pki.csca]), (data, [make_pki().csca])):
        with pytest.raises(DocumentError) as info:
            RevocationList.load(bad, anchors, now=NOW)
        assert info.value.code == FailureCode.REVOCATION_LIST_INVALID
    trust_list = publish([pki.dsc], KeySigner(pki.csca_key, pki.csca), cscas=[pki.csca], now=NOW, valid_for=DAY)
    with pytest.raises(DocumentError, match="revocation-list"):
        RevocationList.load(trust_list, [pki.csca], now=NOW)
    with pytest.raises(DocumentError, match="rollback"):
        RevocationList.load(data, [pki.csca], now=NOW, min_sequence=8)


def test_resigning_raises_the_sequence(pki: Pki) -> None:
    """Re-signing a loaded list (with more entries) gives a higher sequence number."""
    first = RevocationList.load(_signed(pki, RevocationList()), [pki.csca], now=NOW)
    second = RevocationList.load(_signed(pki, first.with_hashes(HashType.UCI, [uci_hash(UVCI)])), [pki.csca], now=NOW)
    assert second.sequence > first.sequence and len(second) == 1


def test_revocation_set(pki: Pki) -> None:
    """Several lists: revoked if any holds the certificate; stale if any list is stale."""
    hc1, message = _issued(pki)
    fresh = RevocationList(expires_at=NOW + DAY * 10)
    holding = RevocationList(RevocationList().with_certificate(message, VACCINATION).sets, expires_at=NOW + DAY)
    both = RevocationSet([fresh, holding])
    assert both.check(message, VACCINATION, NOW) == FailureCode.REVOKED
    _, other = _issued(pki, uvci="URN:UVCI:01:VN:OTHERCERT0002#K")
    other_payload = dict(VACCINATION, v=[dict(VACCINATION["v"][0], ci="URN:UVCI:01:VN:OTHERCERT0002#K")])
    assert both.check(other, other_payload, NOW) is None
    assert both.check(other, other_payload, NOW + DAY * 2) == FailureCode.REVOCATION_LIST_STALE
    assert Verifier(pki.trust, revocation=both).verify(hc1, now=NOW).code == FailureCode.REVOKED


# -- CLI ---------------------------------------------------------------------------------------


def test_cli_revoke_init_add_show_verify(tmp_path: Path) -> None:
    """revoke init / add (HC1 and UVCI files, raw hashes) re-signs the list; verify --revocation uses it."""
    at = "2026-06-01T00:00:00Z"
    m = tmp_path / "m"
    assert run("keys", "init-ministry", "--country", "VN", "--out", str(m), "--at", "2026-05-01").returncode == 0
    assert run("keys", "issue-dsc", "--ministry", str(m), "--facility-id", "VN-HN-001", "--name", "F",
               "--out", str(tmp_path / "f"), "--at", "2026-05-01").returncode == 0
    signer = ["--signer-key", str(m / "csca.key.pem"), "--signer-cert", str(m / "csca.pem")]
    lst = tmp_path / "rl.cose"
    assert run("revoke", "init", "-o", str(lst), *signer, "--at", at).returncode == 0
    payload = tmp_path / "p.json"
    payload.write_text(json.dumps(VACCINATION), encoding="utf-8")
    hc1 = run("issue", "--key", str(tmp_path / "f" / "dsc.key.pem"), "--cert", str(tmp_path / "f" / "dsc.pem"),
              "--at", at, "--facility-override", str(payload)).stdout.strip()
    (tmp_path / "hc1.txt").write_text(hc1 + "\n")
    (tmp_path / "uvci.txt").write_text("# revoked by the ministry\nURN:UVCI:01:VN:ANOTHER0003#Q\n")
    r = run("revoke", "add", "--list", str(lst), *signer, "--hc1-file", str(tmp_path / "hc1.txt"),
            "--type", "SIGNATURE", "--at", at)
    assert r.returncode == 0, r.stderr
    r = run("revoke", "add", "--list", str(lst), *signer, "--uvci-file", str(tmp_path / "uvci.txt"),
            "--type", "UCI", "--type", "COUNTRYCODEUCI", "--hash", "UCI:" + "ab" * 16, "--at", at)
    assert r.returncode == 0 and "added 3 new entries" in r.stdout, r.stdout + r.stderr
    assert "URN:UVCI" not in r.stdout + r.stderr
    shown = json.loads(run("revoke", "show", str(lst), "--csca", str(m / "csca.pem"), "--at", at,
                           "--format", "json").stdout)
    assert shown["entries"] == {"UCI": 2, "COUNTRYCODEUCI": 1, "SIGNATURE": 1} and shown["stale"] is False
    csca = ["--csca", str(m / "csca.pem")]
    r = run("verify", "--trust", str(tmp_path / "f" / "dsc.pem"), *csca, "--revocation", str(lst), "--at", at, hc1)
    assert r.returncode == 1 and "REVOKED" in r.stdout
    r = run("verify", "--trust", str(tmp_path / "f" / "dsc.pem"), "--revocation", str(lst), "--at", at, hc1)
    assert r.returncode == 2 and "--csca" in r.stderr
    r = run("revoke", "add", "--list", str(lst), *signer, "--uvci-file", str(tmp_path / "uvci.txt"),
            "--type", "SIGNATURE", "--at", at)
    assert r.returncode == 2 and "HC1" in r.stderr


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_hostile_revocation_bytes(pki: Pki, data: bytes) -> None:
    """Arbitrary bytes as a revocation list give DocumentError, never another exception."""
    with pytest.raises(DocumentError):
        RevocationList.load(data, [pki.csca], now=NOW)
