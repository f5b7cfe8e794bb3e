"""The offline bundle: one signed file a checkpoint device downloads and verifies with.

A bundle is a signed document (:mod:`vaxcert.trust.signeddoc`) of format ``vaxcert.bundle/1``; its
``exp`` is the *freshness limit* (how long a device may use it without a refresh) and its
body is::

    {"trust_list":  bytes,           # a signed trust list (vaxcert.trust-list/1), as published
     "revocation":  [bytes, ...],    # signed revocation lists (vaxcert.revocation-list/1)
     "valuesets":   bytes | null,    # a vaxcert value-set snapshot (ValueSets.save), UTF-8 JSON
     "rules":       bytes | null,    # business rules: a vaxcert-rules/1 document, UTF-8 JSON
     "shc_issuers": bytes | null}    # trusted SMART Health Card issuers (ShcTrust.to_json), UTF-8 JSON

The trust list and revocation lists stay signed documents of their own, each checked against the
same CSCA anchors, so a bundle cannot smuggle in an unsigned list; the bundle's signature adds that
the parts belong together.  Rules and SMART Health Card issuer keys have no signature of their own:
the bundle's signature is what vouches for them (they are read by :mod:`vaxcert.rules` and
:mod:`vaxcert.formats.shc`, above this module; here they are kept as the signed bytes).  Bundles
written before rules and SHC issuers existed (``"rules": null``, no ``shc_issuers``) read as
before.  The effective trust store reports TRUST_LIST_STALE as soon as either the bundle or its
trust list is past its limit.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from ..codes import FailureCode
from ..dcc.valuesets import ValueSets
from ..errors import ConfigurationError
from ..pki.keys import Signer
from .lists import load_signed
from .revocation import RevocationList, RevocationSet
from .signeddoc import DEFAULT_MAX_LIFETIME, DocumentError, SignedDocument, open_document, sign_document
from .store import LoadedTrustList, TrustedSigner

__all__ = ["FORMAT", "Bundle", "BundleTrust", "build_bundle", "load_bundle", "open_bundle"]

FORMAT = "vaxcert.bundle/1"


def _valuesets_bytes(valuesets: ValueSets) -> bytes:
    with tempfile.TemporaryDirectory(prefix="vaxcert-vs-") as tmp:
        path = Path(tmp) / "valuesets.json"
        valuesets.save(path)
        return path.read_bytes()


def _valuesets_from(data: bytes) -> ValueSets:
    with tempfile.TemporaryDirectory(prefix="vaxcert-vs-") as tmp:
        path = Path(tmp) / "valuesets.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return ValueSets.load(path)


def build_bundle(
    signer: Signer,
    *,
    trust_list: bytes,
    revocation: Sequence[bytes] = (),
    valuesets: ValueSets | None = None,
    now: dt.datetime,
    fresh_for: dt.timedelta,
    sequence: int | None = None,
    cscas: Sequence[x509.Certificate] | None = None,
    rules: bytes | None = None,
    shc_issuers: bytes | None = None,
    max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME,
) -> bytes:
    """Sign a bundle of an already signed trust list, signed revocation lists and value sets,
    and optionally business rules and SMART Health Card issuers (as serialised JSON bytes:
    ``RuleBook.to_bytes()``, ``ShcTrust.to_json()``).

    With ``cscas`` each signed part is checked first (a bundle of broken parts is refused here
    rather than on every device).  ``sequence`` defaults to ``now`` in epoch seconds.
    """
    if cscas is not None:
        load_signed(trust_list, cscas, now=now, max_lifetime=max_lifetime)
        for data in revocation:
            RevocationList.load(data, cscas, now=now, max_lifetime=max_lifetime)
    body = {
        "trust_list": trust_list,
        "revocation": list(revocation),
        "valuesets": _valuesets_bytes(valuesets) if valuesets is not None else None,
        "rules": bytes(rules) if rules is not None else None,
    }
    if shc_issuers is not None:  # a bundle without SHC issuers keeps the original body
        body["shc_issuers"] = bytes(shc_issuers)
    seq = int(now.timestamp()) if sequence is None else sequence
    return sign_document(FORMAT, body, signer, issued_at=now, expires_at=now + fresh_for, sequence=seq,
                         max_lifetime=max_lifetime)


class BundleTrust:
    """The bundle's trust list as a TrustStore, stale when the bundle or the list is."""

    __slots__ = ("bundle_expires_at", "trust")

    def __init__(self, trust: LoadedTrustList, bundle_expires_at: dt.datetime) -> None:
        self.trust = trust
        self.bundle_expires_at = bundle_expires_at

    def candidates(self, kid: bytes) -> Sequence[TrustedSigner]:
        return self.trust.candidates(kid)

    def problem(self, now: dt.datetime) -> FailureCode | None:
        if now > self.bundle_expires_at:
            return FailureCode.TRUST_LIST_STALE
        return self.trust.problem(now)

    def __repr__(self) -> str:
        return f"BundleTrust({len(self.trust)} signers, fresh until {self.bundle_expires_at.isoformat()})"


@dataclass(frozen=True, slots=True)
class Bundle:
    """A checked bundle: what a verifier needs, and the envelope for display.

    ``rules`` and ``shc_issuers`` are the signed bytes of the business rules and of the trusted
    SMART Health Card issuers (None when the bundle carries none); :func:`vaxcert.load_verifier`
    reads them.
    """

    document: SignedDocument
    trust: BundleTrust
    revocation: RevocationSet
    valuesets: ValueSets | None
    rules: bytes | None = field(default=None, repr=False)
    shc_issuers: bytes | None = field(default=None, repr=False)

    @property
    def issued_at(self) -> dt.datetime:
        return self.document.issued_at

    @property
    def expires_at(self) -> dt.datetime:
        """The freshness limit."""
        return self.document.expires_at

    @property
    def sequence(self) -> int:
        return self.document.sequence

    def signed_documents(self) -> list[tuple[SignedDocument, FailureCode]]:
        """The bundle's signed documents — itself, its trust list, its revocation lists — each with the
        code a rollback of it gets (what :meth:`vaxcert.SequenceState.admit_all` records)."""
        out = [(self.document, FailureCode.TRUST_LIST_INVALID)]
        if self.trust.trust.document is not None:
            out.append((self.trust.trust.document, FailureCode.TRUST_LIST_INVALID))
        out.extend((inner.document, FailureCode.REVOCATION_LIST_INVALID)
                   for inner in self.revocation.lists if inner.document is not None)  # fmt: skip
        return out

    def problem(self, now: dt.datetime) -> FailureCode | None:
        """TRUST_LIST_STALE / REVOCATION_LIST_STALE when a part is past its limit, else None."""
        code = self.trust.problem(now)
        if code is not None:
            return code
        if any(lst.is_stale(now) for lst in self.revocation.lists):
            return FailureCode.REVOCATION_LIST_STALE
        return None

    def __repr__(self) -> str:
        return (f"Bundle(seq={self.sequence}, fresh_until={self.expires_at.isoformat()}, "
                f"signers={len(self.trust.trust)}, revocations={len(self.revocation)})")


def open_bundle(
    data: bytes, cscas: Sequence[x509.Certificate], *, now: dt.datetime, min_sequence: int = 0,
    max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME,
) -> Bundle:
    """Check a bundle and every part in it; DocumentError (TRUST_LIST_INVALID or
    REVOCATION_LIST_INVALID) if the bundle or a part is not properly signed."""
    bad = FailureCode.TRUST_LIST_INVALID
    document = open_document(data, cscas, fmt=FORMAT, now=now, invalid_code=bad, min_sequence=min_sequence,
                             max_lifetime=max_lifetime)
    body = document.body
    trust_bytes, revocations, vs_bytes = body.get("trust_list"), body.get("revocation"), body.get("valuesets")
    if not isinstance(trust_bytes, bytes):
        raise DocumentError(bad, "bundle holds no trust list")
    if not isinstance(revocations, list) or not all(isinstance(r, bytes) for r in revocations):
        raise DocumentError(bad, "bundle revocation lists malformed")
    if vs_bytes is not None and not isinstance(vs_bytes, bytes):
        raise DocumentError(bad, "bundle value sets malformed")
    rules, shc_issuers = body.get("rules"), body.get("shc_issuers")
    if rules is not None and not isinstance(rules, bytes):
        raise DocumentError(bad, "bundle rules malformed")
    if shc_issuers is not None and not isinstance(shc_issuers, bytes):
        raise DocumentError(bad, "bundle SMART Health Card issuers malformed")
    trust = load_signed(trust_bytes, cscas, now=now, max_lifetime=max_lifetime)
    lists = [RevocationList.load(r, cscas, now=now, max_lifetime=max_lifetime) for r in revocations]
    valuesets: ValueSets | None = None
    if vs_bytes is not None:
        try:
            valuesets = _valuesets_from(vs_bytes)
        except ConfigurationError:
            raise DocumentError(bad, "bundle value sets unreadable") from None
    return Bundle(document, BundleTrust(trust, document.expires_at), RevocationSet(lists), valuesets,
                  rules=rules, shc_issuers=shc_issuers)


def load_bundle(
    path: str | Path, csca_certs: Sequence[x509.Certificate], now: dt.datetime, *, min_sequence: int = 0,
    max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME,
) -> Bundle:
    """Read and check a bundle file (see :func:`open_bundle`).

    ``now`` selects the anchors (CSCAs valid at that time); staleness is reported by the
    returned bundle's stores, not raised, so a verifier answers TRUST_LIST_STALE.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read bundle {path}: {exc.strerror}") from None
    try:
        return open_bundle(data, csca_certs, now=now, min_sequence=min_sequence, max_lifetime=max_lifetime)
    except DocumentError as exc:
        raise DocumentError(exc.code, f"{path}: {exc.message}") from None
