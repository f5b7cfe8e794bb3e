"""The verification front for both formats: HC1 and SMART Health Card verify beside a raw ES256 verify.

Measured in one process over rotating inputs (64 distinct HC1 certificates, 64 distinct cards), as
the thread's CPU time per call (best of seven rounds; wall time on a shared machine measures the
other processes too):

* raw ES256 verify (``cryptography``), the reference;
* HC1 → result through :class:`vaxcert.Verifier` with SHC issuers loaded (a checkpoint's setup) and
  without (the HC1 hot path must not pay for the second format: the issue-2 target is ≤ 1.4×);
* reading the normalised holder and events of an HC1 result (computed only when asked for);
* ``shc:/`` → result through the front, and through :class:`vaxcert.formats.shc.ShcVerifier` directly.

``--ab OTHER_SRC`` also compares HC1 verify with another checkout (e.g. ``../main/src``): child
processes alternate between the two source trees, each measuring verify / raw verify in the same
process with the thread's CPU time (best of 7 rounds), so other processes on a loaded machine
count for neither.

Run:  .venv/bin/python benchmarks/bench_front.py [--seconds 1.0] [--ab ../main/src --rounds 6]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
SRC = Path(__file__).resolve().parents[1] / "src"

#: The HC1 measurement, run in a child process against a source tree (public API of both revisions).
CHILD = r"""
import datetime as dt, itertools, os, statistics, sys, time
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from vaxcert import Issuer, KeySigner, TrustList, Verifier
from vaxcert.pki.certificates import create_csca, create_dsc
from vaxcert.pki.keys import generate_private_key
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
seconds = float(sys.argv[1])
ck = generate_private_key("ec")
csca = create_csca(ck, country="VN", name="Bench", now=NOW - dt.timedelta(days=1))
key = generate_private_key("ec")
dsc = create_dsc(key, csca=csca, csca_key=ck, facility_id="VN-HN-001", facility_name="B",
                 now=NOW - dt.timedelta(days=1))
issuer = Issuer(KeySigner(key, dsc), facility_override=True)
def payload(i):
    letter = chr(65 + i % 26)
    return {"ver": "1.3.0", "nam": {"fn": "Nguyen", "fnt": "NGUYEN", "gn": f"Van {letter}", "gnt": f"VAN<{letter}"},
            "dob": f"19{50 + i % 40}-04-12",
            "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215", "dn": 2,
                   "sd": 2, "dt": f"2026-05-{1 + i % 28:02d}", "co": "VN", "is": "Ministry of Health VN",
                   "ci": "URN:UVCI:01:VN:TESTCERT0001#H"}]}
certs = [issuer.issue(payload(i), now=NOW).hc1 for i in range(64)]
verifier = Verifier(TrustList.from_certificates([dsc]))
assert all(verifier.verify(c, now=NOW).valid for c in certs)
data = [os.urandom(300) for _ in range(64)]
sigs = [key.sign(d, ec.ECDSA(hashes.SHA256())) for d in data]
pub = key.public_key()
def per_op(fn, seconds):
    # CPU time of this thread (not wall time: other processes on a loaded machine do not count), the
    # best of 7 rounds
    clock = time.thread_time
    fn(); n, start = 0, clock()
    while clock() - start < 0.05:
        fn(); n += 1
    batch = max(1, int(n * (seconds / 7) / 0.05)); rounds = []
    for _ in range(7):
        t0 = clock()
        for _ in range(batch): fn()
        rounds.append((clock() - t0) / batch)
    return min(rounds)
pairs = itertools.cycle(list(zip(data, sigs)))
def raw():
    d, s = next(pairs); pub.verify(s, d, ec.ECDSA(hashes.SHA256()))
texts = itertools.cycle(certs)
def hc1():
    verifier.verify(next(texts), now=NOW)
r = per_op(raw, seconds); v = per_op(hc1, seconds)
print(f"{r * 1e6:.2f} {v * 1e6:.2f}")
"""


def per_op(fn: Callable[[], object], seconds: float) -> float:
    """CPU seconds of this thread per call, the best of seven rounds of about seconds/7 each."""
    clock = time.thread_time
    fn()
    n, start = 0, clock()
    while clock() - start < 0.05:
        fn()
        n += 1
    batch = max(1, int(n * (seconds / 7) / 0.05))
    rounds = []
    for _ in range(7):
        t0 = clock()
        for _ in range(batch):
            fn()
        rounds.append((clock() - t0) / batch)
    return min(rounds)


def _cards(count: int) -> tuple[list[str], object]:
    """``count`` distinct Health Cards of a fresh issuer, and the ShcTrust for it."""
    import json
    import zlib

    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    from vaxcert.formats.shc import ShcTrust, jwk_thumbprint, numeric
    from vaxcert.formats.shc.jws import b64url_encode

    iss = "https://issuer.example.org"
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "EC", "use": "sig", "alg": "ES256", "crv": "P-256",
           "x": b64url_encode(numbers.x.to_bytes(32, "big")), "y": b64url_encode(numbers.y.to_bytes(32, "big"))}
    jwk["kid"] = jwk_thumbprint(jwk)
    texts = []
    for i in range(count):
        doses = [{"fullUrl": f"resource:{n}", "resource": {
            "resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "208"}]},
            "patient": {"reference": "resource:0"}, "occurrenceDateTime": f"2026-0{n}-{10 + i % 18:02d}",
            "performer": [{"actor": {"display": "ABC General Hospital"}}]}} for n in (1, 2)]
        patient = {"fullUrl": "resource:0", "resource": {"resourceType": "Patient",
                   "name": [{"family": f"Anyperson{i}", "given": ["John"]}], "birthDate": f"19{50 + i % 40}-01-20"}}
        claims = {"iss": iss, "nbf": NOW.timestamp() - 86400, "vc": {
            "type": ["https://smarthealth.cards#health-card", "https://smarthealth.cards#covid19"],
            "credentialSubject": {"fhirVersion": "4.0.1", "fhirBundle": {
                "resourceType": "Bundle", "type": "collection", "entry": [patient, *doses]}}}}
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        body = compressor.compress(json.dumps(claims, separators=(",", ":")).encode()) + compressor.flush()
        header = json.dumps({"zip": "DEF", "alg": "ES256", "kid": jwk["kid"]}, separators=(",", ":")).encode()
        signing_input = f"{b64url_encode(header)}.{b64url_encode(body)}"
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        texts.append(numeric.encode(f"{signing_input}.{b64url_encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"))
    return texts, ShcTrust.from_jwks(iss, {"keys": [jwk]}, country="US")


def in_process(seconds: float) -> None:
    from vaxcert import Issuer, KeySigner, TrustList, Verifier
    from vaxcert.formats.shc import ShcTrust, ShcVerifier
    from vaxcert.pki.certificates import create_csca, create_dsc
    from vaxcert.pki.keys import generate_private_key

    csca_key = generate_private_key("ec")
    csca = create_csca(csca_key, country="VN", name="Bench", now=NOW - dt.timedelta(days=1))
    key = generate_private_key("ec")
    dsc = create_dsc(key, csca=csca, csca_key=csca_key, facility_id="VN-HN-001", facility_name="Bench",
                     now=NOW - dt.timedelta(days=1))
    issuer = Issuer(KeySigner(key, dsc), facility_override=True)
    certs = []
    for i in range(64):
        certs.append(issuer.issue({
            "ver": "1.3.0", "nam": {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": f"Văn {chr(65 + i % 26)}",
                                    "gnt": f"VAN<{chr(65 + i % 26)}"},
            "dob": f"19{50 + i % 40}-04-12",
            "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215", "dn": 2,
                   "sd": 2, "dt": f"2026-05-{1 + i % 28:02d}", "co": "VN", "is": "Ministry of Health VN",
                   "ci": "URN:UVCI:01:VN:TESTCERT0001#H"}]}, now=NOW).hc1)
    cards, trust = _cards(64)
    assert isinstance(trust, ShcTrust)
    plain = Verifier(TrustList.from_certificates([dsc]))
    both = Verifier(TrustList.from_certificates([dsc]), shc_trust=trust)
    direct = ShcVerifier(trust)
    assert all(both.verify(c, now=NOW).valid for c in certs) and all(both.verify(c, now=NOW).valid for c in cards)
    data = [os.urandom(300) for _ in range(64)]
    pairs = itertools.cycle([(d, key.sign(d, ec.ECDSA(hashes.SHA256()))) for d in data])
    public = key.public_key()

    def raw() -> None:
        d, s = next(pairs)
        public.verify(s, d, ec.ECDSA(hashes.SHA256()))

    hc1s, shcs = itertools.cycle(certs), itertools.cycle(cards)
    results = itertools.cycle([both.verify(c, now=NOW) for c in certs])
    t_raw = per_op(raw, seconds)
    rows = [
        ("raw ES256 verify (cryptography)", t_raw),
        ("HC1 verify, Verifier without SHC issuers", per_op(lambda: plain.verify(next(hc1s), now=NOW), seconds)),
        ("HC1 verify, Verifier with SHC issuers", per_op(lambda: both.verify(next(hc1s), now=NOW), seconds)),
        ("  + holder and events of the result", per_op(lambda: next(results).record, seconds)),
        ("shc:/ verify through the front", per_op(lambda: both.verify(next(shcs), now=NOW), seconds)),
        ("shc:/ verify, ShcVerifier directly", per_op(lambda: direct.verify(next(shcs), now=NOW), seconds)),
    ]
    print(f"{'operation':44} {'µs/op':>9} {'ratio':>8}")
    for name, t in rows:
        print(f"{name:44} {t * 1e6:9.1f} {t / t_raw:7.2f}x")


def ab(other: Path, rounds: int, seconds: float) -> None:
    """HC1 verify / raw verify, alternating child processes on this tree and ``other``."""
    ratios: dict[str, list[float]] = {"this": [], "other": []}
    times: dict[str, list[float]] = {"this": [], "other": []}
    for _ in range(rounds):
        for label, src in (("this", SRC), ("other", other.resolve())):
            env = {**os.environ, "PYTHONPATH": str(src)}
            out = subprocess.run([sys.executable, "-c", CHILD, str(seconds)], env=env, capture_output=True,
                                 text=True, check=True).stdout.split()
            raw_us, verify_us = float(out[0]), float(out[1])
            ratios[label].append(verify_us / raw_us)
            times[label].append(verify_us)
    for label, src in (("this", SRC), ("other", other)):
        print(f"{label:5} {src!s:40} HC1 verify {statistics.median(times[label]):6.1f} µs "
              f"= {statistics.median(ratios[label]):.2f}x raw ES256 (ratios {min(ratios[label]):.2f}"
              f"–{max(ratios[label]):.2f} over {rounds} rounds)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    parser.add_argument("--ab", type=Path, default=None, help="another checkout's src/ to compare HC1 verify with")
    parser.add_argument("--rounds", type=int, default=6, help="alternations for --ab")
    args = parser.parse_args()
    in_process(args.seconds)
    if args.ab is not None:
        print()
        ab(args.ab, args.rounds, args.seconds)


if __name__ == "__main__":
    main()
