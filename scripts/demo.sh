#!/usr/bin/env bash
# The README's first command: set up .venv, then run the demo on the embedded SQLite registry.
# Outputs go to demo-out/ (keys, registry.db, qr/, hc1/, bundle.cose); running it again the same
# day changes nothing (sample dates follow the calendar, so on a new day the registry restarts).
# Pass --show-names to print names and ID numbers (personal data; masked by default), --lang vi
# for the final checkpoint scan in Vietnamese, --no-scan to skip it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# A demo password for the demo keys only; real deployments set their own.
export VAXCERT_KEY_PASSWORD="${VAXCERT_KEY_PASSWORD:-vaxcert-demo-password}"
exec .venv/bin/python examples/demo.py "$@"
