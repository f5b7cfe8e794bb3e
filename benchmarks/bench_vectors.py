"""Time the vector runner on the published EU DCC vectors and on vaxcert's own set.

Run from the repository root:  python benchmarks/bench_vectors.py [--repeat N]

Prints, for each set, the files, checks evaluated, the best wall time of N runs, the time per
file, and the share of it spent decoding QR pictures (the EXPECTEDPICTUREDECODE check).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from vaxcert import qr
from vaxcert.vectors import KnownDefects, run

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VAXCERT_SHARED", ROOT.parent / "shared"))


def _best(fn: object, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    defects = KnownDefects.from_file(ROOT / "test_vectors" / "KNOWN_DEFECTS.md")
    for label, folder in (("published dgc-testdata", SHARED / "dgc-testdata"), ("vaxcert test_vectors",
                                                                              ROOT / "test_vectors")):
        report = run([folder], defects)  # warm-up: imports, schema compilation
        counts = report.counts()
        total = _best(lambda folder=folder: run([folder], defects), args.repeat)
        original = qr.decode_image
        try:
            qr.decode_image = lambda source: []  # type: ignore[assignment,misc]
            without_pictures = _best(lambda folder=folder: run([folder], defects), args.repeat)
        finally:
            qr.decode_image = original  # type: ignore[misc]
        print(f"{label:24s} {counts['files']:4d} files {counts['evaluated']:5d} checks  "
              f"{total * 1000:7.1f} ms  {total / counts['files'] * 1000:5.2f} ms/file  "
              f"QR decoding {100 * (total - without_pictures) / total:4.1f}% of the time")


if __name__ == "__main__":
    main()
