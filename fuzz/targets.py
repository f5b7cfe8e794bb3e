"""The fuzz target shared by the atheris entry point (fuzz_verify.py) and benchmarks/bench_fuzz.py.

:func:`one_input` feeds bytes to the part of vaxcert that reads hostile input, chosen by the first
byte: the verifier (as COSE bytes, as HC1 text around zlib + Base45, as raw text, or as a mutation
of a valid certificate), the CBOR / COSE / CWT stages, a signed trust list, the JSON loader, and
the compiled shortcuts against their Python references (tests/speedups_checks.py).  It raises
:class:`FuzzFinding` when a verdict breaks the rules: an exception escaping the verifier, an
``INTERNAL_ERROR``, a tampered certificate found valid, a compiled shortcut answering otherwise
than its reference, or something printed (an "Exception ignored" report goes through
``sys.unraisablehook``, which :func:`install_guards` turns into a finding).
"""

from __future__ import annotations

import datetime as dt
import sys
import warnings
from pathlib import Path
from typing import Any

from vaxcert import FailureCode, InputError, Issuer, KeySigner, TrustList, Verifier
from vaxcert.errors import DecodeError
from vaxcert.jsonio import loads as load_json
from vaxcert.pki.certificates import create_csca, create_dsc
from vaxcert.pki.keys import generate_private_key
from vaxcert.stages import base45, cbor, compression, cose, cwt, hc1, prefix
from vaxcert.trust import load_signed, publish
from vaxcert.trust.signeddoc import DocumentError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the comparisons of the compiled shortcuts
try:
    import speedups_checks
except ImportError:  # the compiled shortcuts are not built: the compiled mode has nothing to compare
    speedups_checks = None

NOW = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
MODES = ("cose", "hc1", "text", "mutate", "stages", "trust-list", "json", "compiled")

PAYLOAD: dict[str, Any] = {
    "ver": "1.3.0",
    "nam": {"fn": "Nguyễn", "gn": "Văn An", "fnt": "NGUYEN", "gnt": "VAN<AN"},
    "dob": "1985-04-12",
    "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215", "dn": 2, "sd": 2,
           "dt": "2021-08-01", "co": "VN", "is": "Ministry of Health VN", "ci": "URN:UVCI:01:VN:TESTCERT0001#H"}],
}


class FuzzFinding(AssertionError):
    """A rule broken by one input."""


class _World:
    def __init__(self) -> None:
        start = NOW - dt.timedelta(days=30)
        csca_key = generate_private_key("ec")
        self.csca = create_csca(csca_key, country="VN", name="Ministry of Health VN", now=start)
        key = generate_private_key("ec")
        dsc = create_dsc(key, csca=self.csca, csca_key=csca_key, facility_id="VN-HN-001", facility_name="Fuzz",
                         now=start)
        signer = KeySigner(key, dsc, deterministic=True)
        self.verifier = Verifier(TrustList.from_certificates([dsc]))
        self.cert = Issuer(signer, facility_override=True).issue(PAYLOAD, now=NOW)
        self.message = cose.decode(self.cert.cose)
        self.trust_list = publish([dsc], KeySigner(csca_key, self.csca), cscas=[self.csca], now=NOW,
                                  valid_for=dt.timedelta(days=1))


_world: _World | None = None


def world() -> _World:
    global _world
    if _world is None:
        _world = _World()
    return _world


def seeds() -> list[bytes]:
    """Starting inputs: a valid certificate in every mode, a trust list, JSON."""
    w = world()
    out = [bytes([MODES.index("cose")]) + w.cert.cose, bytes([MODES.index("text")]) + w.cert.hc1.encode(),
           bytes([MODES.index("hc1")]) + w.cert.cose, bytes([MODES.index("stages")]) + w.cert.cose,
           bytes([MODES.index("trust-list")]) + w.trust_list, bytes([MODES.index("json")]) + b'{"a": [1, 2.5, "x"]}']
    out += [bytes([MODES.index("mutate"), i % 256, (i * 7) % 256, 0x41]) for i in range(8)]
    compiled = bytes([MODES.index("compiled")])
    out += [compiled + w.cert.cose, compiled + w.cert.hc1.encode(), compiled + w.cert.hc1[4:].encode(),
            compiled + w.message.payload, compiled + cose._der_signature(w.message.signature),
            compiled + compression.pack(w.cert.cose)]  # fmt: skip
    return out


def _reported(args: Any) -> None:
    raise FuzzFinding(f"unraisable exception reported (printed to stderr): {args.exc_type.__name__}")


def install_guards() -> None:
    """Turn 'Exception ignored' reports and warnings into findings."""
    sys.unraisablehook = _reported
    warnings.simplefilter("error")


def _same_certificate(cose_bytes: bytes | None) -> bool:
    """The valid certificate's COSE bytes, tagged 18 (as issued), untagged or tagged 61 (both allowed)."""
    original = world().cert.cose
    return cose_bytes in (original, original[1:], b"\xd8\x3d" + original)


def _check(result: Any) -> None:
    if result.code == FailureCode.INTERNAL_ERROR:
        raise FuzzFinding(f"INTERNAL_ERROR at {result.stage}")
    if result.valid and not _same_certificate(result.trace.cose):
        raise FuzzFinding("changed input verified as valid (trailing bytes after the COSE item or zlib stream?)")


def one_input(data: bytes) -> None:
    """Run one input (see the module docstring); raise FuzzFinding on a broken rule."""
    if not data:
        return
    w = world()
    mode, body = MODES[data[0] % len(MODES)], data[1:]
    if mode == "cose":
        _check(w.verifier.verify(body, now=NOW))
    elif mode == "hc1":
        _check(w.verifier.verify(prefix.add(base45.encode(compression.compress(body))), now=NOW))
    elif mode == "text":
        _check(w.verifier.verify(body.decode("latin-1"), now=NOW))
    elif mode == "mutate":
        original = w.cert.hc1
        if len(body) < 3:
            return
        position = int.from_bytes(body[:2], "big") % len(original)
        mutated = original[:position] + body[2:].decode("latin-1") + original[position + 1:]
        _check(w.verifier.verify(mutated, now=NOW))
    elif mode == "stages":
        for decode in (cbor.loads, cose.decode, cwt.decode):
            try:
                decode(body)
            except DecodeError:
                pass
        try:
            hc1.unwrap(body.decode("latin-1"))
        except DecodeError:
            pass
    elif mode == "compiled":
        if speedups_checks is not None:
            try:
                speedups_checks.check_bytes(body)
            except AssertionError as exc:
                raise FuzzFinding(f"a compiled shortcut differs from its Python reference: {exc}") from exc
    elif mode == "trust-list":
        try:
            load_signed(body, [w.csca], now=NOW)
        except DocumentError:
            pass
    else:
        try:
            load_json(body)
        except InputError:
            pass
