"""Every benchmark still runs and still prints its targets, on the smallest inputs.

The figures are not looked at (speed is never asserted in tests); what is checked is that a
benchmark does not rot unseen: the checkpoint benchmark stopped running when trust lists were
capped at seven days, and nothing noticed.  Each runs in its own process, as a user runs it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: benchmark, its smallest arguments, and lines its output must hold (its targets, where it has any)
RUNS = {
    "bench_checkpoint.py": (["--certificates", "8", "--rounds", "1"],
                            ["target frame 1280×720 → verdict", "target frame with no code"]),
    "bench_pipeline.py": (["--rounds", "1"], ["target verify HC1 → verdict ≤ 1.4×", "target issue with the issuance",
                                              "target issue without checks"]),
    # every part: SQLite, a durable PostgreSQL of its own, signing elsewhere, the import
    "bench_registry.py": (["--persons", "600", "--import-rows", "400", "--pools", "1"],
                          ["target SQLite, 2 workers", "target PostgreSQL durable", "target import ≥ 20,000",
                           "1 signing process feeding 1 committer"]),
    "bench_frames.py": (["--frames", "2"], ["target ≤ 100"]),
    "bench_front.py": (["--seconds", "0.05"], ["HC1 verify, Verifier"]),
    "bench_fuzz.py": (["--inputs", "300"], ["findings: 0"]),
    "bench_qr.py": (["--samples", "1", "--repeat", "1"], ["vaxcert.qr encode only"]),
    "bench_revocation.py": (["--entries", "2000", "--lookups", "200"], ["RevocationList.check"]),
    "bench_rules.py": (["--rounds", "1"], ["VN pass"]),
    "bench_scan.py": (["--number", "2"], ["assess / verify ratio"]),
    "bench_schema.py": (["--number", "20"], ["jsonschema-rs"]),
    "bench_shc.py": (["--seconds", "0.05"], ["QR text → verdict ="]),
    "bench_vectors.py": (["--repeat", "1"], ["published dgc-testdata"]),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(RUNS))
def test_benchmark_runs(name: str) -> None:
    args, expected = RUNS[name]
    # in the system's temporary folder, as run by hand (the PostgreSQL benchmark's server runs as the
    # postgres user, who cannot enter pytest's private folders); each benchmark removes its own
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / name), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    missing = [line for line in expected if line not in done.stdout]
    assert not missing, f"{name} no longer prints {missing}:\n{done.stdout[-2000:]}"


def test_every_benchmark_is_run_here() -> None:
    """A new benchmark joins the list (the two A/B benchmarks compare with another git revision,
    the service benchmark starts a fleet of processes: they are run by hand)."""
    by_hand = {"bench_ab.py", "bench_batch_ab.py", "bench_service.py"}
    present = {p.name for p in (REPO / "benchmarks").glob("bench_*.py")}
    assert present - by_hand == set(RUNS)


@pytest.mark.slow
def test_the_sanitized_fuzz_run() -> None:
    """`bench_fuzz.py --sanitized --mode compiled` builds the ASan + UBSan copy, runs in a child on it, and
    reports what it found (a planted over-read is caught this way: docs/security.md)."""
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_fuzz.py"), "--inputs", "300",
                           "--sanitized", "--mode", "compiled"], cwd=REPO, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip
    if "cannot build the sanitized copy" in done.stdout:
        pytest.skip(done.stdout.strip())
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "compiled shortcuts under ASan + UBSan" in done.stdout and "findings: 0" in done.stdout, done.stdout
