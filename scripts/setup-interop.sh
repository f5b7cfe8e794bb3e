#!/usr/bin/env bash
# Install the independent DCC implementations the interop suite (tests/interop/) runs against,
# into .interop/ (git-ignored). Idempotent: each part is redone only when its inputs change.
#
#   .interop/ehn-python/venv   the eHN reference Python verifier's own pinned requirements
#                              (../shared/interop/ehn-python-trivial/requirements.txt)
#   .interop/ehn-js            npm ci of ../shared/interop/ehn-javascript-trivial/package*.json
#   .interop/python-peers/venv pycose and python-cwt (tests/interop/python/requirements.txt)
#   .interop/pathcheck         npm ci of tests/interop/pathcheck/package*.json (@pathcheck/dcc-sdk)
#
# The peers' own scripts are never copied into the repository: the tests run them unchanged
# from ../shared/interop, with NODE_PATH / the venv's python pointing here.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared=${VAXCERT_SHARED:-$root/../shared}
peers="$shared/interop"
out="$root/.interop"
mkdir -p "$out"
PY=${PYTHON:-python3}

# Bump when an install step below changes in a way its input files do not show.
RECIPE=2
stamp_of() {  # a hash of the files that define one install
    { echo "$RECIPE"; cat "$@"; } | sha256sum | cut -c1-16
}

# --- eHN Python reference verifier -----------------------------------------------------------
req="$peers/ehn-python-trivial/requirements.txt"
dir="$out/ehn-python"
want=$(stamp_of "$req")
if [ "$(cat "$dir/.stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "interop: installing the eHN Python verifier's pinned requirements ..." >&2
    rm -rf "$dir" && mkdir -p "$dir"
    "$PY" -m venv "$dir/venv"
    # cbor2 5.2.0 is an sdist whose setup.py imports pkg_resources, which current setuptools
    # no longer ships: build it without isolation against a setuptools that still has it.
    # Every pin of requirements.txt is then installed exactly (see docs/interop.md).
    "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check "setuptools<70" wheel 2>&1 \
        | grep -v "^WARNING: Location" || true
    "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation \
        -r "$req" 2>&1 | grep -v "^WARNING: Location" || true
    "$dir/venv/bin/python" -c "import cose, cbor2, base45, cryptography"
    # hc1_sign.py calls .decode() on b45encode's result: bytes from base45 0.2.0 on, text in the
    # pinned 0.1.1 (with which it fails). The signer runs with base45 0.2.0 first on its path;
    # the verifier runs with the pins exactly.
    "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
        --target "$dir/signer-path" base45==0.2.0 2>&1 | grep -v "^WARNING: Location" || true
    echo "$want" > "$dir/.stamp"
fi

# --- pycose and python-cwt ------------------------------------------------------------------
# Their own venv: python-cwt requires cbor2 < 6, while vaxcert is built and tested on cbor2 6.
req="$root/tests/interop/python/requirements.txt"
dir="$out/python-peers"
want=$(stamp_of "$req")
if [ "$(cat "$dir/.stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "interop: installing pycose and python-cwt ..." >&2
    rm -rf "$dir" && mkdir -p "$dir"
    "$PY" -m venv "$dir/venv"
    "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" 2>&1 \
        | grep -v "^WARNING: Location" || true
    "$dir/venv/bin/python" -c "import pycose, cwt, base45, cbor2"
    echo "$want" > "$dir/.stamp"
fi

# --- npm projects ----------------------------------------------------------------------------
npm_project() {  # npm_project NAME SOURCE_DIR [NPM_ARGS...]: npm ci of SOURCE_DIR's package.json + lock
    local name=$1 src=$2 dir="$out/$1"
    shift 2
    local want
    want=$(stamp_of "$src/package.json" "$src/package-lock.json")
    if [ "$(cat "$dir/.stamp" 2>/dev/null || true)" != "$want" ]; then
        echo "interop: npm ci for $name ..." >&2
        rm -rf "$dir" && mkdir -p "$dir"
        cp "$src/package.json" "$src/package-lock.json" "$dir/"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error "$@" >/dev/null)
        echo "$want" > "$dir/.stamp"
    fi
}
# cose-js loads aes-ccm, a native addon: its install script builds it with node-gyp (g++, make
# and the Node headers of the Debian nodejs package).
npm_project ehn-js "$peers/ehn-javascript-trivial"
# The SDK needs no install script (534 packages, several with scripts for mobile platforms).
npm_project pathcheck "$root/tests/interop/pathcheck" --ignore-scripts
