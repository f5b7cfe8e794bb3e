"""End-to-end issue → verify, and every verification rule of BasicDgcTestsList on vaxcert's own certificates."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import cbor2
import pytest

from conftest import NOW, Pki, make_pki
from vaxcert import FailureCode, InputError, Issuer, Stage, TrustList, Verifier, issue, verify
from vaxcert.errors import ConfigurationError
from vaxcert.pki.certificates import create_dsc
from vaxcert.pki.keys import KeySigner, generate_private_key
from vaxcert.stages import base45, compression, cose, cwt, prefix

VACCINATION: dict[str, Any] = {
    "ver": "1.3.0",
    "nam": {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": "Văn Đức", "gnt": "VAN<DUC"},
    "dob": "1985-04-12",
    "v": [{
        "tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215",
        "dn": 2, "sd": 2, "dt": "2026-05-01", "co": "VN", "is": "Ministry of Health VN",
        "ci": "URN:UVCI:01:VN:TESTCERT0001#H",
    }],
}


def _payload(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(VACCINATION)
    payload.update(changes)
    return payload


def _hc1_from_message(message: bytes) -> str:
    return prefix.add(base45.encode(compression.compress(message)))


def _signed(pki: Pki, protected: dict[int, Any], unprotected: dict[int, Any] | None = None,
            signature: bytes | None = None, claims: bytes | None = None, tag: int | None = 18) -> str:
    """Hand-assemble a COSE_Sign1 with arbitrary headers, signed by the ES256 test DSC."""
    prot = cbor2.dumps(protected)
    body = claims if claims is not None else cwt.encode(
        VACCINATION, issuer="VN", issued_at=int(NOW.timestamp()) - 60, expires_at=int(NOW.timestamp()) + 3600)
    sig = signature if signature is not None else pki.signer.sign(cose.sig_structure(prot, body))
    msg: Any = [prot, unprotected or {}, body, sig]
    if tag is not None:
        msg = cbor2.CBORTag(tag, msg)
    return _hc1_from_message(cbor2.dumps(msg))


def test_issue_then_verify_es256(pki: Pki) -> None:
    """A certificate issued with ES256 verifies, with its metadata and payload."""
    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)
    assert cert.hc1.startswith("HC1:")
    result = Verifier(pki.trust).verify(cert.hc1, now=NOW + dt.timedelta(days=1))
    assert result.valid, result
    assert (result.code, result.stage, result.cert_type, result.algorithm) == (FailureCode.OK, Stage.DONE, "v", "ES256")
    assert result.kid == pki.signer.kid
    assert result.issuer_country == "VN"
    assert result.payload == VACCINATION
    assert result.issued_at == NOW
    assert result.expires_at == NOW + dt.timedelta(days=365)


@pytest.mark.parametrize("kind", ["rsa2048", "rsa3072"])
def test_issue_then_verify_ps256(kind: str) -> None:
    """PS256 with RSA 2048 and 3072 verifies."""
    base = make_pki()
    key = generate_private_key(kind)  # type: ignore[arg-type]
    dsc = create_dsc(key, csca=base.csca, csca_key=base.csca_key, facility_id="VN-HN-009",
                     facility_name="RSA facility", now=NOW - dt.timedelta(days=1))
    cert = issue(VACCINATION, KeySigner(key, dsc), now=NOW, facility_override=True)
    result = verify(cert.hc1, TrustList.from_certificates([dsc]), now=NOW)
    assert result.valid and result.algorithm == "PS256"


def test_top_level_recipes_default_to_current_time() -> None:
    """issue() and verify() without now= use the clock."""
    fresh = make_pki(now=dt.datetime.now(dt.UTC))
    payload = _payload(v=[{**VACCINATION["v"][0], "dt": dt.date.today().isoformat()}])
    cert = issue(payload, fresh.signer, facility_override=True)
    assert verify(cert.hc1, fresh.trust).valid


def test_raw_cose_bytes_verify(pki: Pki) -> None:
    """verify() also takes raw COSE bytes."""
    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)
    assert Verifier(pki.trust).verify(cert.cose, now=NOW).valid


def test_es256_signature_is_raw_64_bytes(pki: Pki) -> None:
    """ES256 signatures are r‖s, 64 bytes, and the kid is in the protected header."""
    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)
    message = cose.decode(cert.cose)
    assert len(message.signature) == 64
    assert message.kid_in_protected and message.protected[4] == pki.signer.kid


def test_cwt_times_are_integers(pki: Pki) -> None:
    """Issued iat/exp are integers and there are no undefined values (I-CO4, I-CO5)."""
    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW + dt.timedelta(microseconds=123456))
    claims = cbor2.loads(cose.decode(cert.cose).payload)
    assert type(claims[6]) is int and type(claims[4]) is int
    assert b"\xf7" not in cose.decode(cert.cose).payload


@pytest.mark.parametrize(
    ("at", "code"),
    [(NOW - dt.timedelta(seconds=1), FailureCode.NOT_YET_VALID),
     (NOW + dt.timedelta(days=366), FailureCode.EXPIRED)],
    ids=["before-iat", "after-exp"],
)
def test_time_window(pki: Pki, at: dt.datetime, code: FailureCode) -> None:
    """iat ≤ now ≤ exp (CO16, CO17)."""
    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)
    result = Verifier(pki.trust).verify(cert.hc1, now=at)
    assert not result.valid and result.code == code and result.stage == Stage.TIME


def test_unknown_kid(pki: Pki) -> None:
    """A certificate from a signer not in the trust list is KID_UNKNOWN."""
    cert = Issuer(make_pki().signer, facility_override=True).issue(VACCINATION, now=NOW)
    result = Verifier(pki.trust).verify(cert.hc1, now=NOW)
    assert (result.valid, result.code, result.payload) == (False, FailureCode.KID_UNKNOWN, None)


def test_tampered_payload_invalid_signature(pki: Pki) -> None:
    """A changed payload does not verify (CO5) and its content is not exposed."""
    hc1 = _signed(pki, {1: -7, 4: pki.signer.kid})
    message = cose.decode(compression.decompress(base45.decode(prefix.strip(hc1))))
    forged_claims = cwt.encode(_payload(dob="1999"), issuer="VN", issued_at=1, expires_at=2**40)
    forged = cbor2.dumps(cbor2.CBORTag(18, [message.protected_bytes, {}, forged_claims, message.signature]))
    result = Verifier(pki.trust).verify(_hc1_from_message(forged), now=NOW)
    assert (result.code, result.stage, result.payload) == (FailureCode.SIGNATURE_INVALID, Stage.SIGNATURE, None)


@pytest.mark.parametrize("tag", [None, 18, 61], ids=["untagged", "tag18", "tag61-wrapping-18"])
def test_tagging_variants_accepted(pki: Pki, tag: int | None) -> None:
    """Untagged, tag 18, and tag 61 wrapping tag 18 (CO28) are accepted."""
    prot = {1: -7, 4: pki.signer.kid}
    if tag == 61:
        body = cwt.encode(VACCINATION, issuer="VN", issued_at=int(NOW.timestamp()), expires_at=2**33)
        sig = pki.signer.sign(cose.sig_structure(cbor2.dumps(prot), body))
        inner = cbor2.CBORTag(18, [cbor2.dumps(prot), {}, body, sig])
        hc1 = _hc1_from_message(cbor2.dumps(cbor2.CBORTag(61, inner)))
    else:
        hc1 = _signed(pki, prot, tag=tag)
    assert Verifier(pki.trust).verify(hc1, now=NOW).valid


def test_other_tags_refused(pki: Pki) -> None:
    """A tag other than 18 (or 61 around 18) is refused."""
    result = Verifier(pki.trust).verify(_signed(pki, {1: -7, 4: pki.signer.kid}, tag=98), now=NOW)
    assert result.code == FailureCode.COSE_UNEXPECTED_TAG


@pytest.mark.parametrize(
    ("protected", "unprotected", "valid", "code"),
    [
        ("good", None, True, FailureCode.OK),            # CO18
        (None, "good", True, FailureCode.OK),            # CO19
        ("good", "good", True, FailureCode.OK),          # CO20
        ("good", "bad", True, FailureCode.OK),           # CO21
        ("bad", "good", False, FailureCode.KID_UNKNOWN), # CO22
        (None, "bad", False, FailureCode.KID_UNKNOWN),   # CO23
        (None, None, False, FailureCode.KID_MISSING),
        ("short", None, False, FailureCode.KID_INVALID_LENGTH),  # CO25
        ("long", None, False, FailureCode.KID_INVALID_LENGTH),   # CO26
    ],
    ids=["CO18", "CO19", "CO20", "CO21", "CO22", "CO23", "no-kid", "CO25", "CO26"],
)
def test_kid_placement(pki: Pki, protected: str | None, unprotected: str | None, valid: bool,
                       code: FailureCode) -> None:
    """The kid comes from the protected header, the unprotected one only when the protected has none."""
    kids = {"good": pki.signer.kid, "bad": b"\x01" * 8, "short": pki.signer.kid[:7],
            "long": pki.signer.kid + b"\0"}
    prot: dict[int, Any] = {1: -7}
    unprot: dict[int, Any] = {}
    if protected:
        prot[4] = kids[protected]
    if unprotected:
        unprot[4] = kids[unprotected]
    result = Verifier(pki.trust).verify(_signed(pki, prot, unprot), now=NOW)
    assert (result.valid, result.code) == (valid, code)


@pytest.mark.parametrize(
    "alg", [-35, -36, -8, 1, -257, "ES256"], ids=["ES384", "ES512", "EdDSA", "A128GCM", "RS256", "text"]
)
def test_algorithm_allow_list(pki: Pki, alg: object) -> None:
    """Algorithms other than ES256 / PS256 are refused (CO4)."""
    result = Verifier(pki.trust).verify(_signed(pki, {1: alg, 4: pki.signer.kid}), now=NOW)
    assert (result.valid, result.code, result.stage) == (False, FailureCode.ALGORITHM_UNSUPPORTED, Stage.COSE)


def test_algorithm_must_match_key(pki: Pki) -> None:
    """PS256 claimed over an EC key, or ES256 over an RSA key, is invalid (CO27)."""
    result = Verifier(pki.trust).verify(_signed(pki, {1: -37, 4: pki.signer.kid}), now=NOW)
    assert result.code == FailureCode.ALGORITHM_KEY_MISMATCH
    rsa_kid = pki.rsa_signer.kid
    prot = cbor2.dumps({1: -7, 4: rsa_kid})
    body = cwt.encode(VACCINATION, issuer="VN", issued_at=1, expires_at=2**33)
    sig = pki.rsa_signer.sign(cose.sig_structure(prot, body))
    hc1 = _hc1_from_message(cbor2.dumps(cbor2.CBORTag(18, [prot, {}, body, sig])))
    assert Verifier(pki.trust).verify(hc1, now=NOW).code == FailureCode.ALGORITHM_KEY_MISMATCH


def test_overlong_ecdsa_signature(pki: Pki) -> None:
    """A DER or overlong ECDSA signature is SIGNATURE_MALFORMED, not a crash (CO24)."""
    result = Verifier(pki.trust).verify(
        _signed(pki, {1: -7, 4: pki.signer.kid}, signature=b"\x30" + b"\x45" * 71), now=NOW)
    assert result.code == FailureCode.SIGNATURE_MALFORMED


def test_several_signers_share_a_kid(pki: Pki) -> None:
    """When several trusted certificates share a kid, each is tried."""
    from vaxcert.trust.store import TrustedSigner

    other = make_pki()
    impostor = TrustedSigner.from_certificate(other.dsc)
    genuine = TrustedSigner.from_certificate(pki.dsc)
    forced = [TrustedSigner(**{**{f: getattr(impostor, f) for f in TrustedSigner.__dataclass_fields__},
                               "kid": genuine.kid}), genuine]
    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)
    result = Verifier(TrustList(forced)).verify(cert.hc1, now=NOW)
    assert result.valid and result.signer is genuine


@pytest.mark.parametrize(("cert_type", "types"), [("v", ("t",)), ("v", ("r",)), ("t", ("v",)), ("r", ("v", "t"))])
def test_key_usage_enforced(cert_type: str, types: tuple[str, ...]) -> None:
    """A DSC restricted by key-usage OIDs may not sign other types (CO6–CO11)."""
    restricted = make_pki(types=types)
    unrestricted = make_pki()
    payload = _entry_payload(cert_type)
    cert = Issuer(unrestricted.signer, check=False, facility_override=True).issue(payload, now=NOW)
    # Same key, restricted certificate: re-sign under a restricted DSC with the same kid logic.
    restricted_cert = Issuer(restricted.signer, check=False, facility_override=True)
    with pytest.raises(InputError):
        restricted_cert.issue(payload, now=NOW)
    # A hand-built message signed by the restricted DSC must fail verification on key usage.
    prot = {1: -7, 4: restricted.signer.kid}
    body = cwt.encode(payload, issuer="VN", issued_at=int(NOW.timestamp()), expires_at=2**33)
    sig = restricted.signer.sign(cose.sig_structure(cbor2.dumps(prot), body))
    hc1 = _hc1_from_message(cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps(prot), {}, body, sig])))
    result = Verifier(restricted.trust).verify(hc1, now=NOW)
    assert (result.code, result.stage) == (FailureCode.KEY_USAGE_MISMATCH, Stage.KEY_USAGE)
    assert Verifier(unrestricted.trust).verify(cert.hc1, now=NOW).valid


def _entry_payload(cert_type: str) -> dict[str, Any]:
    base = {k: v for k, v in VACCINATION.items() if k != "v"}
    if cert_type == "v":
        return _payload()
    if cert_type == "t":
        return {**base, "t": [{"tg": "840539006", "tt": "LP6464-4", "nm": "Roche LightCycler qPCR",
                               "sc": "2026-05-30T08:00:00Z", "tr": "260415000", "tc": "Bach Mai Hospital",
                               "co": "VN", "is": "Ministry of Health VN", "ci": "URN:UVCI:01:VN:T1#P"}]}
    return {**base, "r": [{"tg": "840539006", "fr": "2026-04-01", "df": "2026-04-12", "du": "2026-09-28",
                           "co": "VN", "is": "Ministry of Health VN", "ci": "URN:UVCI:01:VN:R1#R"}]}


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({**VACCINATION, "t": VACCINATION["v"]}, FailureCode.PAYLOAD_MULTIPLE_TYPES),
        ({**VACCINATION, "v": VACCINATION["v"] * 2}, FailureCode.PAYLOAD_MULTIPLE_ENTRIES),
        ({k: v for k, v in VACCINATION.items() if k != "v"}, FailureCode.PAYLOAD_MISSING),
        ({**VACCINATION, "v": []}, FailureCode.PAYLOAD_MISSING),
        ({**VACCINATION, "dob": 1985}, FailureCode.SCHEMA_INVALID),
        ({**VACCINATION, "ver": "7.0.0"}, FailureCode.SCHEMA_VERSION_UNKNOWN),
    ],
    ids=["two-types", "two-entries", "no-entry", "empty-entry", "schema", "version"],
)
def test_payload_rules(pki: Pki, payload: dict[str, Any], code: FailureCode) -> None:
    """Exactly one of v/t/r with one entry, and the schema chosen by ver (DGC1, DGC2)."""
    claims = cwt.encode(payload, issuer="VN", issued_at=int(NOW.timestamp()), expires_at=2**33)
    hc1 = _signed(pki, {1: -7, 4: pki.signer.kid}, claims=claims)
    result = Verifier(pki.trust).verify(hc1, now=NOW)
    assert (result.valid, result.code) == (False, code)
    assert result.payload is not None  # the signature held, so the content may be shown
    assert result.trace.claims is not None and result.trace.claims.payload == payload  # as signed


def test_signer_validity_window(pki: Pki) -> None:
    """The DSC must be valid at verification time, even when the certificate's exp is later."""
    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW, validity=dt.timedelta(days=3650))
    assert cert.expires_at <= int(pki.dsc.not_valid_after_utc.timestamp())  # the issuer caps exp
    late = pki.dsc.not_valid_after_utc + dt.timedelta(days=1)
    claims = cwt.encode(VACCINATION, issuer="VN", issued_at=int(NOW.timestamp()), expires_at=2**40)
    hc1 = _signed(pki, {1: -7, 4: pki.signer.kid}, claims=claims)
    result = Verifier(pki.trust).verify(hc1, now=late)
    assert (result.code, result.stage) == (FailureCode.DSC_EXPIRED, Stage.TRUST)
    early = pki.dsc.not_valid_before_utc - dt.timedelta(days=1)
    early_claims = cwt.encode(VACCINATION, issuer="VN", issued_at=0, expires_at=2**40)
    hc1 = _signed(pki, {1: -7, 4: pki.signer.kid}, claims=early_claims)
    assert Verifier(pki.trust).verify(hc1, now=early).code == FailureCode.DSC_NOT_YET_VALID


def test_issuer_refuses_outside_signer_validity(pki: Pki) -> None:
    """Signing before the DSC's validity starts is refused."""
    with pytest.raises(ConfigurationError):
        Issuer(pki.signer, facility_override=True).issue(VACCINATION,
                                                         now=pki.dsc.not_valid_before_utc - dt.timedelta(days=1))


def test_issuer_refuses_naive_time(pki: Pki) -> None:
    """A naive datetime is a configuration error, not silently local time."""
    with pytest.raises(ConfigurationError):
        Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW.replace(tzinfo=None))


def test_result_repr_and_dict_hide_personal_data(pki: Pki) -> None:
    """repr and the default dict carry no names, birth dates or certificate identifiers."""
    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)
    result = Verifier(pki.trust).verify(cert.hc1, now=NOW)
    text = repr(result) + repr(cert) + str(result.to_dict()) + repr(result.trace)
    for secret in ("NGUYEN", "Nguyễn", "1985-04-12", "TESTCERT0001", cert.hc1[4:40]):
        assert secret not in text
    assert result.to_dict(show_payload=True)["payload"] == VACCINATION


def test_issuer_refuses_after_signing_period(pki: Pki) -> None:
    """A rotated-out DSC (past its PrivateKeyUsagePeriod) may not sign; what it signed still verifies."""
    key = generate_private_key("ec")
    dsc = create_dsc(key, csca=pki.csca, csca_key=pki.csca_key, facility_id="VN-HN-001", facility_name="Old key",
                     now=NOW - dt.timedelta(days=20), signing_days=10, valid_days=400)
    issuer = Issuer(KeySigner(key, dsc), facility_override=True)
    cert = issuer.issue(VACCINATION, now=NOW - dt.timedelta(days=15), validity=dt.timedelta(days=300))
    with pytest.raises(ConfigurationError, match="signing period"):
        issuer.issue(VACCINATION, now=NOW)
    assert Verifier(TrustList.from_certificates([dsc])).verify(cert.hc1, now=NOW).valid


def test_unknown_codes_are_warnings_not_failures(pki: Pki) -> None:
    """With value sets, an unknown product is reported as a warning; the certificate stays valid."""
    from vaxcert.dcc.valuesets import ValueSets

    payload = _payload(v=[{**VACCINATION["v"][0], "mp": "VN/2026/NEW-VACCINE"}])
    cert = Issuer(pki.signer, check=False, facility_override=True).issue(payload, now=NOW)
    plain = Verifier(pki.trust).verify(cert.hc1, now=NOW)
    checked = Verifier(pki.trust, valuesets=ValueSets.bundled()).verify(cert.hc1, now=NOW)
    assert plain.valid and plain.warnings == ()
    assert checked.valid and len(checked.warnings) == 1
    assert checked.warnings[0].startswith("v[0].mp: ") and "vaccine-medicinal-product" in checked.warnings[0]
    assert Verifier(pki.trust, valuesets=ValueSets.bundled()).verify(
        Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW).hc1, now=NOW).warnings == ()
