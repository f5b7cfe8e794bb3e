"""SHC cards against an independent JOSE implementation (jwcrypto), both ways."""

from __future__ import annotations

import json

from jwcrypto import jwk, jws

from conftest import NOW
from shc_support import (
    EXAMPLE_ISS,
    EXAMPLE_KID,
    card,
    example_jwks,
    example_trust,
    make_claims,
    minify,
    new_issuer,
    private_jwks,
    raw_deflate,
)
from vaxcert.formats.shc import ShcTrust, jwk_thumbprint, verify_shc
from vaxcert.formats.shc.jws import inflate


def _public_key(kid: str) -> jwk.JWK:
    return jwk.JWK(**next(k for k in example_jwks()["keys"] if k["kid"] == kid))


def test_jwcrypto_verifies_our_cards() -> None:
    """A card built by the test helper is a standard JWS: jwcrypto verifies it with the published key."""
    token = jws.JWS()
    token.deserialize(card())
    token.verify(_public_key(EXAMPLE_KID), alg="ES256")
    assert token.jose_header == {"zip": "DEF", "alg": "ES256", "kid": EXAMPLE_KID}
    assert json.loads(inflate(token.objects["payload"]))["iss"] == EXAMPLE_ISS


def test_we_verify_jwcrypto_cards() -> None:
    """A card signed by jwcrypto (raw DEFLATE payload, zip/alg/kid header) verifies in vaxcert."""
    private = jwk.JWK(**next(k for k in private_jwks()["keys"] if k["kid"] == EXAMPLE_KID))
    token = jws.JWS(raw_deflate(minify(make_claims())))
    token.add_signature(private, alg="ES256", protected=json.dumps({"zip": "DEF", "alg": "ES256", "kid": EXAMPLE_KID}))
    result = verify_shc(token.serialize(compact=True), example_trust(), now=NOW)
    assert result.valid, result.reason
    assert result.holder is not None and result.holder.family == "Anyperson"


def test_thumbprints_agree_with_jwcrypto() -> None:
    """RFC 7638 thumbprints agree with jwcrypto's for fresh keys and the example keys."""
    for _ in range(20):
        _, kid, public = new_issuer()
        assert jwk.JWK(**public).thumbprint() == kid == jwk_thumbprint(public)
    for public in example_jwks()["keys"]:
        assert jwk.JWK(**{k: v for k, v in public.items() if k != "crlVersion"}).thumbprint() == public["kid"]
    trust = ShcTrust.from_jwks("https://issuer.example", {"keys": [new_issuer()[2]]})
    assert len(trust) == 1
