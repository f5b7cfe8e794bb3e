"""What the speed benchmarks share: rotating inputs, CPU-time measurement, target lines.

The machine these run on is shared (2 cores, several processes): wall time measures the
neighbours too.  So every per-operation figure here is the *thread's CPU time*
(``time.thread_time``) for one pass over a rotating list of inputs, the passes of the things
compared are *interleaved* (raw, ours, raw, ours, ...) so that a change of load hits both, and
the figure kept is the *best of N* passes (the pass least disturbed by the neighbours; a median
is printed beside it).  A ratio is always the ratio of two figures taken in the same run.

Inputs rotate: at least 256 distinct payloads and 256 distinct certificates, because a repeated
input flatters zlib, the CPU's branch predictor and every cache on the way.
"""

from __future__ import annotations

import datetime as dt
import os
import runpy
import shlex
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NOW = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
ROTATION = 256

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
           "Dương", "Lý"]  # fmt: skip
_FAMILY_T = ["NGUYEN", "TRAN", "LE", "PHAM", "HOANG", "HUYNH", "PHAN", "VU", "VO", "DANG", "BUI", "DO", "HO", "NGO",
             "DUONG", "LY"]  # fmt: skip
_GIVEN = [("Văn Đức", "VAN<DUC"), ("Thị Thu Hà", "THI<THU<HA"), ("Hồng Ưng", "HONG<UNG"), ("Minh Anh", "MINH<ANH"),
          ("Quốc Bảo", "QUOC<BAO"), ("Ngọc Lan", "NGOC<LAN"), ("Thành Long", "THANH<LONG"), ("Mai", "MAI")]  # fmt: skip
_PRODUCTS = [("EU/1/20/1528", "ORG-100030215", "1119349007"), ("EU/1/20/1507", "ORG-100031184", "1119349007"),
             ("EU/1/21/1529", "ORG-100001699", "29061000087103"),
             ("EU/1/20/1525", "ORG-100001417", "29061000087103")]  # fmt: skip


def build_script() -> dict[str, Any]:
    """scripts/build_speedups.py's globals (a script beside the package, not part of it)."""
    return runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "build_speedups.py"))


def rotating_payloads(uvci: Callable[[str], str], n: int = ROTATION, kinds: str = "vvvvvvtr") -> list[dict[str, Any]]:
    """``n`` distinct DCC payloads (names, birth dates, dates, products, UVCIs vary); mostly vaccinations."""
    out = []
    for i in range(n):
        given, gnt = _GIVEN[i // 16 % len(_GIVEN)]
        person = {"ver": "1.3.0", "nam": {"fn": _FAMILY[i % 16], "fnt": _FAMILY_T[i % 16], "gn": given, "gnt": gnt},
                  "dob": f"19{40 + i % 60:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}"}  # fmt: skip
        kind = kinds[i % len(kinds)]
        day = f"2026-0{1 + i % 5}-{1 + i % 28:02d}"
        if kind == "v":
            mp, ma, vp = _PRODUCTS[i % len(_PRODUCTS)]
            dose = 1 + i % 3
            person["v"] = [{"tg": "840539006", "vp": vp, "mp": mp, "ma": ma, "dn": dose, "sd": max(dose, 2),
                            "dt": day, "co": "VN", "is": "Bộ Y tế", "ci": uvci("VN")}]  # fmt: skip
        elif kind == "t":
            person["t"] = [{"tg": "840539006", "tt": "LP6464-4", "nm": "Roche LightCycler qPCR",
                            "sc": f"{day}T08:{i % 60:02d}:00Z", "tr": "260415000", "tc": "Bệnh viện Bạch Mai",
                            "co": "VN", "is": "Bộ Y tế", "ci": uvci("VN")}]  # fmt: skip
        else:
            person["r"] = [{"tg": "840539006", "fr": f"2026-0{1 + i % 3}-{1 + i % 28:02d}", "co": "VN",
                            "is": "Bộ Y tế", "df": "2026-04-01", "du": "2026-09-28", "ci": uvci("VN")}]  # fmt: skip
        out.append(person)
    return out


def random_messages(n: int = ROTATION, size: int = 300) -> list[bytes]:
    """``n`` distinct byte strings of ``size`` bytes, the inputs of the raw operations."""
    return [os.urandom(size) for _ in range(n)]


def one_pass(fn: Callable[[Any], object], inputs: Sequence[Any]) -> float:
    """Thread CPU seconds per call for one pass of ``fn`` over ``inputs``."""
    clock = time.thread_time
    start = clock()
    for item in inputs:
        fn(item)
    return (clock() - start) / len(inputs)


@dataclass
class Figure:
    """The passes of one measured operation: best and median seconds per call."""

    name: str
    passes: list[float]

    @property
    def best(self) -> float:
        return min(self.passes)

    @property
    def median(self) -> float:
        return statistics.median(self.passes)


def interleaved(ops: dict[str, tuple[Callable[[Any], object], Sequence[Any]]], rounds: int = 9) -> dict[str, Figure]:
    """Run one pass of every operation per round, rounds interleaved, after one warm-up pass."""
    for fn, inputs in ops.values():
        one_pass(fn, inputs)
    figures = {name: Figure(name, []) for name in ops}
    names = list(ops)
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):  # ABBA: neither always first
            fn, inputs = ops[name]
            figures[name].passes.append(one_pass(fn, inputs))
    return figures


def target_line(label: str, ratio: float, target: float, *, at_most: bool = True) -> str:
    """``label: 1.23× ≤ 1.40×: met`` (or ``NOT met``)."""
    met = ratio <= target if at_most else ratio >= target
    sign = ("≤" if met else ">") if at_most else ("≥" if met else "<")
    return f"{label}: {ratio:.2f}× {sign} {target:.2f}×: {'met' if met else 'NOT met'}"


def rate_line(label: str, rate: float, target: float) -> str:
    """``label: 26,000/s ≥ 25,000/s: met`` (or ``NOT met``)."""
    met = rate >= target
    return f"{label}: {rate:,.0f}/s {'≥' if met else '<'} {target:,.0f}/s: {'met' if met else 'NOT met'}"


def limit_line(label: str, samples: Sequence[float], limit: float) -> str:
    """``label: 9.4 ms ≤ 100 ms: met`` (or ``NOT met``), from the median of ``samples`` (seconds)."""
    median = statistics.median(samples)
    met = median <= limit
    return f"{label}: {median * 1000:.1f} ms {'≤' if met else '>'} {limit * 1000:.0f} ms: {'met' if met else 'NOT met'}"


def machine_note() -> str:
    """The load of the machine while measuring (it is shared: say so beside every figure)."""
    try:
        load = os.getloadavg()
    except OSError:
        return f"{os.cpu_count()} cores"
    return f"{os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"


# -- a durable PostgreSQL of the benchmark's own -------------------------------------------------------------


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda path: [int(x) for x in path.parts[-3].split(".") if x.isdigit()])  # fmt: skip
    if not found:
        raise SystemExit("PostgreSQL server binaries not found: run scripts/start-services.sh once (it installs them)")
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str]) -> None:
    """Run a server command as the postgres user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() == 0:
        args = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(shlex.quote(a) for a in args)]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextmanager
def durable_postgres(settings: dict[str, str] | None = None) -> Iterator[tuple[str, Path]]:
    """Start a PostgreSQL server of our own (own data directory, free port); yield its DSN and data directory.

    Durable by default: ``fsync=on``, ``synchronous_commit=on``, ``full_page_writes=on`` (the
    settings a registry must run with).  Stopped and deleted on exit.
    """
    options = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on", "max_connections": "50",
               "shared_buffers": "256MB", "listen_addresses": "127.0.0.1"} | (settings or {})  # fmt: skip
    pg = _pg_bin()
    data = Path(tempfile.mkdtemp(prefix="vaxcert-bench-pg-"))
    port = _free_port()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    try:
        _as_postgres([str(pg / "initdb"), "-D", str(data), "-U", "vaxcert", "--auth=trust", "-E", "UTF8",
                      "--no-locale"])  # fmt: skip
        flags = f"-p {port} -k /tmp " + " ".join(f"-c {k}={v}" for k, v in options.items())
        _as_postgres([str(pg / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w", "-t", "60",
                      "-o", flags, "start"])  # fmt: skip
        try:
            subprocess.run([str(pg / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "vaxcert", "bench"],
                           check=True)  # fmt: skip
            yield f"postgresql://vaxcert@127.0.0.1:{port}/bench", data
        finally:
            _as_postgres([str(pg / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
    finally:
        shutil.rmtree(data, ignore_errors=True)


def postgres_server_cpu(data_dir: str | Path) -> float:
    """CPU seconds used so far by a PostgreSQL server: its postmaster, live children and reaped ones."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = (Path(data_dir) / "postmaster.pid").read_text().split()[0]

    def stat(pid: str) -> list[str]:
        return (Path("/proc") / pid / "stat").read_text().rsplit(")", 1)[1].split()

    fields = stat(postmaster)
    total = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime (reaped children)
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                child = stat(proc.name)
            except (OSError, IndexError):
                continue
            if child[1] == postmaster:
                total += int(child[11]) + int(child[12])
    return total / tick
