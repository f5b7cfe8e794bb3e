"""atheris entry point: coverage-guided fuzzing of the C shortcuts against their Python references, under ASan.

    .venv/bin/pip install 'vaxcert[fuzz]'     # atheris
    apt install clang                         # the instrumented build (scripts/build_speedups.fuzzing_copy)
    .venv/bin/python fuzz/fuzz_compiled.py fuzz-compiled-corpus/ -max_total_time=600

The script builds a copy of the package whose ``_speedups`` libFuzzer instruments (its branches and
comparisons guide the mutations) and ASan watches, and runs itself again on that copy with the
matching libFuzzer + ASan runtime preloaded.  Each input goes through every comparison of
``tests/speedups_checks.py`` (:func:`speedups_checks.check_bytes`): a difference from the Python
reference raises, a memory error stops the run with ASan's report; libFuzzer writes the input as
``crash-<sha1>``.  Replay one with ``.venv/bin/python fuzz/fuzz_compiled.py crash-<sha1>``.
See fuzz/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import instrumented

REPO = instrumented.REPO


def _in_child() -> None:
    import atheris

    sys.path.insert(0, str(REPO / "tests"))
    import speedups_checks

    for folder in (Path(a) for a in sys.argv[1:] if not a.startswith("-")):
        if folder.suffix or folder.is_file():  # a crash file to replay, not a corpus
            continue
        folder.mkdir(parents=True, exist_ok=True)
        if not any(folder.iterdir()):  # seed an empty corpus with the fuzz target's inputs of the compiled mode
            import targets

            compiled = targets.MODES.index("compiled")
            for index, seed in enumerate(s for s in targets.seeds() if s[0] == compiled):
                (folder / f"seed-{index:02d}").write_bytes(seed[1:])
    atheris.Setup(sys.argv, speedups_checks.check_bytes)
    atheris.Fuzz()


def main() -> int:
    """Build the instrumented copy and run this script on it; the child's exit code."""
    if instrumented.in_copy():
        _in_child()
        return 0
    outcome = instrumented.reexec(__file__)
    if isinstance(outcome, str):
        print(f"cannot build the instrumented copy: {outcome}", file=sys.stderr)
        return 2
    return outcome


if __name__ == "__main__":
    sys.exit(main())
