"""SHC stages on their own: numeric encoding and chunks, compact JWS, raw DEFLATE, bounded JSON."""

from __future__ import annotations

import itertools
import json
import zlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from shc_support import EXAMPLE_KID, card, example_key, new_issuer, sign
from vaxcert import DecodeError, FailureCode, Stage
from vaxcert.formats.shc import ChunkCollector, numeric
from vaxcert.formats.shc import jws as jws_stage

DUPLICATE_ALG = jws_stage.b64url_encode(b'{"alg":1,"alg":2}')
JWS_ALPHABET = st.text(alphabet="".join(chr(c) for c in range(45, 123)), max_size=300)


def _code(call: Any, *args: Any) -> tuple[FailureCode, Stage]:
    with pytest.raises(DecodeError) as info:
        call(*args)
    return info.value.code, info.value.stage


# -- numeric ---------------------------------------------------------------------------------------


def test_numeric_examples_from_the_spec() -> None:
    """'X' is 43 (ord 88 - 45); '-' is 00 and 'z' is 77; a JWS header starts 56762909 ('eyJ6')."""
    assert numeric.encode_digits("X") == "43"
    assert numeric.encode_digits("-z") == "0077"
    assert numeric.decode_digits("56762909") == "eyJ6"
    assert numeric.encode("eyJ6") == "shc:/56762909"


@settings(max_examples=200, deadline=None)
@given(JWS_ALPHABET.filter(bool))
def test_numeric_round_trip(text: str) -> None:
    """Every string of JWS-range characters survives encoding and decoding."""
    digits = numeric.encode_digits(text)
    assert len(digits) == 2 * len(text) and digits.isdigit()
    assert numeric.decode_digits(digits) == text


def test_numeric_refusals() -> None:
    """Odd counts, non-digits, pairs above 77 and nothing at all are SHC_NUMERIC_INVALID."""
    for digits in ("567", "56a6", "5678", "56 76", "", "５６", "99", "²²", "٣٣", "①②"):
        assert _code(numeric.decode_digits, digits) == (FailureCode.SHC_NUMERIC_INVALID, Stage.NUMERIC), digits
    assert numeric.decode_digits("77") == "z"
    with pytest.raises(ValueError, match="from '-' to 'z'"):
        numeric.encode_digits("a b")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("shc:/5676", (1, 1, "5676")),
        ("SHC:/5676", (1, 1, "5676")),
        ("shc:/2/3/5676", (2, 3, "5676")),
        ("shc:/16/16/56", (16, 16, "56")),
        ("shc:/1/1/56", (1, 1, "56")),
    ],
)
def test_chunk_headers(text: str, expected: tuple[int, int, str]) -> None:
    """The prefix is case-insensitive; an optional C/N/ header names the chunk."""
    chunk = numeric.parse(text)
    assert (chunk.index, chunk.total, chunk.digits) == expected
    assert "5676" not in repr(chunk)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("shc:5676", FailureCode.PREFIX_MISSING),
        ("HC1:5676", FailureCode.PREFIX_MISSING),
        ("shc:/0/3/56", FailureCode.SHC_CHUNK_INVALID),
        ("shc:/4/3/56", FailureCode.SHC_CHUNK_INVALID),
        ("shc:/1/17/56", FailureCode.SHC_CHUNK_INVALID),
        ("shc:/01/03/56", FailureCode.SHC_CHUNK_INVALID),
        ("shc:/1/3", FailureCode.SHC_CHUNK_INVALID),
        ("shc:/1//56", FailureCode.SHC_CHUNK_INVALID),
        ("shc:/" + "5" * numeric.MAX_QR_CHARS, FailureCode.INPUT_TOO_LARGE),
    ],
)
def test_chunk_header_refusals(text: str, code: FailureCode) -> None:
    """Malformed prefixes and chunk headers are refused by code."""
    assert _code(numeric.parse, text)[0] == code


def test_chunks_balanced_and_reassembled() -> None:
    """Chunks are balanced (a 1,200-character JWS gives two of 600) and reassemble in any order."""
    jws = "".join(chr(45 + i % 78) for i in range(1200))
    chunks = numeric.encode_chunks(jws, 2)
    assert [len(numeric.parse(c).digits) for c in chunks] == [1200, 1200]
    for count in range(1, 6):
        for order in itertools.permutations(numeric.encode_chunks(jws, count)):
            assert numeric.assemble(order) == jws
    with pytest.raises(ValueError, match="chunk count"):
        numeric.encode_chunks(jws, 17)


def test_chunk_collector() -> None:
    """The collector reports progress, ignores repeats and refuses conflicts."""
    chunks = numeric.encode_chunks("eyJhbGciOiJFUzI1NiJ9.payload.signature", 3)
    collector = ChunkCollector()
    assert (collector.total, collector.missing, collector.complete) == (None, (), False)
    collector.add(chunks[2])
    assert (collector.total, collector.missing) == (3, (1, 2))
    assert _code(collector.jws) == (FailureCode.SHC_CHUNKS_INCOMPLETE, Stage.PREFIX)
    collector.add(chunks[2])
    collector.add(chunks[0])
    assert _code(collector.add, numeric.encode_chunks("abc", 2)[0])[0] == FailureCode.SHC_CHUNK_INVALID
    assert _code(collector.add, chunks[0][:-2] + "01")[0] == FailureCode.SHC_CHUNK_INVALID
    collector.add(chunks[1])
    assert collector.complete and collector.jws() == "eyJhbGciOiJFUzI1NiJ9.payload.signature"
    assert "eyJ" not in repr(collector)
    assert _code(numeric.assemble, [chunks[0]] * 17)[0] == FailureCode.SHC_CHUNK_INVALID


# -- JWS ------------------------------------------------------------------------------------------


def test_parse_a_card() -> None:
    """A card parses into header, kid, signing input, compressed payload and 64-byte signature."""
    text = card()
    parsed = jws_stage.parse(text)
    assert parsed.header == {"zip": "DEF", "alg": "ES256", "kid": EXAMPLE_KID}
    assert parsed.kid == EXAMPLE_KID
    assert parsed.signing_input == text.rsplit(".", 1)[0].encode()
    assert len(parsed.signature) == 64
    assert json.loads(jws_stage.inflate(parsed.payload))["vc"]["type"][0].endswith("#health-card")
    assert jws_stage.verify_signature(parsed, example_key().public_key())
    assert not jws_stage.verify_signature(parsed, new_issuer()[0].public_key())
    assert not jws_stage.verify_signature(parsed, ec.generate_private_key(ec.SECP384R1()).public_key())
    assert repr(parsed) == "CompactJws(<redacted>)"
    assert jws_stage.peek_kid(text) == EXAMPLE_KID
    assert jws_stage.peek_kid("!!.x.y") is None


@pytest.mark.parametrize(
    "mutate",
    [
        lambda h, p, s: f"{h}.{p}",
        lambda h, p, s: f"{h}.{p}.{s}.{s}",
        lambda h, p, s: f"{h}=.{p}.{s}",
        lambda h, p, s: f"{h}.{p.replace('-', '+')}+.{s}",
        lambda h, p, s: f"{h}.{p}.{s}/",
        lambda h, p, s: f"{h}.{p} .{s}",
        lambda h, p, s: f"{h}.{p}.{s}AAA",  # 89 characters: length % 4 == 1
        lambda h, p, s: f"{jws_stage.b64url_encode(b'[1]')}.{p}.{s}",
        lambda h, p, s: f"{jws_stage.b64url_encode(b'{')}.{p}.{s}",
        lambda h, p, s: f"{DUPLICATE_ALG}.{p}.{s}",
        lambda h, p, s: f"{'A' * (jws_stage.MAX_HEADER_CHARS + 4)}.{p}.{s}",
    ],
)
def test_jws_structure_refusals(mutate: Any) -> None:
    """Anything but three strict base64url parts with a JSON-object header is JWS_INVALID."""
    header, payload, signature = card().split(".")
    assert _code(jws_stage.parse, mutate(header, payload, signature)) == (FailureCode.JWS_INVALID, Stage.JWS)


def test_signature_encodings() -> None:
    """DER signatures are recognised as such; other lengths are malformed."""
    der = sign({"iss": "x"}, der=True)
    assert jws_stage.is_der_signature(jws_stage.b64url_decode(der.rsplit(".", 1)[1]))
    assert _code(jws_stage.parse, der) == (FailureCode.SIGNATURE_DER_ENCODED, Stage.SIGNATURE)
    head = card().rsplit(".", 1)[0]
    for size in (0, 63, 65, 72, 128):
        text = f"{head}.{jws_stage.b64url_encode(bytes([0x31]) * size)}"
        assert _code(jws_stage.parse, text) == (FailureCode.SIGNATURE_MALFORMED, Stage.SIGNATURE), size
    assert not jws_stage.is_der_signature(bytes(64))
    assert not jws_stage.is_der_signature(b"\x30\x06\x02\x01\x01\x02\x01")


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=200))
def test_der_detection_matches_real_signatures(message: bytes) -> None:
    """Every ECDSA P-256 DER signature is detected as DER; its raw form never is."""
    key = example_key()
    der = key.sign(message, ec.ECDSA(hashes.SHA256()))
    assert jws_stage.is_der_signature(der)


def test_inflate() -> None:
    """Raw DEFLATE only: zlib framing, trailing bytes, truncation and bombs are refused."""
    data = b'{"iss":"https://example.org"}' * 10
    assert jws_stage.inflate(jws_stage.deflate(data)) == data
    assert jws_stage.inflate(jws_stage.deflate(b"")) == b""
    assert _code(jws_stage.inflate, zlib.compress(data))[0] == FailureCode.DECOMPRESSION_FAILED
    assert _code(jws_stage.inflate, jws_stage.deflate(data) + b"x")[0] == FailureCode.DECOMPRESSION_FAILED
    assert _code(jws_stage.inflate, jws_stage.deflate(data)[:-2])[0] == FailureCode.DECOMPRESSION_FAILED
    assert _code(jws_stage.inflate, b"")[0] == FailureCode.DECOMPRESSION_FAILED
    bomb = jws_stage.deflate(bytes(10 * 1024 * 1024))
    assert len(bomb) < 20_000
    assert _code(jws_stage.inflate, bomb) == (FailureCode.DECOMPRESSED_TOO_LARGE, Stage.COMPRESSION)
    exact = jws_stage.deflate(bytes(1000))
    assert jws_stage.inflate(exact, 1000) == bytes(1000)
    assert _code(jws_stage.inflate, exact, 999)[0] == FailureCode.DECOMPRESSED_TOO_LARGE


def test_load_json() -> None:
    """Strict JSON: UTF-8, unique keys, no NaN, bounded depth and integer size."""
    assert jws_stage.load_json(b'{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}
    for data in (b"\xff", b'{"a":1,"a":1}', b"[NaN]", b"[Infinity]", b"[1", b"1" * 5000):
        assert _code(jws_stage.load_json, data) == (FailureCode.JSON_INVALID, Stage.PAYLOAD), data[:10]
    assert jws_stage.load_json("[" * 3 + "]" * 3, max_depth=3) == [[[]]]
    assert _code(lambda: jws_stage.load_json("[" * 4 + "]" * 4, max_depth=3)) == (
        FailureCode.JSON_TOO_DEEP, Stage.PAYLOAD)
    assert _code(jws_stage.load_json, "[" * 200_000 + "]" * 200_000)[0] == FailureCode.JSON_TOO_DEEP


def test_load_json_depth_keyword() -> None:
    """The depth limit is a keyword parameter (callers name it)."""
    with pytest.raises(DecodeError):
        jws_stage.load_json("[[1]]", max_depth=1)


def test_base64url_must_be_canonical() -> None:
    """A signature whose last character differs only in unused bits is refused (one card, one text)."""
    text = card()
    head, signature = text.rsplit(".", 1)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    sibling = alphabet[last ^ 1]  # 86 characters: the last one carries 4 data bits and 2 unused bits
    with pytest.raises(DecodeError, match="not canonical"):
        jws_stage.parse(f"{head}.{signature[:-1]}{sibling}")
    assert _code(jws_stage.b64url_decode, "AB") == (FailureCode.JWS_INVALID, Stage.JWS)
    assert jws_stage.b64url_decode("AA") == b"\x00"


def _tree_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_tree_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_tree_depth(v) for v in value), default=0)
    return 0


json_trees: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ab,: ', max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\k', max_size=4), c, max_size=3),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_trees, st.booleans())
def test_depth_counts_structure_not_strings(value: Any, pretty: bool) -> None:
    """The depth limit counts nesting of arrays and objects, whatever brackets and escapes strings hold."""
    text = json.dumps(value, indent=1 if pretty else None, ensure_ascii=False)
    depth = _tree_depth(value)
    assert jws_stage.load_json(text, max_depth=max(depth, 1)) == value
    if depth >= 1:
        assert _code(lambda: jws_stage.load_json(text, max_depth=depth - 1))[0] == FailureCode.JSON_TOO_DEEP
