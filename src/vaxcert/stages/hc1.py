"""The whole HC1 envelope at once: COSE_Sign1 bytes ⇄ ``HC1:`` text (zlib, Base45, prefix).

The one place the stages are chained for callers that want a COSE message from HC1 text (or
back): the issuer, the verifier, cards, revocation and the vector runner.  :func:`unwrap` keeps
each intermediate artefact, so a caller can compare them with a test vector's fields.  Decoders
raise :class:`~vaxcert.errors.DecodeError` with the failing stage's code, never anything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from . import base45, compression, cose, prefix
from .cose import CoseSign1
from .cwt import Claims
from .cwt import decode as decode_claims

__all__ = ["Unwrapped", "read_unverified", "unwrap", "unwrap_python", "wrap", "wrap_many"]


class Unwrapped(NamedTuple):
    """The artefacts of one unwrap: Base45 text, zlib data, COSE bytes and the parsed message."""

    base45: str
    compressed: bytes
    cose: bytes
    message: CoseSign1

    def __repr__(self) -> str:
        return "Unwrapped(<redacted>)"


_tuple_new = tuple.__new__

try:
    from ._speedups import hc1_unwrap as _compiled_unwrap
except ImportError:  # not built, or built without zlib: the stages below (scripts/build_speedups.py)
    _compiled_unwrap = None  # type: ignore[assignment]


def wrap(message: bytes) -> str:
    """``HC1:`` + Base45(zlib(COSE_Sign1 bytes)).

    The zlib stream is :func:`vaxcert.stages.compression.pack`'s: header ``78 DA``, then the
    shorter of a fast deflate and stored blocks.
    """
    return prefix.add(base45.encode(compression.pack(message)))


def wrap_many(messages: Sequence[bytes]) -> list[str]:
    """``[wrap(m) for m in messages]``, with Base45 run once over the whole list (batch issuance)."""
    return [prefix.add(text) for text in base45.encode_many([compression.pack(m) for m in messages])]


def unwrap(text: str) -> Unwrapped:
    """Strip the prefix, decode Base45, decompress (bounded) and parse the COSE_Sign1 structure.

    Nothing is verified: the signature is the verifier's business (:mod:`vaxcert.verifier`).
    The usual certificate is unwrapped in one C call when the compiled shortcuts are built
    (:func:`unwrap_python`, the reference, otherwise and for everything they decline).
    """
    if _compiled_unwrap is not None:
        parts = _compiled_unwrap(text, compression.MAX_DECOMPRESSED)
        if parts is not None:
            body, compressed, message_bytes, protected, payload, signature = parts
            message = cose.from_usual_layout(protected, payload, signature)
            return _tuple_new(Unwrapped, (body, compressed, message_bytes, message))
    return unwrap_python(text)


def unwrap_python(text: str) -> Unwrapped:
    """:func:`unwrap` stage by stage in Python (the reference the compiled shortcut is tested against)."""
    body = prefix.strip(text)
    compressed = base45.decode(body)
    message_bytes = compression.decompress(compressed)
    # tuple.__new__ directly: a NamedTuple's generated __new__ costs 0.4 µs on every verification
    return _tuple_new(Unwrapped, (body, compressed, message_bytes, cose.decode(message_bytes)))


def read_unverified(text: str) -> tuple[CoseSign1, Claims]:
    """The COSE message and CWT claims of HC1 text, *without checking the signature*.

    For a certificate one already holds (printing a card, listing it for revocation); use the
    verifier to know whether it is authentic.
    """
    message = unwrap(text).message
    return message, decode_claims(message.payload)
