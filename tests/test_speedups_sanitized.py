"""The compiled shortcuts under AddressSanitizer and UndefinedBehaviorSanitizer.

The C code reads hostile input (every scanned QR code reaches ``hc1_unwrap``), so its comparisons
with the Python reference (tests/test_speedups.py) also run on a build instrumented for memory
errors and undefined behaviour: a copy of the package with ``_speedups`` compiled by the
machine's gcc with ``-fsanitize=address,undefined``, in a child process that preloads the
sanitizer runtimes and stops at the first report.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "src" / "vaxcert" / "stages" / "_speedups.c"


def _runtime(compiler: str, name: str) -> str | None:
    found = subprocess.run([compiler, f"-print-file-name={name}"], capture_output=True, text=True, check=False)
    path = found.stdout.strip()
    return path if found.returncode == 0 and os.path.isabs(path) and os.path.exists(path) else None


@pytest.mark.slow
def test_speedups_under_address_and_undefined_behaviour_sanitizers(tmp_path: Path) -> None:
    """tests/test_speedups.py passes against an ASan + UBSan build of the module, with no sanitizer report."""
    compiler = shutil.which("gcc")
    if compiler is None:
        pytest.skip("no gcc: the sanitizer build needs it")
    asan, ubsan = _runtime(compiler, "libasan.so"), _runtime(compiler, "libubsan.so")
    if asan is None or ubsan is None:
        pytest.skip("gcc has no AddressSanitizer / UndefinedBehaviorSanitizer runtime here")
    package = tmp_path / "src" / "vaxcert"
    shutil.copytree(REPO / "src" / "vaxcert", package, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    module = package / "stages" / ("_speedups" + str(sysconfig.get_config_var("EXT_SUFFIX")))
    subprocess.run([compiler, "-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
                    "-fno-sanitize-recover=undefined", "-shared", "-fPIC", "-std=c99", "-DVAXCERT_WITH_ZLIB",
                    f"-I{sysconfig.get_paths()['include']}", str(SOURCE), "-o", str(module), "-lz"],
                   check=True)  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "src"), LD_PRELOAD=f"{asan} {ubsan}",
               ASAN_OPTIONS="detect_leaks=0:abort_on_error=1", UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1",
               HYPOTHESIS_PROFILE=os.environ.get("HYPOTHESIS_PROFILE", "ci"))  # fmt: skip
    check = "import vaxcert.stages._speedups as m, sys; sys.exit(0 if m.__file__.startswith(sys.argv[1]) else 1)"
    assert subprocess.run([sys.executable, "-c", check, str(tmp_path)], env=env, check=False).returncode == 0, \
        "the child process did not load the sanitized copy"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                          str(REPO / "tests" / "test_speedups.py")],
                         cwd=REPO / "tests", env=env, capture_output=True, text=True, check=False)  # fmt: skip
    report = run.stdout[-3000:] + run.stderr[-3000:]
    assert "AddressSanitizer" not in report and "runtime error" not in report, report
    assert run.returncode == 0, report
