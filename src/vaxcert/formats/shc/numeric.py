"""The QR stage of SMART Health Cards: ``shc:/`` + two digits per JWS character, and chunks.

Each character ``c`` of the JWS becomes the two decimal digits of ``ord(c) - 45`` (``-`` is
``00``, ``z`` is ``77``).  A JWS too long for one QR code was split into chunks
``shc:/C/N/<digits>`` (chunk C of N; deprecated since December 2022, still read here): the
chunks may be scanned in any order, all must be present and agree on N.

Pure functions; decoders raise :class:`vaxcert.errors.DecodeError` for bad input and never
echo it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import numpy as np

from ...codes import FailureCode, Stage
from ...errors import DecodeError

__all__ = [
    "MAX_CHUNKS",
    "MAX_QR_CHARS",
    "PREFIX",
    "Chunk",
    "ChunkCollector",
    "assemble",
    "decode_digits",
    "encode",
    "encode_chunks",
    "encode_digits",
    "parse",
]

PREFIX: Final = "shc:/"
#: A version-40 QR code holds at most 7,089 digits; allow the prefix and some slack.
MAX_QR_CHARS: Final = 8192
#: At most this many chunks make one card (the spec's chunks hold <= 1,191 JWS characters).
MAX_CHUNKS: Final = 16
#: The largest value of a digit pair: ``ord("z") - 45``.
MAX_PAIR: Final = 77

_CHUNK_HEADER = re.compile(r"([1-9][0-9]{0,3})/([1-9][0-9]{0,3})/")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One scanned ``shc:/`` code: chunk ``index`` of ``total`` (1 of 1 when not chunked)."""

    index: int
    total: int
    digits: str

    def __repr__(self) -> str:
        return f"Chunk({self.index}/{self.total}, <redacted>)"


def encode_digits(jws: str) -> str:
    """The numeric encoding of a JWS (two digits per character)."""
    data = np.frombuffer(jws.encode("ascii"), dtype=np.uint8).astype(np.int16) - 45
    if data.size and (data.min() < 0 or data.max() > MAX_PAIR):
        raise ValueError("a JWS holds only characters from '-' to 'z'")
    pairs = np.empty((data.size, 2), dtype=np.uint8)
    pairs[:, 0] = data // 10 + 48
    pairs[:, 1] = data % 10 + 48
    return pairs.tobytes().decode("ascii")


def decode_digits(digits: str) -> str:
    """The JWS text of a numeric segment.  Raises ``SHC_NUMERIC_INVALID`` (stage ``numeric``)."""
    try:
        raw = digits.encode("ascii")
    except UnicodeEncodeError:
        raise DecodeError(FailureCode.SHC_NUMERIC_INVALID, Stage.NUMERIC, "non-digit characters") from None
    if not raw:
        raise DecodeError(FailureCode.SHC_NUMERIC_INVALID, Stage.NUMERIC, "no digits after the prefix")
    if not raw.isdigit():
        raise DecodeError(FailureCode.SHC_NUMERIC_INVALID, Stage.NUMERIC, "non-digit characters")
    if len(raw) % 2:
        raise DecodeError(FailureCode.SHC_NUMERIC_INVALID, Stage.NUMERIC, "odd number of digits")
    values = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 2) - 48
    chars = values[:, 0] * 10 + values[:, 1]
    if int(chars.max()) > MAX_PAIR:
        raise DecodeError(FailureCode.SHC_NUMERIC_INVALID, Stage.NUMERIC, f"digit pair above {MAX_PAIR}")
    return (chars + 45).astype(np.uint8).tobytes().decode("ascii")


def parse(text: str) -> Chunk:
    """Split one scanned ``shc:/`` text into its chunk header and digits (digits not yet checked).

    The prefix is matched case-insensitively (a URI scheme); ``shc:/C/N/`` gives chunk C of N.
    """
    if len(text) > MAX_QR_CHARS:
        raise DecodeError(FailureCode.INPUT_TOO_LARGE, Stage.INPUT, f"QR text longer than {MAX_QR_CHARS}")
    if text[: len(PREFIX)].lower() != PREFIX:
        raise DecodeError(FailureCode.PREFIX_MISSING, Stage.PREFIX, "no shc:/ prefix")
    rest = text[len(PREFIX) :]
    match = _CHUNK_HEADER.match(rest)
    if match is None:
        if "/" in rest:
            raise DecodeError(FailureCode.SHC_CHUNK_INVALID, Stage.PREFIX, "malformed chunk header")
        return Chunk(1, 1, rest)
    index, total = int(match.group(1)), int(match.group(2))
    if total > MAX_CHUNKS:
        raise DecodeError(FailureCode.SHC_CHUNK_INVALID, Stage.PREFIX, f"more than {MAX_CHUNKS} chunks")
    if index > total:
        raise DecodeError(FailureCode.SHC_CHUNK_INVALID, Stage.PREFIX, "chunk number above the chunk count")
    return Chunk(index, total, rest[match.end() :])


class ChunkCollector:
    """Collects the chunks of one card as they are scanned, in any order.

    ``add`` accepts a ``shc:/`` text; the same chunk scanned twice is ignored, a different chunk
    with the same number or a different chunk count raises ``SHC_CHUNK_INVALID``.  ``complete``
    tells when every chunk is there, ``missing`` which numbers are not, and ``jws()`` joins them.
    """

    def __init__(self) -> None:
        self._total: int | None = None
        self._chunks: dict[int, str] = {}

    def add(self, text: str) -> Chunk:
        """Add one scanned code; returns its parsed :class:`Chunk`."""
        chunk = parse(text)
        if self._total is not None and chunk.total != self._total:
            raise DecodeError(FailureCode.SHC_CHUNK_INVALID, Stage.PREFIX, "chunks disagree on the chunk count")
        known = self._chunks.get(chunk.index)
        if known is not None and known != chunk.digits:
            raise DecodeError(FailureCode.SHC_CHUNK_INVALID, Stage.PREFIX, "two different codes for one chunk")
        self._total = chunk.total
        self._chunks[chunk.index] = chunk.digits
        return chunk

    @property
    def total(self) -> int | None:
        """The chunk count the scanned codes announce (None before the first)."""
        return self._total

    @property
    def missing(self) -> tuple[int, ...]:
        """Chunk numbers not scanned yet."""
        if self._total is None:
            return ()
        return tuple(i for i in range(1, self._total + 1) if i not in self._chunks)

    @property
    def complete(self) -> bool:
        """True when every chunk is present."""
        return self._total is not None and not self.missing

    def jws(self) -> str:
        """The JWS of the complete card (raises ``SHC_CHUNKS_INCOMPLETE`` if chunks are missing)."""
        if not self.complete:
            raise DecodeError(FailureCode.SHC_CHUNKS_INCOMPLETE, Stage.PREFIX, "not every chunk is present")
        assert self._total is not None
        return "".join(decode_digits(self._chunks[i]) for i in range(1, self._total + 1))

    def __repr__(self) -> str:
        return f"ChunkCollector(total={self._total}, have={sorted(self._chunks)})"


def assemble(texts: Iterable[str]) -> str:
    """The JWS of one card from its scanned ``shc:/`` text(s), chunks in any order."""
    collector = ChunkCollector()
    count = 0
    for text in texts:
        count += 1
        if count > MAX_CHUNKS:
            raise DecodeError(FailureCode.SHC_CHUNK_INVALID, Stage.PREFIX, f"more than {MAX_CHUNKS} codes")
        collector.add(text)
    if count == 0:
        raise DecodeError(FailureCode.PREFIX_MISSING, Stage.PREFIX, "no shc:/ text")
    return collector.jws()


def encode(jws: str) -> str:
    """One ``shc:/`` QR text for a JWS (the spec asks for at most 1,195 JWS characters per code)."""
    return PREFIX + encode_digits(jws)


def encode_chunks(jws: str, count: int) -> list[str]:
    """The deprecated chunked form: ``count`` balanced chunks ``shc:/C/N/...`` (C = 1..N)."""
    if not 1 <= count <= MAX_CHUNKS or count > max(1, len(jws)):
        raise ValueError(f"chunk count must be 1..{MAX_CHUNKS} and at most the JWS length")
    if count == 1:
        return [encode(jws)]
    size, extra = divmod(len(jws), count)
    out = []
    start = 0
    for index in range(1, count + 1):
        end = start + size + (1 if index <= extra else 0)
        out.append(f"{PREFIX}{index}/{count}/{encode_digits(jws[start:end])}")
        start = end
    return out

