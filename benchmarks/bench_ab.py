"""Before / after: the working tree's issue and verify against another git revision, interleaved.

A shared machine's load moves between separate runs far more than a change moves the figures,
so this loads the other revision's package under another name (``vaxcert_base``) in the same
process and alternates short rounds of the two, over rotating inputs (v/t/r payloads, ES256 and
PS256 signers).  It reports the median per-operation time of each side and their ratio.

Run:  .venv/bin/python benchmarks/bench_ab.py --base main [--rounds 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
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

REPO = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
NAMES = [("Nguyễn", "NGUYEN", "Văn Đức", "VAN<DUC"), ("Trần", "TRAN", "Thị Thu Hà", "THI<THU<HA"),
         ("Lê", "LE", "Hồng Ưng", "HONG<UNG")]


def load_base(revision: str, into: Path) -> ModuleType:
    """The package of ``revision`` importable as ``vaxcert_base`` (its imports are relative)."""
    archive = subprocess.run(["git", "archive", revision, "src/vaxcert", "schemas"], cwd=REPO, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    shutil.move(into / "src" / "vaxcert", into / "src" / "vaxcert_base")
    sys.path.insert(0, str(into / "src"))
    return importlib.import_module("vaxcert_base")


def _module(pkg: ModuleType, *names: str) -> ModuleType:
    """The first of ``names`` that exists under ``pkg`` (modules moved between revisions)."""
    for name in names:
        try:
            return importlib.import_module(f"{pkg.__name__}.{name}")
        except ModuleNotFoundError:
            continue
    raise ModuleNotFoundError(f"none of {names} in {pkg.__name__}")


def payloads(uvci: Callable[[str], str]) -> list[dict[str, Any]]:
    """Rotating inputs: a vaccination, a test and a recovery per name."""
    out = []
    for fn, fnt, gn, gnt in NAMES:
        person = {"ver": "1.3.0", "nam": {"fn": fn, "fnt": fnt, "gn": gn, "gnt": gnt}, "dob": "1985-04-12"}
        out.append({**person, "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528",
                                     "ma": "ORG-100030215", "dn": 2, "sd": 2, "dt": "2026-05-01", "co": "VN",
                                     "is": "Bộ Y tế", "ci": uvci("VN")}]})
        out.append({**person, "t": [{"tg": "840539006", "tt": "LP6464-4", "nm": "Roche LightCycler qPCR",
                                     "sc": "2026-05-31T08:00:00Z", "tr": "260415000", "tc": "Bạch Mai",
                                     "co": "VN", "is": "Bộ Y tế", "ci": uvci("VN")}]})
        out.append({**person, "r": [{"tg": "840539006", "fr": "2026-03-01", "co": "VN", "is": "Bộ Y tế",
                                     "df": "2026-03-12", "du": "2026-08-28", "ci": uvci("VN")}]})
    return out


def setup(pkg: ModuleType, key_mod: ModuleType, pki_mod: ModuleType, uvci: Callable[[str], str]) -> tuple[
        list[Callable[[], object]], list[Callable[[], object]]]:
    """Issue and verify closures over ES256 and PS256 signers of one package."""
    csca_key = key_mod.generate_private_key("ec")
    csca = pki_mod.create_csca(csca_key, country="VN", name="Ministry of Health VN", now=NOW - dt.timedelta(days=1))
    issues, verifies = [], []
    certs, signers = [], []
    for kind in ("ec", "rsa2048"):
        key = key_mod.generate_private_key(kind)
        # a ministry DSC signs plain payloads in every revision (no facility_override needed, issue 10)
        dsc = pki_mod.create_dsc(key, csca=csca, csca_key=csca_key, facility_id=None, facility_name="Bench",
                                 now=NOW - dt.timedelta(days=1), ministry=True)
        certs.append(dsc)
        signers.append(key_mod.KeySigner(key, dsc))
    verifier = pkg.Verifier(pkg.TrustList.from_certificates(certs))
    for signer in signers:
        issuer = pkg.Issuer(signer, check=False)
        for content in payloads(uvci):
            hc1 = issuer.issue(content, now=NOW).hc1
            assert verifier.verify(hc1, now=NOW).valid
            issues.append(lambda issuer=issuer, content=content: issuer.issue(content, now=NOW))
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
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
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
                results.setdefault((name, "issue"), []).append(per_op(issues, 2))
                results.setdefault((name, "verify"), []).append(per_op(verifies, 2))
    print(f"{args.rounds} interleaved rounds (CPU time), 36 ops per round and side (ES256 + PS256, v/t/r, 3 names)")
    print(f"{'operation':10} {'base µs':>9} {'this µs':>9} {'this/base':>9}")
    for op in ("issue", "verify"):
        before = statistics.median(results[("base", op)]) * 1e6
        after = statistics.median(results[("this", op)]) * 1e6
        print(f"{op:10} {before:9.1f} {after:9.1f} {after / before:9.3f}")


if __name__ == "__main__":
    main()
