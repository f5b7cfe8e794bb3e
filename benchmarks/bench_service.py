"""The signing service under load: 2 ``serve`` processes, 2 ``registry worker`` processes, durable PostgreSQL.

It starts everything itself on loopback and stops everything at the end:

1. a PostgreSQL server of its own (``initdb`` into a temporary folder, a free port) with durable
   settings: ``fsync=on``, ``synchronous_commit=on``, ``full_page_writes=on``;
2. the registry (``registry init``), a ministry DSC that signs for every facility, one account per
   facility, and the population register of every citizen the clients will submit;
3. two ``vaxcert serve`` processes and two ``vaxcert registry worker`` processes (the workers at
   ``nice 10``: on a shared host the API answers first and issuance lags, as far as the queue
   bound lets it);
4. ``--clients`` concurrent facility clients (asyncio + httpx2), each sending ``--requests`` bulk
   submissions of ``--records`` records (CSV) to the two servers in turn.  A 429 is counted and the
   client waits for its ``Retry-After`` before sending the same file again (at most ``--retries``
   times), so the run is bounded in requests and time and stops by itself.

It prints accepted records/s (submission phase), p50/p99 latency of the submissions (every answer,
429s included, and accepted ones alone), certificates issued/s (first accepted submission to the
last certificate), the 429 count, and a final reconciliation: every accepted record imported once
and issued exactly once (one current certificate per person, none twice, no record left waiting).

    python benchmarks/bench_service.py [--clients 200] [--requests 3] [--records 100] [--queue-limit 30000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import datetime as dt
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from vaxcert.pki.certificates import certificate_pem, create_csca, create_dsc
from vaxcert.pki.keys import generate_private_key, save_private_key
from vaxcert.registry import add_account, load_register, open_registry

PASSWORD = "bench-service-password"
PRODUCT = "EU/1/20/1528"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL not installed: run scripts/start-services.sh once (it installs it)")
    return found[-1].parent


def as_postgres(args: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root."""
    if os.geteuid() == 0:
        return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in args)]
    return args


class Postgres:
    """A throw-away PostgreSQL server with durable settings."""

    def __init__(self, root: Path) -> None:
        self.bin = pg_bin()
        self.data = root / "pgdata"
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            shutil.chown(self.data, "postgres")
        self.data.chmod(0o700)
        self.port = free_port()
        subprocess.run(as_postgres([str(self.bin / "initdb"), "-D", str(self.data), "-U", "vaxcert", "--auth=trust",
                                    "-E", "UTF8", "--no-locale"]), check=True, capture_output=True)  # fmt: skip
        options = (f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on"
                   " -c synchronous_commit=on -c full_page_writes=on -c shared_buffers=256MB")  # fmt: skip
        subprocess.run(as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "log"),
                                    "-w", "-o", options, "start"]), check=True, capture_output=True)  # fmt: skip
        subprocess.run([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "vaxcert",
                        "bench"], check=True)  # fmt: skip
        self.dsn = f"postgresql://vaxcert@127.0.0.1:{self.port}/bench"
        settings = subprocess.run([str(self.bin / "psql"), self.dsn, "-tAc",
                                   "SELECT string_agg(name || '=' || setting, ' ') FROM pg_settings WHERE name IN"
                                   " ('fsync', 'synchronous_commit', 'full_page_writes')"],
                                  check=True, capture_output=True, text=True)  # fmt: skip
        self.settings = settings.stdout.strip()

    def stop(self) -> None:
        subprocess.run(as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"]),
                       check=False, capture_output=True)  # fmt: skip


def citizen(i: int) -> str:
    return f"0010{90 + i // 1_000_000:02d}{i % 1_000_000:06d}"


def batch_csv(first: int, count: int, facility: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["citizen_id", "family_name", "given_name", "dob", "facility", "dose_number", "series_total",
                     "date", "product"])  # fmt: skip
    for i in range(first, first + count):
        writer.writerow([citizen(i), "Nguyễn", "Văn Đức", "1990-04-12", facility, 2, 2,
                         f"2021-{7 + i % 5:02d}-{1 + i % 27:02d}", PRODUCT])  # fmt: skip
    return out.getvalue().encode()


def setup(root: Path, dsn: str, facilities: list[str], total: int) -> tuple[Path, dict[str, str]]:
    """Registry schema, a ministry signing key, facility accounts, the population register."""
    now = dt.datetime.now(dt.UTC)
    registry = open_registry(dsn, migrate=True)
    csca_key = generate_private_key("ec")
    csca = create_csca(csca_key, country="VN", name="Ministry of Health VN (bench)", now=now - dt.timedelta(days=1))
    keys = root / "keys" / "MINISTRY"
    keys.mkdir(parents=True)
    key = generate_private_key("ec")
    dsc = create_dsc(key, csca=csca, csca_key=csca_key, facility_id=None, facility_name="MoH signer",
                     now=now - dt.timedelta(days=1), ministry=True)  # fmt: skip
    save_private_key(key, keys / "dsc.key.pem", PASSWORD.encode())
    (keys / "dsc.pem").write_bytes(certificate_pem(dsc))
    tokens = {f: add_account(registry, name=f.lower(), role="facility", area=f, created_by="bench", now=now)[1]
              for f in facilities}  # fmt: skip
    register = root / "register.csv"
    with register.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["citizen_id", "family_name", "given_name", "dob"])
        for i in range(total):
            writer.writerow([citizen(i), "Nguyễn", "Văn Đức", "1990-04-12"])
    load_register(registry, register, now=now)
    registry.close()
    return keys.parent, tokens


def start(args: list[str], log: Path, env: dict[str, str], nice: int = 0) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "vaxcert", *args]
    if nice:
        command = ["nice", "-n", str(nice), *command]
    with log.open("wb") as fh:
        return subprocess.Popen(command, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def wait_ready(urls: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    for url in urls:
        while True:
            try:
                if httpx.get(url + "/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not become ready")
            time.sleep(0.2)


async def drive(urls: list[str], tokens: dict[str, str], facilities: list[str], opts: argparse.Namespace,
                results: dict[str, Any]) -> None:  # fmt: skip
    """``opts.clients`` concurrent clients, each with a fixed number of submissions (bounded retries on 429)."""
    limits = httpx.Limits(max_connections=opts.clients, max_keepalive_connections=opts.clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def one_client(c: int) -> None:
            facility = facilities[c % len(facilities)]
            headers = {"Authorization": f"Bearer {tokens[facility]}", "Content-Type": "text/csv"}
            for r in range(opts.requests):
                first = (c * opts.requests + r) * opts.records
                body = batch_csv(first, opts.records, facility)
                for attempt in range(opts.retries + 1):
                    url = urls[(c + r + attempt) % len(urls)] + "/v1/jobs"
                    t0 = time.perf_counter()
                    try:
                        response = await client.post(url, content=body, headers=headers)
                    except httpx.HTTPError as exc:
                        results["transport_errors"].append(type(exc).__name__)
                        await asyncio.sleep(1)
                        continue
                    took = time.perf_counter() - t0
                    results["latency_all"].append(took)
                    if response.status_code == 202:
                        results["latency_accepted"].append(took)
                        results["accepted"].append((first, opts.records))
                        results["first_accept"] = min(results.get("first_accept", time.time()), time.time())
                        results["last_accept"] = time.time()
                        break
                    if response.status_code == 429:
                        results["429"] += 1
                        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                        continue
                    results["other"].append(response.status_code)
                    break
                else:
                    results["gave_up"] += 1

        await asyncio.gather(*(one_client(c) for c in range(opts.clients)))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def reconcile_check(dsn: str, accepted: list[tuple[int, int]]) -> dict[str, Any]:
    """Every accepted record imported once and issued exactly once."""
    ids = [f"cccd:{citizen(i)}" for first, n in accepted for i in range(first, first + n)]
    registry = open_registry(dsn)
    try:
        with registry.transaction() as tx:
            tx.execute("CREATE TEMP TABLE accepted (person_key TEXT PRIMARY KEY)")
            tx.copy_rows("accepted", ["person_key"], [(k,) for k in ids])
            q = tx.query
            joined = "FROM certificates c JOIN accepted a USING (person_key)"
            out = {
                "accepted_records": len(ids),
                "distinct_accepted": q("SELECT COUNT(*) FROM accepted")[0][0],
                "doses_of_accepted": q("SELECT COUNT(*) FROM doses d JOIN accepted a USING (person_key)")[0][0],
                "certificates_of_accepted": q(f"SELECT COUNT(*) {joined}")[0][0],
                "current_of_accepted": q(f"SELECT COUNT(*) {joined} WHERE c.status = 'current'")[0][0],
                "persons_with_two_certificates": q(
                    "SELECT COUNT(*) FROM (SELECT person_key FROM certificates GROUP BY person_key"
                    " HAVING COUNT(*) > 1) t")[0][0],
                "waiting": q("SELECT COUNT(*) FROM persons WHERE record_version > issued_version"
                             " OR state <> 'ready'")[0][0],
                "certificates_total": q("SELECT COUNT(*) FROM certificates")[0][0],
                "doses_total": q("SELECT COUNT(*) FROM doses")[0][0],
                "jobs": {s: (int(n), int(r)) for s, n, r in q(
                    "SELECT status, COUNT(*), SUM(records) FROM jobs GROUP BY status")},
                "rejected_rows": q("SELECT COUNT(*) FROM job_errors")[0][0],
            }
    finally:
        registry.close()
    n = out["accepted_records"]
    out["ok"] = (out["distinct_accepted"] == n == out["doses_of_accepted"] == out["certificates_of_accepted"]
                 == out["current_of_accepted"] == out["certificates_total"] == out["doses_total"]
                 and out["persons_with_two_certificates"] == 0 and out["waiting"] == 0
                 and out["rejected_rows"] == 0)  # fmt: skip
    return out


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--requests", type=int, default=3, help="submissions per client")
    parser.add_argument("--records", type=int, default=100, help="records per submission (at most 10,000)")
    parser.add_argument("--facilities", type=int, default=40)
    parser.add_argument("--queue-limit", type=int, default=30_000, help="records waiting before 429")
    parser.add_argument("--max-inflight", type=int, default=16, help="requests one serve process works on at once")
    parser.add_argument("--worker-nice", type=int, default=10, help="nice level of the worker processes")
    parser.add_argument("--retries", type=int, default=200, help="retries of one submission after 429")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for issuance to finish")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    opts = parser.parse_args()
    total = opts.clients * opts.requests * opts.records
    facilities = [f"VN-HN-{i:03d}" for i in range(1, opts.facilities + 1)]
    root = Path(tempfile.mkdtemp(prefix="vaxcert-bench-service-"))
    procs: list[subprocess.Popen[bytes]] = []
    pg = None
    failed = True
    print(f"load average before: {load_average()} ({os.cpu_count()} cores)")
    try:
        pg = Postgres(root)
        print(f"PostgreSQL {pg.bin.parent.name} on 127.0.0.1:{pg.port}: {pg.settings}")
        t0 = time.perf_counter()
        keys, tokens = setup(root, pg.dsn, facilities, total)
        print(f"setup: registry, {len(facilities)} facility accounts, population register of {total:,} citizens"
              f" ({time.perf_counter() - t0:.1f} s)")  # fmt: skip
        env = {**os.environ, "VAXCERT_KEY_PASSWORD": PASSWORD}
        ports = [free_port(), free_port()]
        for n, port in enumerate(ports):
            procs.append(start(["serve", "--db", pg.dsn, "--port", str(port), "--pool", "8", "--max-inflight",
                                str(opts.max_inflight), "--queue-limit", str(opts.queue_limit), "--drain-rate", "3000",
                                "--log-level", "warning"],
                               root / f"serve{n}.log", env))  # fmt: skip
        for n in range(2):
            # workers at a lower CPU priority: on a shared host the API must answer at once; issuance may lag
            # (the queue bound limits how far)
            procs.append(start(["registry", "worker", "--db", pg.dsn, "--keys", str(keys), "--poll", "0.2",
                                "--log-level", "warning"], root / f"worker{n}.log", env,
                               nice=opts.worker_nice))  # fmt: skip
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        wait_ready(urls)
        results: dict[str, Any] = {"latency_all": [], "latency_accepted": [], "accepted": [], "429": 0, "other": [],
                                   "gave_up": 0, "transport_errors": []}  # fmt: skip
        started = time.time()
        asyncio.run(drive(urls, tokens, facilities, opts, results))
        submitted = time.time()
        accepted = sum(n for _, n in results["accepted"])
        registry = open_registry(pg.dsn)
        issued_at = None
        deadline = time.monotonic() + opts.timeout
        try:
            while time.monotonic() < deadline:
                with registry.transaction() as tx:
                    certs = tx.query("SELECT COUNT(*) FROM certificates")[0][0]
                    open_jobs = tx.query("SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')")[0][0]
                if certs >= accepted and open_jobs == 0:
                    issued_at = time.time()
                    break
                time.sleep(0.1)
        finally:
            registry.close()
        load_during = load_average()
        first = results.get("first_accept", started)
        print(f"\nclients {opts.clients}, {opts.requests} submissions each of {opts.records} records "
              f"({total:,} records offered), queue bound {opts.queue_limit:,} records")  # fmt: skip
        print(f"submission phase: {submitted - started:.1f} s; accepted {accepted:,} records in "
              f"{len(results['accepted'])} submissions: {accepted / (submitted - started):,.0f} accepted records/s")
        every = results["latency_all"]
        print(f"submit latency, all answers ({len(every)}): p50 {pct(every, .5) * 1000:.0f} ms, "
              f"p99 {pct(every, .99) * 1000:.0f} ms, max {max(every, default=0) * 1000:.0f} ms")
        good = results["latency_accepted"]
        print(f"submit latency, accepted: p50 {pct(good, .5) * 1000:.0f} ms, p99 {pct(good, .99) * 1000:.0f} ms")
        print(f"429 answers: {results['429']}; gave up after retries: {results['gave_up']}; other statuses: "
              f"{sorted(set(results['other']))}; transport errors: {len(results['transport_errors'])} "
              f"{sorted(set(results['transport_errors']))}")
        if issued_at is None:
            print(f"issuance did not finish within {opts.timeout:.0f} s")
        else:
            print(f"certificates issued: {accepted:,} in {issued_at - first:.1f} s from the first accepted submission:"
                  f" {accepted / (issued_at - first):,.0f} certificates/s (end to end: queue, import, reconcile, sign)")
        print(f"load average at the end: {load_during}")
        check = reconcile_check(pg.dsn, results["accepted"])
        print("reconciliation: " + ", ".join(f"{k}={v}" for k, v in check.items()))
        print("RECONCILED: every accepted record issued exactly once" if check["ok"] else "RECONCILIATION FAILED")
        failed = not check["ok"]
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        if pg is not None:
            pg.stop()
        if opts.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
