"""The SMART Health Cards validation SDK's test data (../shared/shc/validation-testdata) gets the right verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import NOW
from shc_support import EXAMPLE_ISS, EXAMPLE_KID, X5C_KID, example_trust
from vaxcert import FailureCode, Stage
from vaxcert.events import CVX
from vaxcert.formats.shc import ShcTrust, ShcTrustError, verify_shc, verify_shc_all
from vaxcert.formats.shc.trust import parse_jwks
from vaxcert.qr import decode_file


@pytest.fixture(scope="module")
def testdata(shared_dir: Path) -> Path:
    """The validation SDK's test files."""
    return shared_dir / "shc" / "validation-testdata"


INVALID = [
    ("test-example-00-d-jws-der-signature.txt", FailureCode.SIGNATURE_DER_ENCODED, Stage.SIGNATURE),
    ("test-example-00-d-jws-invalid-signature.txt", FailureCode.SIGNATURE_INVALID, Stage.SIGNATURE),
    ("test-example-00-d-jws-no_deflate.txt", FailureCode.NOT_COMPRESSED, Stage.JWS),
    ("test-example-00-f-qr-code-numeric-value-0-odd-count.txt", FailureCode.SHC_NUMERIC_INVALID, Stage.NUMERIC),
    ("test-example-00-f-qr-code-numeric-value-0-wrong_qr_header.txt", FailureCode.PREFIX_MISSING, Stage.PREFIX),
]


@pytest.mark.parametrize(("name", "code", "stage"), INVALID)
def test_invalid_files(testdata: Path, name: str, code: FailureCode, stage: Stage) -> None:
    """Each broken artefact fails with its own code and stage."""
    result = verify_shc((testdata / name).read_bytes(), example_trust(), now=NOW)
    assert (result.valid, result.code, result.stage) == (False, code, stage)
    assert result.holder is None and result.events == () and result.claims is None


def test_der_and_invalid_signatures_name_the_key(testdata: Path) -> None:
    """Signature failures still report the kid read from the header."""
    for name in ("test-example-00-d-jws-der-signature.txt", "test-example-00-d-jws-invalid-signature.txt"):
        result = verify_shc((testdata / name).read_text(), example_trust(), now=NOW)
        assert result.kid == EXAMPLE_KID


def test_single_qr_of_1195_characters(testdata: Path) -> None:
    """The largest single-QR card verifies; five doses of a person with long names."""
    text = (testdata / "test-example-1195-byte-qrnumeric.txt").read_text()
    result = verify_shc(text, example_trust(), now=NOW)
    assert result.valid, result.reason
    assert (result.source, result.iss, result.kid) == ("qr", EXAMPLE_ISS, EXAMPLE_KID)
    assert result.holder is not None and result.holder.family == "Kenobi-Skywalker"
    assert len(result.events) == 5
    assert all(event.product.system == CVX for event in result.events)


def test_multi_jws_file(testdata: Path) -> None:
    """A file with two cards (two people, two keys) gives two valid verdicts; verify_shc asks for verify_shc_all."""
    data = (testdata / "test-example-00-e-file-multi-jws.smart-health-card").read_bytes()
    results = verify_shc_all(data, example_trust(), now=NOW)
    assert [(r.valid, r.source, r.index, r.kid) for r in results] == [
        (True, "file", 0, EXAMPLE_KID),
        (True, "file", 1, X5C_KID),
    ]
    holders = [r.holder for r in results]
    assert [h.given for h in holders if h] == ["John B.", "Jane C."]
    assert [e.eu_product for e in results[0].events] == ["EU/1/20/1507"] * 2  # CVX 207, Moderna
    assert [e.eu_product for e in results[1].events] == ["EU/1/20/1528"] * 2  # CVX 208, Pfizer
    single = verify_shc(data, example_trust(), now=NOW)
    assert (single.valid, single.code) == (False, FailureCode.SHC_FILE_INVALID)
    assert "verify_shc_all" in single.reason


def test_fhir_parameters_response(testdata: Path) -> None:
    """The $health-cards-issue response (a FHIR Parameters resource) is read as a card file."""
    result = verify_shc((testdata / "test-example-00-fhirhealthcard.json").read_bytes(), example_trust(), now=NOW)
    assert result.valid, result.reason
    assert result.source == "fhir-parameters"
    assert [e.date.isoformat() for e in result.events if e.date] == ["2021-01-01", "2021-01-29"]


def test_photographed_qr_code(testdata: Path) -> None:
    """The photographed, scaled QR code decodes (byte + numeric segments) and verifies."""
    codes = decode_file(testdata / "test-example-00-g-qr-code-0-scaled-85.jpg")
    assert len(codes) == 1
    assert codes[0].modes == ("byte", "numeric")
    assert not codes[0].alphanumeric
    result = verify_shc(codes[0].text, example_trust(), now=NOW)
    assert result.valid, result.reason
    assert (result.source, result.iss) == ("qr", EXAMPLE_ISS)
    assert result.holder is not None and result.holder.family == "Anyperson"


@pytest.mark.parametrize("name", ["valid_key.json", "valid_keys.json"])
def test_valid_key_sets(testdata: Path, name: str) -> None:
    """The SDK's valid key sets load, every key accepted."""
    jwks = json.loads((testdata / name).read_text())
    accepted, refused = parse_jwks(jwks)
    assert refused == []
    assert sorted(k.kid for k in accepted) == sorted(k["kid"] for k in jwks["keys"])
    trust = ShcTrust.from_jwks("https://issuer.example", jwks)
    assert len(trust.issuers["https://issuer.example"].keys) == len(jwks["keys"])


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("wrong_alg_key.json", "alg must be ES256"),
        ("wrong_curve_key.json", "crv must be P-256"),
        ("wrong_kid_key.json", "kid is not the key's RFC 7638 JWK thumbprint"),
    ],
)
def test_wrong_keys_are_refused(testdata: Path, name: str, reason: str) -> None:
    """Keys with a wrong alg, curve or kid are refused with the reason (strict: an error naming it)."""
    jwks = json.loads((testdata / name).read_text())
    assert parse_jwks(jwks) == ([], [(0, reason)])
    with pytest.raises(ShcTrustError, match=reason):
        ShcTrust.from_jwks("https://issuer.example", jwks)
    lenient = ShcTrust.from_jwks("https://issuer.example", jwks, strict=False)
    assert lenient.issuers["https://issuer.example"].keys == {}
    assert [(r.index, r.reason) for r in lenient.rejected] == [(0, reason)]
