#!/usr/bin/env bash
# Set up everything and run the whole test suite (this is what CI runs).
# Services this run starts (PostgreSQL) are stopped again when it ends, pass or fail; a server
# that was already running is left running.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/setup-interop.sh   # independent DCC implementations for tests/interop (cached in .interop/)
./scripts/start-services.sh
if [ "$(cat .services/pg-started 2>/dev/null)" = "1" ]; then
    trap './scripts/stop-services.sh' EXIT
fi
# shellcheck disable=SC1091
. .services/env
export VAXCERT_REQUIRE_SERVICES=1   # tests needing PostgreSQL / SoftHSM fail instead of skipping
export VAXCERT_REQUIRE_INTEROP=1    # so do the interop tests when a peer is missing
export VAXCERT_REQUIRE_FUZZ=1       # and the fuzzing tests when atheris or clang is missing
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"   # tests/conftest.py: no deadlines, no too_slow check
echo "lint: ruff, mypy --strict and the layering contracts (import-linter)" >&2
.venv/bin/ruff check src tests benchmarks scripts tools examples fuzz
.venv/bin/mypy --strict src
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest -n 2 -q "$@"
