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
from vaxcert.codes import FailureCode, Stage
from vaxcert.errors import DecodeError
from vaxcert.stages import _speedups, base45, cbor

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


def _same(left: Any, right: Any) -> bool:
    """Equal with the same exact types all the way down (``True == 1`` does not count)."""
    if type(left) is not type(right):
        return False
    if type(left) is dict:
        return list(left) == list(right) and all(
            _same(k1, k2) and _same(left[k1], right[k2]) for k1, k2 in zip(left, right, strict=True))
    if type(left) is list:
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def _reference_loads(data: bytes) -> tuple[Any] | FailureCode:
    try:
        return (cbor.loads_cbor2(data, Stage.CWT),)
    except DecodeError as exc:
        return exc.code


def _check_loads(data: bytes) -> bool:
    """The compiled reader gives cbor2's item or declines; True when it read the item."""
    quick = _speedups.cbor_loads(data)
    if quick is None:
        return False
    expected = _reference_loads(data)
    assert isinstance(expected, tuple), "the compiled reader read what cbor2 refuses"
    assert _same(quick[0], expected[0])
    return True


@settings(max_examples=400)
@given(_encodable)
def test_cbor_loads_gives_what_cbor2_gives(value: Any) -> None:
    """On cbor2's own encodings the compiled reader gives cbor2's decoding (or leaves it to cbor2)."""
    _check_loads(cbor2.dumps(value))


@settings(max_examples=600)
@given(strategies_hostile.truncated(strategies_hostile.cbor_bytes))
def test_cbor_loads_on_hostile_bytes(data: bytes) -> None:
    """Malformed, truncated, tagged, indefinite, duplicate-keyed CBOR: the compiled reader declines or agrees."""
    _check_loads(data)


@settings(max_examples=200)
@given(strategies_dcc.payloads())
def test_cbor_loads_reads_every_plain_claims_set(payload: dict[str, Any]) -> None:
    """A DCC's CWT claims (integers, text, maps, arrays) are read by the compiled reader, as cbor2 reads them."""
    claims = cbor2.dumps({1: "VN", 6: 1_700_000_000, 4: 1_800_000_000, -260: {1: payload}})
    assert _check_loads(claims)


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
    quick = _speedups.b45decode(text)
    try:
        expected: bytes | None = base45.decode_python(text)
    except DecodeError as exc:
        assert exc.code == FailureCode.BASE45_INVALID
        expected = None
    assert quick == expected
    assert _speedups.b45decode(_Str(text)) == expected


def test_the_stages_use_the_shortcuts() -> None:
    """base45.decode, cbor.loads and cbor.to_json_checked go through the compiled shortcuts when they are built."""
    assert base45._compiled_decode is _speedups.b45decode
    assert cbor._compiled_loads is _speedups.cbor_loads
    assert cbor._compiled_plain_state is _speedups.plain_state
