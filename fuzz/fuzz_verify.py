"""atheris entry point: coverage-guided fuzzing of vaxcert's readers of hostile input.

    .venv/bin/pip install 'vaxcert[fuzz]'         # atheris
    .venv/bin/python fuzz/fuzz_verify.py fuzz/corpus -max_total_time=600

Where clang can build it, the run goes on a copy of vaxcert whose C shortcuts libFuzzer instruments
and ASan watches (fuzz/instrumented.py), so their branches guide the mutations too; elsewhere, or
with ``VAXCERT_FUZZ_PLAIN=1``, on the installed package (it says so).  See fuzz/README.md.  The
target is :func:`targets.one_input`.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
import instrumented

if __name__ == "__main__" and instrumented.COPY not in os.environ and not os.environ.get("VAXCERT_FUZZ_PLAIN"):
    _outcome = instrumented.reexec(__file__)  # before anything imports vaxcert
    if isinstance(_outcome, int):
        sys.exit(_outcome)
    print(f"fuzzing without the C shortcuts' coverage: {_outcome}", file=sys.stderr)

with atheris.instrument_imports(include=["vaxcert", "cbor2"]):
    import targets

instrumented.in_copy()  # in the child: check that it loaded the instrumented copy


def main() -> None:
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    for folder in corpus:  # seed an empty corpus folder with valid inputs of every mode
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        if not any(path.iterdir()):
            for i, seed in enumerate(targets.seeds()):
                (path / f"seed-{i:02d}").write_bytes(seed)
    targets.install_guards()
    stats = os.environ.get("VAXCERT_FUZZ_STATS")  # benchmarks/bench_fuzz.py: time each input, write a summary
    if stats is None:
        atheris.Setup(sys.argv, targets.one_input)
    else:
        limit = int(os.environ.get("VAXCERT_FUZZ_INPUTS", "0"))
        times: list[int] = []
        started = time.perf_counter()

        def timed(data: bytes) -> None:
            begin = time.perf_counter_ns()
            targets.one_input(data)  # a finding propagates: libFuzzer stops and writes the crash input
            times.append(time.perf_counter_ns() - begin)
            if len(times) >= limit:
                Path(stats).write_text(json.dumps({"times_ns": times, "seconds": time.perf_counter() - started,
                                                   "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
                os._exit(0)

        atheris.Setup(sys.argv, lambda data: timed(data))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
