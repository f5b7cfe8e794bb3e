"""Trust lists: which Document Signer Certificates a verifier accepts, looked up by kid.

This module holds the in-memory :class:`TrustList` and loading from PEM/DER files or
directories.  Several certificates may share a kid (8 bytes is a short hash); the verifier
tries each.  Signed trust lists and the EU gateway format are layered on top of this class.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..codes import FailureCode
from ..errors import ConfigurationError
from ..pki.certificates import types_from_oids
from ..pki.chain import check_chain
from ..pki.encoding import kid_of_der, read_certificate_file, split_certificates
from .signeddoc import SignedDocument

__all__ = [
    "CombinedTrust",
    "LoadedTrustList",
    "Rejected",
    "TrustList",
    "TrustStore",
    "TrustedSigner",
    "certificates_in_directory",
    "der_of",
    "filter_chained",
    "kid_hex",
]

_CERT_SUFFIXES = {".pem", ".crt", ".cer", ".der"}


@dataclass(frozen=True, slots=True, eq=False)
class TrustedSigner:
    """One trusted DSC with what verification needs precomputed.

    Built from DER with a tolerant parser (asn1crypto), because real signer certificates
    are not always strict DER (e.g. an empty extended-key-usage sequence, which the strict
    parser in ``cryptography`` refuses).  ``certificate`` is the strict parse when it works.
    """

    der: bytes
    kid: bytes
    public_key: object
    subject: str
    country: str | None
    types: frozenset[str]
    not_before: dt.datetime
    not_after: dt.datetime
    certificate: x509.Certificate | None = None

    @classmethod
    def from_der(cls, der: bytes) -> TrustedSigner:
        """Precompute kid, key, country, allowed types and validity of a DSC."""
        try:
            parsed = asn1_x509.Certificate.load(der)
            tbs = parsed["tbs_certificate"]
            public_key = serialization.load_der_public_key(tbs["subject_public_key_info"].dump())
            eku = parsed.extended_key_usage_value
            oids = [oid.dotted for oid in eku] if eku is not None else []
            subject, issuer = parsed.subject.native, parsed.issuer.native
            country = subject.get("country_name") or issuer.get("country_name")
            not_before = tbs["validity"]["not_before"].native
            not_after = tbs["validity"]["not_after"].native
        except Exception:
            raise ConfigurationError("not a usable X.509 certificate") from None
        try:
            strict: x509.Certificate | None = x509.load_der_x509_certificate(der)
        except ValueError:
            strict = None
        return cls(
            der=der,
            kid=kid_of_der(der),
            public_key=public_key,
            subject=strict.subject.rfc4514_string() if strict else parsed.subject.human_friendly,
            country=country if isinstance(country, str) else None,
            types=types_from_oids(oids),
            not_before=not_before,
            not_after=not_after,
            certificate=strict,
        )

    @classmethod
    def from_certificate(cls, certificate: x509.Certificate) -> TrustedSigner:
        """Trust a certificate object."""
        return cls.from_der(certificate.public_bytes(serialization.Encoding.DER))

    def __repr__(self) -> str:
        return f"TrustedSigner(kid={self.kid.hex()}, country={self.country}, types={''.join(sorted(self.types))})"


def certificates_in_directory(directory: Path) -> list[bytes]:
    """DER of every certificate in the .pem/.crt/.cer/.der files of ``directory`` (not recursive).

    PEM files holding something else (the private key or CSR beside a DSC) are skipped; each
    file is read once.  A directory without any certificate is a configuration error.
    """
    blobs: list[bytes] = []
    for file in sorted(p for p in directory.iterdir() if p.suffix.lower() in _CERT_SUFFIXES and p.is_file()):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"cannot read certificate file {file}: {exc.strerror}") from None
        if b"-----BEGIN" in data and b"CERTIFICATE-----" not in data:
            continue
        try:
            blobs.extend(split_certificates(data))
        except ConfigurationError as exc:
            raise ConfigurationError(f"{file}: {exc}") from None
    if not blobs:
        raise ConfigurationError(f"{directory}: no certificates (.pem, .crt, .cer, .der) in directory")
    return blobs


class TrustStore(Protocol):
    """What the verifier needs from a trust source."""

    def candidates(self, kid: bytes) -> Sequence[TrustedSigner]:
        """Every trusted signer with this kid (possibly several, possibly none)."""
        ...

    def problem(self, now: dt.datetime) -> FailureCode | None:
        """A reason the whole list cannot be used at ``now`` (e.g. stale), or None."""
        ...


class TrustList:
    """An immutable set of trusted DSCs indexed by kid."""

    __slots__ = ("_by_kid",)

    def __init__(self, signers: Iterable[TrustedSigner] = ()) -> None:
        by_kid: dict[bytes, list[TrustedSigner]] = {}
        seen: set[bytes] = set()
        for signer in signers:
            if signer.der in seen:
                continue
            seen.add(signer.der)
            by_kid.setdefault(signer.kid, []).append(signer)
        self._by_kid = {k: tuple(v) for k, v in by_kid.items()}

    @classmethod
    def from_certificates(cls, certificates: Iterable[x509.Certificate]) -> TrustList:
        """Trust these DSCs."""
        return cls(TrustedSigner.from_certificate(c) for c in certificates)

    @classmethod
    def from_der(cls, blobs: Iterable[bytes]) -> TrustList:
        """Trust DSCs given as DER."""
        return cls(TrustedSigner.from_der(der) for der in blobs)

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path]) -> TrustList:
        """Load DSCs from PEM/DER files, or directories of such files (non-recursive)."""
        certs: list[bytes] = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                certs.extend(certificates_in_directory(path))
            else:
                certs.extend(read_certificate_file(path))
        return cls.from_der(certs)

    def candidates(self, kid: bytes) -> Sequence[TrustedSigner]:
        return self._by_kid.get(kid, ())

    def problem(self, now: dt.datetime) -> FailureCode | None:
        return None

    def merged(self, other: TrustList) -> TrustList:
        """A list trusting the signers of both."""
        return TrustList([*self, *other])

    def __iter__(self) -> Iterator[TrustedSigner]:
        for signers in self._by_kid.values():
            yield from signers

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_kid.values())

    def __repr__(self) -> str:
        return f"TrustList({len(self)} signers)"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A certificate left out of a trust list, with why.  ``kid`` is hex (or '-' if unknown)."""

    kid: str
    reason: str


def der_of(item: x509.Certificate | bytes) -> bytes:
    """DER of a certificate given as an object or as DER."""
    return item if isinstance(item, bytes) else item.public_bytes(serialization.Encoding.DER)


def kid_hex(der: bytes) -> str:
    """The kid of a certificate in hex, for messages about it."""
    return kid_of_der(der).hex()


def filter_chained(
    blobs: Iterable[bytes], cscas: Sequence[x509.Certificate] | None
) -> tuple[list[TrustedSigner], list[Rejected]]:
    kept: list[TrustedSigner] = []
    rejected: list[Rejected] = []
    for der in blobs:
        try:
            if cscas is not None:
                check_chain(der, cscas)
            kept.append(TrustedSigner.from_der(der))
        except ConfigurationError as exc:
            rejected.append(Rejected(kid_hex(der), str(exc)))
    return kept, rejected


class LoadedTrustList:
    """Trusted DSCs from one source, with what was rejected and (if signed) the list's envelope.

    A :class:`vaxcert.trust.TrustStore`: :meth:`problem` reports TRUST_LIST_STALE once the
    signed list's freshness limit has passed.
    """

    __slots__ = ("document", "kind", "rejected", "signers")

    def __init__(self, signers: TrustList, *, kind: str, rejected: Sequence[Rejected] = (),
                 document: SignedDocument | None = None) -> None:
        self.signers = signers
        self.kind = kind
        self.rejected = tuple(rejected)
        self.document = document

    def candidates(self, kid: bytes) -> Sequence[TrustedSigner]:
        return self.signers.candidates(kid)

    def problem(self, now: dt.datetime) -> FailureCode | None:
        if self.document is not None and self.document.is_stale(now):
            return FailureCode.TRUST_LIST_STALE
        return None

    @property
    def expires_at(self) -> dt.datetime | None:
        """The signed list's freshness limit (None for unsigned sources)."""
        return self.document.expires_at if self.document else None

    def __iter__(self) -> Iterator[TrustedSigner]:
        return iter(self.signers)

    def __len__(self) -> int:
        return len(self.signers)

    def __repr__(self) -> str:
        return f"LoadedTrustList(kind={self.kind}, {len(self)} signers, {len(self.rejected)} rejected)"


class CombinedTrust:
    """Several trust stores as one: candidates from all, the first problem any reports."""

    __slots__ = ("stores",)

    def __init__(self, stores: Iterable[TrustStore]) -> None:
        self.stores = tuple(stores)

    def candidates(self, kid: bytes) -> Sequence[TrustedSigner]:
        found: list[TrustedSigner] = []
        seen: set[bytes] = set()
        for store in self.stores:
            for signer in store.candidates(kid):
                if signer.der not in seen:
                    seen.add(signer.der)
                    found.append(signer)
        return found

    def problem(self, now: dt.datetime) -> FailureCode | None:
        for store in self.stores:
            code = store.problem(now)
            if code is not None:
                return code
        return None

    def __repr__(self) -> str:
        return f"CombinedTrust({len(self.stores)} stores)"


