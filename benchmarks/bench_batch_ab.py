"""Before / after for the registry's CPU per item: ``sign_chunk``, the SQLite claim and store, one
SQLite worker as ``issue_pending`` runs it (signing thread and persisting thread: process CPU), and an
import (CSV → validated rows stored in SQLite; reading thread and storing thread: process CPU) of the
working tree against another git revision, loaded side by side in one process.

A shared machine's load moves between separate runs more than a change moves the figures, so the
other revision is imported as ``vaxcert_base`` (see ``bench_ab.py``) and short rounds alternate:
raw ES256 signatures, this tree, the base (ABBA order).  Each figure is the thread CPU time per
certificate as a multiple of a raw signature's in the same round; the best and the median of the
rounds are printed.

Run:  .venv/bin/python benchmarks/bench_batch_ab.py --base main [--rounds 9] [--rows 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from bench_ab import load_base
from bench_registry import FACILITIES, PASSWORD, load_persons, make_keys, reset, write_import_csv
from benchkit import machine_note
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

import vaxcert

NOW = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)


def raw_round(n: int) -> float:
    key = ec.generate_private_key(ec.SECP256R1())
    algorithm = ec.ECDSA(hashes.SHA256())
    messages = [os.urandom(300) for _ in range(256)]
    start = time.thread_time()
    for i in range(n):
        key.sign(messages[i & 255], algorithm)
    return (time.thread_time() - start) / n


def side(pkg: ModuleType, keys_dir: Path, db: Path, n: int) -> dict[str, Callable[[], float]]:
    """Closures timing (thread CPU per certificate) one package's sign_chunk, claim and store."""
    registry_mod = __import__(f"{pkg.__name__}.registry", fromlist=["x"])
    batch = __import__(f"{pkg.__name__}.registry.batch", fromlist=["x"])
    ring = registry_mod.KeyDirectory(str(keys_dir), password=PASSWORD).load()
    registry = registry_mod.open_registry(f"sqlite:///{db}", migrate=True)
    load_persons(registry, n)  # type: ignore[arg-type]
    rows = registry.claim(worker="ab", limit=n, now=time.time(), lease_seconds=3600, facilities=list(FACILITIES))
    reset(registry)  # type: ignore[arg-type]

    def sign() -> float:
        start = time.thread_time()
        batch.sign_chunk(ring, rows, NOW)
        return (time.thread_time() - start) / n

    def claim_store() -> float:
        reset(registry)  # type: ignore[arg-type]
        claimed = registry.claim(worker="ab", limit=n, now=time.time(), lease_seconds=3600,
                                 facilities=list(FACILITIES))  # fmt: skip
        staged, failures = batch.sign_chunk(ring, claimed, NOW)
        start = time.thread_time()
        registry.store_certificates(staged, worker="ab", stamp=1, failures=failures)
        stored = time.thread_time() - start
        reset(registry)  # type: ignore[arg-type]
        start = time.thread_time()
        registry.claim(worker="ab", limit=n, now=time.time(), lease_seconds=3600, facilities=list(FACILITIES))
        return (time.thread_time() - start + stored) / n

    def pipelined() -> float:
        # one worker as issue_pending runs it: this thread signs while the persisting thread
        # stores and claims (in chunks of an eighth of the round); process CPU: both threads
        reset(registry)  # type: ignore[arg-type]
        start = time.process_time()
        result = batch.issue_pending(registry, ring, now=NOW, chunk_size=max(n // 8, 1))
        spent = time.process_time() - start
        if result.issued != n:
            raise SystemExit(f"issue_pending: {result.issued} of {n} issued")
        return spent / n

    importer = __import__(f"{pkg.__name__}.registry.importer", fromlist=["x"])
    csv_path = db.with_suffix(".csv")
    rounds = iter(range(1_000_000))

    def import_csv() -> float:
        # other persons each round: names new to every cache, as in a real export
        number = next(rounds)
        write_import_csv(csv_path, n, first=number * n // 2)
        target = registry_mod.open_registry(f"sqlite:///{db.with_suffix('')}-import-{number}.db", migrate=True)
        start = time.process_time()  # both threads: the import reads and checks rows ahead in a thread
        result = importer.import_file(target, csv_path, now=NOW)
        spent = time.process_time() - start
        target.close()
        if result.inserted != n:
            raise SystemExit(f"import: {result.inserted} of {n} rows stored")
        return spent / n

    return {"sign_chunk": sign, "claim + store (SQLite)": claim_store,
            "issue_pending, pipelined": pipelined, "import (CSV → SQLite)": import_csv}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vaxcert-ab-"))
    base = load_base(args.base, tmp / "base")
    keys = make_keys(tmp / "keys")
    sides = {"this tree": side(vaxcert, Path(keys.path), tmp / "new.db", args.rows),
             f"base {args.base}": side(base, Path(keys.path), tmp / "base.db", args.rows)}
    ratios: dict[tuple[str, str], list[float]] = {}
    raws: list[float] = []
    for r in range(args.rounds):
        order = list(sides.items()) if r % 2 == 0 else list(reversed(sides.items()))
        for name, parts in order:
            for part, fn in parts.items():
                raw = raw_round(400)
                raws.append(raw)
                ratios.setdefault((part, name), []).append(fn() / raw)
    print(f"{machine_note()}; {args.rows:,} distinct persons a round, {args.rounds} rounds")
    print(f"raw ES256 sign: best {min(raws) * 1e6:.1f} µs CPU")
    for (part, name), values in ratios.items():
        print(f"{part:<24} {name:<12} best {min(values):.2f}, median {statistics.median(values):.2f} raw signatures"
              f"/certificate")  # fmt: skip
    parts = sorted({p for p, _ in ratios})
    for part in parts:
        new = statistics.median(ratios[(part, 'this tree')])
        old = statistics.median(ratios[(part, f'base {args.base}')])
        print(f"{part:<24} this tree / base (medians): {new / old:.2f}")


if __name__ == "__main__":
    sys.exit(main())
