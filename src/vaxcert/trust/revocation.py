"""Revocation lists: the three DCC hash types, a compact set for millions of entries, signing.

Hash types (as the EU DCC revocation specification defines them, each truncated to 16 bytes):

* ``UCI``            SHA-256(ci)[:16] — the UVCI exactly as it appears in the payload;
* ``COUNTRYCODEUCI`` SHA-256(co + ci)[:16] — the entry's country code, then the UVCI;
* ``SIGNATURE``      SHA-256(COSE signature)[:16] — for ECDSA only the r half (the first 32
  bytes of the 64-byte r‖s signature), for RSA the whole signature.

Compact form (:class:`HashSet`): each hash is cut to its first :data:`PREFIX_BYTES` = 8 bytes
and kept as a sorted array of unsigned 64-bit integers; a lookup is a binary search
(``bisect`` in C over ``array('Q')``) inside the bucket of its top bits.  That is 8.26 bytes per
entry in memory — 8.3 MB per million (8 MB on the wire) — and a lookup costs about a
microsecond (see benchmarks/bench_revocation.py).  Cutting to 64 bits makes false positives possible but
negligible: with n entries, a certificate that is not revoked matches by chance with
probability n / 2**64 per hash looked up (5.4e-14 for a million entries, 5.4e-13 for ten
million).  Entries can only be added by the ministry's signature, so nobody can aim for one.

Signed list (:class:`RevocationList`, format ``vaxcert.revocation-list/1``, a signed document
as in :mod:`vaxcert.trust.signeddoc`) — body::

    {"country": "VN", "entries": {"UCI": bytes, "COUNTRYCODEUCI": bytes, "SIGNATURE": bytes}}

where each value is the sorted big-endian 8-byte prefixes concatenated.  The list expires
(``exp``); a stale list still reports REVOKED for what it holds, and
REVOCATION_LIST_STALE for anything else, so a checkpoint knows to refresh.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import operator
import sys
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any

import numpy as np
from cryptography import x509

from ..codes import FailureCode
from ..errors import ConfigurationError
from ..pki.certificates import country_of
from ..pki.keys import Signer
from ..stages import cose, hc1
from .signeddoc import DEFAULT_MAX_LIFETIME, DocumentError, SignedDocument, open_document, sign_document

__all__ = [
    "FORMAT",
    "PREFIX_BYTES",
    "HashSet",
    "HashType",
    "RevocationList",
    "RevocationSet",
    "certificate_hashes",
    "country_uci_hash",
    "hc1_hashes",
    "signature_hash",
    "uci_hash",
]

FORMAT = "vaxcert.revocation-list/1"
#: Bytes of each hash kept in the compact set.
PREFIX_BYTES = 8
#: Bytes of the DCC revocation hashes.
DCC_HASH_BYTES = 16


class HashType(StrEnum):
    """The DCC revocation hash types."""

    UCI = "UCI"
    COUNTRYCODEUCI = "COUNTRYCODEUCI"
    SIGNATURE = "SIGNATURE"


def uci_hash(ci: str) -> bytes:
    """SHA-256 of the UVCI (UTF-8), first 16 bytes."""
    return hashlib.sha256(ci.encode("utf-8")).digest()[:DCC_HASH_BYTES]


def country_uci_hash(co: str, ci: str) -> bytes:
    """SHA-256 of the country code followed by the UVCI, first 16 bytes."""
    return hashlib.sha256((co + ci).encode("utf-8")).digest()[:DCC_HASH_BYTES]


def signature_hash(signature: bytes, algorithm: int) -> bytes:
    """SHA-256 of the COSE signature (ES256: only r, the first 32 bytes), first 16 bytes."""
    material = signature[:32] if algorithm == cose.ALG_ES256 else signature
    return hashlib.sha256(material).digest()[:DCC_HASH_BYTES]


def _entry(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for kind in ("v", "t", "r"):
        entries = payload.get(kind)
        if isinstance(entries, list) and entries and isinstance(entries[0], Mapping):
            return entries[0]
    return None


def certificate_hashes(message: cose.CoseSign1, payload: Mapping[str, Any]) -> dict[HashType, bytes]:
    """The revocation hashes of one certificate (UCI ones only when the payload has ci / co)."""
    out = {HashType.SIGNATURE: signature_hash(message.signature, message.algorithm)}
    entry = _entry(payload)
    if entry is not None:
        ci, co = entry.get("ci"), entry.get("co")
        if isinstance(ci, str):
            out[HashType.UCI] = uci_hash(ci)
            if isinstance(co, str):
                out[HashType.COUNTRYCODEUCI] = country_uci_hash(co, ci)
    return out


# ----------------------------------------------------------------------------- compact set


def hc1_hashes(text: str) -> dict[HashType, bytes]:
    """The revocation hashes of a certificate given as HC1 text (its signature is not checked).

    Raises :class:`~vaxcert.errors.DecodeError` when the text is not a readable HC1 certificate.
    """
    message, claims = hc1.read_unverified(text)
    return certificate_hashes(message, claims.payload)


def _prefix_int(digest: bytes) -> int:
    if len(digest) < PREFIX_BYTES:
        raise ConfigurationError(f"a revocation hash needs at least {PREFIX_BYTES} bytes")
    return int.from_bytes(digest[:PREFIX_BYTES], "big")


class HashSet:
    """A sorted set of 64-bit hash prefixes; membership by binary search.  Immutable.

    A bucket index (where each value of the top bits starts: one 4-byte offset per 8 to 16
    entries, at most 2**20 of them) narrows each search to a handful of entries, for at most
    half a byte per entry on top of the 8.
    """

    __slots__ = ("_offsets", "_shift", "_values")

    def __init__(self, values: array[int]) -> None:
        self._values = values
        bits = max(0, min(20, len(values).bit_length() - 4))
        self._shift = 64 - bits
        if bits:
            top = np.frombuffer(values, dtype=np.uint64) >> np.uint64(self._shift)
            bounds = np.searchsorted(top, np.arange(2**bits + 1, dtype=np.uint64), side="left")
        else:
            bounds = np.array([0, len(values)])
        self._offsets: array[int] = array("I", bounds.astype(np.uint32).tolist())

    @classmethod
    def from_hashes(cls, digests: Iterable[bytes]) -> HashSet:
        """Build from hashes of at least 8 bytes (each cut to its first 8)."""
        ints = np.fromiter((_prefix_int(d) for d in digests), dtype=np.uint64)
        return cls._from_numpy(np.unique(ints))

    @classmethod
    def _from_numpy(cls, sorted_unique: np.ndarray[Any, np.dtype[np.uint64]]) -> HashSet:
        values: array[int] = array("Q")
        values.frombytes(sorted_unique.astype(np.uint64).tobytes())
        return cls(values)

    @classmethod
    def from_bytes(cls, data: bytes) -> HashSet:
        """Read the serialized form (sorted big-endian 8-byte values); ValueError if malformed."""
        if len(data) % PREFIX_BYTES:
            raise ValueError("length is not a multiple of 8")
        big = np.frombuffer(data, dtype=">u8")
        if big.size > 1 and not bool(np.all(big[1:] > big[:-1])):
            raise ValueError("values are not strictly increasing")
        return cls._from_numpy(big.astype(np.uint64))

    def to_bytes(self) -> bytes:
        """The serialized form: sorted big-endian 8-byte values, concatenated."""
        out = array("Q", self._values)
        if sys.byteorder == "little":
            out.byteswap()
        return out.tobytes()

    def union(self, other: HashSet) -> HashSet:
        """A set holding the entries of both."""
        merged = np.union1d(np.frombuffer(self._values, dtype=np.uint64), np.frombuffer(other._values, dtype=np.uint64))
        return HashSet._from_numpy(merged)

    def __contains__(self, digest: object) -> bool:
        if not isinstance(digest, bytes) or len(digest) < PREFIX_BYTES:
            return False
        value = int.from_bytes(digest[:PREFIX_BYTES], "big")
        bucket = value >> self._shift
        low, high = self._offsets[bucket], self._offsets[bucket + 1]
        index = bisect.bisect_left(self._values, value, low, high)
        return index < high and self._values[index] == value

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[bytes]:
        for value in self._values:
            yield value.to_bytes(PREFIX_BYTES, "big")

    @property
    def nbytes(self) -> int:
        """Memory held by the entries (8 per entry) and the bucket index."""
        return len(self._values) * self._values.itemsize + len(self._offsets) * self._offsets.itemsize

    def __repr__(self) -> str:
        return f"HashSet({len(self)} entries)"


_EMPTY = HashSet(array("Q"))
#: A set's entries (an array, whose truth is its length) without a Python-level ``__len__`` call.
_ENTRIES = operator.attrgetter("_values")


# ----------------------------------------------------------------------------- lists


class RevocationList:
    """One country's revocation entries with the list's envelope; a RevocationChecker.

    ``expires_at`` None means the list does not expire (an unsigned list being built).
    """

    __slots__ = ("country", "document", "expires_at", "issued_at", "sequence", "sets")

    def __init__(
        self,
        sets: Mapping[HashType, HashSet] | None = None,
        *,
        country: str = "VN",
        issued_at: dt.datetime | None = None,
        expires_at: dt.datetime | None = None,
        sequence: int = 0,
        document: SignedDocument | None = None,
    ) -> None:
        self.sets = {t: (sets or {}).get(t, _EMPTY) for t in HashType}
        self.country = country
        self.issued_at = issued_at
        self.expires_at = expires_at
        self.sequence = sequence
        self.document = document

    # -- checking ---------------------------------------------------------------------------

    def is_revoked(self, hashes: Mapping[HashType, bytes]) -> bool:
        """True if any of a certificate's hashes is in the list of its type."""
        return any(digest in self.sets[kind] for kind, digest in hashes.items())

    def is_stale(self, now: dt.datetime) -> bool:
        """True once ``now`` is past the freshness limit."""
        return self.expires_at is not None and now > self.expires_at

    def has_entries(self) -> bool:
        """True when the list revokes anything (a list of no entries needs no hashes)."""
        return any(map(_ENTRIES, self.sets.values()))  # each set's array of entries (C-level truth test)

    def check(self, message: cose.CoseSign1, payload: Mapping[str, Any], now: dt.datetime) -> FailureCode | None:
        """REVOKED, REVOCATION_LIST_STALE, or None (the RevocationChecker protocol)."""
        if self.has_entries() and self.is_revoked(certificate_hashes(message, payload)):
            return FailureCode.REVOKED
        if self.is_stale(now):
            return FailureCode.REVOCATION_LIST_STALE
        return None

    # -- building ---------------------------------------------------------------------------

    def with_hashes(self, kind: HashType, digests: Iterable[bytes]) -> RevocationList:
        """A new (unsigned) list with more entries of one type."""
        sets = dict(self.sets)
        sets[kind] = sets[kind].union(HashSet.from_hashes(digests))
        return RevocationList(sets, country=self.country, sequence=self.sequence)

    def with_certificate(self, message: cose.CoseSign1, payload: Mapping[str, Any],
                         kinds: Sequence[HashType] = (HashType.UCI,)) -> RevocationList:
        """A new list revoking one certificate by the chosen hash types."""
        hashes = certificate_hashes(message, payload)
        result = self
        for kind in kinds:
            if kind not in hashes:
                raise ConfigurationError(f"the certificate has no {kind} hash (missing ci or co)")
            result = result.with_hashes(kind, [hashes[kind]])
        return result

    def sign(self, signer: Signer, *, now: dt.datetime, valid_for: dt.timedelta,
             sequence: int | None = None, max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME) -> bytes:
        """The signed list, valid from ``now`` for ``valid_for``; ``sequence`` defaults to max(now, seq+1)."""
        seq = sequence if sequence is not None else max(int(now.timestamp()), self.sequence + 1)
        country = self.country or country_of(signer.certificate) or "VN"
        body = {"country": country, "entries": {str(k): s.to_bytes() for k, s in self.sets.items()}}
        return sign_document(FORMAT, body, signer, issued_at=now, expires_at=now + valid_for, sequence=seq,
                             max_lifetime=max_lifetime)

    @classmethod
    def load(cls, data: bytes, cscas: Sequence[x509.Certificate], *, now: dt.datetime,
             min_sequence: int = 0, max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME) -> RevocationList:
        """Check and read a signed list; DocumentError (REVOCATION_LIST_INVALID) if unusable."""
        bad = FailureCode.REVOCATION_LIST_INVALID
        document = open_document(data, cscas, fmt=FORMAT, now=now, invalid_code=bad, min_sequence=min_sequence,
                                 max_lifetime=max_lifetime)
        country, entries = document.body.get("country"), document.body.get("entries")
        if not isinstance(country, str) or not isinstance(entries, Mapping):
            raise DocumentError(bad, "revocation list lacks country or entries")
        sets: dict[HashType, HashSet] = {}
        for key, value in entries.items():
            if key not in HashType.__members__ or not isinstance(value, bytes):
                raise DocumentError(bad, "unknown hash type or malformed entries")
            try:
                sets[HashType(key)] = HashSet.from_bytes(value)
            except ValueError as exc:
                raise DocumentError(bad, f"{key} entries: {exc}") from None
        return cls(sets, country=country, issued_at=document.issued_at, expires_at=document.expires_at,
                   sequence=document.sequence, document=document)

    def __len__(self) -> int:
        return sum(len(s) for s in self.sets.values())

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={len(s)}" for k, s in self.sets.items())
        return f"RevocationList(country={self.country}, seq={self.sequence}, {counts})"


class RevocationSet:
    """Several revocation lists (e.g. several countries') as one RevocationChecker."""

    __slots__ = ("lists",)

    def __init__(self, lists: Iterable[RevocationList]) -> None:
        self.lists = tuple(lists)

    def check(self, message: cose.CoseSign1, payload: Mapping[str, Any], now: dt.datetime) -> FailureCode | None:
        """REVOKED if any list holds the certificate; else the first list problem; else None."""
        holding = [lst for lst in self.lists if lst.has_entries()]
        if holding:
            hashes = certificate_hashes(message, payload)
            if any(lst.is_revoked(hashes) for lst in holding):
                return FailureCode.REVOKED
        if any(lst.is_stale(now) for lst in self.lists):
            return FailureCode.REVOCATION_LIST_STALE
        return None

    def __len__(self) -> int:
        return sum(len(lst) for lst in self.lists)

    def __repr__(self) -> str:
        return f"RevocationSet({len(self.lists)} lists, {len(self)} entries)"
