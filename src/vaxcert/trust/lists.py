"""Signed trust lists, and loading trust from any source (signed list, DCCG JSON, certificate files).

Three sources of signer certificates, one result type (:class:`LoadedTrustList`, a
:class:`vaxcert.trust.TrustStore`):

* the ministry's **signed trust list** (format ``vaxcert.trust-list/1``, a signed document
  as described in :mod:`vaxcert.trust.signeddoc`, body ``{"country": "VN", "dsc": [DER, ...]}``),
  published with :func:`publish` and read with :func:`load_signed`.  A list past its
  freshness limit stays loaded but its :meth:`LoadedTrustList.problem` reports
  ``TRUST_LIST_STALE``, so every verification says why and a checkpoint knows to refresh;
  a list whose signature fails is refused (``TRUST_LIST_INVALID``).
* the **DCCG JSON** list: items ``{kid, timestamp, country, certificateType, thumbprint,
  signature, rawData}`` (:mod:`vaxcert.trust.dccg`).  ``signature`` is a
  detached CMS SignedData over the DER made with the country's upload certificate.
* a file or **folder of PEM/DER** certificates (:func:`load_trust_source`).

Whatever the source, a DSC is kept only if it chains to a trusted CSCA (:func:`vaxcert.pki.chain.check_chain`):
issuer name and signature, the CSCA a CA, the DSC issued within the CSCA's validity.
Certificates that fail are listed in ``rejected`` with a reason and their kid (never personal
data: certificates name institutions).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509

from ..codes import FailureCode
from ..errors import ConfigurationError
from ..pki.certificates import country_of
from ..pki.chain import check_chain
from ..pki.encoding import split_certificates
from ..pki.keys import Signer
from ..stages import cbor, cose
from .dccg import import_dccg
from .signeddoc import DEFAULT_MAX_LIFETIME, DocumentError, anchors_at, open_document, sign_document
from .store import LoadedTrustList, TrustedSigner, TrustList, certificates_in_directory, der_of, filter_chained, kid_hex

__all__ = ["FORMAT", "load_signed", "load_trust_source", "publish", "read_unverified", "sniff"]

FORMAT = "vaxcert.trust-list/1"
# ----------------------------------------------------------------------------- signed lists


def publish(
    dscs: Iterable[x509.Certificate | bytes],
    signer: Signer,
    *,
    cscas: Sequence[x509.Certificate],
    now: dt.datetime,
    valid_for: dt.timedelta,
    sequence: int | None = None,
    country: str | None = None,
    max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME,
) -> bytes:
    """Sign a trust list of ``dscs`` valid from ``now`` for ``valid_for``.

    Every DSC must chain to one of ``cscas`` and be unexpired at ``now``; otherwise a
    ConfigurationError names the kid and the reason.  ``sequence`` defaults to ``now`` in
    epoch seconds, which grows with every publication.
    """
    blobs = list(dict.fromkeys(der_of(d) for d in dscs))
    if not blobs:
        raise ConfigurationError("no DSC to publish")
    for der in blobs:
        try:
            check_chain(der, cscas)
            entry = TrustedSigner.from_der(der)
        except ConfigurationError as exc:
            raise ConfigurationError(f"DSC kid {kid_hex(der)}: {exc}") from None
        if entry.not_after < now:
            raise ConfigurationError(f"DSC kid {kid_hex(der)}: expired")
    list_country = country or country_of(signer.certificate) or "VN"
    seq = int(now.timestamp()) if sequence is None else sequence
    return sign_document(FORMAT, {"country": list_country, "dsc": sorted(blobs)}, signer,
                         issued_at=now, expires_at=now + valid_for, sequence=seq, max_lifetime=max_lifetime)


def load_signed(
    data: bytes, cscas: Sequence[x509.Certificate], *, now: dt.datetime, min_sequence: int = 0,
    max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME,
) -> LoadedTrustList:
    """Check a signed trust list and the chain of each DSC in it.

    Raises :class:`vaxcert.trust.signeddoc.DocumentError` (code TRUST_LIST_INVALID) when the list
    is not signed by a trusted CSCA (or its list signer), is malformed, or is a rollback.  A
    stale list loads; its :meth:`~LoadedTrustList.problem` reports TRUST_LIST_STALE.
    """
    bad = FailureCode.TRUST_LIST_INVALID
    document = open_document(data, cscas, fmt=FORMAT, now=now, invalid_code=bad, min_sequence=min_sequence,
                             max_lifetime=max_lifetime)
    blobs = document.body.get("dsc")
    if not isinstance(blobs, list) or not all(isinstance(b, bytes) for b in blobs):
        raise DocumentError(bad, "trust list has no 'dsc' array of DER certificates")
    if not isinstance(document.body.get("country"), str):
        raise DocumentError(bad, "trust list names no country")
    kept, rejected = filter_chained(blobs, anchors_at(cscas, now))
    return LoadedTrustList(TrustList(kept), kind="signed", rejected=rejected, document=document)


def read_unverified(data: bytes) -> Mapping[str, Any]:
    """The content of a signed document *without checking anything* (for display only)."""
    try:
        body = cbor.loads(cose.decode(data).payload)
    except Exception:
        raise ConfigurationError("not a signed vaxcert document") from None
    if not isinstance(body, Mapping):
        raise ConfigurationError("not a signed vaxcert document")
    return body


# ----------------------------------------------------------------------------- any source


def sniff(data: bytes) -> str:
    """'signed' (COSE_Sign1), 'dccg' (JSON) or 'certificates' (PEM / DER / base64)."""
    head = data.lstrip()[:1]
    if data[:1] in (b"\xd2", b"\x84"):
        return "signed"
    if head in (b"[", b"{"):
        return "dccg"
    return "certificates"


def load_trust_source(
    path: str | Path,
    *,
    cscas: Sequence[x509.Certificate] | None,
    now: dt.datetime,
    upload_certs: Sequence[x509.Certificate] | None = None,
    min_sequence: int = 0,
    max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME,
) -> LoadedTrustList:
    """Load a signed trust list, DCCG JSON, a certificate file or a folder of them.

    With ``cscas`` every DSC must chain to one of them (valid at ``now``); a signed list
    needs them.  Without, certificate files are trusted as given (the classic setup).
    """
    source = Path(path)
    if source.is_dir():
        return _certificates(certificates_in_directory(source), cscas, now)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read trust source {source}: {exc.strerror}") from None
    kind = sniff(data)
    if kind == "signed":
        if cscas is None:
            raise ConfigurationError(f"{source}: a signed trust list needs the CSCA certificate (--csca)")
        try:
            return load_signed(data, cscas, now=now, min_sequence=min_sequence, max_lifetime=max_lifetime)
        except DocumentError as exc:
            raise DocumentError(exc.code, f"{source}: {exc.message}") from None
    if kind == "dccg":
        return import_dccg(data, cscas=cscas, upload_certs=upload_certs, now=now)
    try:
        blobs = split_certificates(data)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{source}: {exc}") from None
    return _certificates(blobs, cscas, now)


def _certificates(blobs: list[bytes], cscas: Sequence[x509.Certificate] | None, now: dt.datetime) -> LoadedTrustList:
    anchors = anchors_at(cscas, now) if cscas is not None else None
    kept, rejected = filter_chained(blobs, anchors)
    return LoadedTrustList(TrustList(kept), kind="certificates", rejected=rejected)
