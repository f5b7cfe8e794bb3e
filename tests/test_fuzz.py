"""Fuzzing in the normal suite: hostile CBOR / COSE / HC1 through every stage and the verifier.

Each input must give a verdict with one failure code (never an exception, never INTERNAL_ERROR),
and nothing may reach the process's stdout or stderr (captured at the file-descriptor level, so
a C or Rust extension printing there is caught too).  ``fuzz/`` holds the atheris target that
runs the same checks coverage-guided for millions of inputs.
"""

from __future__ import annotations

import sys

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, Pki
from strategies_hostile import cbor_bytes, cose_shells, truncated
from vaxcert import FailureCode, Verifier
from vaxcert.errors import DecodeError
from vaxcert.stages import base45, cbor, compression, cose, cwt, prefix

SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip

#: The input of issue 10, item 13: an IP network (tag 261) whose mask length is a pair holding a
#: 1,800-byte negative bignum (over 4,300 digits).  cbor2 formats the pair for its error message,
#: str() of the integer fails, and cbor2 prints "Exception ignored in: <object repr() failed> ...
#: ValueError: Exceeds the limit (4300 digits)" with a traceback to stderr.
ITEM_13 = bytes.fromhex("d90105a1808260c3590708") + b"\xff" * 1800


def _wrap(message: bytes) -> str:
    return prefix.add(base45.encode(compression.compress(message)))


def _silent(capfd: pytest.CaptureFixture[str]) -> None:
    out, err = capfd.readouterr()
    assert out == "" and err == "", (out[:300], err[:300])


def test_item_13_raw_cbor2_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hostile input really makes cbor2 report an unraisable error, which Python prints to stderr."""
    reported: list[type[BaseException] | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda args: reported.append(args.exc_type))
    with pytest.raises(cbor2.CBORDecodeError):
        cbor2.loads(ITEM_13, allow_duplicate_keys=False)
    if not reported:
        pytest.skip("this cbor2 no longer reports an unraisable error for the item-13 input")
    assert reported == [ValueError]


def test_item_13_silent_in_stage(capfd: pytest.CaptureFixture[str]) -> None:
    """The CBOR stage refuses the item-13 input with CBOR_INVALID and prints nothing."""
    with pytest.raises(DecodeError) as caught:
        cbor.loads(ITEM_13)
    assert caught.value.code == FailureCode.CBOR_INVALID
    _silent(capfd)


def test_item_13_silent_in_verifier(pki: Pki, capfd: pytest.CaptureFixture[str]) -> None:
    """Verifying the item-13 input, bare or as a COSE payload, gives a verdict and prints nothing."""
    verifier = Verifier(pki.trust)
    assert verifier.verify(_wrap(ITEM_13), now=NOW).code == FailureCode.CBOR_INVALID
    shell = cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps({1: -7, 4: pki.signer.kid}), {}, ITEM_13, b"\0" * 64]))
    result = verifier.verify(_wrap(shell), now=NOW)
    assert not result.valid and result.code != FailureCode.INTERNAL_ERROR
    _silent(capfd)


@pytest.mark.parametrize("data", [bytes.fromhex("d81c81d81d00"), bytes.fromhex("d81ca101d81d00")],
                         ids=["list-holding-itself", "map-holding-itself"])  # fmt: skip
def test_cyclic_structures_refused(pki: Pki, data: bytes) -> None:
    """Shared references (which build cycles) are refused by the CBOR stage, not by an internal error."""
    with pytest.raises(DecodeError) as caught:
        cbor.loads(data)
    assert caught.value.code == FailureCode.CBOR_INVALID
    shell = cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps({1: -7, 4: pki.signer.kid}), {}, data, b"\0" * 64]))
    assert Verifier(pki.trust).verify(_wrap(shell), now=NOW).code != FailureCode.INTERNAL_ERROR


def test_small_bignums_still_decode() -> None:
    """Bignums up to the cap decode to the same integers cbor2 gives."""
    for value in (2**64, -(2**64) - 1, 2**511, -(2**511)):
        assert cbor.loads(cbor2.dumps(value)) == value
    with pytest.raises(DecodeError):
        cbor.loads(cbor2.dumps(2**600))


@SETTINGS
@given(truncated(cbor_bytes))
def test_stages_on_hostile_cbor(capfd: pytest.CaptureFixture[str], data: bytes) -> None:
    """CBOR, COSE and CWT decoding of hostile bytes raise DecodeError or succeed; nothing is printed."""
    for decode in (cbor.loads, cose.decode, cwt.decode):
        try:
            decode(data)
        except DecodeError:
            pass
    _silent(capfd)


@SETTINGS
@given(st.data())
def test_verifier_on_hostile_cose(pki: Pki, capfd: pytest.CaptureFixture[str], data: st.DataObject) -> None:
    """Hostile COSE shells and CBOR items, wrapped as HC1, give one failure code and print nothing."""
    message = data.draw(cose_shells(pki.signer.kid) | truncated(cbor_bytes))
    for item in (message, _wrap(message)):
        result = Verifier(pki.trust).verify(item, now=NOW)
        assert result.valid is False
        assert isinstance(result.code, FailureCode) and result.code != FailureCode.INTERNAL_ERROR, result.reason
    _silent(capfd)
