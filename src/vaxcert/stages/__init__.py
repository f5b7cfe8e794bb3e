"""The encoding stages of the HC1 pipeline: pure functions, no I/O, no clock reads.

Each stage is a pair (encode, decode).  Decoders raise :class:`vaxcert.errors.DecodeError`
with a failure code and their stage; they never raise anything else for bad input.

    payload ──cwt──► claims CBOR ──cose──► COSE_Sign1 ──compression──► zlib ──base45──► text ──prefix──► HC1:
"""

from . import base45, cbor, compression, cose, cwt, hc1, prefix

__all__ = ["base45", "cbor", "compression", "cose", "cwt", "hc1", "prefix"]
