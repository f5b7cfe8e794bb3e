"""Hostile input: verification returns a verdict with a reason, never an exception or INTERNAL_ERROR."""

from __future__ import annotations

import logging
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, Pki
from test_issue_verify import VACCINATION
from vaxcert import FailureCode, Issuer, KeySigner, Verifier
from vaxcert.stages import base45, compression, prefix
from vaxcert.verifier import MAX_INPUT_CHARS

SETTINGS = settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)

cbor_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.floats() | st.text(max_size=20)
    | st.binary(max_size=40),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.integers(-300, 300) | st.text(max_size=5), children, max_size=5)
    | st.builds(cbor2.CBORTag, st.sampled_from([0, 1, 2, 18, 61, 258, 1000]), children),
    max_leaves=25,
)


def _wrap(message: bytes) -> str:
    return prefix.add(base45.encode(compression.compress(message)))


def _check(result: Any) -> None:
    assert result.valid is False
    assert result.code != FailureCode.INTERNAL_ERROR, result.reason
    assert isinstance(result.reason, str)


@SETTINGS
@given(st.text(max_size=400))
def test_any_text(pki: Pki, text: str) -> None:
    """Arbitrary text gives an invalid verdict."""
    _check(Verifier(pki.trust).verify(text, now=NOW))
    _check(Verifier(pki.trust).verify("HC1:" + text, now=NOW))


@SETTINGS
@given(st.binary(max_size=400))
def test_any_bytes(pki: Pki, data: bytes) -> None:
    """Arbitrary bytes, as COSE or as compressed content, give an invalid verdict."""
    _check(Verifier(pki.trust).verify(data, now=NOW))
    _check(Verifier(pki.trust).verify(_wrap(data), now=NOW))


@SETTINGS
@given(cbor_values)
def test_any_cbor_structure(pki: Pki, value: Any) -> None:
    """Arbitrary CBOR structures, bare or inside a COSE_Sign1 shell, give an invalid verdict."""
    _check(Verifier(pki.trust).verify(_wrap(cbor2.dumps(value)), now=NOW))
    shell = cbor2.CBORTag(18, [cbor2.dumps({1: -7, 4: pki.signer.kid}), {}, cbor2.dumps(value), b"\0" * 64])
    _check(Verifier(pki.trust).verify(_wrap(cbor2.dumps(shell)), now=NOW))


@SETTINGS
@given(st.data())
def test_mutated_certificate(pki: Pki, data: st.DataObject) -> None:
    """Any single-character change to a valid HC1 string is detected (or harmless to meaning)."""
    signer = KeySigner(pki.dsc_key, pki.dsc, deterministic=True)  # same text on every example
    cert = Issuer(signer, facility_override=True).issue(VACCINATION, now=NOW)
    text = cert.hc1
    i = data.draw(st.integers(0, len(text) - 1))
    ch = data.draw(st.sampled_from(base45.ALPHABET + "a~é"))
    mutated = text[:i] + ch + text[i + 1:]
    result = Verifier(pki.trust).verify(mutated, now=NOW)
    if mutated != text:
        assert result.code != FailureCode.INTERNAL_ERROR
        if result.valid:  # only possible if the change decodes to the very same COSE bytes
            assert result.trace.cose == cert.cose


def test_oversized_input_is_cheap(pki: Pki) -> None:
    """Input beyond the cap is refused before decoding."""
    result = Verifier(pki.trust).verify("HC1:" + "0" * MAX_INPUT_CHARS, now=NOW)
    assert result.code == FailureCode.INPUT_TOO_LARGE


def test_non_text_input(pki: Pki) -> None:
    """A wrong input type is a verdict too."""
    result = Verifier(pki.trust).verify(12345, now=NOW)  # type: ignore[arg-type]
    assert result.code == FailureCode.INPUT_NOT_TEXT


@pytest.mark.parametrize("depth", [20, 10_000])
def test_deep_nesting(pki: Pki, depth: int) -> None:
    """Deeply nested CBOR is refused with CBOR_TOO_DEEP."""
    result = Verifier(pki.trust).verify(_wrap(b"\x81" * depth + b"\x00"), now=NOW)
    assert result.code == FailureCode.CBOR_TOO_DEEP


def test_nothing_personal_in_debug_logs(pki: Pki, caplog: pytest.LogCaptureFixture) -> None:
    """At DEBUG, issuing and verifying (valid and invalid) logs no names, dates, UVCIs or QR text."""
    caplog.set_level(logging.DEBUG)
    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)
    Verifier(pki.trust).verify(cert.hc1, now=NOW)
    Verifier(pki.trust).verify(cert.hc1, now=NOW.replace(year=2040))
    Verifier(pki.trust).verify(cert.hc1[:-3] + "AAA", now=NOW)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("Nguy", "NGUYEN", "1985-04-12", "TESTCERT0001", cert.hc1[4:30], "PRIVATE KEY"):
        assert secret not in logged
