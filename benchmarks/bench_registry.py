"""Batch issuance persisted (SQLite, durable PostgreSQL), signing elsewhere, and import, with the issue-15 targets.

Prints, from one run on this machine:

* the raw ES256 signing rate of the two cores (two processes signing at once, wall time), the
  reference every rate below is compared with;
* certificates/s *persisted* (claimed, signed, committed; worker start-up included) by
  ``issue_all`` with 1 and 2 worker processes, on SQLite and on a **durable PostgreSQL the
  benchmark starts itself** (own data directory and free port, ``fsync=on``,
  ``synchronous_commit=on``, ``full_page_writes=on``), each with its target line (SQLite
  ≥ 25,000/s, PostgreSQL ≥ 15,000/s with 2 workers) and the CPU each certificate cost (workers,
  and the server's processes for PostgreSQL);
* with ``--test-pg-dsn`` (or ``VAXCERT_PG_DSN``): the same on the test server, labelled as an
  extra (it runs with ``fsync=off``: not a durable figure);
* signing elsewhere: the database's commit ceiling (claim + store of certificates signed
  beforehand, so no signing on these cores), one core's signing rate, and a process pool of 1,
  2, 3 signers feeding one committer: how throughput grows per added signing machine;
* import: validated rows/s (target ≥ 20,000/s), and reconciliation.

The machine is shared: rates are wall-clock and move with the neighbours' load (printed), so
every rate is shown beside the raw signing rate measured in the same run.

    python benchmarks/bench_registry.py [--persons 100000] [--test-pg-dsn postgresql://...]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchkit import durable_postgres, machine_note, postgres_server_cpu, rate_line
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from vaxcert.pki.certificates import certificate_pem, create_csca, create_dsc
from vaxcert.pki.keys import generate_private_key, save_private_key
from vaxcert.registry import KeyDirectory, Registry, issue_all, open_registry
from vaxcert.registry.batch import DEFAULT_CHUNK, chunk_for, sign_chunk
from vaxcert.registry.importer import import_file
from vaxcert.registry.keyring import KeyRing
from vaxcert.registry.reconciliation import reconcile

NOW = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
FACILITIES = ("VN-HN-001", "VN-HCM-014")
PASSWORD = b"bench-password"


# -- reference: raw signing on both cores ------------------------------------------------------------------------


def _sign_for(seconds: float) -> int:
    key = ec.generate_private_key(ec.SECP256R1())
    algorithm = ec.ECDSA(hashes.SHA256())
    messages = [os.urandom(300) for _ in range(256)]
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for message in messages:
            key.sign(message, algorithm)
        n += len(messages)
    return n


def raw_sign_cpu() -> float:
    """Thread CPU seconds of one raw ES256 signature (best of five passes over 256 messages)."""
    key = ec.generate_private_key(ec.SECP256R1())
    algorithm = ec.ECDSA(hashes.SHA256())
    messages = [os.urandom(300) for _ in range(256)]
    best = float("inf")
    for _ in range(5):
        start = time.thread_time()
        for message in messages:
            key.sign(message, algorithm)
        best = min(best, (time.thread_time() - start) / len(messages))
    return best


def raw_sign_rates(seconds: float = 2.0) -> tuple[float, float]:
    """Raw ES256 signatures/s on one core, and on two (two processes at once), wall time."""
    one = _sign_for(seconds) / seconds
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_sign_for, [0.1, 0.1]))
        both = sum(pool.map(_sign_for, [seconds, seconds])) / seconds
    return one, both


# -- data --------------------------------------------------------------------------------------------------------


def make_keys(root: Path) -> KeyDirectory:
    start = NOW - dt.timedelta(days=30)
    csca_key = generate_private_key("ec")
    csca = create_csca(csca_key, country="VN", name="Ministry of Health VN", now=start)
    for facility in FACILITIES:
        folder = root / facility
        folder.mkdir(parents=True)
        key = generate_private_key("ec")
        cert = create_dsc(key, csca=csca, csca_key=csca_key, facility_id=facility, facility_name=facility,
                          now=start)  # fmt: skip
        save_private_key(key, folder / "dsc.key.pem", PASSWORD)
        (folder / "dsc.pem").write_bytes(certificate_pem(cert))
    return KeyDirectory(str(root), password=PASSWORD)


_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ")
_FAMILY_T = ("NGUYEN", "TRAN", "LE", "PHAM", "HOANG", "HUYNH", "PHAN", "VU")
_GIVEN = (("Văn Đức", "VAN<DUC"), ("Thị Thu Hà", "THI<THU<HA"), ("Minh Anh", "MINH<ANH"), ("Quốc Bảo", "QUOC<BAO"))


def load_persons(registry: Registry, n: int) -> None:
    """n distinct persons, reconciled and ready, as if imported (names, birth dates, dates vary)."""
    columns = ("person_key", "id_kind", "id_number", "nationality", "fn", "gn", "fnt", "gnt", "dob", "dirty",
               "state", "doses", "complete", "booster", "last_facility", "tg", "vp", "mp", "ma", "dn", "sd", "dt",
               "co", "content_hash", "record_version", "issued_version", "created_at", "updated_at")  # fmt: skip
    stamp = int(NOW.timestamp())
    batch = []
    for i in range(n):
        number = f"001{i:09d}"
        given, gnt = _GIVEN[i // 8 % 4]
        batch.append((f"cccd:{number}", "cccd", number, "VN", _FAMILY[i % 8], given, _FAMILY_T[i % 8], gnt,
                      f"19{40 + i % 60}-{1 + i % 12:02d}-{1 + i % 28:02d}", 0, "ready", 2, 1, 0, FACILITIES[i % 2],
                      "840539006", "1119349007", "EU/1/20/1528", "ORG-100030215", 2, 2,
                      f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}", "VN", f"h{i}", 1, 0, stamp, stamp))  # fmt: skip
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
        # every run starts from the same clean tables: the reset leaves a dead version of each row
        import psycopg

        spec = registry.spec
        with psycopg.connect(spec.url, autocommit=True) as conn:
            if spec.schema:
                conn.execute(f"SET search_path TO {spec.schema}")
            conn.execute("VACUUM ANALYZE persons")
            conn.execute("VACUUM ANALYZE certificates")


def check_stored(registry: Registry, n: int) -> None:
    """Exactly once: n current certificates, one per person."""
    with registry.transaction() as tx:
        stored = tx.query("SELECT COUNT(*), COUNT(DISTINCT person_key) FROM certificates WHERE status = 'current'")[0]
    if stored[0] != n or stored[1] != n:
        raise SystemExit(f"expected {n} certificates, one per person; stored {stored}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime + own.ru_utime + own.ru_stime


# -- issue_all with 1 and 2 workers -------------------------------------------------------------------------------


def bench_workers(name: str, registry: Registry, keys: KeyDirectory, n: int, chunk: int | None, raw_two: float,
                  server_cpu: Callable[[], float] | None, sign_cpu: float) -> dict[int, float]:  # fmt: skip
    """issue_all with 1 and 2 workers: the rate with start-up, the sustained rate, and the CPU per certificate.

    The sustained rate runs from the first chunk committed to the last (worker processes
    start, import vaxcert and load keys first: about a second each, which a national run of
    millions does not notice).  The CPU per certificate counts every process of the run (and the
    server's for PostgreSQL), start-up included; as a multiple of a raw signature's CPU in this
    run it gives what two free cores would do at the issue's raw limit of 88,000 signatures/s.
    """
    rates = {}
    for workers in (1, 2):
        startup = 0.0
        if workers > 1:  # the same run with nothing to issue: worker processes start, import, load keys, stop
            cpu0 = _children_cpu()
            issue_all(registry, keys, now=NOW, workers=workers, chunk_size=chunk)
            startup = _children_cpu() - cpu0
        reset(registry)
        ticks: list[tuple[float, int]] = []
        cpu0, server0 = _children_cpu(), server_cpu() if server_cpu else 0.0
        def tick(done: int, total: int | None, ticks: list[tuple[float, int]] = ticks) -> None:
            ticks.append((time.perf_counter(), done))

        result = issue_all(registry, keys, now=NOW, workers=workers, chunk_size=chunk, progress=tick)
        cpu = _children_cpu() - cpu0 + ((server_cpu() - server0) if server_cpu else 0.0)
        if result.issued != n:
            raise SystemExit(f"{name}: issued {result.issued} of {n}")
        check_stored(registry, n)
        sustained = (ticks[-1][1] - ticks[0][1]) / (ticks[-1][0] - ticks[0][0]) if len(ticks) > 2 else result.rate
        rates[workers] = sustained
        where = "workers + server" if server_cpu else "workers"
        per = cpu / n
        label = f"{workers} worker{'s' if workers > 1 else ' '}"
        print(f"{name:<22} {label} {result.rate:>9,.0f}/s persisted with start-up, {sustained:,.0f}/s sustained "
              f"= {sustained / raw_two:.2f}× the raw 2-core rate of this run", flush=True)  # fmt: skip
        print(f"{'':<22}   CPU {per * 1e6:5.0f} µs/certificate ({where}, start-up included) = "
              f"{per / sign_cpu:.1f} raw signatures → {88_000 * sign_cpu / per:,.0f}/s on two free cores "
              f"(estimate at 88,000 raw signatures/s)", flush=True)  # fmt: skip
        if startup:
            steady = (cpu - startup) / n
            print(f"{'':<22}   of which start-up {startup:.2f} s CPU (the same run with nothing to issue); without "
                  f"it {steady * 1e6:.0f} µs/certificate = {steady / sign_cpu:.1f} raw signatures → "
                  f"{88_000 * sign_cpu / steady:,.0f}/s (estimate, steady state)", flush=True)  # fmt: skip
    print(f"{name:<22} scaling 1 → 2 workers (sustained): {rates[2] / rates[1]:.2f}×", flush=True)
    ESTIMATES[name] = 88_000 * sign_cpu / per  # the last measured: 2 workers
    return rates


#: Estimates on free cores at the issue's raw signing speed, from the CPU each item cost (see bench_workers).
ESTIMATES: dict[str, float] = {}


# -- signing elsewhere: a process pool feeding one committer -------------------------------------------------------

_RING: KeyRing | None = None


def _load_ring(keys: KeyDirectory) -> None:
    global _RING
    _RING = keys.load()


def _sign_remote(rows: list[Any]) -> tuple[list[Any], list[tuple[str, str]], float]:
    assert _RING is not None
    start = time.thread_time()
    staged, failures = sign_chunk(_RING, rows, NOW)
    return staged, failures, time.thread_time() - start


def _pool(keys: KeyDirectory, size: int) -> concurrent.futures.ProcessPoolExecutor:
    pool = concurrent.futures.ProcessPoolExecutor(size, mp_context=multiprocessing.get_context("spawn"),
                                                  initializer=_load_ring, initargs=(keys,))  # fmt: skip
    list(pool.map(time.sleep, [0.2] * size))  # start and load keys before the clock runs
    return pool


def commit_ceiling(registry: Registry, keys: KeyDirectory, n: int, chunk: int,
                   server_cpu: Callable[[], float] | None) -> tuple[float, float, float]:  # fmt: skip
    """Claim + store with the certificates signed beforehand: (certificates/s, committer+server µs, signing µs)."""
    reset(registry)
    worker = f"ceiling:{uuid.uuid4().hex[:8]}"
    chunks = []
    while rows := registry.claim(worker=worker, limit=chunk, now=time.time(), lease_seconds=3600,
                                 facilities=list(FACILITIES)):  # fmt: skip
        chunks.append(rows)
    with _pool(keys, 1) as pool:
        signed = list(pool.map(_sign_remote, chunks))
    sign_seconds = sum(s[2] for s in signed)
    by_key = {c.person_key: c for staged, _, _ in signed for c in staged}
    registry.release_leases()
    clock, cpu0 = time.perf_counter(), time.thread_time()
    server0 = server_cpu() if server_cpu else 0.0
    done = 0
    while rows := registry.claim(worker=worker, limit=chunk, now=time.time(), lease_seconds=300,
                                 facilities=list(FACILITIES)):  # fmt: skip
        done += registry.store_certificates([by_key[r.person_key] for r in rows], worker=worker, stamp=1)
    seconds = time.perf_counter() - clock
    cpu = time.thread_time() - cpu0 + ((server_cpu() - server0) if server_cpu else 0.0)
    if done != n:
        raise SystemExit(f"commit ceiling: stored {done} of {n}")
    check_stored(registry, n)
    return n / seconds, cpu / n * 1e6, sign_seconds / n * 1e6


def signing_pool(registry: Registry, keys: KeyDirectory, n: int, chunk: int, signers: int) -> float:
    """Certificates/s with ``signers`` signing processes ("machines") feeding one committer."""
    reset(registry)
    worker = f"pool:{uuid.uuid4().hex[:8]}"
    with _pool(keys, signers) as pool:
        start = time.perf_counter()
        in_flight: deque[concurrent.futures.Future[Any]] = deque()
        done = 0
        while True:
            while len(in_flight) < 2 * signers and (
                    rows := registry.claim(worker=worker, limit=chunk, now=time.time(), lease_seconds=300,
                                           facilities=list(FACILITIES))):  # fmt: skip
                in_flight.append(pool.submit(_sign_remote, rows))
            if not in_flight:
                break
            staged, failures, _ = in_flight.popleft().result()
            done += registry.store_certificates(staged, worker=worker, stamp=1, failures=failures)
        seconds = time.perf_counter() - start
    if done != n:
        raise SystemExit(f"signing pool: stored {done} of {n}")
    check_stored(registry, n)
    return n / seconds


def bench_elsewhere(name: str, registry: Registry, keys: KeyDirectory, n: int, chunk: int,
                    server_cpu: Callable[[], float] | None, pools: list[int]) -> None:  # fmt: skip
    ceiling, commit_us, sign_us = commit_ceiling(registry, keys, n, chunk, server_cpu)
    one_core = 1e6 / sign_us
    print(f"{name:<22} commit ceiling (certificates signed beforehand): {ceiling:,.0f}/s; committer"
          f"{' + server' if server_cpu else ''} CPU {commit_us:.0f} µs/certificate", flush=True)  # fmt: skip
    print(f"{name:<22} one core signs {one_core:,.0f}/s (sign_chunk: payload, UVCI, ES256, HC1; "
          f"{sign_us:.0f} µs CPU each)", flush=True)  # fmt: skip
    previous = None
    for size in pools:
        rate = signing_pool(registry, keys, n, chunk, size)
        growth = f", +{rate - previous:,.0f}/s for the added signer" if previous is not None else ""
        print(f"{name:<22} {size} signing process{'es' if size > 1 else ''} feeding 1 committer: {rate:>9,.0f}/s"
              f"{growth}", flush=True)  # fmt: skip
        previous = rate
    print(f"{name:<22} → each added signing machine of c free cores adds about c × {one_core:,.0f}/s, "
          f"up to the commit ceiling of {ceiling:,.0f}/s", flush=True)  # fmt: skip


# -- import -------------------------------------------------------------------------------------------------------


#: Name parts for the import: 16 family names × 16 middle names × 100 given names (two syllables) make
#: 25,600 distinct full names, so a person's name is new to every cache until their next dose's row.
_IMPORT_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
                  "Hồ", "Ngô", "Dương", "Lý")  # fmt: skip
_IMPORT_MIDDLE = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Quốc", "Thanh", "Xuân", "Hoài", "Kim", "Gia",
                  "Thu", "Bảo", "Công", "Mỹ")  # fmt: skip
_IMPORT_SYLLABLES = ("Anh", "Bình", "Châu", "Dũng", "Hà", "Hải", "Hương", "Khoa", "Lan", "Long")
_IMPORT_LAST = ("Mai", "Nam", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trung", "Tuấn", "Yến")


#: For the extra with every given name distinct: 40 syllables, so middle × two syllables make 25,600 given names.
_IMPORT_MORE = ("An", "Bảo", "Cường", "Diệp", "Đạt", "Giang", "Hạnh", "Hiếu", "Hòa", "Hùng", "Khánh", "Linh", "Lộc",
                "Lợi", "Minh", "Nga", "Nghĩa", "Ngọc", "Nhung", "Oanh", "Phong", "Phương", "Quang", "Quyên", "Sang",
                "Thắng", "Thịnh", "Thủy", "Tiến", "Toàn", "Trang", "Trí", "Tùng", "Uyên", "Việt", "Vinh", "Vy",
                "Xuân", "Yên", "Ánh")  # fmt: skip


def write_import_csv(path: Path, rows: int, first: int = 0, distinct_given: bool = False) -> None:
    """A facility export of ``rows`` doses: two doses per person (persons ``first``, ``first + 1``, ...),
    on adjacent rows; persons' names (25,600 distinct), birth dates (60 years) and dose dates vary.

    The names are made of 16 family names and 1,600 given names, as real names repeat their parts;
    ``distinct_given`` gives every person of the first 25,600 a given name of their own (the
    worst case for the importer's remembered name parts).
    """
    with path.open("w", encoding="utf-8") as fh:
        fh.write("citizen_id,family_name,given_name,dob,facility,dose_number,series_total,date,product\n")
        for i in range(rows):
            p = first + i // 2
            year = 1940 + p % 60
            number = f"001{p // 60 % 2}{year % 100:02d}{p:06d}"  # Hà Nội; the number encodes the birth year
            family = _IMPORT_FAMILY[p % 16]
            if distinct_given:
                given = f"{_IMPORT_MIDDLE[p % 16]} {_IMPORT_MORE[p // 16 % 40]} {_IMPORT_MORE[p // 640 % 40]}"
            else:
                given = (f"{_IMPORT_MIDDLE[p // 16 % 16]} {_IMPORT_SYLLABLES[p // 256 % 10]} "
                         f"{_IMPORT_LAST[p // 2560 % 10]}")  # fmt: skip
            dose = i % 2 + 1
            fh.write(f"{number},{family},{given},{year}-{1 + p % 12:02d}-{1 + p // 12 % 28:02d},"
                     f"{FACILITIES[i % 2]},{dose},2,2021-0{7 + dose}-{1 + i % 28:02d},EU/1/20/1528\n")  # fmt: skip


def bench_import(tmp: Path, rows: int, sign_cpu: float, distinct_given: bool = False) -> float:
    """Import + reconcile throughput (validated rows/s) on SQLite: wall, and from the CPU it took."""
    path = tmp / f"import-{distinct_given}.csv"
    write_import_csv(path, rows, distinct_given=distinct_given)
    registry = open_registry(f"sqlite:///{tmp}/import-{distinct_given}.db", migrate=True)
    label = "import, distinct given" if distinct_given else "import"
    if not distinct_given:
        print(f"import (durable)       SQLite {registry_settings(registry)}")
    start, own, cpu = time.perf_counter(), time.process_time(), _children_cpu()
    result = import_file(registry, path, now=NOW)  # a file over 1 MiB: rows checked in a child process
    middle, own, cpu = time.perf_counter(), time.process_time() - own, _children_cpu() - cpu
    rec = reconcile(registry, now=NOW)
    end = time.perf_counter()
    registry.close()
    rate = result.inserted / (middle - start)
    names = "every given name distinct" if distinct_given else "20,000 distinct names of 1,600 given names"
    print(f"{label:<22} {rate:>9,.0f} rows/s validated and stored ({rows:,} rows, {result.inserted:,} new; {names})")
    per, parent = cpu / result.inserted, own / result.inserted
    child = per - parent
    print(f"{'':<22}   CPU {per * 1e6:.0f} µs/row = {per / sign_cpu:.2f} raw signatures (storing process "
          f"{parent * 1e6:.0f}, reading and checking process {child * 1e6:.0f})")  # fmt: skip
    if not distinct_given:
        # the two processes work side by side: the busier one sets the pace on free cores
        ESTIMATES["import"] = sign_cpu / max(parent, child) * 44_000
        print(f"reconcile              {rec.persons / (end - middle):>9,.0f} persons/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=None,
                        help="persons per chunk (default: what `vaxcert registry issue` takes, batch.chunk_for)")
    parser.add_argument("--import-rows", type=int, default=40_000)
    parser.add_argument("--test-pg-dsn", default=os.environ.get("VAXCERT_PG_DSN"),
                        help="also measure the test server (fsync=off: labelled as not durable)")
    parser.add_argument("--pools", default="1,2,3", help="signing processes for the signing-elsewhere simulation")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: sqlite,pg,elsewhere,import")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    pools = [int(x) for x in args.pools.split(",") if x]
    n = args.persons
    tmp = Path(tempfile.mkdtemp(prefix="vaxcert-bench-"))
    results: dict[str, float] = {}
    try:
        keys = make_keys(tmp / "keys")
        one, two = raw_sign_rates()
        sign_cpu = raw_sign_cpu()
        chunks = f"chunks of {args.chunk:,}" if args.chunk else f"chunks of {chunk_for(n, 2):,} (the default)"
        print(f"{machine_note()}; {n:,} distinct persons, {chunks}")
        print(f"raw ES256              {one:>9,.0f} signatures/s on one core, {two:,.0f}/s on two (two processes); "
              f"{sign_cpu * 1e6:.1f} µs CPU each", flush=True)  # fmt: skip
        if "sqlite" not in skip:
            registry = open_registry(f"sqlite:///{tmp}/bench.db", migrate=True)
            print(f"sqlite (durable)       {registry_settings(registry)}", flush=True)
            load_persons(registry, n)
            results["sqlite"] = bench_workers("sqlite", registry, keys, n, args.chunk, two, None, sign_cpu)[2]
            if "elsewhere" not in skip:
                bench_elsewhere("sqlite", registry, keys, n, args.chunk or DEFAULT_CHUNK, None, pools)
            registry.close()
        if "pg" not in skip:
            with durable_postgres() as (dsn, data):
                registry = open_registry(dsn, migrate=True)
                settings = registry_settings(registry)
                print(f"postgresql (durable)   own server on a free port: {settings}", flush=True)
                load_persons(registry, n)
                server = lambda: postgres_server_cpu(data)  # noqa: E731
                results["pg"] = bench_workers("postgresql durable", registry, keys, n, args.chunk, two, server,
                                              sign_cpu)[2]
                if "elsewhere" not in skip:
                    bench_elsewhere("postgresql durable", registry, keys, n, args.chunk or DEFAULT_CHUNK, server, pools)
                registry.close()
            if args.test_pg_dsn:
                schema = f"bench_{uuid.uuid4().hex[:10]}"
                registry = open_registry(args.test_pg_dsn, schema=schema, migrate=True)
                print(f"extra, NOT durable: the test server ({registry_settings(registry)})", flush=True)
                load_persons(registry, n)
                bench_workers("postgresql test srv", registry, keys, n, args.chunk, two, None, sign_cpu)
                registry.drop_schema()  # type: ignore[attr-defined]
                registry.close()
        if "import" not in skip and args.import_rows:
            results["import"] = bench_import(tmp, args.import_rows, sign_cpu)
            bench_import(tmp, args.import_rows, sign_cpu, distinct_given=True)  # a labelled extra: worst case
        print()
        if "sqlite" in results:
            print(rate_line("target SQLite, 2 workers, persisted (sustained) ≥ 25,000/s", results["sqlite"], 25_000))
        if "pg" in results:
            print(rate_line("target PostgreSQL durable, 2 workers, persisted (sustained) ≥ 15,000/s", results["pg"],
                            15_000))  # fmt: skip
        if "import" in results:
            print(rate_line("target import ≥ 20,000 validated rows/s", results["import"], 20_000))
        print(f"(raw ES256 on the two cores in this run: {two:,.0f}/s; {machine_note()})")
        print("the same targets on the estimates from CPU per item (free cores at the issue's 44,000 raw "
              "signatures/s per core; estimates, not measurements):")  # fmt: skip
        for key, label, target in (("sqlite", "SQLite, 2 workers", 25_000),
                                   ("postgresql durable", "PostgreSQL durable, 2 workers", 15_000),
                                   ("import", "import, two processes", 20_000)):  # fmt: skip
            if key in ESTIMATES:
                print("  " + rate_line(f"estimate {label}", ESTIMATES[key], target))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def registry_settings(registry: Registry) -> str:
    """The settings a durability claim rests on, read back from the database itself."""
    if registry.backend == "sqlite":
        with registry.transaction() as tx:
            mode, sync = tx.query("PRAGMA journal_mode")[0][0], tx.query("PRAGMA synchronous")[0][0]
        return f"journal_mode={mode}, synchronous={ {0: 'OFF', 1: 'NORMAL', 2: 'FULL', 3: 'EXTRA'}[sync]}"
    with registry.transaction() as tx:
        values = [tx.query(f"SHOW {name}")[0][0] for name in ("fsync", "synchronous_commit", "full_page_writes")]
    return f"fsync={values[0]}, synchronous_commit={values[1]}, full_page_writes={values[2]}"


if __name__ == "__main__":
    sys.exit(main())
