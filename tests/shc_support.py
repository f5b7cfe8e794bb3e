"""Builds SMART Health Cards for tests, signed with the spec's example issuer key (../shared/shc/issuer).

Cards are assembled by hand (JSON → raw DEFLATE → JWS with a raw r||s ES256 signature → numeric
``shc:/`` text), so tests can also build every kind of broken card: DER signatures, missing
``zip``, other headers, unsigned garbage, chunked QR texts, ``.smart-health-card`` files.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import zlib
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from conftest import SHARED
from vaxcert.formats.shc import ShcTrust, jwk_thumbprint, numeric
from vaxcert.formats.shc.jws import b64url_decode, b64url_encode

SHC_DIR = SHARED / "shc"
EXAMPLE_ISS = "https://spec.smarthealth.cards/examples/issuer"
#: The example issuer's plain signing key (the other one carries an x5c chain).
EXAMPLE_KID = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s"
X5C_KID = "EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw"
COVID_TYPES = (
    "https://smarthealth.cards#health-card",
    "https://smarthealth.cards#immunization",
    "https://smarthealth.cards#covid19",
)
#: nbf of the cards built here: 2021-06-01T12:00:00Z (the tests verify at 2026-06-01).
NBF = int(dt.datetime(2021, 6, 1, 12, 0, tzinfo=dt.UTC).timestamp())


def private_key_from_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key of a JWK with ``d``."""
    return ec.derive_private_key(int.from_bytes(b64url_decode(jwk["d"]), "big"), ec.SECP256R1())


@cache
def private_jwks() -> dict[str, Any]:
    return json.loads((SHC_DIR / "issuer" / "jwks.private.json").read_text(encoding="utf-8"))


def example_key(kid: str = EXAMPLE_KID) -> ec.EllipticCurvePrivateKey:
    """One of the example issuer's ES256 signing keys."""
    jwk = next(k for k in private_jwks()["keys"] if k["kid"] == kid)
    return private_key_from_jwk(jwk)


def example_jwks() -> dict[str, Any]:
    """The example issuer's public JWKS (as published)."""
    return json.loads((SHC_DIR / "issuer" / "jwks.json").read_text(encoding="utf-8"))


def example_trust() -> ShcTrust:
    """Trust in the example issuer alone."""
    return ShcTrust.from_jwks(EXAMPLE_ISS, example_jwks(), name="SMART Health Cards example issuer")


def public_jwk(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> dict[str, Any]:
    """The public JWK of a P-256 key, with ``kid`` = its thumbprint."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    numbers = public.public_numbers()
    jwk: dict[str, Any] = {
        "kty": "EC",
        "use": "sig",
        "alg": "ES256",
        "crv": "P-256",
        "x": b64url_encode(numbers.x.to_bytes(32, "big")),
        "y": b64url_encode(numbers.y.to_bytes(32, "big")),
    }
    jwk["kid"] = jwk_thumbprint(jwk)
    return jwk


def new_issuer() -> tuple[ec.EllipticCurvePrivateKey, str, dict[str, Any]]:
    """A fresh signing key: (private key, kid, public JWK)."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = public_jwk(key)
    return key, jwk["kid"], jwk


def fixture_bundle(name: str = "covid-vaccines-bundle") -> dict[str, Any]:
    """A FHIR bundle from the spec's fixtures (a fresh copy)."""
    return json.loads((SHC_DIR / "fixtures" / f"{name}.json").read_text(encoding="utf-8"))


def qr_minified(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """The bundle as the spec asks for cards made for QR codes (no ids, text, display; meta.security only)."""

    def strip(value: Any, *, resource: bool) -> Any:
        if isinstance(value, list):
            return [strip(item, resource=False) for item in value]
        if not isinstance(value, dict):
            return value
        out = {}
        for key, item in value.items():
            if resource and key in ("id", "text"):
                continue
            if key == "display" and "code" in value:
                continue
            if key == "text" and "coding" in value:
                continue
            if key == "meta":
                security = item.get("security") if isinstance(item, dict) else None
                if security:
                    out["meta"] = {"security": security}
                continue
            out[key] = strip(item, resource=key == "resource")
        return out

    return strip(copy.deepcopy(dict(bundle)), resource=True)


def make_claims(
    bundle: Mapping[str, Any] | None = None,
    *,
    iss: str = EXAMPLE_ISS,
    nbf: float | None = NBF,
    exp: float | None = None,
    types: Sequence[str] = COVID_TYPES,
    rid: str | None = None,
) -> dict[str, Any]:
    """JWT claims of a Health Card around a FHIR bundle (default: the spec's COVID vaccines fixture)."""
    claims: dict[str, Any] = {"iss": iss}
    if nbf is not None:
        claims["nbf"] = nbf
    if exp is not None:
        claims["exp"] = exp
    vc: dict[str, Any] = {
        "type": list(types),
        "credentialSubject": {
            "fhirVersion": "4.0.1",
            "fhirBundle": qr_minified(bundle if bundle is not None else fixture_bundle()),
        },
    }
    if rid is not None:
        vc["rid"] = rid
    claims["vc"] = vc
    return claims


def raw_deflate(data: bytes) -> bytes:
    """Raw DEFLATE, as Health Cards use (no zlib header)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def minify(value: Any) -> bytes:
    """Minified JSON bytes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(
    claims: Mapping[str, Any] | bytes,
    key: ec.EllipticCurvePrivateKey | None = None,
    *,
    kid: str | None = None,
    header: Mapping[str, Any] | None = None,
    compress: bool = True,
    der: bool = False,
) -> str:
    """A compact JWS over ``claims`` (a mapping, or the payload bytes to compress), ES256.

    Defaults: the example issuer's key and kid, header ``{"zip": "DEF", "alg": "ES256", "kid": ...}``,
    raw r||s signature.  ``header`` replaces the whole header; ``der`` writes a DER signature.
    """
    if key is None:
        key = example_key()
        kid = kid or EXAMPLE_KID
    if kid is None:
        kid = public_jwk(key)["kid"]
    if header is None:
        header = {"zip": "DEF", "alg": "ES256", "kid": kid} if compress else {"alg": "ES256", "kid": kid}
    payload = claims if isinstance(claims, bytes) else minify(claims)
    if compress:
        payload = raw_deflate(payload)
    signing_input = f"{b64url_encode(minify(header))}.{b64url_encode(payload)}"
    signature = key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    if not der:
        r, s = decode_dss_signature(signature)
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input}.{b64url_encode(signature)}"


def card(bundle: Mapping[str, Any] | None = None, **claims: Any) -> str:
    """A valid JWS from the example issuer (``claims`` as for :func:`make_claims`)."""
    return sign(make_claims(bundle, **claims))


def qr_text(jws: str) -> str:
    """The ``shc:/`` QR text of a JWS."""
    return numeric.encode(jws)


def qr_chunks(jws: str, count: int) -> list[str]:
    """The deprecated chunked QR texts ``shc:/C/N/...`` of a JWS."""
    return numeric.encode_chunks(jws, count)


def shc_file(*jws: str) -> bytes:
    """A ``.smart-health-card`` file holding the given JWS."""
    return json.dumps({"verifiableCredential": list(jws)}, indent=2).encode("utf-8")


def immunization(code: str = "207", system: str = "http://hl7.org/fhir/sid/cvx", date: str = "2021-01-01",
                 **extra: Any) -> dict[str, Any]:
    """An Immunization resource for patient resource:0."""
    resource: dict[str, Any] = {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": system, "code": code}]},
        "patient": {"reference": "resource:0"},
        "occurrenceDateTime": date,
        "performer": [{"actor": {"display": "ABC General Hospital"}}],
        "lotNumber": "0000001",
    }
    resource.update(extra)
    return resource


def bundle_of(*resources: Mapping[str, Any], patient: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A collection bundle: the patient (default: John B. Anyperson) at resource:0, then ``resources``."""
    if patient is None:
        patient = {"resourceType": "Patient", "name": [{"family": "Anyperson", "given": ["John", "B."]}],
                   "birthDate": "1951-01-20"}
    entries = [{"fullUrl": "resource:0", "resource": dict(patient)}]
    entries += [{"fullUrl": f"resource:{i}", "resource": dict(r)} for i, r in enumerate(resources, start=1)]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
