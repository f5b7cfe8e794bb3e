#!/usr/bin/env bash
# The README's third command: the checkpoint page on the demo's offline bundle, at
# http://127.0.0.1:8080/ (runs the demo first when it has not run).  Extra options go to
# `vaxcert checkpoint serve` (e.g. --lang en, --port 8081, --host 0.0.0.0 with --tls-cert/--tls-key).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
if [ ! -f demo-out/bundle.cose ]; then
    ./scripts/demo.sh --no-scan >/dev/null
fi
exec .venv/bin/vaxcert checkpoint serve --bundle demo-out/bundle.cose --csca demo-out/ministry/csca.pem \
    --country VN "$@"
