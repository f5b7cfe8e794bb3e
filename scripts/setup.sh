#!/usr/bin/env bash
# Create .venv and install vaxcert with every extra and the test dependencies (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
stamp=.venv/.vaxcert-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[all,test]' 2>&1 \
        | grep -v "^WARNING: Location" || true
    .venv/bin/python -c "import vaxcert" && touch "$stamp"
fi
# The optional C shortcuts of the verification path (src/vaxcert/stages/_speedups.c, with the
# machine's C compiler); the pure-Python code stays the reference (tests/test_speedups.py).
.venv/bin/python scripts/build_speedups.py
