"""Hostile SHC input: verification returns a verdict with a code, never an exception or INTERNAL_ERROR.

Includes arbitrary JSON signed with a trusted key: everything after the signature check must
survive whatever a (compromised or careless) trusted issuer signs.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW
from shc_support import EXAMPLE_KID, bundle_of, card, example_trust, immunization, make_claims, qr_text, sign
from strategies_shc import json_values
from vaxcert import FailureCode
from vaxcert.formats.shc import ShcResult, ShcVerifier
from vaxcert.formats.shc.jws import b64url_encode

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VERIFIER = ShcVerifier(example_trust())
VALID_QR = qr_text(card())
VALID_JWS = card()



def _check(results: Any) -> None:
    for result in results if isinstance(results, tuple) else (results,):
        assert isinstance(result, ShcResult)
        assert result.code != FailureCode.INTERNAL_ERROR, result.reason
        assert isinstance(result.reason, str)
        json.dumps(result.to_dict(show_payload=True), default=str)
        repr(result)


@SETTINGS
@given(st.text(max_size=500))
def test_any_text(text: str) -> None:
    """Arbitrary text, bare or after the shc:/ prefix, gives a verdict."""
    for source in (text, "shc:/" + text, "{" + text, text + "." + text + "." + text):
        result = VERIFIER.verify(source, now=NOW)
        _check(result)
        assert not result.valid


@SETTINGS
@given(st.binary(max_size=500))
def test_any_bytes(data: bytes) -> None:
    """Arbitrary bytes give a verdict."""
    _check(VERIFIER.verify_all(data, now=NOW))


@SETTINGS
@given(st.text(alphabet="0123456789/", max_size=400), st.lists(st.text(alphabet="0123456789/", max_size=60),
                                                               max_size=5))
def test_any_digits_and_chunks(digits: str, chunks: list[str]) -> None:
    """Arbitrary digits and chunk headers, alone or as several codes, give a verdict."""
    _check(VERIFIER.verify("shc:/" + digits, now=NOW))
    _check(VERIFIER.verify(["shc:/" + c for c in chunks], now=NOW))


@SETTINGS
@given(st.integers(5, len(VALID_QR) - 1), st.sampled_from("0123456789/x"), st.integers(0, 3))
def test_mutated_qr(position: int, char: str, cut: int) -> None:
    """A valid QR text with one character changed (and maybe cut short) is invalid, never an error."""
    mutated = VALID_QR[:position] + char + VALID_QR[position + 1:]
    mutated = mutated[: len(mutated) - cut]
    result = VERIFIER.verify(mutated, now=NOW)
    _check(result)
    if mutated != VALID_QR:
        assert not result.valid


@SETTINGS
@given(json_values)
def test_any_card_file(value: Any) -> None:
    """Arbitrary JSON as a card file, or inside verifiableCredential, gives verdicts."""
    _check(VERIFIER.verify_all(json.dumps(value), now=NOW))
    _check(VERIFIER.verify_all(json.dumps({"verifiableCredential": value}), now=NOW))
    _check(VERIFIER.verify_all(json.dumps({"resourceType": "Parameters", "parameter": value}), now=NOW))


@SETTINGS
@given(json_values)
def test_any_header(header: Any) -> None:
    """A valid payload and signature under an arbitrary protected header gives a verdict."""
    _, payload, signature = VALID_JWS.split(".")
    encoded = b64url_encode(json.dumps(header).encode())
    _check(VERIFIER.verify(f"{encoded}.{payload}.{signature}", now=NOW))
    if isinstance(header, dict):
        signed = sign(make_claims(), header={**header, "zip": "DEF", "alg": "ES256", "kid": EXAMPLE_KID})
        _check(VERIFIER.verify(signed, now=NOW))


PLACES = ["claims", "iss", "nbf", "exp", "vc", "type", "subject", "fhirVersion", "bundle", "entry", "entry0",
          "patient", "name", "birthDate", "immunization", "vaccineCode", "coding", "occurrence", "reference",
          "status", "protocolApplied", "performer", "lotNumber", "rid"]


def _place(claims: dict[str, Any], place: str, value: Any) -> Any:
    vc = claims["vc"]
    subject = vc["credentialSubject"]
    bundle = subject["fhirBundle"]
    patient = bundle["entry"][0]["resource"]
    shot = bundle["entry"][1]["resource"]
    targets: dict[str, tuple[Any, Any]] = {
        "iss": (claims, "iss"), "nbf": (claims, "nbf"), "exp": (claims, "exp"), "vc": (claims, "vc"),
        "type": (vc, "type"), "subject": (vc, "credentialSubject"), "fhirVersion": (subject, "fhirVersion"),
        "bundle": (subject, "fhirBundle"), "entry": (bundle, "entry"), "entry0": (bundle["entry"], 0),
        "patient": (bundle["entry"][0], "resource"), "name": (patient, "name"), "birthDate": (patient, "birthDate"),
        "immunization": (bundle["entry"][1], "resource"), "vaccineCode": (shot, "vaccineCode"),
        "coding": (shot["vaccineCode"], "coding"), "occurrence": (shot, "occurrenceDateTime"),
        "reference": (shot["patient"], "reference"), "status": (shot, "status"),
        "protocolApplied": (shot, "protocolApplied"), "performer": (shot, "performer"),
        "lotNumber": (shot, "lotNumber"), "rid": (vc, "rid"),
    }
    if place == "claims":
        return value
    container, key = targets[place]
    container[key] = value
    return claims


BASE_CLAIMS = make_claims(bundle_of(immunization(), immunization(date="2021-02-01")))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PLACES), json_values)
def test_signed_hostile_content(place: str, value: Any) -> None:
    """Arbitrary JSON at any place of the claims, signed by a trusted key, gives a verdict."""
    claims = _place(copy.deepcopy(BASE_CLAIMS), place, value)
    _check(VERIFIER.verify(sign(json.dumps(claims).encode()), now=NOW))
