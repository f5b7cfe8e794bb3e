"""Run the fuzz target for N inputs and report throughput, per-input time and peak memory.

    .venv/bin/python benchmarks/bench_fuzz.py --inputs 200000              # mutation engine (no extra)
    .venv/bin/python benchmarks/bench_fuzz.py --inputs 200000 --engine atheris   # coverage-guided ([fuzz])
    .venv/bin/python benchmarks/bench_fuzz.py --inputs 200000 --sanitized --mode compiled   # the C code, ASan + UBSan

Prints inputs/s, mean / p50 / p99 / max time per input, peak memory (max RSS) and the findings
(broken rules: an exception escaping, INTERNAL_ERROR, a tampered certificate valid, anything
printed on stdout/stderr).  The mutation engine is deterministic (``--seed``): it flips, inserts,
deletes and splices bytes of valid certificates, trust lists and JSON at every layer, and adds
random bytes.  ``--mode`` keeps every input to one mode of the target.  ``--sanitized`` runs the
mutation engine in a child process on a copy of the package whose compiled shortcuts are built
with AddressSanitizer and UndefinedBehaviorSanitizer (scripts/build_speedups.py): a report stops
the child, and the report and the input that caused it are printed.  Not a test: speed goes here,
never into assertions (see fuzz/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))

import instrumented
import targets
from benchkit import build_script

_times: list[int] = []
_findings: list[str] = []
_found_inputs: list[bytes] = []  # the mutation engine's findings, written out whole at the end


def _finding(message: str, data: bytes) -> None:
    _findings.append(f"{message} (input {data[:40].hex()}...)")
    _found_inputs.append(data)


def _timed(data: bytes) -> None:
    start = time.perf_counter_ns()
    try:
        targets.one_input(data)
    except targets.FuzzFinding as exc:
        _finding(str(exc), data)
    except Exception as exc:
        _finding(f"{type(exc).__name__} escaped", data)
    finally:
        _times.append(time.perf_counter_ns() - start)


def _mutate(rnd: random.Random, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(rnd.choice((1, 1, 2, 4, 8))):
        action = rnd.randrange(5)
        at = rnd.randrange(1, len(data)) if len(data) > 1 else 1
        if action == 0 and len(data) > 1:
            data[at] ^= 1 << rnd.randrange(8)
        elif action == 1:
            data[at:at] = bytes(rnd.randrange(256) for _ in range(rnd.choice((1, 2, 4, 16))))
        elif action == 2 and len(data) > 2:
            del data[at : at + rnd.choice((1, 2, 8, 64))]
        elif action == 3:
            data[at:at] = rnd.choice(_SPLICES)
        else:
            data[at:] = data[at:][: rnd.randrange(len(data) - at + 1)]
    return bytes(data)


#: Fragments worth splicing in: CBOR heads of big lengths, tags, a bignum past 4,300 digits, JSON depth.
_SPLICES = [
    b"\x9f", b"\xbf", b"\x5b\xff\xff\xff\xff", b"\xd8\x1c\x81\xd8\x1d\x00", b"\xc3\x59\x07\x08" + b"\xff" * 1800,
    b"\xd9\x01\x05", b"\xf9\x7e\x00", b"[" * 200, b"9" * 5000, b"\x00" * 16, b"HC1:", b"\xd2\x84",
]


def _stats(seconds: float, engine: str, max_rss_kib: int | None = None) -> None:
    if not _times:
        return
    ordered = sorted(_times)
    n = len(ordered)

    def pick(q: float) -> float:
        return ordered[min(n - 1, int(q * n))] / 1e6

    peak = (max_rss_kib if max_rss_kib is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024
    print(f"engine={engine} inputs={n} seconds={seconds:.1f} inputs/s={n / seconds:,.0f}")
    print(f"per input: mean={sum(ordered) / n / 1e6:.3f} ms p50={pick(0.5):.3f} ms p99={pick(0.99):.3f} ms "
          f"max={ordered[-1] / 1e6:.3f} ms")
    print(f"peak memory (max RSS): {peak:.0f} MiB")
    print(f"findings: {len(_findings)}")
    for finding in _findings[:20]:
        print(f"  {finding}")
    if _found_inputs:  # replay one with: targets.one_input(Path(file).read_bytes())
        folder = Path(tempfile.mkdtemp(prefix="vaxcert-findings-"))
        for index, data in enumerate(_found_inputs):
            (folder / f"finding-{index:04d}").write_bytes(data)
        print(f"the inputs of these findings (mode byte first): {folder}")


def _run_mutation(inputs: int, seed: int, mode: str | None) -> None:
    rnd = random.Random(seed)
    pool = targets.seeds()
    if mode is not None:
        pool = [data for data in pool if data[0] == targets.MODES.index(mode)]
    last = os.open(os.environ["VAXCERT_FUZZ_LAST"], os.O_WRONLY) if "VAXCERT_FUZZ_LAST" in os.environ else None
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(1), os.dup(2)
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)  # anything the library (or an extension) prints lands here
        started = time.perf_counter()
        try:
            for _ in range(inputs):
                if rnd.random() < 0.1:
                    first = targets.MODES.index(mode) if mode is not None else rnd.randrange(len(targets.MODES))
                    data = bytes([first]) + rnd.randbytes(rnd.randrange(1, 600))
                else:
                    data = _mutate(rnd, rnd.choice(pool))
                if last is not None:  # the input a sanitizer report would be about (--sanitized)
                    os.pwrite(last, data, 0)
                    os.ftruncate(last, len(data))
                before = sink.tell()
                _timed(data)
                sink.seek(0, 2)
                if sink.tell() != before:
                    _finding(f"printed {sink.tell() - before} bytes", data)
        finally:
            seconds = time.perf_counter() - started
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
    _stats(seconds, "mutation")


def _run_atheris(inputs: int, corpus: str | None) -> None:
    """fuzz/fuzz_verify.py in a child process (atheris instruments its imports there), timing each input."""
    folder = Path(corpus) if corpus else Path(tempfile.mkdtemp(prefix="vaxcert-corpus-"))
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "stats.json"
        env = {**os.environ, "VAXCERT_FUZZ_STATS": str(stats), "VAXCERT_FUZZ_INPUTS": str(inputs),
               "VAXCERT_FUZZ_PLAIN": "1"}  # the package as installed, not the ASan copy: its speed is measured
        script = Path(__file__).resolve().parents[1] / "fuzz" / "fuzz_verify.py"
        done = subprocess.run([sys.executable, str(script), str(folder), f"-runs={inputs * 2}"], env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip
        if not stats.exists():
            print(done.stderr[-3000:])
            _findings.append(f"the fuzzer stopped (exit {done.returncode}) before {inputs} inputs: a finding?")
            _stats(1.0, "atheris")
            return
        data = json.loads(stats.read_text())
    _times.extend(data["times_ns"])
    _stats(data["seconds"], "atheris", max_rss_kib=data["max_rss_kib"])


def _run_sanitized(argv: list[str]) -> int:
    """This benchmark again, without ``--sanitized``, in a child on the sanitized copy; its exit code."""
    with tempfile.TemporaryDirectory(prefix="vaxcert-sanitized-") as tmp:
        env = build_script()["sanitized_copy"](Path(tmp))
        if isinstance(env, str):
            print(f"cannot build the sanitized copy: {env}")
            return 2
        reports, last = Path(tmp) / "report", Path(tmp) / "last-input"
        last.write_bytes(b"")
        env["VAXCERT_FUZZ_LAST"] = str(last)
        env[instrumented.COPY] = tmp
        env["ASAN_OPTIONS"] += f":log_path={reports}"  # the child's stderr goes to a sink while it fuzzes
        env["UBSAN_OPTIONS"] += f":log_path={reports}"
        child = subprocess.run([sys.executable, __file__, *(a for a in argv if a != "--sanitized")], env=env,
                               check=False)  # fmt: skip
        found = sorted(Path(tmp).glob("report*"))
        if child.returncode != 0 or found:
            print(f"the sanitized child stopped with exit code {child.returncode}")
            for path in found:
                print(path.read_text(errors="replace")[-6000:])
            print(f"the input it was reading (mode byte first): {last.read_bytes().hex()}")
            return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--engine", choices=["mutation", "atheris"], default="mutation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", default=None, help="atheris: corpus folder (seeded with valid inputs)")
    parser.add_argument("--mode", choices=targets.MODES, default=None, help="mutation: only this mode of the target")
    parser.add_argument("--sanitized", action="store_true",
                        help="mutation: in a child on a copy whose compiled shortcuts are built with ASan + UBSan")
    args = parser.parse_args()
    if args.sanitized:
        if args.engine != "mutation":
            parser.error("--sanitized runs the mutation engine")
        sys.exit(_run_sanitized(sys.argv[1:]))
    if instrumented.in_copy():  # the --sanitized child (it exits if it did not load the copy)
        print(f"compiled shortcuts under ASan + UBSan: the copy in {os.environ[instrumented.COPY]}")
    if args.engine == "atheris":
        _run_atheris(args.inputs, args.corpus)
    else:
        targets.world()  # key generation and the valid certificate are set-up, not fuzzing
        targets.install_guards()
        _run_mutation(args.inputs, args.seed, args.mode)


if __name__ == "__main__":
    main()
