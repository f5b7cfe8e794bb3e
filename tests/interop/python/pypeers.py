"""pycose and python-cwt as DCC peers for tests/interop (run by the .interop/python-peers venv).

Reads a JSON array of requests on stdin and writes a JSON array of answers on stdout; shares
no code with vaxcert.  Base45 comes from the ``base45`` package and zlib from the standard
library, which inflates any valid zlib header: the header check is the eHN verifiers' and
PathCheck's business, this peer checks COSE and CWT.

    {"op": "verify", "lib": "pycose" | "cwt", "hc1": "HC1:...", "cert_pem": "..."}
      -> {"ok": true, "claims": {"iss": ..., "iat": ..., "exp": ...}, "payload": {...}}
       | {"ok": false, "error": "..."}
    {"op": "sign", "lib": "pycose" | "cwt", "alg": "ES256" | "PS256", "payload": {...},
     "key_pem": "...", "cert_pem": "...", "iss": "VN", "iat": 0, "exp": 0}
      -> {"hc1": "HC1:..."}
"""

from __future__ import annotations

import hashlib
import json
import sys
import zlib
from importlib.metadata import version
from typing import Any

import base45
import cbor2
import cwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pycose.algorithms import Es256, Ps256
from pycose.headers import KID, Algorithm
from pycose.keys import CoseKey
from pycose.messages import CoseMessage, Sign1Message


def _kid(cert_pem: str) -> bytes:
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).digest()[:8]


def _public_pem(cert_pem: str) -> str:
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    from cryptography.hazmat.primitives.serialization import PublicFormat

    return cert.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def _cose_bytes(hc1: str) -> bytes:
    if not hc1.startswith("HC1:"):
        raise ValueError("no HC1: prefix")
    return zlib.decompress(base45.b45decode(hc1[4:]))


def _claims_answer(claims: dict[Any, Any]) -> dict[str, Any]:
    return {"ok": True, "claims": {"iss": claims.get(1), "iat": claims.get(6), "exp": claims.get(4)},
            "payload": claims[-260][1]}


def verify_pycose(hc1: str, cert_pem: str) -> dict[str, Any]:
    message = CoseMessage.decode(_cose_bytes(hc1))
    if message.phdr.get(KID, message.uhdr.get(KID)) != _kid(cert_pem):
        return {"ok": False, "error": "kid does not match the certificate"}
    message.key = CoseKey.from_pem_public_key(_public_pem(cert_pem))
    if not message.verify_signature():
        return {"ok": False, "error": "signature does not verify"}
    return _claims_answer(cbor2.loads(message.payload))


def verify_cwt(hc1: str, cert_pem: str) -> dict[str, Any]:
    key = cwt.load_pem_hcert_dsc(cert_pem)
    claims = cwt.decode(_cose_bytes(hc1), key)
    return _claims_answer(claims)


def _claims(req: dict[str, Any]) -> dict[int, Any]:
    return {1: req["iss"], 4: req["exp"], 6: req["iat"], -260: {1: req["payload"]}}


def sign_pycose(req: dict[str, Any]) -> str:
    alg = {"ES256": Es256, "PS256": Ps256}[req["alg"]]
    message = Sign1Message(phdr={Algorithm: alg, KID: _kid(req["cert_pem"])}, payload=cbor2.dumps(_claims(req)))
    message.key = CoseKey.from_pem_private_key(req["key_pem"])
    return "HC1:" + base45.b45encode(zlib.compress(message.encode(), 9)).decode()


def sign_cwt(req: dict[str, Any]) -> str:
    key = cwt.COSEKey.from_pem(req["key_pem"], alg=req["alg"], kid=_kid(req["cert_pem"]))
    token = cwt.encode(_claims(req), key, tagged=False)
    return "HC1:" + base45.b45encode(zlib.compress(token, 9)).decode()


def handle(req: dict[str, Any]) -> dict[str, Any]:
    op, lib = req["op"], req.get("lib")
    if op == "versions":
        return {name: version(name) for name in ("pycose", "cwt", "cbor2", "base45", "cryptography")}
    if op == "verify":
        try:
            return (verify_pycose if lib == "pycose" else verify_cwt)(req["hc1"], req["cert_pem"])
        except Exception as exc:  # a refusal, reported as data
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    if op == "sign":
        return {"hc1": (sign_pycose if lib == "pycose" else sign_cwt)(req)}
    raise ValueError(f"unknown op {op!r}")


def main() -> None:
    requests = json.load(sys.stdin)
    json.dump([handle(req) for req in requests], sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
