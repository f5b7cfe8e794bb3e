"""atheris entry point: coverage-guided fuzzing of vaxcert's readers of hostile input.

    .venv/bin/pip install 'vaxcert[fuzz]'         # atheris
    .venv/bin/python fuzz/fuzz_verify.py fuzz/corpus -max_total_time=600

See fuzz/README.md.  The target is :func:`targets.one_input`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["vaxcert", "cbor2"]):
    import targets


def main() -> None:
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    for folder in corpus:  # seed an empty corpus folder with valid inputs of every mode
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        if not any(path.iterdir()):
            for i, seed in enumerate(targets.seeds()):
                (path / f"seed-{i:02d}").write_bytes(seed)
    targets.install_guards()
    atheris.Setup(sys.argv, targets.one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
