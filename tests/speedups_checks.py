"""The compiled shortcuts (vaxcert.stages._speedups) compared with their Python references, one input at a time.

Shared by tests/test_speedups.py (hypothesis draws the inputs) and fuzz/targets.py (the fuzzer's
``compiled`` mode, :func:`check_bytes`, which benchmarks/bench_fuzz.py also runs under AddressSanitizer
and UndefinedBehaviorSanitizer).  Each check raises AssertionError when the compiled function gives
anything but what its reference gives, and returns True when the compiled function answered (False
when it declined and left the input to Python, which is always allowed).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from vaxcert.codes import FailureCode, Stage
from vaxcert.errors import DecodeError
from vaxcert.stages import _speedups, base45, cbor, compression, cose, cwt, hc1, prefix


def same(left: Any, right: Any) -> bool:
    """Equal with the same exact types all the way down (``True == 1`` does not count)."""
    if type(left) is not type(right):
        return False
    if type(left) is dict:
        return list(left) == list(right) and all(
            same(k1, k2) and same(left[k1], right[k2]) for k1, k2 in zip(left, right, strict=True))
    if type(left) is list:
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def outcome(fn: Any, arg: Any) -> Any:
    """``fn(arg)``, or the code of the DecodeError it raises."""
    try:
        return fn(arg)
    except DecodeError as exc:
        return exc.code


def fields(obj: Any) -> list[Any]:
    """A dataclass instance's field values, in order."""
    return [getattr(obj, f.name) for f in dataclasses.fields(obj)]


def _answered(quick: Any, reference: Any, declined: Any = None) -> bool:
    """False when the compiled function declined (``quick is declined``); else it must equal the reference's."""
    if quick is declined:
        return False
    assert quick == reference()
    return True


def check_loads(data: bytes) -> bool:
    """The compiled CBOR reader gives cbor2's item or declines."""
    quick = _speedups.cbor_loads(data)
    if quick is None:
        return False
    expected = outcome(lambda raw: (cbor.loads_cbor2(raw, Stage.CWT),), data)
    assert isinstance(expected, tuple), "the compiled reader read what cbor2 refuses"
    assert same(quick[0], expected[0])
    return True


def check_b45decode(text: str) -> bool:
    """The compiled Base45 decoder gives the Python decoder's bytes, and declines exactly what it refuses."""
    quick = _speedups.b45decode(text)
    expected = outcome(base45.decode_python, text)
    assert quick == (None if expected == FailureCode.BASE45_INVALID else expected)
    return quick is not None


def check_dumps(value: Any) -> bool:
    """The compiled CBOR encoder writes cbor2's bytes or declines."""
    return _answered(_speedups.cbor_dumps(value), lambda: cbor.dumps_cbor2(value))


def check_der_to_raw(data: bytes) -> bool:
    """The compiled DER reader declines, or gives cryptography's r‖s."""
    return _answered(_speedups.der_to_raw(data), lambda: cose.raw_signature_python(data))


def check_es256_inputs(protected: bytes, payload: bytes, raw: bytes) -> bool:
    """The compiled DER signature and Sig_structure are cose._der_signature's and sig_structure's."""
    answered = _answered(_speedups.es256_inputs(protected, payload, raw),
                         lambda: (cose._der_signature(raw), cose.sig_structure(protected, payload)))  # fmt: skip
    assert answered or len(raw) != 64, "the compiled ES256 inputs declined a 64-byte signature"
    return answered


def check_tidy_kind(payload: Any) -> bool:
    """The compiled type look answers what lenient.tidy_kind_python answers, or declines."""
    from vaxcert.dcc import lenient

    answered = _answered(_speedups.tidy_kind(payload), lambda: lenient.tidy_kind_python(payload), declined=False)
    assert not answered or lenient.tidy_kind(payload) == _speedups.tidy_kind(payload)
    return answered


def check_unwrap(text: Any) -> bool:
    """hc1.unwrap gives what unwrap_python gives (the artefacts, or the same refusal), and the compiled
    unwrap gives the Python stages' artefacts or declines."""
    assert outcome(hc1.unwrap, text) == outcome(hc1.unwrap_python, text)
    if not hasattr(_speedups, "hc1_unwrap"):  # built without the system's zlib
        return False
    quick = _speedups.hc1_unwrap(text, compression.MAX_DECOMPRESSED)
    if quick is None:
        return False
    body = prefix.strip(text)
    compressed = base45.decode_python(body)
    message_bytes = compression.decompress(compressed)
    assert quick == (body, compressed, message_bytes, *(cose._usual_layout(message_bytes) or ()))
    return True


def check_claims(data: bytes) -> bool:
    """The compiled CWT claims reader gives decode_python's claims, field for field, or declines."""
    quick = _speedups.cwt_claims(data)
    if quick is None:
        return False
    expected = outcome(cwt.decode_python, data)
    assert isinstance(expected, cwt.Claims), f"the compiled reader read claims Python refuses ({expected})"
    built = cwt.Claims(*quick)
    assert built == expected
    assert all(same(a, b) for a, b in zip(fields(built), fields(expected), strict=True))
    return True


def check_bytes(data: bytes) -> None:
    """Every comparison that reads bytes, on one (hostile) input: as Base45 and HC1 text (read as Latin-1
    and as UTF-8, so that every width of CPython's strings comes up), CBOR, CWT claims, DER, the parts of a
    Sig_structure, HC1 text around the input as the zlib stream and as the COSE message, and, where the
    stages' CBOR reader reads it, its item through the encoder, the plain-JSON walk and the type look."""
    text = data.decode("latin-1")  # one byte per character (CPython's 1-byte kind)
    wide = data.decode("utf-8", errors="replace")  # U+FFFD and other characters past U+00FF: 2- and 4-byte kinds
    for chars in {text, wide}:
        check_b45decode(chars)
        check_unwrap(chars)
    check_loads(data)
    check_claims(data)
    check_der_to_raw(data)
    cut = data[0] if data else 0
    check_es256_inputs(data[1 : 1 + cut % 64], data[1 + cut % 64 : -64], data[-64:])
    check_unwrap(prefix.PREFIX + wide)  # past the prefix, characters of every width
    check_unwrap(prefix.PREFIX + base45.encode(data))  # the input as the zlib stream
    check_unwrap(prefix.PREFIX + base45.encode(compression.pack(data)))  # the input as the COSE message
    try:  # the stages' reader (bounded: bare cbor2 prints "Exception ignored" on a 5,000-digit bignum)
        item = cbor.loads_cbor2(data)
    except DecodeError:
        return
    check_dumps(item)
    try:
        expected = cbor._plain_state(item)
    except RecursionError:  # a cycle (CBOR's shared references): the stages refuse it before this walk
        return
    assert _speedups.plain_state(item) == expected
    for value in (item, *(item.values() if type(item) is dict else ())):
        if type(value) is dict:
            check_tidy_kind(value)
