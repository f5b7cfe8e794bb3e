"""Batch issuance throughput: certificates persisted per second, SQLite and PostgreSQL, 1 and 2 workers.

Prints, from one run on this machine: raw ES256 signatures/s (one core), then for each backend
and worker count the certificates/s *persisted* (claimed, signed, committed), and the scaling
ratio from 1 to 2 workers.  Persons are loaded directly in the reconciled state (import and
reconciliation are measured separately at the end, as rows/s).

    python benchmarks/bench_registry.py [--persons 100000] [--pg-dsn postgresql://...]

PostgreSQL is measured when ``--pg-dsn`` or ``VAXCERT_PG_DSN`` is set (``. .services/env``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from vaxcert.pki.certificates import certificate_pem, create_csca, create_dsc
from vaxcert.pki.keys import generate_private_key, save_private_key
from vaxcert.registry import KeyDirectory, Registry, issue_all, open_registry
from vaxcert.registry.importer import import_file
from vaxcert.registry.reconciliation import reconcile

NOW = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
FACILITIES = ("VN-HN-001", "VN-HCM-014")


def raw_sign_rate(seconds: float = 1.0) -> float:
    key = ec.generate_private_key(ec.SECP256R1())
    data = b"x" * 300
    algorithm = ec.ECDSA(hashes.SHA256())
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            key.sign(data, algorithm)
        n += 200
    return n / (time.perf_counter() - start)


def make_keys(root: Path) -> KeyDirectory:
    os.environ.setdefault("VAXCERT_KEY_PASSWORD", "bench-password")
    password = os.environ["VAXCERT_KEY_PASSWORD"].encode()
    start = NOW - dt.timedelta(days=30)
    csca_key = generate_private_key("ec")
    csca = create_csca(csca_key, country="VN", name="Ministry of Health VN", now=start)
    for facility in FACILITIES:
        folder = root / facility
        folder.mkdir(parents=True)
        key = generate_private_key("ec")
        cert = create_dsc(key, csca=csca, csca_key=csca_key, facility_id=facility, facility_name=facility,
                          now=start)  # fmt: skip
        save_private_key(key, folder / "dsc.key.pem", password)
        (folder / "dsc.pem").write_bytes(certificate_pem(cert))
    return KeyDirectory(str(root), password=password)


def load_persons(registry: Registry, n: int) -> None:
    """n persons, reconciled and ready, as if imported (two doses each, last one complete)."""
    columns = ("person_key", "id_kind", "id_number", "nationality", "fn", "gn", "fnt", "gnt", "dob", "dirty",
               "state", "doses", "complete", "booster", "last_facility", "tg", "vp", "mp", "ma", "dn", "sd", "dt",
               "co", "content_hash", "record_version", "issued_version", "created_at", "updated_at")  # fmt: skip
    stamp = int(NOW.timestamp())
    batch = []
    for i in range(n):
        number = f"001{i:09d}"
        batch.append((f"cccd:{number}", "cccd", number, "VN", "Nguyễn", "Văn Đức", "NGUYEN", "VAN<DUC", "1990-04-12",
                      0, "ready", 2, 1, 0, FACILITIES[i % 2], "840539006", "1119349007", "EU/1/20/1528",
                      "ORG-100030215", 2, 2, "2021-09-10", "VN", f"h{i}", 1, 0, stamp, stamp))  # fmt: skip
        if len(batch) == 20_000:
            with registry.transaction() as tx:
                tx.copy_rows("persons", columns, batch)
            batch = []
    if batch:
        with registry.transaction() as tx:
            tx.copy_rows("persons", columns, batch)


def reset(registry: Registry) -> None:
    with registry.transaction() as tx:
        tx.execute("DELETE FROM certificates")
        tx.execute("UPDATE persons SET issued_version = 0, lease_owner = NULL, lease_until = NULL")
    if registry.backend == "postgresql":
        with registry.transaction() as tx:
            tx.execute("ANALYZE persons")


def measure(registry: Registry, keys: KeyDirectory, n: int, workers: int, chunk: int) -> float:
    reset(registry)
    result = issue_all(registry, keys, now=NOW, workers=workers, chunk_size=chunk)
    with registry.transaction() as tx:
        stored = tx.query("SELECT COUNT(*), COUNT(DISTINCT person_key) FROM certificates WHERE status = 'current'")[0]
    if result.issued != n or stored[0] != n or stored[1] != n:
        raise SystemExit(f"expected {n} certificates, issued {result.issued}, stored {stored}")
    return result.rate


def bench_backend(name: str, opener, keys: KeyDirectory, n: int, chunk: int) -> dict[int, float]:  # type: ignore[no-untyped-def]
    registry = opener()
    try:
        load_persons(registry, n)
        rates = {}
        for workers in (1, 2):
            rates[workers] = measure(registry, keys, n, workers, chunk)
            print(f"{name:<11} {workers} worker{'s' if workers > 1 else ' '}  {rates[workers]:>9,.0f} certificates/s "
                  f"persisted ({n:,} persons)", flush=True)  # fmt: skip
        print(f"{name:<11} scaling 1 → 2 workers: {rates[2] / rates[1]:.2f}×", flush=True)
        return rates
    finally:
        if hasattr(registry, "drop_schema"):
            registry.drop_schema()
        registry.close()


def bench_import(tmp: Path, rows: int) -> None:
    """Import + reconcile throughput (validated rows/s) on SQLite, for context."""
    path = tmp / "import.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("citizen_id,family_name,given_name,dob,facility,dose_number,series_total,date,product\n")
        for i in range(rows):
            number = f"001090{i // 2:06d}"  # Hà Nội, born 1990 (the number encodes the birth year)
            dose = i % 2 + 1
            fh.write(f"{number},Nguyễn,Văn Đức,1990-04-12,{FACILITIES[i % 2]},{dose},2,2021-0{7 + dose}-10,"
                     "EU/1/20/1528\n")  # fmt: skip
    registry = open_registry(f"sqlite:///{tmp}/import.db", migrate=True)
    start = time.perf_counter()
    result = import_file(registry, path, now=NOW)
    middle = time.perf_counter()
    rec = reconcile(registry, now=NOW)
    end = time.perf_counter()
    registry.close()
    print(f"import      {result.inserted / (middle - start):>9,.0f} rows/s validated and stored ({rows:,} rows)")
    print(f"reconcile   {rec.persons / (end - middle):>9,.0f} persons/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=2000)
    parser.add_argument("--import-rows", type=int, default=20_000)
    parser.add_argument("--pg-dsn", default=os.environ.get("VAXCERT_PG_DSN"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vaxcert-bench-"))
    try:
        keys = make_keys(tmp / "keys")
        sign = raw_sign_rate()
        print(f"raw ES256   {sign:>9,.0f} signatures/s (1 core); {2 * sign:,.0f}/s on 2 cores", flush=True)
        results = {"sqlite": bench_backend("sqlite", lambda: open_registry(f"sqlite:///{tmp}/bench.db", migrate=True),
                                           keys, args.persons, args.chunk)}  # fmt: skip
        if args.pg_dsn:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            results["postgresql"] = bench_backend(
                "postgresql", lambda: open_registry(args.pg_dsn, schema=schema, migrate=True), keys, args.persons,
                args.chunk)  # fmt: skip
        else:
            print("postgresql  skipped (set VAXCERT_PG_DSN or --pg-dsn)")
        for name, rates in results.items():
            best = max(rates.values())
            verdict = "meets" if best >= 10_000 else f"misses by {10_000 - best:,.0f}/s ({best / 10_000:.0%} of)"
            print(f"{name:<11} best {best:,.0f}/s = {best / sign:.2f}× one core's raw signatures; {verdict} "
                  f"the 10,000/s target")  # fmt: skip
        if args.import_rows:
            bench_import(tmp, args.import_rows)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
