"""The optional compiled shortcuts (vaxcert.stages._speedups) against the pure-Python reference they stand in for.

scripts/setup.sh builds them (scripts/build_speedups.py), so these tests need them; a wheel runs
without them (tests/test_wheel.py), on the Python code compared here.
"""

from __future__ import annotations

from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies_dcc
import strategies_hostile
from speedups_checks import (
    check_b45decode,
    check_claims,
    check_der_to_raw,
    check_dumps,
    check_es256_inputs,
    check_loads,
    check_tidy_kind,
    check_unwrap,
    fields,
)
from test_tolerance import quirky_payloads
from vaxcert.codes import FailureCode, Stage
from vaxcert.stages import _speedups, base45, cbor, compression, cose, cwt, hc1, records

# Text ends that str.strip() removes (or not): ASCII and Unicode spaces, controls, look-alikes.
_EDGES = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u1680", "\u2000", "\u2028",
          "\u3000", "\u200b", "\ufeff", "\x00", "a", "é", "Ư", "\U0001f600"]  # fmt: skip
_texts = st.builds(lambda a, b, c: a + b + c, st.sampled_from(["", *_EDGES]), st.text(max_size=6),
                   st.sampled_from(["", *_EDGES]))  # fmt: skip


class _Str(str):
    """A str subclass (never plain JSON for the reference walk)."""


_scalars = st.one_of(_texts, st.integers(-(2**70), 2**70), st.booleans(), st.none(), st.floats(),
                     st.binary(max_size=4), _texts.map(_Str))  # fmt: skip
_objects = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(_texts, children, max_size=4),
        st.dictionaries(st.one_of(_texts, st.integers(-5, 5)), children, max_size=3),
    ),
    max_leaves=16,
)
# What cbor2 can encode (no str subclass, no tuple keys) for the loads comparison.
_keys = st.one_of(_texts, st.integers(-(2**64), 2**64 - 1), st.binary(max_size=3))
_encodable = st.recursive(
    st.one_of(_texts, st.integers(-(2**64), 2**64 - 1), st.booleans(), st.none(), st.floats(), st.binary(max_size=6)),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(_keys, children, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=400)
@given(_encodable)
def test_cbor_loads_gives_what_cbor2_gives(value: Any) -> None:
    """On cbor2's own encodings the compiled reader gives cbor2's decoding (or leaves it to cbor2)."""
    check_loads(cbor2.dumps(value))


@settings(max_examples=600)
@given(strategies_hostile.truncated(strategies_hostile.cbor_bytes))
def test_cbor_loads_on_hostile_bytes(data: bytes) -> None:
    """Malformed, truncated, tagged, indefinite, duplicate-keyed CBOR: the compiled reader declines or agrees."""
    check_loads(data)


@settings(max_examples=200)
@given(strategies_dcc.payloads())
def test_cbor_loads_reads_every_plain_claims_set(payload: dict[str, Any]) -> None:
    """A DCC's CWT claims (integers, text, maps, arrays) are read by the compiled reader, as cbor2 reads them."""
    claims = cbor2.dumps({1: "VN", 6: 1_700_000_000, 4: 1_800_000_000, -260: {1: payload}})
    assert check_loads(claims)


@pytest.mark.parametrize("data", [
    b"\x01\x02", b"\xf8\x14", b"\xf8\x16", b"\xf9\x00\x00", b"\xfb" + bytes(8), b"\xf7", b"\x3b" + b"\xff" * 8,
    b"\xa2\x01\x01\x01\x02", b"\x62\xc3\x28", b"\xbf\x01\x02\xff", b"\xc1\x01", b"\x81" * 9 + b"\x00",
    b"\xa1\x81\x00\x00", b"\x5a\xff\xff\xff\xff",
])  # fmt: skip
def test_cbor_loads_declines_what_it_does_not_read(data: bytes) -> None:
    """Trailing bytes, two-byte simple values, floats, undefined, huge negatives, duplicate keys, bad UTF-8,
    indefinite lengths, tags, deep nesting, array keys and overlong lengths are left to cbor2."""
    assert _speedups.cbor_loads(data) is None


@settings(max_examples=600)
@given(_objects)
def test_plain_state_is_the_reference_walk(value: Any) -> None:
    """The compiled plain-JSON / tidy walk answers what cbor._plain_state answers, on any Python value."""
    assert _speedups.plain_state(value) == cbor._plain_state(value)


def test_plain_state_hands_deep_values_to_python() -> None:
    """Past 100 levels the compiled walk answers -1 (the Python walk then decides)."""
    deep: Any = "x"
    for _ in range(150):
        deep = [deep]
    assert _speedups.plain_state(deep) == -1
    assert _speedups.plain_state(deep[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]) == -1
    assert cbor.to_json_checked(deep) == (deep, True)


@settings(max_examples=600)
@given(st.text(alphabet=base45.ALPHABET + "ab!é\x00", max_size=60) | st.text(alphabet="VWXYZ $%*+-./:", max_size=9)
       | st.binary(max_size=80).map(base45.encode))  # fmt: skip
def test_b45decode_is_the_reference_decoder(text: str) -> None:
    """The compiled Base45 decoder gives the Python decoder's bytes, and declines exactly what it refuses."""
    check_b45decode(text)
    assert _speedups.b45decode(_Str(text)) == _speedups.b45decode(text)


@settings(max_examples=600)
@given(st.binary(max_size=700))
def test_b45encode_is_the_reference_encoder(data: bytes) -> None:
    """The compiled Base45 encoder writes the Python (numpy) encoder's text; it declines anything but bytes."""
    assert _speedups.b45encode(data) == base45.encode_python(data)
    assert _speedups.b45encode(bytearray(data)) is None
    assert base45.encode(data) == base45.encode_python(data)


@settings(max_examples=600)
@given(_objects)
def test_cbor_dumps_writes_what_cbor2_writes(value: Any) -> None:
    """On any Python value (floats, tuples, str subclasses, integer keys, big integers among them) the
    compiled encoder gives cbor2's bytes or leaves the value to cbor2."""
    check_dumps(value)


@settings(max_examples=300)
@given(strategies_dcc.payloads())
def test_cbor_dumps_writes_every_dcc_payload(payload: dict[str, Any]) -> None:
    """A DCC payload (plain JSON) is written by the compiled encoder, byte for byte as cbor2 writes it."""
    assert check_dumps(payload)
    assert cwt.decode(cwt.encode(payload, issuer="VN", issued_at=1_700_000_000, expires_at=1_800_000_000)).payload \
        == payload


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("value", [
    1.5, float("nan"), (1, 2), {1: "a"}, {"a": (1,)}, 2**64, -(2**64) - 1, 2**63, -(2**63) - 1, _Str("a"),
    "\ud800", bytearray(b"a"), _nested(17),
])  # fmt: skip
def test_cbor_dumps_declines_what_it_does_not_write(value: Any) -> None:
    """Floats, tuples, non-text keys, integers past 64 bits, str subclasses, lone surrogates, bytearrays and
    nesting past 16 levels are left to cbor2 (which encodes or refuses them)."""
    assert _speedups.cbor_dumps(value) is None


def test_cbor_dumps_writes_the_integer_edges() -> None:
    """Every head size at its edges, both signs, as cbor2 writes them."""
    edges = [0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1]
    values = [*edges, *(-1 - e for e in edges), -(2**63)]
    for value in values:
        assert _speedups.cbor_dumps(value) == cbor2.dumps(value), value
    long_text = "Ư" * 70_000
    assert _speedups.cbor_dumps({"t": long_text, "b": b"x" * 300, "l": list(range(30))}) \
        == cbor2.dumps({"t": long_text, "b": b"x" * 300, "l": list(range(30))})


def _der(r: int, s: int) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    return encode_dss_signature(r, s)


@settings(max_examples=600)
@given(st.integers(0, 2**256 - 1) | st.integers(0, 2**20) | st.sampled_from([0, 1, 2**255, 2**256 - 1, 2**248]),
       st.integers(0, 2**256 - 1) | st.integers(0, 2**20) | st.sampled_from([0, 1, 2**255, 2**256 - 1, 2**248]))
def test_der_to_raw_is_the_reference(r: int, s: int) -> None:
    """For every r and s of P-256's size the compiled reader gives cryptography's numbers as 32 + 32 bytes."""
    der = _der(r, s)
    assert _speedups.der_to_raw(der) == cose.raw_signature_python(der) == r.to_bytes(32, "big") + s.to_bytes(32, "big")


@settings(max_examples=600)
@given(st.binary(max_size=80) | st.integers(0, 2**300).map(lambda n: _der(n, 1))
       | st.tuples(st.binary(max_size=72), st.integers(0, 71), st.integers(0, 255)).map(
           lambda t: bytes(t[0][: t[1]]) + bytes((t[2],)) + t[0][t[1] + 1 :]))  # fmt: skip
def test_der_to_raw_on_hostile_bytes(data: bytes) -> None:
    """Random, too long and bit-flipped DER: the compiled reader declines, or agrees with cryptography's."""
    check_der_to_raw(data)


@pytest.mark.parametrize("der", [
    b"0\x06\x02\x01\x01\x02\x01\x01\x00",  # trailing byte
    b"0\x07\x02\x02\x00\x01\x02\x01\x01",  # r not minimal
    b"0\x06\x02\x01\x81\x02\x01\x01",  # r negative
    b"0\x81\x06\x02\x01\x01\x02\x01\x01",  # long-form length
    b"0\x06\x02\x01\x01\x02\x01",  # truncated
    b"1\x06\x02\x01\x01\x02\x01\x01",  # not a SEQUENCE
])  # fmt: skip
def test_der_to_raw_declines_what_is_not_strict_der(der: bytes) -> None:
    """Only strict DER is read by the compiled shortcut; cryptography then decides."""
    assert _speedups.der_to_raw(der) is None


def test_raw_signature_is_what_a_key_signs() -> None:
    """The COSE form of real signatures: the compiled path and the reference agree, and the signature verifies."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    for index in range(200):
        data = index.to_bytes(4, "big") * 10
        der = key.sign(data, ec.ECDSA(hashes.SHA256()))
        raw = cose.raw_signature(der)
        assert raw == cose.raw_signature_python(der)
        key.public_key().verify(cose._der_signature(raw), data, ec.ECDSA(hashes.SHA256()))


_raw_signatures = st.one_of(
    st.binary(min_size=64, max_size=64),
    st.tuples(st.integers(0, 33), st.integers(0, 33), st.binary(min_size=64, max_size=64)).map(
        lambda t: bytes(t[0]) + t[2][t[0] : 32] + bytes(t[1]) + t[2][32 + t[1] :] if t[0] <= 32 and t[1] <= 32
        else t[2]),
    st.sampled_from([bytes(64), b"\xff" * 64, b"\x00" * 31 + b"\x80" + b"\x00" * 31 + b"\x7f"]),
)  # fmt: skip
_lengths = st.sampled_from([0, 1, 23, 24, 255, 256, 65535, 65536]) | st.integers(0, 700)


@settings(max_examples=600)
@given(_lengths, _lengths, _raw_signatures)
def test_es256_inputs_are_the_reference(prot_size: int, payload_size: int, raw: bytes) -> None:
    """The compiled DER signature and Sig_structure are cose._der_signature's and sig_structure's, at every
    head size (1, 2, 3 and 5 bytes) and for numbers with leading zeros or a high bit."""
    protected, payload = b"\xa1" * prot_size, bytes(range(256)) * (payload_size // 256) + b"p" * (payload_size % 256)
    assert check_es256_inputs(protected, payload, raw)


def test_es256_inputs_declines_what_is_not_es256() -> None:
    """Signatures that are not 64 bytes and arguments that are not bytes are left to Python."""
    assert _speedups.es256_inputs(b"", b"", b"x" * 63) is None
    assert _speedups.es256_inputs(b"", b"", b"x" * 65) is None
    assert _speedups.es256_inputs(bytearray(b""), b"", b"x" * 64) is None


def test_es256_inputs_check_real_signatures() -> None:
    """What a P-256 key signs verifies with the compiled inputs, and a changed byte does not."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    protected = cose.protected_header(-7, b"k" * 8)
    for index in range(100):
        payload = index.to_bytes(2, "big") * (20 + index)
        raw = cose.raw_signature(key.sign(cose.sig_structure(protected, payload), ec.ECDSA(hashes.SHA256())))
        message = cose.from_usual_layout(protected, payload, raw)
        der, data = cose.es256_inputs(message)
        key.public_key().verify(der, data, ec.ECDSA(hashes.SHA256()))
        with pytest.raises(InvalidSignature):
            key.public_key().verify(der, data + b"x", ec.ECDSA(hashes.SHA256()))


@settings(max_examples=500)
@given(quirky_payloads() | strategies_dcc.mutated_payloads())
def test_tidy_kind_is_the_reference(payload: dict[str, Any]) -> None:
    """On quirky and mutated payloads the compiled type look answers what lenient.tidy_kind_python answers."""
    check_tidy_kind(payload)
    assert _speedups.tidy_kind(payload) is not False  # an exact dict is always answered


@settings(max_examples=400)
@given(st.dictionaries(st.sampled_from(["v", "t", "r", "dob", "ver"]), _objects, max_size=4)
       | st.builds(lambda kind, entry, dob: {kind: [entry], "dob": dob}, st.sampled_from(["v", "t", "r"]),
                   st.dictionaries(st.sampled_from(["dt", "fr", "df", "du", "sc", "dr"]),
                                   st.text(alphabet="0123456789-T:Z+é\U0001f600", max_size=26), max_size=4),
                   st.text(alphabet="0123456789-é", max_size=11)))  # fmt: skip
def test_tidy_kind_on_odd_values(payload: dict[str, Any]) -> None:
    """Lists that are not lists, entries that are not dicts, dates of every length and width (1-, 2- and
    4-byte strings): the same answer as the Python type look."""
    check_tidy_kind(payload)


def test_tidy_kind_declines_what_is_not_a_dict_and_survives_hostile_keys() -> None:
    """A mapping that is not a dict is left to Python; a key whose __eq__ raises makes it decline, not crash."""
    from collections import OrderedDict

    assert _speedups.tidy_kind(OrderedDict(v=[{}])) is False
    assert _speedups.tidy_kind([]) is False

    class Clash:
        def __hash__(self) -> int:
            return hash("dob")

        def __eq__(self, other: object) -> bool:
            raise RuntimeError("hostile key")

    assert _speedups.tidy_kind({Clash(): 1, "v": [{"dt": "2021-01-01"}]}) is False


def test_make_frozen_builds_what_the_class_builds() -> None:
    """A maker's instance equals the one the class's __init__ builds, field for field, and stays frozen."""
    import dataclasses

    from vaxcert.issuer import IssuedCertificate
    from vaxcert.verifier import FORMAT_DCC, Trace, VerificationResult

    payload = {"ver": "1.3.0"}
    cases: list[tuple[type, tuple[Any, ...]]] = [
        (cose.CoseSign1, (b"\xa1\x01&", {1: -7}, {}, b"p", b"s" * 64, -7, b"k" * 8, True)),
        (cwt.Claims, ("VN", 1, 2.5, payload, True)),
        (IssuedCertificate, ("HC1:x", "URN:UVCI:01:VN:X", "v", b"k" * 8, 1, 2, b"c")),
        (VerificationResult, (True, FailureCode.OK, Stage.DONE, "valid", b"k" * 8, "ES256", "VN", None, None, "v",
                              "1.3.0", payload, None, ("w",), Trace("t"), FORMAT_DCC, None)),
    ]  # fmt: skip
    for cls, values in cases:
        built = records.maker(cls)(*values)
        expected = cls(*values)
        assert type(built) is cls
        assert built == expected
        assert all(a is b for a, b in zip(fields(built), fields(expected), strict=True))
        assert repr(built) == repr(expected)
        with pytest.raises(dataclasses.FrozenInstanceError):
            built.__setattr__(dataclasses.fields(cls)[0].name, None)


def test_make_frozen_refuses_misuse() -> None:
    """Wrong counts, foreign descriptors and classes that are not slotted dataclasses are refused, never built."""
    make = records.maker(cwt.Claims)
    with pytest.raises(TypeError):
        make("VN", 1, 2, {})
    members = tuple(cose.CoseSign1.__dict__[name] for name in ("protected_bytes", "payload"))
    with pytest.raises(TypeError):
        _speedups.make_frozen(cwt.Claims, members, b"", b"")
    with pytest.raises(TypeError):
        _speedups.make_frozen(int, (), )
    with pytest.raises(TypeError):
        records.maker(dict)


def test_the_stages_use_the_shortcuts() -> None:
    """The stages go through the compiled shortcuts when they are built."""
    assert base45._compiled_decode is _speedups.b45decode
    assert base45._compiled_encode is _speedups.b45encode
    assert cbor._compiled_loads is _speedups.cbor_loads
    assert cbor._compiled_plain_state is _speedups.plain_state
    assert cbor._compiled_dumps is _speedups.cbor_dumps
    assert cose._compiled_der_to_raw is _speedups.der_to_raw
    assert records._compiled_make is _speedups.make_frozen
    assert cwt._compiled_claims is _speedups.cwt_claims
    assert cose._compiled_es256_inputs is _speedups.es256_inputs
    from vaxcert.dcc import lenient

    assert lenient._compiled_tidy_kind is _speedups.tidy_kind


# -- the whole-HC1 unwrap and the CWT claims ------------------------------------------------------------------

_KID = b"\x01\x02\x03\x04\x05\x06\x07\x08"
#: hc1_unwrap is built only with the system's zlib (scripts/build_speedups.py says when it is not).
_needs_zlib = pytest.mark.skipif(not hasattr(_speedups, "hc1_unwrap"), reason="C shortcuts built without zlib")


def _message(claims: bytes, protected: bytes | None = None, signature: bytes = b"\x11" * 64) -> bytes:
    return cose.encode(claims, _FixedSigner(signature), protected=protected or cose.protected_header(-7, _KID))


class _FixedSigner:
    """A signer whose signature is fixed bytes (unwrapping does not look at it)."""

    algorithm, kid = -7, _KID

    def __init__(self, signature: bytes) -> None:
        self.signature = signature

    def sign(self, data: bytes) -> bytes:
        return self.signature


_zlib_forms = st.sampled_from(["pack", "9", "1", "0", "store", "raw", "wbits9", "gzip"])


def _zlib(form: str, data: bytes) -> bytes:
    import zlib

    if form == "pack":
        return compression.pack(data)
    if form == "store":
        return compression.store(data)
    if form == "raw":
        return data
    if form == "wbits9":
        obj = zlib.compressobj(9, zlib.DEFLATED, 9)
        return obj.compress(data) + obj.flush()
    if form == "gzip":
        obj = zlib.compressobj(9, zlib.DEFLATED, 31)
        return obj.compress(data) + obj.flush()
    return zlib.compress(data, int(form))


@st.composite
def _hc1_texts(draw: Any) -> str:
    """HC1 text around usual and hostile COSE messages, zlib streams of every kind, damaged on the way."""
    kind = draw(st.sampled_from(["usual", "usual", "shell", "bytes"]))
    if kind == "usual":
        payload = draw(strategies_dcc.payloads())
        claims = cwt.encode(payload, issuer="VN", issued_at=1_700_000_000, expires_at=1_800_000_000)
        cose_bytes = _message(claims, signature=draw(st.sampled_from([b"\x11" * 64, b"\x22" * 256, b""])))
    elif kind == "shell":
        cose_bytes = draw(strategies_hostile.cose_shells(_KID))
    else:
        cose_bytes = draw(st.binary(max_size=40))
    cose_bytes = draw(strategies_hostile.truncated(st.just(cose_bytes)))
    zdata = draw(strategies_hostile.truncated(_zlib_forms.map(lambda form: _zlib(form, cose_bytes))))
    text = "HC1:" + base45.encode(zdata)
    damage = draw(st.sampled_from(["none", "none", "none", "prefix", "char", "cut", "lower", "space", "nonascii"]))
    if damage == "prefix":
        text = draw(st.sampled_from(["HC2:", "hc1:", "HC1", "", "LT1:", " HC1:"])) + text[4:]
    elif damage == "char" and len(text) > 5:
        at = draw(st.integers(4, len(text) - 1))
        text = text[:at] + draw(st.sampled_from([":", "a", "!", "\x00", "Z"])) + text[at + 1 :]
    elif damage == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif damage == "lower":
        text = text.lower()
    elif damage == "space":
        text = text + " "
    elif damage == "nonascii":
        text = text + "é"
    return text


@_needs_zlib
@settings(max_examples=800)
@given(_hc1_texts())
def test_hc1_unwrap_is_the_reference(text: str) -> None:
    """On usual, hostile and damaged HC1 text the compiled unwrap gives the Python stages' artefacts or
    declines; whatever Python refuses (prefix, Base45, zlib, COSE layout), it declines."""
    check_unwrap(text)


@_needs_zlib
def test_hc1_unwrap_reads_the_usual_certificate() -> None:
    """The usual certificate (pack, tag 18, shortest heads) is unwrapped by the compiled shortcut; the
    unusual forms are left to Python, which reads them."""
    claims = cwt.encode({"ver": "1.3.0", "v": [{"dn": 1}]}, issuer="VN", issued_at=1_700_000_000,
                        expires_at=1_800_000_000)  # fmt: skip
    message = _message(claims)
    assert check_unwrap("HC1:" + base45.encode(compression.pack(message)))
    assert check_unwrap("HC1:" + base45.encode(_zlib("wbits9", message)))  # any valid zlib header
    for declined in ["HC1:" + base45.encode(message),  # not compressed: Python refuses
                     "HC1:" + base45.encode(_zlib("9", message) + b"\x00"),  # bytes after the stream
                     "HC1:" + base45.encode(_zlib("9", message[:-1])),  # not the usual layout: Python reads
                     "HC1:" + base45.encode(_zlib("9", b"\x84" + message[2:]))]:  # untagged: Python reads
        assert _speedups.hc1_unwrap(declined, compression.MAX_DECOMPRESSED) is None
        assert not check_unwrap(declined)
    big = _message(b"\x59\xff\xff" + b"\x00" * 0xFFFF)  # inflates past a small limit: declined
    assert _speedups.hc1_unwrap("HC1:" + base45.encode(compression.pack(big)), 1000) is None
    assert _speedups.hc1_unwrap(_Str("HC1:"), 100) is None


_hcert_values = st.one_of(strategies_dcc.payloads(), st.sampled_from([{"a": "b"}, {"a": 1.5}, {"a": None},
                                                                       {" a": "b "}, [1]]))  # fmt: skip
_claim_values = st.one_of(st.integers(0, 2**40), st.text(max_size=3), st.none(), st.floats(allow_nan=False),
                          st.dictionaries(st.sampled_from([1, 2]), _hcert_values))  # fmt: skip
_claim_maps = st.dictionaries(st.sampled_from([1, 4, 6, -260, 5, 7, "iss"]), _claim_values, max_size=5)


@settings(max_examples=600)
@given(_claim_maps.map(cbor2.dumps) | strategies_hostile.truncated(strategies_hostile.cbor_bytes))
def test_cwt_claims_is_the_reference(data: bytes) -> None:
    """On claim maps of every shape and on hostile CBOR the compiled reader gives decode_python's claims or
    declines; whatever Python refuses, it declines."""
    check_claims(data)


@settings(max_examples=200)
@given(strategies_dcc.payloads())
def test_cwt_claims_reads_every_dcc(payload: dict[str, Any]) -> None:
    """The claims vaxcert writes are read by the compiled reader, as Python reads them."""
    assert check_claims(cwt.encode(payload, issuer="VN", issued_at=1_700_000_000, expires_at=1_800_000_000))


@_needs_zlib
def test_hc1_unwrap_uses_the_shortcut() -> None:
    """hc1.unwrap goes through the compiled shortcut when it is built (with the system's zlib)."""
    assert hc1._compiled_unwrap is _speedups.hc1_unwrap


def test_the_fuzz_target_compares_the_shortcuts(monkeypatch: pytest.MonkeyPatch) -> None:
    """fuzz/targets.py's compiled mode (what `bench_fuzz.py --sanitized --mode compiled` runs) passes its seeds
    and reports a compiled shortcut that answers otherwise than its reference."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "fuzz"))
    import targets

    seeds = [seed for seed in targets.seeds() if seed[0] == targets.MODES.index("compiled")]
    assert len(seeds) >= 5
    for seed in seeds:
        targets.one_input(seed)
    der = seeds[4]
    assert _speedups.der_to_raw(der[1:]) is not None  # the seed's DER signature is read by the shortcut
    monkeypatch.setattr(_speedups, "der_to_raw", lambda data: bytes(64) if len(data) > 8 else None)
    with pytest.raises(targets.FuzzFinding, match="differs from its Python reference"):
        targets.one_input(der)
