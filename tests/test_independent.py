"""vaxcert checked by an implementation that shares no code with it (tests/independent_dcc.py)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings

from conftest import NOW, Pki
from independent_dcc import cose_from_hc1, payload_of, pycose_verifies, verify_cose, verify_hc1
from strategies_records import dose_records
from vaxcert.dcc import uvci
from vaxcert.dcc.model import DoseRecord
from vaxcert.dcc.payload import payload_from_record
from vaxcert.issuer import Issuer
from vaxcert.vectors.format import parse_clock

REPO = Path(__file__).resolve().parents[1]
OWN_SET = REPO / "test_vectors"


def _der(cert: Any) -> bytes:
    return bytes(cert.public_bytes(serialization.Encoding.DER))


def _own_files() -> list[tuple[str, dict[str, Any]]]:
    return [(p.relative_to(OWN_SET).as_posix(), json.loads(p.read_text(encoding="utf-8")))
            for p in sorted(OWN_SET.glob("*/2DCode/raw/*.json"))]


OWN_FILES = _own_files()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=dose_records())
def test_issued_certificates_verify_independently(pki: Pki, record: DoseRecord) -> None:
    """Certificates vaxcert issues (ES256 and PS256) verify with the independent verifier and pycose."""
    payload = payload_from_record(record, ci=uvci.generate("VN"), issuer="Bộ Y tế", now=NOW)
    for signer, cert in ((pki.signer, pki.dsc), (pki.rsa_signer, pki.rsa_dsc)):
        issued = Issuer(signer, facility_override=True).issue(payload, now=NOW)
        outcome = verify_hc1(issued.hc1, _der(cert), NOW)
        assert outcome.valid, outcome.stage
        assert outcome.payload == payload
        assert outcome.issued_at == issued.issued_at and outcome.expires_at == issued.expires_at
        assert cose_from_hc1(issued.hc1) == issued.cose
        assert pycose_verifies(issued.cose, _der(cert))


def test_independent_verifier_rejects_tampering(pki: Pki) -> None:
    """The independent verifier is not vacuous: a changed payload byte, wrong key or late clock fail."""
    payload = json.loads((OWN_SET / "common/2DCode/raw/CO3.json").read_text(encoding="utf-8"))["JSON"]
    issued = Issuer(pki.signer, facility_override=True).issue(payload, now=NOW)
    cose = bytearray(issued.cose)
    cose[-80] ^= 0x01  # inside the signed claims
    assert verify_cose(bytes(cose), _der(pki.dsc), NOW).stage in ("signature", "cwt")
    assert not pycose_verifies(bytes(cose), _der(pki.dsc))
    assert verify_cose(issued.cose, _der(pki.rsa_dsc), NOW).stage == "kid"
    late = NOW + dt.timedelta(days=400)
    assert verify_cose(issued.cose, _der(pki.dsc), late).stage == "time"


@pytest.mark.parametrize(("name", "doc"), OWN_FILES, ids=[name for name, _ in OWN_FILES])
def test_own_set_through_independent_verifier(name: str, doc: dict[str, Any]) -> None:
    """Every file of vaxcert's own set gets the stated VERIFY / EXPIRATIONCHECK / KEYUSAGE verdicts."""
    expected = doc["EXPECTEDRESULTS"]
    cose = bytes.fromhex(doc["COSE"])
    der = base64.b64decode(doc["TESTCTX"]["CERTIFICATE"])
    clock = parse_clock(doc["TESTCTX"]["VALIDATIONCLOCK"])
    assert clock is not None
    outcome = verify_cose(cose, der, clock)
    if "EXPECTEDVERIFY" in expected:
        assert outcome.authentic == expected["EXPECTEDVERIFY"], outcome.stage
    if expected.get("EXPECTEDVERIFY") and "EXPECTEDEXPIRATIONCHECK" in expected:
        in_window = outcome.issued_at is not None and outcome.expires_at is not None and (
            outcome.issued_at <= clock.timestamp() <= outcome.expires_at)
        assert in_window == expected["EXPECTEDEXPIRATIONCHECK"]
    if expected.get("EXPECTEDVERIFY") and expected.get("EXPECTEDEXPIRATIONCHECK") and "EXPECTEDKEYUSAGE" in expected:
        assert (outcome.stage != "key-usage") == expected["EXPECTEDKEYUSAGE"]
    if expected.get("EXPECTEDVALIDJSON"):
        assert payload_of(cose_from_hc1(doc["PREFIX"])) == doc["JSON"]
    if outcome.authentic or outcome.stage == "signature":
        assert pycose_verifies(cose, der) == outcome.authentic
