"""Unit tests of each encoding stage alone: round trips and malformed input."""

from __future__ import annotations

import base45 as base45_ref  # the independent reference codec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaxcert.codes import FailureCode
from vaxcert.errors import DecodeError
from vaxcert.stages import base45, cbor, compression, cwt, prefix


@given(st.binary(max_size=600))
def test_base45_round_trip(data: bytes) -> None:
    """Any bytes survive encode → decode."""
    assert base45.decode(base45.encode(data)) == data


@given(st.binary(max_size=300))
def test_base45_matches_reference_codec(data: bytes) -> None:
    """The table-driven codec agrees with the base45 package on every input."""
    assert base45.encode(data) == base45_ref.b45encode(data).decode()


def test_base45_rfc9285_examples() -> None:
    """The examples of RFC 9285 section 4.3 encode as published."""
    assert base45.encode(b"AB") == "BB8"
    assert base45.encode(b"Hello!!") == "%69 VD92EX0"
    assert base45.encode(b"base-45") == "UJCLQE7W581"
    assert base45.decode("QED8WEX0") == b"ietf!"


@pytest.mark.parametrize(
    "text",
    ["A", "ABCD", "abc", "GGW", "ZZZZ", "::::", "QED8WEX0!", "QE\u00e9"],
    ids=["single", "dangling", "lowercase", "overflow-triplet", "overflow-pair", "overflow-colons", "bang",
         "non-ascii"],
)
def test_base45_rejects_invalid(text: str) -> None:
    """Invalid characters, dangling characters and overflowing groups are refused."""
    with pytest.raises(DecodeError) as info:
        base45.decode(text)
    assert info.value.code == FailureCode.BASE45_INVALID


def test_prefix_only_hc1() -> None:
    """Only the exact HC1: context identifier is accepted; others get their own code."""
    assert prefix.strip("HC1:ABC") == "ABC"  # noqa: B005 - vaxcert's prefix.strip, not str.strip
    assert prefix.add("ABC") == "HC1:ABC"
    for text, code in [("HC2:ABC", FailureCode.PREFIX_UNSUPPORTED), ("HL0:ABC", FailureCode.PREFIX_UNSUPPORTED),
                       ("ABC", FailureCode.PREFIX_MISSING), ("hc1:ABC", FailureCode.PREFIX_UNSUPPORTED),
                       ("", FailureCode.PREFIX_MISSING)]:
        with pytest.raises(DecodeError) as info:
            prefix.strip(text)
        assert info.value.code == code, text


@given(st.binary(max_size=2000))
def test_compression_round_trip(data: bytes) -> None:
    """zlib round trip."""
    assert compression.decompress(compression.compress(data)) == data


def test_decompression_requires_zlib() -> None:
    """Uncompressed COSE is refused (zlib is mandatory)."""
    with pytest.raises(DecodeError) as info:
        compression.decompress(b"\xd2\x84\x43\xa1\x01\x26")
    assert info.value.code == FailureCode.NOT_COMPRESSED


def test_decompression_detects_corruption_and_truncation() -> None:
    """A corrupt or truncated stream is DECOMPRESSION_FAILED."""
    packed = compression.compress(b"x" * 1000 + bytes(range(256)))
    for bad in (packed[:-6], packed[:2] + b"\xff" * 10):
        with pytest.raises(DecodeError) as info:
            compression.decompress(bad)
        assert info.value.code == FailureCode.DECOMPRESSION_FAILED


def test_decompression_bomb_is_capped() -> None:
    """Output beyond the cap is refused without inflating everything."""
    bomb = compression.compress(b"\0" * (10 * 1024 * 1024))
    with pytest.raises(DecodeError) as info:
        compression.decompress(bomb)
    assert info.value.code == FailureCode.DECOMPRESSED_TOO_LARGE


def test_cbor_depth_cap() -> None:
    """Deeply nested CBOR is refused cheaply."""
    with pytest.raises(DecodeError) as info:
        cbor.loads(b"\x81" * 5000 + b"\x00")
    assert info.value.code == FailureCode.CBOR_TOO_DEEP


def test_cbor_duplicate_keys_refused() -> None:
    """A map with a repeated key is malformed (parsers must not disagree on which counts)."""
    with pytest.raises(DecodeError) as info:
        cbor.loads(b"\xa2\x01\x01\x01\x02")
    assert info.value.code == FailureCode.CBOR_INVALID


def test_cwt_round_trip() -> None:
    """Claims encode with integer times and decode back."""
    payload = {"ver": "1.3.0", "dob": "1990", "nam": {"fnt": "NGUYEN"}}
    data = cwt.encode(payload, issuer="VN", issued_at=1_700_000_000, expires_at=1_731_536_000)
    claims = cwt.decode(data)
    assert (claims.issuer, claims.issued_at, claims.expires_at, claims.payload) == (
        "VN", 1_700_000_000, 1_731_536_000, payload)
    assert "NGUYEN" not in repr(claims)


def test_cwt_encode_requires_integer_times() -> None:
    """Issuing with non-integer times is a programming error."""
    with pytest.raises(TypeError):
        cwt.encode({}, issuer="VN", issued_at=1.5, expires_at=2)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({1: "VN", 4: 2, -260: {1: {}}}, FailureCode.CWT_TIME_INVALID),
        ({1: "VN", 4: "2", 6: 1, -260: {1: {}}}, FailureCode.CWT_TIME_INVALID),
        ({1: "VN", 4: True, 6: 1, -260: {1: {}}}, FailureCode.CWT_TIME_INVALID),
        ({1: "VN", 4: 2, 6: 1}, FailureCode.PAYLOAD_MISSING),
        ({1: "VN", 4: 2, 6: 1, -260: {1: [1]}}, FailureCode.CWT_INVALID),
        ({1: 7, 4: 2, 6: 1, -260: {1: {}}}, FailureCode.CWT_INVALID),
        ([1, 2], FailureCode.CWT_INVALID),
        ({1: "VN", 4: 2, 6: 1, -260: {1: {1: "x"}}}, FailureCode.CWT_INVALID),
        ({1: "VN", 4: 2, 6: 1, -260: {1: {"x": b"bytes"}}}, FailureCode.CWT_INVALID),
    ],
    ids=["no-iat", "text-exp", "bool-exp", "no-hcert", "payload-array", "iss-int", "not-map", "int-key", "bytes-value"],
)
def test_cwt_rejects_bad_structure(claims: object, code: FailureCode) -> None:
    """Malformed claims are refused with a specific code."""
    with pytest.raises(DecodeError) as info:
        cwt.decode(cbor.dumps(claims))
    assert info.value.code == code


def test_cwt_accepts_float_numeric_dates() -> None:
    """RFC 8392 NumericDate may be a float; reading accepts finite floats."""
    claims = cwt.decode(cbor.dumps({1: "ES", 4: 2.5, 6: 1.25, -260: {1: {}}}))
    assert (claims.issued_at, claims.expires_at) == (1.25, 2.5)


@given(st.binary(max_size=70000), st.binary(max_size=300))
def test_sig_structure_matches_cbor2(payload: bytes, protected: bytes) -> None:
    """The hand-written Sig_structure is exactly cbor2's encoding of the array."""
    import cbor2

    from vaxcert.stages import cose

    assert cose.sig_structure(protected, payload) == cbor2.dumps(["Signature1", protected, b"", payload])
