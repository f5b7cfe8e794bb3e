"""Hypothesis strategies for hostile CBOR, COSE and HC1 input (shared by tests/test_fuzz.py and fuzz/).

Raw CBOR is built byte by byte (not through cbor2's encoder), so the strategies reach what an
encoder never writes: indefinite lengths, truncated items, every semantic tag with content of
the wrong type, duplicate keys of any type, bignums past 4,300 digits, shared references.
"""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import strategies as st

#: Semantic tags cbor2 knows, and a few framing tags of COSE / CWT.
TAGS = (0, 1, 2, 3, 4, 5, 18, 21, 22, 23, 24, 25, 28, 29, 30, 32, 33, 34, 35, 36, 37, 38, 52, 54, 61, 98,
        256, 258, 260, 261, 262, 263, 270, 1004, 55799)  # fmt: skip


def head(major: int, n: int) -> bytes:
    """The CBOR head of major type ``major`` with argument ``n``."""
    if n < 24:
        return bytes([major << 5 | n])
    if n < 0x100:
        return bytes([major << 5 | 24, n])
    if n < 0x10000:
        return bytes([major << 5 | 25]) + struct.pack(">H", n)
    if n < 0x1_0000_0000:
        return bytes([major << 5 | 26]) + struct.pack(">I", n)
    return bytes([major << 5 | 27]) + struct.pack(">Q", n)


_ints = st.sampled_from([0, 1, 23, 24, 255, 256, 2**31, 2**32, 2**63, 2**64 - 1]) | st.integers(0, 2**64 - 1)
_texts = st.sampled_from(["", "a", "2021-01-01T00:00:00Z", "1999-99-99", "(?P<", "127.0.0.1", "1e9999",
                          "Content-Type: text/plain\n\nx", "VN", "ES256"])  # fmt: skip
_specials = st.sampled_from([b"\xf4", b"\xf5", b"\xf6", b"\xf7", b"\xf0", b"\xff", b"\x1f", b"\xf8\x10",
                             b"\x5f\x41a\xff", b"\x7f\x61a\xff", b"\x9f\x01\xff", b"\xbf\x01\x02\xff"])  # fmt: skip

_scalar: st.SearchStrategy[bytes] = st.one_of(
    _ints.map(lambda n: head(0, n)),
    _ints.map(lambda n: head(1, n)),
    st.binary(max_size=24).map(lambda b: head(2, len(b)) + b),
    _texts.map(lambda s: head(3, len(s.encode())) + s.encode()),
    _specials,
    st.binary(min_size=2, max_size=2).map(lambda b: b"\xf9" + b),
    st.binary(min_size=8, max_size=8).map(lambda b: b"\xfb" + b),
    # bignums past 4,300 decimal digits: cbor2 cannot print them (issue 10, item 13)
    st.sampled_from([1800, 2000, 3000]).flatmap(
        lambda n: st.sampled_from([2, 3]).map(lambda tag: head(6, tag) + head(2, n) + b"\xff" * n)),
    st.just(bytes.fromhex("d81c81d81d00")),  # a list holding itself (shared references)
)


def _compound(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.lists(children, max_size=4).map(lambda xs: head(4, len(xs)) + b"".join(xs)),
        st.lists(st.tuples(children, children), max_size=3).map(
            lambda kvs: head(5, len(kvs)) + b"".join(k + v for k, v in kvs)),
        st.tuples(children, children, children).map(lambda t: head(5, 2) + t[0] + t[1] + t[0] + t[2]),  # dup key
        st.tuples(st.sampled_from(TAGS) | st.integers(0, 2**16), children).map(lambda t: head(6, t[0]) + t[1]),
    )


#: Raw CBOR items (possibly malformed), up to a few levels deep.
cbor_bytes: st.SearchStrategy[bytes] = st.recursive(_scalar, _compound, max_leaves=12)


@st.composite
def truncated(draw: Any, inner: st.SearchStrategy[bytes]) -> bytes:
    """An item, sometimes cut short or followed by garbage."""
    data: bytes = draw(inner)
    action = draw(st.sampled_from(["keep", "keep", "cut", "append"]))
    if action == "cut" and data:
        return data[: draw(st.integers(0, len(data) - 1))]
    if action == "append":
        return data + draw(st.binary(min_size=1, max_size=4))
    return data


@st.composite
def cose_shells(draw: Any, kid: bytes) -> bytes:
    """COSE_Sign1 messages whose parts are hostile CBOR, with a real-looking header."""
    protected = draw(st.sampled_from([head(5, 2) + b"\x01\x26\x04" + head(2, 8) + kid,
                                      head(2, 0), b"", head(5, 1) + b"\x01" + draw(cbor_bytes)]))
    prot = head(2, len(protected)) + protected
    unprotected = draw(st.sampled_from([b"\xa0", head(5, 1) + b"\x04" + head(2, 8) + kid])
                       | cbor_bytes)  # fmt: skip
    payload_item = draw(cbor_bytes)
    payload = head(2, len(payload_item)) + payload_item
    signature = head(2, 64) + b"\0" * 64
    return bytes([0xD2, 0x84]) + prot + unprotected + payload + signature
