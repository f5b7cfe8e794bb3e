"""The signed offline bundle: trust list, revocation lists and value sets in one checked file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_inprocess import run
from conftest import NOW, Pki, make_pki
from test_issue_verify import VACCINATION
from vaxcert import FailureCode, Issuer, Stage, Verifier
from vaxcert.dcc.valuesets import ValueSets
from vaxcert.pki.keys import KeySigner
from vaxcert.stages import cose
from vaxcert.trust.bundle import build_bundle, load_bundle, open_bundle
from vaxcert.trust.lists import publish
from vaxcert.trust.revocation import RevocationList
from vaxcert.trust.signeddoc import DocumentError

DAY = dt.timedelta(days=1)


def _ministry(pki: Pki) -> KeySigner:
    return KeySigner(pki.csca_key, pki.csca)


def _parts(pki: Pki, *, trust_days: float = 7, revoke: bytes | None = None) -> tuple[bytes, bytes]:
    trust_list = publish([pki.dsc, pki.rsa_dsc], _ministry(pki), cscas=[pki.csca], now=NOW,
                         valid_for=dt.timedelta(days=trust_days))
    lst = RevocationList()
    if revoke is not None:
        lst = lst.with_certificate(cose.decode(revoke), VACCINATION)
    return trust_list, lst.sign(_ministry(pki), now=NOW, valid_for=DAY * 2)


def test_bundle_gives_trust_revocation_and_valuesets(pki: Pki, tmp_path: Path) -> None:
    """load_bundle yields a trust store, a revocation checker and the value sets, all usable offline."""
    revoked = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)
    other = dict(VACCINATION, v=[dict(VACCINATION["v"][0], ci="URN:UVCI:01:VN:OTHERCERT0002#K")])
    good = Issuer(pki.rsa_signer, facility_override=True).issue(other, now=NOW)
    trust_list, revocation = _parts(pki, revoke=revoked.cose)
    data = build_bundle(_ministry(pki), trust_list=trust_list, revocation=[revocation],
                        valuesets=ValueSets.bundled(), now=NOW, fresh_for=DAY, sequence=3, cscas=[pki.csca])
    path = tmp_path / "bundle.cose"
    path.write_bytes(data)
    bundle = load_bundle(path, [pki.csca], NOW)
    assert (bundle.sequence, bundle.issued_at, bundle.expires_at) == (3, NOW, NOW + DAY)
    assert bundle.valuesets == ValueSets.bundled()
    verifier = Verifier(bundle.trust, revocation=bundle.revocation)
    assert verifier.verify(good.hc1, now=NOW + dt.timedelta(hours=1)).valid
    assert verifier.verify(revoked.hc1, now=NOW + dt.timedelta(hours=1)).code == FailureCode.REVOKED
    assert bundle.problem(NOW) is None


def test_bundle_freshness_limit(pki: Pki) -> None:
    """Past the bundle's limit (even with a fresher trust list inside) verification says TRUST_LIST_STALE."""
    trust_list, revocation = _parts(pki, trust_days=7)
    bundle = open_bundle(build_bundle(_ministry(pki), trust_list=trust_list, revocation=[revocation], now=NOW,
                                      fresh_for=dt.timedelta(hours=12)), [pki.csca], now=NOW)
    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)
    later = NOW + dt.timedelta(hours=13)
    result = Verifier(bundle.trust, revocation=bundle.revocation).verify(cert.hc1, now=later)
    assert (result.code, result.stage) == (FailureCode.TRUST_LIST_STALE, Stage.TRUST)
    assert bundle.problem(later) == FailureCode.TRUST_LIST_STALE and bundle.valuesets is None


def test_inner_lists_keep_their_own_limits(pki: Pki) -> None:
    """A fresh bundle with a stale trust list, or a stale revocation list, reports the part's staleness."""
    trust_list, revocation = _parts(pki, trust_days=1)
    bundle = open_bundle(build_bundle(_ministry(pki), trust_list=trust_list, revocation=[revocation], now=NOW,
                                      fresh_for=DAY * 7), [pki.csca], now=NOW)
    assert bundle.trust.problem(NOW + DAY * 1.5) == FailureCode.TRUST_LIST_STALE
    trust_list, revocation = _parts(pki, trust_days=6)
    bundle = open_bundle(build_bundle(_ministry(pki), trust_list=trust_list, revocation=[revocation], now=NOW,
                                      fresh_for=DAY * 7), [pki.csca], now=NOW)
    assert bundle.trust.problem(NOW + DAY * 3) is None
    assert bundle.problem(NOW + DAY * 3) == FailureCode.REVOCATION_LIST_STALE


def test_bundle_refusals(pki: Pki) -> None:
    """A tampered bundle, a foreign CSCA, or a part signed by another ministry is refused."""
    trust_list, revocation = _parts(pki)
    data = build_bundle(_ministry(pki), trust_list=trust_list, revocation=[revocation], now=NOW, fresh_for=DAY)
    tampered = bytearray(data)
    tampered[-7] ^= 0x10
    with pytest.raises(DocumentError) as info:
        open_bundle(bytes(tampered), [pki.csca], now=NOW)
    assert info.value.code == FailureCode.TRUST_LIST_INVALID
    other = make_pki()
    with pytest.raises(DocumentError):
        open_bundle(data, [other.csca], now=NOW)
    foreign_trust, _ = _parts(other)
    smuggled = build_bundle(_ministry(pki), trust_list=foreign_trust, now=NOW, fresh_for=DAY)
    with pytest.raises(DocumentError, match=r"not signed|does not chain"):
        open_bundle(smuggled, [pki.csca], now=NOW)
    with pytest.raises(DocumentError):
        build_bundle(_ministry(pki), trust_list=foreign_trust, now=NOW, fresh_for=DAY, cscas=[pki.csca])
    with pytest.raises(DocumentError, match=r"vaxcert\.bundle/1"):
        open_bundle(trust_list, [pki.csca], now=NOW)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_hostile_bundle_bytes(pki: Pki, data: bytes) -> None:
    """Arbitrary bytes as a bundle give DocumentError, never another exception."""
    with pytest.raises(DocumentError):
        open_bundle(data, [pki.csca], now=NOW)


def test_cli_bundle_build_verify_and_use(tmp_path: Path) -> None:
    """bundle build / verify, and vaxcert verify --bundle, including the stale case."""
    m = tmp_path / "m"
    assert run("keys", "init-ministry", "--country", "VN", "--out", str(m), "--at", "2026-05-01").returncode == 0
    assert run("keys", "issue-dsc", "--ministry", str(m), "--facility-id", "VN-HN-001", "--name", "F",
               "--out", str(tmp_path / "f"), "--at", "2026-05-01").returncode == 0
    at = "2026-06-01T00:00:00Z"
    signer = ["--signer-key", str(m / "csca.key.pem"), "--signer-cert", str(m / "csca.pem")]
    assert run("trust", "publish", str(tmp_path / "f" / "dsc.pem"), "-o", str(tmp_path / "tl.cose"), *signer,
               "--at", at).returncode == 0
    assert run("revoke", "init", "-o", str(tmp_path / "rl.cose"), *signer, "--at", at).returncode == 0
    r = run("bundle", "build", "--trust-list", str(tmp_path / "tl.cose"), "--revocation", str(tmp_path / "rl.cose"),
            *signer, "--fresh-hours", "24", "--at", at, "-o", str(tmp_path / "b.cose"))
    assert r.returncode == 0, r.stderr
    csca = ["--csca", str(m / "csca.pem")]
    r = run("bundle", "verify", str(tmp_path / "b.cose"), *csca, "--at", "2026-06-01T12:00:00Z", "--format", "json")
    verdict = json.loads(r.stdout)
    assert r.returncode == 0 and verdict["valid"] and verdict["signers"] == 1 and "vaccine-prophylaxis" in str(
        verdict["valuesets"])
    r = run("bundle", "verify", str(tmp_path / "b.cose"), *csca, "--at", "2026-06-02T00:00:01Z")
    assert r.returncode == 1 and "TRUST_LIST_STALE" in r.stdout
    payload = tmp_path / "p.json"
    payload.write_text(json.dumps(VACCINATION), encoding="utf-8")
    hc1 = run("issue", "--key", str(tmp_path / "f" / "dsc.key.pem"), "--cert", str(tmp_path / "f" / "dsc.pem"),
              "--at", at, "--facility-override", str(payload)).stdout.strip()
    r = run("verify", "--bundle", str(tmp_path / "b.cose"), *csca, "--at", "2026-06-01T12:00:00Z", hc1)
    assert r.returncode == 0 and r.stdout.startswith("VALID"), r.stdout + r.stderr
    r = run("verify", "--bundle", str(tmp_path / "b.cose"), *csca, "--at", "2026-06-03T00:00:00Z", hc1)
    assert r.returncode == 1 and "TRUST_LIST_STALE" in r.stdout
    r = run("verify", "--bundle", str(tmp_path / "b.cose"), "--at", "2026-06-01T12:00:00Z", hc1)
    assert r.returncode == 2 and "--csca" in r.stderr
