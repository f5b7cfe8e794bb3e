"""Independent DCC implementations, driven from the interop tests (installed by scripts/setup-interop.sh).

Each peer runs as its own process from what ``scripts/setup-interop.sh`` installed under
``.interop/``: the eHealth Network's two reference implementations unchanged from
``../shared/interop`` (Python in a venv with its pinned requirements, JavaScript with its npm
dependencies on NODE_PATH), PathCheck's SDK through ``pathcheck/driver.js``, and pycose /
python-cwt through ``python/pypeers.py`` (in a venv of their own: python-cwt needs cbor2 < 6).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
INTEROP = REPO / ".interop"
SHARED = Path(os.environ.get("VAXCERT_SHARED", REPO.parent / "shared"))
PEERS = SHARED / "interop"
EHN_PY = PEERS / "ehn-python-trivial"
EHN_JS = PEERS / "ehn-javascript-trivial"
TIMEOUT = 120


@dataclass(frozen=True)
class Outcome:
    """What a peer said about one certificate: accepted or not, and the DCC payload it read."""

    ok: bool
    payload: dict[str, Any] | None = None
    iss: str | None = None
    detail: str = ""


def missing() -> list[str]:
    """The installs the suite needs that are not there (empty when everything is installed)."""
    needed = {
        "eHN Python venv": INTEROP / "ehn-python" / "venv" / "bin" / "python",
        "eHN JavaScript node_modules": INTEROP / "ehn-js" / "node_modules" / "cose-js",
        "PathCheck SDK": INTEROP / "pathcheck" / "node_modules" / "@pathcheck" / "dcc-sdk",
        "pycose / python-cwt venv": INTEROP / "python-peers" / "venv" / "bin" / "python",
        "eHN reference implementations": EHN_PY / "hc1_verify.py",
    }
    return [name for name, path in needed.items() if not path.exists()]


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def der_b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def key_pem(key: Any, *, pkcs8: bool = True) -> str:
    """An unencrypted private key (PKCS#8, or the traditional EC format hc1_sign.py also reads)."""
    fmt = serialization.PrivateFormat.PKCS8 if pkcs8 else serialization.PrivateFormat.TraditionalOpenSSL
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def _run(args: list[str], *, stdin: str, cwd: Path,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a peer with ``stdin`` from a file (cose_verify.js reads stdin with one readSync)."""
    source = cwd / "stdin.txt"
    source.write_text(stdin, encoding="utf-8")
    with source.open("rb") as handle:
        return subprocess.run(args, stdin=handle, capture_output=True, text=True, encoding="utf-8", cwd=cwd,
                              env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}, timeout=TIMEOUT,
                              check=False)


# -- the eHN reference verifier and signer in Python (ehn-python-trivial) ------------------------


def _ehn_python() -> str:
    return str(INTEROP / "ehn-python" / "venv" / "bin" / "python")


def ehn_python_verify(hc1: str, cert: x509.Certificate) -> Outcome:
    """hc1_verify.py, unchanged: ES256 against the DSC file; PS256 against a trust list it fetches
    through a file:// URL (its only way to load an RSA key; urllib reads local files)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if isinstance(cert.public_key(), _rsa_public()):
            spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
            kid = base64.b64encode(_kid(cert)).decode()
            listing = {"eu_keys": {kid: [{"subjectPk": base64.b64encode(spki).decode()}]}}
            (work / "trust.json").write_text(json.dumps({"payload": base64.b64encode(json.dumps(listing).encode())
                                                         .decode()}))
            args = [_ehn_python(), str(EHN_PY / "hc1_verify.py"), "-A", "-p", "-u", (work / "trust.json").as_uri()]
        else:
            (work / "dsc.pem").write_text(pem(cert))
            args = [_ehn_python(), str(EHN_PY / "hc1_verify.py"), "-A", "-p", str(work / "dsc.pem")]
        done = _run(args, stdin=hc1, cwd=work)
    if done.returncode != 0:
        return Outcome(False, detail=(done.stderr.strip().splitlines() or ["exit " + str(done.returncode)])[-1])
    lines = done.stdout.splitlines()
    issuer = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("Issuer ")), None)
    start = next(i for i, line in enumerate(lines) if line.startswith("Health payload"))
    body = "\n".join([lines[start].split(":", 1)[1], *lines[start + 1:]])
    return Outcome(True, json.loads(body), issuer)


def ehn_python_sign(payload: dict[str, Any], key: Any, cert: x509.Certificate) -> str:
    """hc1_sign.py, unchanged (ES256 only; it always claims iss NL, with iat/exp from the clock)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "dsc.key").write_text(key_pem(key, pkcs8=False))
        (work / "dsc.pem").write_text(pem(cert))
        # With base45 0.2.0 ahead of the pinned 0.1.1, whose b45encode returns text where
        # hc1_sign.py expects bytes (scripts/setup-interop.sh, docs/interop.md).
        done = _run([_ehn_python(), str(EHN_PY / "hc1_sign.py"), str(work / "dsc.key"), str(work / "dsc.pem")],
                    stdin=json.dumps(payload, ensure_ascii=False), cwd=work,
                    env={"PYTHONPATH": str(INTEROP / "ehn-python" / "signer-path")})
    assert done.returncode == 0, done.stderr
    return done.stdout


def ehn_python_versions() -> dict[str, str]:
    script = ("import json\nfrom importlib.metadata import version\n"
              "print(json.dumps({n: version(n) for n in ('cose', 'cbor2', 'base45', 'cryptography')}))")
    out = subprocess.run([_ehn_python(), "-c", script], capture_output=True, text=True, check=True, timeout=TIMEOUT)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


# -- the eHN reference verifier and signer in JavaScript (ehn-javascript-trivial) ----------------


def _node_env(project: str) -> dict[str, str]:
    return {"NODE_PATH": str(INTEROP / project / "node_modules")}


def ehn_js_verify(hc1: str, cert: x509.Certificate) -> Outcome:
    """cose_verify.js, unchanged, in a folder holding the DSC as ./dsc-worker.pem (ES256 only).

    It prints the decoded CWT with JSON.stringify, which writes CBOR maps (JavaScript Map
    objects) as ``{}``; ``map_json.js``, preloaded with ``node -r``, only teaches JSON.stringify
    to write a Map's entries.  It always exits 0: a refusal is an error printed instead of JSON.
    """
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "dsc-worker.pem").write_text(pem(cert))
        done = _run(["node", "-r", str(HERE / "map_json.js"), str(EHN_JS / "cose_verify.js")], stdin=hc1, cwd=work,
                    env=_node_env("ehn-js"))
    try:
        claims = json.loads(done.stdout)
    except json.JSONDecodeError:
        return Outcome(False, detail=(done.stdout.strip().splitlines() or [done.stderr.strip()])[0][:200])
    return Outcome(True, claims["-260"]["1"], claims.get("1"))


def ehn_js_sign(payload: dict[str, Any], key: Any, cert: x509.Certificate) -> str:
    """cose_sign.js, unchanged, with ./dsc-worker.pem and ./dsc-worker.p8 (ES256; it signs the CBOR
    of its input as the COSE payload, without CWT claims)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "dsc-worker.pem").write_text(pem(cert))
        (work / "dsc-worker.p8").write_text(key_pem(key))
        done = _run(["node", str(EHN_JS / "cose_sign.js")], stdin=json.dumps(payload, ensure_ascii=False), cwd=work,
                    env=_node_env("ehn-js"))
    assert done.stdout.startswith("HC1:"), done.stdout + done.stderr
    return done.stdout


def _npm_version(project: str, package: str) -> str:
    meta = INTEROP / project / "node_modules" / package / "package.json"
    return str(json.loads(meta.read_text())["version"])


def ehn_js_versions() -> dict[str, str]:
    return {name: _npm_version("ehn-js", name) for name in ("cose-js", "cbor", "pako", "base45-js")}


# -- PathCheck's @pathcheck/dcc-sdk ---------------------------------------------------------------


def pathcheck(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run a batch of requests through pathcheck/driver.js (see there)."""
    with tempfile.TemporaryDirectory() as tmp:
        done = _run(["node", str(HERE / "pathcheck" / "driver.js")], stdin=json.dumps(requests, ensure_ascii=False),
                    cwd=Path(tmp), env=_node_env("pathcheck"))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def pathcheck_verify_request(hc1: str, cert: x509.Certificate) -> dict[str, Any]:
    return {"op": "verify", "hc1": hc1, "kid": base64.b64encode(_kid(cert)).decode(), "cert": der_b64(cert)}


def pathcheck_outcome(answer: dict[str, Any]) -> Outcome:
    ok = answer.get("status") == "verified"
    return Outcome(ok, answer.get("payload") if ok else None, (answer.get("claims") or {}).get("iss"),
                   str(answer.get("status") or answer.get("error")))


def pathcheck_versions() -> dict[str, str]:
    return {name: _npm_version("pathcheck", name)
            for name in ("@pathcheck/dcc-sdk", "cbor", "pako", "isomorphic-webcrypto", "@peculiar/webcrypto")}


# -- pycose and python-cwt ------------------------------------------------------------------------


def pypeers(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run a batch of requests through python/pypeers.py in the peers' own venv."""
    with tempfile.TemporaryDirectory() as tmp:
        done = _run([str(INTEROP / "python-peers" / "venv" / "bin" / "python"), str(HERE / "python" / "pypeers.py")],
                    stdin=json.dumps(requests, ensure_ascii=False), cwd=Path(tmp))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def pypeers_outcome(answer: dict[str, Any]) -> Outcome:
    ok = bool(answer.get("ok"))
    return Outcome(ok, answer.get("payload") if ok else None, (answer.get("claims") or {}).get("iss"),
                   str(answer.get("error") or ""))


# -- helpers --------------------------------------------------------------------------------------


def _kid(cert: x509.Certificate) -> bytes:
    import hashlib

    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()[:8]


def _rsa_public() -> type:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.RSAPublicKey


def commit_of(folder: Path) -> str:
    """The upstream commit a ../shared/interop folder was taken at (its COMMIT file)."""
    text = (folder / "COMMIT").read_text().split()
    return f"{text[0][:10]} ({text[1]})" if len(text) > 1 else text[0][:10]
