"""The zlib stage (zlib-ng).  Decompression is required and bounded.

vaxcert writes the standard zlib stream every DCC verifier reads: RFC 1950 framing with a
32 KiB window at maximum compression, so every certificate starts with the header ``78 DA``.
The eHN reference verifiers, PathCheck's SDK, the DGCA apps and the Corona-Warn-App inflate
only when the first byte is ``0x78`` (a 32 KiB window); a smaller window (``18 D3`` for a
512-byte window) is valid zlib but those verifiers read it as uncompressed COSE and fail.

Reading is liberal about the header (any valid zlib header: the content is protected by the
signature, not by the framing) and strict about the end: bytes after the end of the zlib
stream are refused, because nothing signs them and two verifiers could read them differently.
"""

from __future__ import annotations

import struct
import zlib

from zlib_ng import zlib_ng

from ..codes import FailureCode, Stage
from ..errors import DecodeError

__all__ = ["HEADER", "MAX_DECOMPRESSED", "WINDOW_BITS", "compress", "decompress", "looks_compressed", "pack", "store"]

#: The largest COSE message accepted after decompression (QR codes hold < 3 KiB).
MAX_DECOMPRESSED = 64 * 1024
#: The window every verifier expects (32 KiB): the header's first byte is then 0x78.
WINDOW_BITS = 15
#: The first two bytes of what :func:`compress` writes at level 9.
HEADER = b"\x78\xda"


def compress(data: bytes, level: int = 9) -> bytes:
    """Compress with zlib: RFC 1950 framing, 32 KiB window, maximum compression by default.

    At level 9 the stream starts with ``78 DA``; other levels give ``78 01`` / ``78 5E`` /
    ``78 9C``.  The window must stay at 32 KiB whatever the input size (see the module note).
    """
    return zlib_ng.compress(data, level, WINDOW_BITS)


#: The largest stored block deflate allows (RFC 1951, section 3.2.4: LEN is 16 bits).
_STORED_MAX = 0xFFFF


def store(data: bytes) -> bytes:
    """The zlib stream of ``data`` in stored deflate blocks: header ``78 DA``, blocks, Adler-32.

    This is what zlib itself writes at level 9 when deflate cannot make the data shorter.
    Every inflater reads stored blocks: they are the part of RFC 1951 every decoder implements
    first.  :func:`pack` uses it when compressing would not save a byte.
    """
    size = len(data)
    if size <= _STORED_MAX:  # one final block: BFINAL=1, BTYPE=00, LEN, NLEN
        return b"".join((HEADER, struct.pack("<BHH", 1, size, size ^ 0xFFFF), data,
                         struct.pack(">I", zlib.adler32(data))))  # fmt: skip
    parts = [HEADER]
    view = memoryview(data)
    for start in range(0, size, _STORED_MAX):
        block = view[start : start + _STORED_MAX]
        final = 1 if start + _STORED_MAX >= size else 0
        parts.append(struct.pack("<BHH", final, len(block), len(block) ^ 0xFFFF))
        parts.append(block.tobytes())
    parts.append(struct.pack(">I", zlib.adler32(data)))
    return b"".join(parts)


def pack(data: bytes) -> bytes:
    """The shortest of a fast deflate and stored blocks, framed ``78 DA``: what HC1 text holds.

    A signed DCC (300-600 bytes: a signature, a kid, a random UVCI, short texts) barely
    compresses, yet a few bytes matter: each byte is 1.5 Base45 characters in the QR code, and
    a denser code is harder to scan on a cheap phone.  Full deflate (level 9) costs about one
    ES256 signature on such input, mostly setting up its state; zlib-ng's level 1
    (``deflate_quick``, static Huffman codes) costs about a quarter of that and comes within
    0.3 % of level 9 in size over the published and vaxcert's own certificates, and stored
    blocks win where even that does not shorten the data (measured in
    ``benchmarks/bench_pipeline.py`` and ``tests/test_stages.py``).

    The header is always ``78 DA`` (32 KiB window): the start every issuer writes and every
    verifier inflates.  Its level bits are informational only (RFC 1950, section 2.2: "not
    needed for decompression"), so the same header fronts either body.
    """
    deflated = zlib_ng.compress(data, 1, WINDOW_BITS)
    if len(deflated) < len(data) + 11:  # a stored stream: 2 header + 5 block + data + 4 Adler-32
        return HEADER + deflated[2:]
    return store(data)


def looks_compressed(data: bytes) -> bool:
    """True when ``data`` starts with a valid zlib header (deflate method, checksum ok)."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and data[0] >> 4 <= 7 and (data[0] << 8 | data[1]) % 31 == 0


def decompress(data: bytes, max_size: int = MAX_DECOMPRESSED) -> bytes:
    """Decompress a complete zlib stream of at most ``max_size`` bytes of output."""
    if not looks_compressed(data):
        raise DecodeError(FailureCode.NOT_COMPRESSED, Stage.COMPRESSION, "data is not zlib-compressed")
    d = zlib_ng.decompressobj()
    try:
        out = d.decompress(data, max_size)
    except zlib_ng.error:  # type: ignore[misc]  # zlib_ng.error is zlib.error, untyped in stubs
        raise DecodeError(FailureCode.DECOMPRESSION_FAILED, Stage.COMPRESSION, "corrupt zlib stream") from None
    if d.unconsumed_tail:
        raise DecodeError(
            FailureCode.DECOMPRESSED_TOO_LARGE, Stage.COMPRESSION, f"decompresses to more than {max_size} bytes"
        )
    if not d.eof:
        raise DecodeError(FailureCode.DECOMPRESSION_FAILED, Stage.COMPRESSION, "truncated zlib stream")
    if d.unused_data:
        raise DecodeError(
            FailureCode.COMPRESSED_TRAILING_DATA, Stage.COMPRESSION, "bytes after the end of the zlib stream"
        )
    return out
