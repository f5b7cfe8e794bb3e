"""The compiled shortcuts under AddressSanitizer and UndefinedBehaviorSanitizer.

The C code reads hostile input (every scanned QR code reaches ``hc1_unwrap``), so its comparisons
with the Python reference (tests/test_speedups.py) also run on a build instrumented for memory
errors and undefined behaviour: a copy of the package with ``_speedups`` compiled by the
machine's gcc with ``-fsanitize=address,undefined``, in a child process that preloads the
sanitizer runtimes and stops at the first report.
"""

from __future__ import annotations

import importlib.util
import os
import runpy
import shutil
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


def _fuzzing_tools() -> None:
    """Skip without atheris or clang, or fail where scripts/test.sh installed them (VAXCERT_REQUIRE_FUZZ)."""
    missing = [name for name, present in (("atheris", importlib.util.find_spec("atheris") is not None),
                                          ("clang", shutil.which("clang") is not None)) if not present]  # fmt: skip
    if missing:
        message = f"fuzz/fuzz_compiled.py needs {' and '.join(missing)} (atheris: the [fuzz] extra; Debian: clang)"
        if os.environ.get("VAXCERT_REQUIRE_FUZZ"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.slow
def test_coverage_guided_fuzzing_of_the_shortcuts_runs(tmp_path: Path) -> None:
    """fuzz/fuzz_compiled.py builds the instrumented copy, seeds an empty corpus, and libFuzzer sees the C code's
    coverage (its counters are loaded: without the combined runtime ASan's hooks hid them)."""
    _fuzzing_tools()
    run = subprocess.run([sys.executable, str(REPO / "fuzz" / "fuzz_compiled.py"), str(tmp_path / "corpus"),
                          "-runs=3000"], cwd=tmp_path, capture_output=True, text=True, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Using preloaded libfuzzer" in run.stderr and "inline 8-bit counters" in run.stderr, run.stderr[-3000:]
    assert (tmp_path / "corpus" / "seed-00").exists()


@pytest.mark.slow
def test_the_verifier_fuzzer_sees_the_c_code_too(tmp_path: Path) -> None:
    """fuzz/fuzz_verify.py runs on the instrumented copy where it can be built: libFuzzer gets the C module's
    counters beside atheris's Python coverage."""
    _fuzzing_tools()
    run = subprocess.run([sys.executable, str(REPO / "fuzz" / "fuzz_verify.py"), str(tmp_path / "corpus"),
                          "-runs=2000"], cwd=tmp_path, capture_output=True, text=True, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Using preloaded libfuzzer" in run.stderr and "inline 8-bit counters" in run.stderr, run.stderr[-3000:]


@pytest.mark.slow
def test_coverage_guided_fuzzing_catches_a_planted_over_read(tmp_path: Path) -> None:
    """The instrumented copy's ASan reports a read planted past a Base45 text, on an input that reaches it."""
    _fuzzing_tools()
    source = (REPO / "src" / "vaxcert" / "stages" / "_speedups.c").read_text()
    line = "int c0 = b45_values[chars[3 * groups]], c1 = b45_values[chars[3 * groups + 1]];"
    assert line in source, "the planted line moved: update this test"
    planted = tmp_path / "planted.c"
    planted.write_text(source.replace(line, line[:-1] + " + (chars[3 * groups + 3] == 0xEE);"))
    env = runpy.run_path(str(REPO / "scripts" / "build_speedups.py"))["fuzzing_copy"](tmp_path / "copy", planted)
    assert isinstance(env, dict), env
    crash = tmp_path / "input"
    crash.write_bytes(b"AB")  # two Base45 characters: the planted read is two bytes past the text's end
    env["VAXCERT_FUZZ_COPY"] = str(tmp_path / "copy")
    run = subprocess.run([sys.executable, str(REPO / "fuzz" / "fuzz_compiled.py"), str(crash)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, check=False)  # fmt: skip
    assert run.returncode != 0 and "AddressSanitizer: heap-buffer-overflow" in run.stderr, run.stderr[-3000:]
