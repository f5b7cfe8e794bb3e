"""The compiled shortcuts under AddressSanitizer and UndefinedBehaviorSanitizer.

The C code reads hostile input (every scanned QR code reaches ``hc1_unwrap``), so its comparisons
with the Python reference (tests/test_speedups.py) also run on a build instrumented for memory
errors and undefined behaviour: a copy of the package with ``_speedups`` compiled by the
machine's gcc with ``-fsanitize=address,undefined``, in a child process that preloads the
sanitizer runtimes and stops at the first report.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_speedups_under_address_and_undefined_behaviour_sanitizers(tmp_path: Path) -> None:
    """tests/test_speedups.py passes against an ASan + UBSan build of the module, with no sanitizer report."""
    env = runpy.run_path(str(REPO / "scripts" / "build_speedups.py"))["sanitized_copy"](tmp_path)
    if isinstance(env, str):
        pytest.skip(env)
    env["HYPOTHESIS_PROFILE"] = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    check = "import vaxcert.stages._speedups as m, sys; sys.exit(0 if m.__file__.startswith(sys.argv[1]) else 1)"
    assert subprocess.run([sys.executable, "-c", check, str(tmp_path)], env=env, check=False).returncode == 0, \
        "the child process did not load the sanitized copy"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                          str(REPO / "tests" / "test_speedups.py")],
                         cwd=REPO / "tests", env=env, capture_output=True, text=True, check=False)  # fmt: skip
    report = run.stdout[-3000:] + run.stderr[-3000:]
    assert "AddressSanitizer" not in report and "runtime error" not in report, report
    assert run.returncode == 0, report
