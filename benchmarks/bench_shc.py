"""SMART Health Card verification beside a raw ES256 verify, measured in the same run.

Cards are built here with a fresh P-256 issuer key (64 cards with different holders and dates,
verified in rotation): QR text ``shc:/…`` → verdict with holder and events, plus the stages alone
(numeric decoding, JWS parse, inflate + JSON, FHIR bundle).

Run:  .venv/bin/python benchmarks/bench_shc.py [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import statistics
import time
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from vaxcert.formats.shc import ProductMap, ShcTrust, ShcVerifier, jwk_thumbprint, numeric, read_bundle
from vaxcert.formats.shc import jws as jws_stage

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
ISS = "https://issuer.example.org"


def per_op(fn: Callable[[], object], seconds: float) -> float:
    """Median seconds per call over five timed rounds of about seconds/5 each."""
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 0.05:
        fn()
        n += 1
    batch = max(1, int(n * (seconds / 5) / 0.05))
    rounds = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        rounds.append((time.perf_counter() - t0) / batch)
    return statistics.median(rounds)


def _bundle(i: int) -> dict[str, object]:
    doses = [
        {"fullUrl": f"resource:{n}", "resource": {
            "resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": code}]},
            "patient": {"reference": "resource:0"}, "occurrenceDateTime": f"2021-0{n}-{10 + i % 18:02d}",
            "performer": [{"actor": {"display": "ABC General Hospital"}}], "lotNumber": f"{i:04d}{n:03d}"}}
        for n, code in ((1, "207"), (2, "207"), (3, "229"))
    ]
    patient = {"fullUrl": "resource:0", "resource": {
        "resourceType": "Patient", "name": [{"family": f"Anyperson{i}", "given": ["John", "B."]}],
        "birthDate": f"19{50 + i % 40}-01-20"}}
    return {"resourceType": "Bundle", "type": "collection", "entry": [patient, *doses]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    seconds = parser.parse_args().seconds

    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256",
           "x": jws_stage.b64url_encode(numbers.x.to_bytes(32, "big")),
           "y": jws_stage.b64url_encode(numbers.y.to_bytes(32, "big"))}
    kid = jwk_thumbprint(jwk)
    trust = ShcTrust.from_jwks(ISS, {"keys": [jwk]})
    header = jws_stage.b64url_encode(json.dumps({"zip": "DEF", "alg": "ES256", "kid": kid}).encode())

    cards, signatures = [], []
    for i in range(64):
        claims = {"iss": ISS, "nbf": 1622548800 + i, "vc": {
            "type": ["https://smarthealth.cards#health-card", "https://smarthealth.cards#immunization"],
            "credentialSubject": {"fhirVersion": "4.0.1", "fhirBundle": _bundle(i)}}}
        payload = jws_stage.b64url_encode(jws_stage.deflate(json.dumps(claims, separators=(",", ":")).encode()))
        signing_input = f"{header}.{payload}".encode()
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        cards.append(f"{header}.{payload}.{jws_stage.b64url_encode(signature)}")
        signatures.append((signing_input, encode_dss_signature(r, s)))
    texts = [numeric.encode(c) for c in cards]
    verifier = ShcVerifier(trust)
    assert all(verifier.verify(t, now=NOW).valid for t in texts)
    public = key.public_key()
    products = ProductMap.bundled()
    parsed = [jws_stage.parse(c) for c in cards]
    bundles = [json.loads(jws_stage.inflate(p.payload))["vc"]["credentialSubject"]["fhirBundle"] for p in parsed]

    def rotating(fn: Callable[[int], object]) -> Callable[[], object]:
        counter = itertools.count()
        return lambda: fn(next(counter) % 64)

    rows = [
        ("raw ES256 verify", rotating(lambda i: public.verify(signatures[i][1], signatures[i][0],
                                                               ec.ECDSA(hashes.SHA256())))),
        ("verify shc:/ QR text → verdict", rotating(lambda i: verifier.verify(texts[i], now=NOW))),
        ("verify bare JWS → verdict", rotating(lambda i: verifier.verify(cards[i], now=NOW))),
        ("  numeric decode", rotating(lambda i: numeric.decode_digits(texts[i][5:]))),
        ("  JWS parse (header, signature format)", rotating(lambda i: jws_stage.parse(cards[i]))),
        ("  inflate + strict JSON", rotating(lambda i: jws_stage.load_json(jws_stage.inflate(parsed[i].payload)))),
        ("  FHIR bundle → holder, events", rotating(lambda i: read_bundle(bundles[i], products))),
    ]
    print(f"{len(cards[0])}-character JWS, {len(texts[0])}-character QR text; median of 5 rounds")
    results = {}
    for name, fn in rows:
        results[name] = per_op(fn, seconds)
        print(f"{name:42s} {results[name] * 1e6:9.1f} µs")
    ratio = results["verify shc:/ QR text → verdict"] / results["raw ES256 verify"]
    print(f"QR text → verdict = {ratio:.2f}× a raw ES256 verify")


if __name__ == "__main__":
    main()
