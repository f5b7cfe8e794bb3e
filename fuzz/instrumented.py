"""Run an atheris entry point again on a copy of vaxcert whose C shortcuts libFuzzer instruments.

atheris instruments Python code as it is imported; the compiled module (``vaxcert.stages._speedups``)
needs a clang build for libFuzzer to see its branches, and ASan to watch its memory.
:func:`reexec` builds that copy (``scripts/build_speedups.fuzzing_copy``) and runs the calling
script again on it, with the matching libFuzzer + ASan runtime preloaded.  Used by fuzz_compiled.py
(which needs the copy) and fuzz_verify.py (which uses it when it can be built); :func:`in_copy` also
checks the child of ``benchmarks/bench_fuzz.py --sanitized`` (a gcc ASan + UBSan copy).
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Set in the child: the folder of the instrumented copy.
COPY = "VAXCERT_FUZZ_COPY"


def in_copy() -> bool:
    """Whether this process runs on the instrumented copy (and checks that it really loaded it)."""
    if COPY not in os.environ:
        return False
    from vaxcert.stages import _speedups

    if not str(_speedups.__file__).startswith(os.environ[COPY]):
        sys.exit(f"the child did not load the instrumented copy ({_speedups.__file__})")
    return True


def reexec(script: str) -> int | str:
    """Build the copy and run ``script`` (with this process's arguments) on it: its exit code, or why the
    copy cannot be built here."""
    with tempfile.TemporaryDirectory(prefix="vaxcert-fuzzing-") as tmp:
        env = runpy.run_path(str(REPO / "scripts" / "build_speedups.py"))["fuzzing_copy"](Path(tmp))
        if isinstance(env, str):
            return env
        env[COPY] = tmp
        child = [sys.executable, script, *sys.argv[1:]]
        return subprocess.run(child, env=env, check=False).returncode  # noqa: S603 - the calling script, its arguments
