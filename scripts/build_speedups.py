"""Compile vaxcert's optional C shortcuts (src/vaxcert/stages/_speedups.c) with the machine's C compiler.

Run by scripts/setup.sh (in place, next to the source) and by the wheel build (hatch_build.py,
into the wheel).  The module is optional: without it (no C compiler, ``VAXCERT_PURE_PYTHON=1`` at
build time) vaxcert runs its pure-Python code, which stays the reference (tests/test_speedups.py
compares the two).  In place, it rebuilds only when the source is newer than the module.

Run:  .venv/bin/python scripts/build_speedups.py
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "vaxcert" / "stages" / "_speedups.c"
#: The module's file name for this interpreter (e.g. _speedups.cpython-311-x86_64-linux-gnu.so).
MODULE_NAME = "_speedups" + str(sysconfig.get_config_var("EXT_SUFFIX"))


def compile_to(target: Path, source: Path = SOURCE) -> str | None:
    """Compile the extension into ``target``; None on success, else the compiler's complaint.

    With the system's zlib (``zlib.h``, ``-lz``) when the machine has it: the whole-HC1 unwrap
    (``hc1_unwrap``) inflates with it; without it the module is built without that function and
    the Python stages unwrap (the zlib-ng module decompresses: the same bytes).
    """
    first = _compile(target, source, ["-DVAXCERT_WITH_ZLIB"], ["-lz"])
    if first is None:
        return None
    second = _compile(target, source, [], [])
    if second is None:
        print(f"note: the optional C shortcuts were built without zlib (no hc1_unwrap): {first}", file=sys.stderr)
    return second


def _compile(target: Path, source: Path, defines: list[str], libraries: list[str]) -> str | None:
    compiler = os.environ.get("CC") or str(sysconfig.get_config_var("CC") or "cc").split()[0]
    command = [compiler, "-O2", "-shared", "-fPIC", "-std=c99", "-Wall", *defines,
               f"-I{sysconfig.get_paths()['include']}", str(source), "-o", str(target), *libraries]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own command line
    except OSError as exc:  # no compiler at all
        return f"{shlex.join(command)}: {exc}"
    if result.returncode != 0:
        return f"{shlex.join(command)}:\n{result.stderr}"
    return None


def sanitized_copy(into: Path, source: Path = SOURCE) -> dict[str, str] | str:
    """A copy of the package under ``into/src`` whose ``_speedups`` is built with AddressSanitizer and
    UndefinedBehaviorSanitizer (gcc, the system's zlib), and the environment that runs a child Python on
    it: PYTHONPATH, the sanitizer runtimes preloaded, both set to stop at the first report, and
    ``PYTHONMALLOC=malloc`` (Python's own allocator hands out small objects from its arenas, where ASan
    would not see a read past a bytes or str object's end).  A string says why it cannot be built here
    (no gcc, no sanitizer runtime).  Used by tests/test_speedups_sanitized.py and
    ``benchmarks/bench_fuzz.py --sanitized``.
    """
    compiler = shutil.which("gcc")
    if compiler is None:
        return "no gcc: the sanitizer build needs it"
    runtimes = [_runtime(compiler, name) for name in ("libasan.so", "libubsan.so")]
    if None in runtimes:
        return "gcc has no AddressSanitizer / UndefinedBehaviorSanitizer runtime here"
    problem = _instrumented_copy(into, source, [compiler, "-fsanitize=address,undefined",
                                                "-fno-sanitize-recover=undefined"])  # fmt: skip
    if problem is not None:
        return problem
    return dict(os.environ, PYTHONPATH=str(into / "src"), LD_PRELOAD=" ".join(str(r) for r in runtimes),
                PYTHONMALLOC="malloc",
                ASAN_OPTIONS="detect_leaks=0:abort_on_error=1",
                UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")  # fmt: skip


#: clang's runtime archives that make the preloaded libFuzzer + ASan of :func:`fuzzing_copy`.
_FUZZ_ARCHIVES = ("libclang_rt.asan-x86_64.a", "libclang_rt.asan_cxx-x86_64.a", "libclang_rt.fuzzer_no_main-x86_64.a")


def fuzzing_copy(into: Path, source: Path = SOURCE) -> dict[str, str] | str:
    """A copy of the package under ``into/src`` whose ``_speedups`` is built by clang for coverage-guided
    fuzzing (``-fsanitize=address,fuzzer-no-link``: libFuzzer sees its branches and comparisons, ASan its
    memory), and the environment that runs atheris on it.

    atheris's wheel brings a libFuzzer of its own but no ASan runtime that works with it (with clang's
    ASan preloaded, the sanitizer's weak coverage hooks win and the C code's coverage is lost), so
    libFuzzer and ASan are linked here from clang's own archives into one preloaded library, as
    atheris's source build does; atheris then uses the preloaded libFuzzer.  A string says why it
    cannot be built here (no clang, or no compiler-rt archives: Debian's ``clang`` package has them).
    Used by fuzz/fuzz_compiled.py.
    """
    compiler = shutil.which("clang")
    if compiler is None:
        return "no clang: coverage-guided fuzzing of the C code needs it (Debian: apt install clang)"
    archives = [_runtime(compiler, name) for name in _FUZZ_ARCHIVES]
    if None in archives:
        return f"clang has no compiler-rt archives ({', '.join(_FUZZ_ARCHIVES)})"
    runtime = into / "libfuzzer-asan.so"
    objects = into / "runtime-objects"
    for archive in archives:
        folder = objects / Path(str(archive)).stem
        folder.mkdir(parents=True)
        subprocess.run(["ar", "x", str(archive)], cwd=folder, check=True)  # noqa: S603, S607
    (objects / "libclang_rt.asan-x86_64" / "asan_preinit.cpp.o").unlink()  # .preinit_array: not allowed in a DSO
    link = [f"{compiler}++", "-shared", "-fPIC", "-o", str(runtime), *map(str, sorted(objects.glob("*/*.o"))),
            "-lpthread", "-ldl", "-lrt", "-lm"]  # fmt: skip
    linked = subprocess.run(link, capture_output=True, text=True, check=False)  # noqa: S603 - our own command line
    if linked.returncode != 0:
        return f"linking libFuzzer + ASan failed:\n{linked.stderr[-2000:]}"
    shutil.rmtree(objects)
    problem = _instrumented_copy(into, source, [compiler, "-fsanitize=address,fuzzer-no-link"])
    if problem is not None:
        return problem
    return dict(os.environ, PYTHONPATH=str(into / "src"), LD_PRELOAD=str(runtime), PYTHONMALLOC="malloc",
                ASAN_OPTIONS="detect_leaks=0")  # fmt: skip


def _instrumented_copy(into: Path, source: Path, compiler_and_flags: list[str]) -> str | None:
    """Copy the package (and the schemas beside it) under ``into`` and build its module with these flags."""
    package = into / "src" / "vaxcert"
    shutil.copytree(SOURCE.parents[1], package, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    shutil.copytree(SOURCE.parents[3] / "schemas", into / "schemas")  # found beside src/, as in the repository
    command = [*compiler_and_flags, "-O1", "-g", "-fno-omit-frame-pointer", "-shared", "-fPIC", "-std=c99",
               "-DVAXCERT_WITH_ZLIB", f"-I{sysconfig.get_paths()['include']}", str(source),
               "-o", str(package / "stages" / MODULE_NAME), "-lz"]  # fmt: skip
    built = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own command line
    if built.returncode != 0:
        return f"{shlex.join(command)}:\n{built.stderr}"
    return None


def _runtime(compiler: str, name: str) -> str | None:
    found = subprocess.run([compiler, f"-print-file-name={name}"], capture_output=True, text=True, check=False)  # noqa: S603
    path = found.stdout.strip()
    return path if found.returncode == 0 and os.path.isabs(path) and os.path.exists(path) else None


def main() -> int:
    """Build the extension next to its source; 0 on success (or nothing to do), 1 on failure."""
    target = SOURCE.with_name(MODULE_NAME)
    if target.exists() and target.stat().st_mtime >= SOURCE.stat().st_mtime:
        return 0
    problem = compile_to(target)
    if problem is not None:
        print(f"building the optional C shortcuts failed ({problem})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
