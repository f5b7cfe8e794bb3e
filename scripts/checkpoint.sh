#!/usr/bin/env bash
# The README's third command: the checkpoint page on the demo's bundle, at http://127.0.0.1:8080/.
# Runs the demo first if it has not run (./scripts/demo.sh).  The sample doses are from 2021, so
# the demo page uses a policy without the 365-day limit (examples/checkpoint-demo-policy.json);
# under the default Viet Nam rules they would all be RED "pass expired" today.
# Extra options go to `vaxcert checkpoint serve` (e.g. --lang en, --port 8081, --host 0.0.0.0).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
if [ ! -f demo-out/bundle.cose ]; then
    ./scripts/demo.sh >/dev/null
fi
exec .venv/bin/vaxcert checkpoint serve --bundle demo-out/bundle.cose --csca demo-out/ministry/csca.pem \
    --country VN --policy examples/checkpoint-demo-policy.json "$@"
