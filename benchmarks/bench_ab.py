"""Before / after: the working tree's issue and verify against another git revision, interleaved.

A shared machine's load moves between separate runs far more than a change moves the figures,
so this loads the other revision's package under another name (``vaxcert_base``) in the same
process and alternates short rounds of the two, over rotating inputs (256 distinct v/t/r
payloads and certificates; ES256, or ES256 and PS256 with ``--ps256``).  It reports the median
per-operation time of each side and their ratio.

Run:  .venv/bin/python benchmarks/bench_ab.py --base main [--rounds 40] [--ps256]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import inspect
import io
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from benchkit import ROTATION, build_script, machine_note, rotating_payloads

REPO = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
PS256 = False


def load_base(revision: str, into: Path) -> ModuleType:
    """The package of ``revision`` importable as ``vaxcert_base`` (its imports are relative)."""
    archive = subprocess.run(["git", "archive", revision, "src/vaxcert", "schemas"], cwd=REPO, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    shutil.move(into / "src" / "vaxcert", into / "src" / "vaxcert_base")
    _build_speedups(into / "src" / "vaxcert_base" / "stages" / "_speedups.c")
    sys.path.insert(0, str(into / "src"))
    return importlib.import_module("vaxcert_base")


def _build_speedups(source: Path) -> None:
    """Compile the base's optional C shortcuts beside its source, as scripts/setup.sh does for this tree
    (a revision without them, or a machine without a C compiler, runs the base in pure Python)."""
    if not source.exists():
        return
    script = build_script()
    problem = script["compile_to"](source.with_name(script["MODULE_NAME"]), source)
    if problem is not None:
        print(f"the base's C shortcuts were not built (it runs in pure Python): {problem}", file=sys.stderr)


def compiled(pkg: ModuleType) -> str:
    """Whether a package runs with its compiled shortcuts."""
    try:
        importlib.import_module(f"{pkg.__name__}.stages._speedups")
    except ImportError:
        return "pure Python"
    return "compiled shortcuts"


def _module(pkg: ModuleType, *names: str) -> ModuleType:
    """The first of ``names`` that exists under ``pkg`` (modules moved between revisions)."""
    for name in names:
        try:
            return importlib.import_module(f"{pkg.__name__}.{name}")
        except ModuleNotFoundError:
            continue
    raise ModuleNotFoundError(f"none of {names} in {pkg.__name__}")


def payloads(uvci: Callable[[str], str], n: int) -> list[dict[str, Any]]:
    """``n`` rotating inputs (vaccinations, tests and recoveries; names, dates, products, UVCIs vary)."""
    return rotating_payloads(uvci, n)


def setup(pkg: ModuleType, key_mod: ModuleType, pki_mod: ModuleType, uvci: Callable[[str], str]) -> tuple[
        list[Callable[[], object]], list[Callable[[], object]]]:
    """Issue and verify closures over ES256 and PS256 signers of one package."""
    csca_key = key_mod.generate_private_key("ec")
    csca = pki_mod.create_csca(csca_key, country="VN", name="Ministry of Health VN", now=NOW - dt.timedelta(days=1))
    issues, verifies = [], []
    certs, signers = [], []
    kinds = ("ec", "rsa2048") if PS256 else ("ec",)
    for kind in kinds:
        key = key_mod.generate_private_key(kind)
        # a ministry DSC signs plain payloads in every revision (no facility_override needed, issue 10)
        dsc = pki_mod.create_dsc(key, csca=csca, csca_key=csca_key, facility_id=None, facility_name="Bench",
                                 now=NOW - dt.timedelta(days=1), ministry=True)
        certs.append(dsc)
        signers.append(key_mod.KeySigner(key, dsc))
    verifier = pkg.Verifier(pkg.TrustList.from_certificates(certs))
    for signer in signers:
        issuer = pkg.Issuer(signer, check=False)
        # the facility rule (issue 10): the dose's facility is the DSC's own (older revisions take no facility)
        where = {"facility": "VN-HN-001"} if "facility" in inspect.signature(issuer.issue).parameters else {}
        for content in payloads(uvci, ROTATION // len(signers)):
            hc1 = issuer.issue(content, now=NOW, **where).hc1
            assert verifier.verify(hc1, now=NOW).valid
            issues.append(lambda issuer=issuer, content=content, where=where: issuer.issue(content, now=NOW, **where))
            verifies.append(lambda hc1=hc1: verifier.verify(hc1, now=NOW))
    return issues, verifies


def per_op(ops: list[Callable[[], object]], repeat: int) -> float:
    """CPU seconds per operation for ``repeat`` passes over ``ops``.

    Process CPU time, not wall time: on a shared machine the time this process waits for a
    core is not the code's cost (cache contention from neighbours still shows).
    """
    start = time.process_time()
    for _ in range(repeat):
        for op in ops:
            op()
    return (time.process_time() - start) / (repeat * len(ops))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="git revision to compare with (default: main)")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--ps256", action="store_true", help="half the inputs signed with RSA-2048 (PS256)")
    args = parser.parse_args()
    global PS256
    PS256 = args.ps256
    with tempfile.TemporaryDirectory() as tmp:
        base = load_base(args.base, Path(tmp))
        import vaxcert

        sides = {}
        for name, pkg in (("base", base), ("this", vaxcert)):
            keys = _module(pkg, "pki.keys", "keys")
            pki = _module(pkg, "pki", "pki")
            uvci = _module(pkg, "dcc.uvci", "uvci")
            sides[name] = setup(pkg, keys, pki, uvci.generate)
        results: dict[tuple[str, str], list[float]] = {}
        for index in range(args.rounds):
            # ABBA order, so that neither side always runs first
            for name in ("base", "this") if index % 2 == 0 else ("this", "base"):
                issues, verifies = sides[name]
                results.setdefault((name, "issue"), []).append(per_op(issues, 1))
                results.setdefault((name, "verify"), []).append(per_op(verifies, 1))
    algorithms = "ES256 + PS256" if PS256 else "ES256"
    print(f"{args.rounds} interleaved rounds (CPU time), {ROTATION} distinct inputs per round and side ({algorithms}; "
          f"issue without checks); {machine_note()}")  # fmt: skip
    print(f"base {args.base}: {compiled(base)}; this tree: {compiled(vaxcert)}")
    print(f"{'operation':10} {'base µs':>9} {'this µs':>9} {'this/base':>9}")
    for op in ("issue", "verify"):
        before = statistics.median(results[("base", op)]) * 1e6
        after = statistics.median(results[("this", op)]) * 1e6
        print(f"{op:10} {before:9.1f} {after:9.1f} {after / before:9.3f}")


if __name__ == "__main__":
    main()
