"""The zlib stage (zlib-ng).  Decompression is required and bounded."""

from __future__ import annotations

from zlib_ng import zlib_ng

from ..codes import FailureCode, Stage
from ..errors import DecodeError

__all__ = ["MAX_DECOMPRESSED", "compress", "decompress", "looks_compressed"]

#: The largest COSE message accepted after decompression (QR codes hold < 3 KiB).
MAX_DECOMPRESSED = 64 * 1024


def compress(data: bytes, level: int = 9) -> bytes:
    """Compress with zlib (RFC 1950 framing), maximum compression by default.

    The window is the smallest power of two covering the input (at least 512 bytes): the
    output is as small as with the default 32 KiB window, and the compressor sets up less
    memory, which matters for ~400-byte certificates.
    """
    return zlib_ng.compress(data, level, max(9, min(15, len(data).bit_length())))


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
    return out
