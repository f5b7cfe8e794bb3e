"""Size and lookup speed of the compact revocation set, beside a Python set of the same hashes.

Run from the repository root:  .venv/bin/python benchmarks/bench_revocation.py [--entries N] [--lookups N]

Prints, for N entries (default 1,000,000 random 16-byte DCC hashes):
  * bytes per million entries: vaxcert.revocation.HashSet (8-byte prefixes in a sorted array) and a
    Python ``set`` of the 16-byte ``bytes`` objects, with the ratio;
  * the size of the signed revocation list file and the time to check and load it;
  * lookup time in µs (hits and misses) for both, with the ratio, and the time of a full
    ``RevocationList.check`` (three SHA-256 hashes of a certificate plus three lookups);
  * the false-positive rate of 64-bit prefixes at this size (n / 2**64 per looked-up hash).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import NOW, make_pki
from test_issue_verify import VACCINATION
from vaxcert.issuer import Issuer
from vaxcert.pki.keys import KeySigner
from vaxcert.stages import cose
from vaxcert.trust.revocation import HashSet, HashType, RevocationList


def _per_call(stmt: object, number: int) -> float:
    timer = timeit.Timer(stmt)  # type: ignore[arg-type]
    return min(timer.repeat(repeat=5, number=number)) / number


def _set_bytes(values: set[bytes]) -> int:
    return sys.getsizeof(values) + sum(sys.getsizeof(v) for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=200_000)
    args = parser.parse_args()
    n = args.entries

    hashes = [os.urandom(16) for _ in range(n)]
    misses = [os.urandom(16) for _ in range(1000)]
    hits = hashes[:: max(1, n // 1000)][:1000]

    started = time.perf_counter()
    compact = HashSet.from_hashes(hashes)
    build_s = time.perf_counter() - started
    python_set = set(hashes)

    per_million = 1_000_000 / n
    compact_bytes = compact.nbytes
    set_bytes = _set_bytes(python_set)
    print(f"entries: {n:,} (random 16-byte hashes)")
    print(f"bytes per million entries: HashSet {compact_bytes * per_million / 1e6:.1f} MB, "
          f"Python set {set_bytes * per_million / 1e6:.1f} MB  (set / HashSet = {set_bytes / compact_bytes:.1f}x)")
    print(f"build HashSet: {build_s:.2f} s")

    pki = make_pki()
    signer = KeySigner(pki.csca_key, pki.csca)
    lst = RevocationList({HashType.UCI: compact})
    started = time.perf_counter()
    signed = lst.sign(signer, now=NOW, valid_for=dt.timedelta(days=1))
    sign_s = time.perf_counter() - started
    started = time.perf_counter()
    loaded = RevocationList.load(signed, [pki.csca], now=NOW)
    load_s = time.perf_counter() - started
    print(f"signed list: {len(signed) * per_million / 1e6:.1f} MB per million entries; "
          f"sign {sign_s:.2f} s, check + load {load_s:.2f} s")

    number = max(1, args.lookups // 1000)
    hit_c = _per_call(lambda: [h in compact for h in hits], number) / len(hits)
    miss_c = _per_call(lambda: [h in compact for h in misses], number) / len(misses)
    hit_s = _per_call(lambda: [h in python_set for h in hits], number) / len(hits)
    miss_s = _per_call(lambda: [h in python_set for h in misses], number) / len(misses)
    print(f"lookup hit:  HashSet {hit_c * 1e6:.2f} µs, Python set {hit_s * 1e6:.2f} µs  "
          f"(ratio {hit_c / hit_s:.1f}x)")
    print(f"lookup miss: HashSet {miss_c * 1e6:.2f} µs, Python set {miss_s * 1e6:.2f} µs  "
          f"(ratio {miss_c / miss_s:.1f}x)")

    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)
    message = cose.decode(cert.cose)
    check = _per_call(lambda: loaded.check(message, VACCINATION, NOW), 20_000)
    print(f"RevocationList.check of one certificate (3 hashes + 3 lookups): {check * 1e6:.2f} µs")
    print(f"false-positive rate per looked-up hash at this size: {n / 2**64:.1e}")


if __name__ == "__main__":
    main()
