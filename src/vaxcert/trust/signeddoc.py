"""Ministry-signed documents: the envelope shared by trust lists, revocation lists and bundles.

A signed document is a COSE_Sign1 message (tag 18), so the code that checks a health
certificate's signature also checks the lists that say which certificates to trust::

    protected    {1: alg (ES256 = -7 or PS256 = -37), 4: kid = SHA-256(signer DER)[:8],
                  33 (x5chain): the signer's certificate, DER}
    unprotected  {}
    payload      CBOR map {"fmt": text, "iat": uint, "exp": uint, "seq": uint, ...body}

``fmt`` names the document type and version (e.g. ``vaxcert.trust-list/1``), ``iat`` and
``exp`` are epoch seconds (the issue time and the freshness limit), ``seq`` is a sequence
number that grows with every publication so a device can refuse a rollback.

The signer is either the ministry's CSCA itself (it signs lists as it signs CRLs) or a
dedicated *list signer*: a certificate issued by the CSCA with the extended key usage
:data:`OID_LIST_SIGNER`, so the CSCA key can stay offline.  Verifiers anchor a document in
CSCA certificates they already trust (distributed out of band); the certificate in the header
is only a hint, never trusted by itself.

Limits that hold for every document type (trust lists, revocation lists, bundles), at signing
and at verification, so that one stolen or expired key, or one careless publication, cannot
give a document a long life or lock devices out of later ones:

* a list signer must be valid when the document was issued **and** when it is verified (an
  expired list signer's documents stop verifying, whatever their ``exp``);
* a document may live at most ``max_lifetime`` (``exp - iat``; default
  :data:`DEFAULT_MAX_LIFETIME`, 7 days: a ten-year list is refused);
* a document may not be issued more than :data:`MAX_CLOCK_AHEAD` (1 day) after the verifier's
  ``now``;
* the sequence number may not run ahead of the issue time in epoch seconds by more than
  :data:`MAX_SEQUENCE_AHEAD` (1 day).  vaxcert numbers publications by their issue time, and a
  counter (1, 2, 3, ...) stays far below it; a sequence of 10**12 would make every device that
  remembers the highest sequence seen (:class:`vaxcert.trust.state.SequenceState`) refuse every
  honest list for 30,000 years, so it is refused as an implausible jump.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from ..codes import FailureCode, Stage
from ..errors import ConfigurationError, DecodeError
from ..pki.certificates import OID_LIST_SIGNER
from ..pki.encoding import kid_of_der
from ..pki.keys import Signer
from ..stages import cbor, cose

__all__ = [
    "DEFAULT_MAX_LIFETIME",
    "HDR_X5CHAIN",
    "MAX_CLOCK_AHEAD",
    "MAX_DOCUMENT_BYTES",
    "MAX_SEQUENCE_AHEAD",
    "DocumentError",
    "SignedDocument",
    "anchors_at",
    "open_document",
    "sign_document",
]

#: COSE header label x5chain (RFC 9360).
HDR_X5CHAIN = 33
#: Extended key usage of a certificate that may sign vaxcert lists and bundles (UUID OID, arc
#: 2.25: urn:uuid:d2b980a6-7067-4494-ac9e-e649afa91fc5).
#: Documents larger than this are refused before parsing (80 MB holds 10 million revocations).
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
#: The longest a signed document may live (``exp - iat``) unless a caller allows more.
DEFAULT_MAX_LIFETIME = dt.timedelta(days=7)
#: How far (in seconds) a sequence number may run ahead of the issue time in epoch seconds.
MAX_SEQUENCE_AHEAD = 86_400
#: How far after the verifier's clock a document's issue time may be (device clocks drift).
MAX_CLOCK_AHEAD = dt.timedelta(days=1)
_RESERVED = frozenset({"fmt", "iat", "exp", "seq"})


class DocumentError(ConfigurationError):
    """A signed document cannot be used.  ``code`` is the failure code a verifier reports."""

    def __init__(self, code: FailureCode, message: str) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class SignedDocument:
    """A document whose signature, anchor and envelope fields have been checked."""

    fmt: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    sequence: int
    body: Mapping[str, Any]
    signer: x509.Certificate
    anchor: x509.Certificate

    def is_stale(self, now: dt.datetime) -> bool:
        """True once ``now`` is past the document's freshness limit."""
        return now > self.expires_at

    def __repr__(self) -> str:
        return (f"SignedDocument(fmt={self.fmt}, seq={self.sequence}, iat={self.issued_at.isoformat()}, "
                f"exp={self.expires_at.isoformat()})")


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def _epoch(moment: dt.datetime, what: str) -> int:
    if moment.tzinfo is None:
        raise ConfigurationError(f"{what} must be timezone-aware")
    return int(moment.timestamp())


def sign_document(
    fmt: str,
    body: Mapping[str, Any],
    signer: Signer,
    *,
    issued_at: dt.datetime,
    expires_at: dt.datetime,
    sequence: int,
    max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME,
) -> bytes:
    """Sign ``body`` (a CBOR-encodable map with text keys) as a document of type ``fmt``.

    Refuses what verifiers refuse (see the module docstring): a lifetime over ``max_lifetime``
    and a sequence number running ahead of the issue time.
    """
    reserved = _RESERVED & set(body)
    if reserved:
        raise ConfigurationError(f"document body may not use the envelope keys {sorted(reserved)}")
    iat, exp = _epoch(issued_at, "issued_at"), _epoch(expires_at, "expires_at")
    if exp <= iat:
        raise ConfigurationError("a document must expire after its issue time")
    if exp - iat > max_lifetime.total_seconds():
        raise ConfigurationError(
            f"a document may be valid for at most {_days(max_lifetime.total_seconds())} "
            f"(asked: {_days(exp - iat)}); verifiers refuse longer-lived lists unless configured otherwise"
        )
    if sequence < 0:
        raise ConfigurationError("the sequence number must not be negative")
    if sequence > iat + MAX_SEQUENCE_AHEAD:
        raise ConfigurationError(
            f"sequence {sequence} runs ahead of the issue time ({iat} in epoch seconds); "
            "use the default (the issue time) or a counter below it"
        )
    payload = cbor.dumps({"fmt": fmt, "iat": iat, "exp": exp, "seq": sequence, **body})
    protected = cbor.dumps({1: signer.algorithm, 4: signer.kid, HDR_X5CHAIN: _der(signer.certificate)})
    return cose.encode(payload, signer, protected=protected)


def _days(seconds: float) -> str:
    days = seconds / 86_400
    return f"{days:g} days" if days != 1 else "1 day"


def anchors_at(anchors: Iterable[x509.Certificate], now: dt.datetime) -> list[x509.Certificate]:
    """The anchors (CSCA certificates) valid at ``now``: an expired CSCA anchors nothing."""
    return [a for a in anchors if a.not_valid_before_utc <= now <= a.not_valid_after_utc]


def _has_list_signer_usage(certificate: x509.Certificate) -> bool:
    try:
        eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    return not constraints.ca and any(oid.dotted_string == OID_LIST_SIGNER for oid in eku)


def _issued_by(certificate: x509.Certificate, anchor: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(anchor)
    except Exception:
        return False
    return True


def _find_signer(
    message: cose.CoseSign1, anchors: Sequence[x509.Certificate], bad: FailureCode
) -> tuple[x509.Certificate, x509.Certificate, bool]:
    """(signer, anchor, is_list_signer) for a message, or raise DocumentError."""
    chain = message.protected.get(HDR_X5CHAIN)
    if isinstance(chain, list) and chain:
        chain = chain[0]
    by_der = {_der(a): a for a in anchors}
    if chain is None:
        for anchor in anchors:
            if kid_of_der(_der(anchor)) == message.kid:
                return anchor, anchor, False
        raise DocumentError(bad, "document not signed by a trusted CSCA")
    if not isinstance(chain, bytes):
        raise DocumentError(bad, "malformed signer certificate header")
    if kid_of_der(chain) != message.kid:
        raise DocumentError(bad, "kid does not match the signer certificate")
    if chain in by_der:
        return by_der[chain], by_der[chain], False
    try:
        signer = x509.load_der_x509_certificate(chain)
    except ValueError:
        raise DocumentError(bad, "malformed signer certificate") from None
    for anchor in anchors:
        if _issued_by(signer, anchor):
            if not _has_list_signer_usage(signer):
                raise DocumentError(bad, "signer certificate lacks the list-signer key usage")
            return signer, anchor, True
    raise DocumentError(bad, "signer certificate does not chain to a trusted CSCA")


def _uint(body: Mapping[str, Any], key: str, bad: FailureCode) -> int:
    value = body.get(key)
    if type(value) is not int or value < 0:
        raise DocumentError(bad, f"document field {key!r} missing or not an unsigned integer")
    return value


def open_document(
    data: bytes,
    anchors: Iterable[x509.Certificate],
    *,
    fmt: str,
    now: dt.datetime,
    invalid_code: FailureCode,
    min_sequence: int = 0,
    max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME,
) -> SignedDocument:
    """Check a signed document's signature, anchor and envelope; raise DocumentError if unusable.

    ``anchors`` are the trusted CSCA certificates; only those valid at ``now`` count.  A list
    signer must be valid both at the document's issue time and at ``now``.  A document whose
    ``seq`` is below ``min_sequence`` is refused as a rollback; one living longer than
    ``max_lifetime``, issued after ``now`` + :data:`MAX_CLOCK_AHEAD`, or whose sequence runs ahead
    of its issue time (:data:`MAX_SEQUENCE_AHEAD`) is refused too.  Staleness is *not* an error
    here: the caller decides (see :meth:`SignedDocument.is_stale`), so that a verifier can report
    a stale list with its own failure code.
    """
    bad = invalid_code
    if now.tzinfo is None:
        raise ConfigurationError("now must be timezone-aware")
    if not isinstance(data, bytes) or len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(bad, "document missing or too large")
    usable = anchors_at(anchors, now)
    if not usable:
        raise DocumentError(bad, "no trusted CSCA certificate is valid at this time")
    try:
        message = cose.decode(data)
    except DecodeError:
        raise DocumentError(bad, "not a signed vaxcert document (COSE_Sign1)") from None
    signer, anchor, delegated = _find_signer(message, usable, bad)
    try:
        cose.verify_signature(message, signer.public_key())
    except (DecodeError, ValueError, TypeError, UnsupportedAlgorithm):
        raise DocumentError(bad, "document signature does not verify") from None
    try:
        body = cbor.loads(message.payload, Stage.COSE)
    except DecodeError:
        raise DocumentError(bad, "document content is not CBOR") from None
    if not isinstance(body, Mapping) or not all(isinstance(k, str) for k in body):
        raise DocumentError(bad, "document content is not a map with text keys")
    if body.get("fmt") != fmt:
        raise DocumentError(bad, f"not a {fmt} document")
    iat, exp, seq = _uint(body, "iat", bad), _uint(body, "exp", bad), _uint(body, "seq", bad)
    if exp <= iat:
        raise DocumentError(bad, "document expires before it was issued")
    try:
        issued_at = dt.datetime.fromtimestamp(iat, dt.UTC)
        expires_at = dt.datetime.fromtimestamp(exp, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise DocumentError(bad, "document times out of range") from None
    if delegated and not signer.not_valid_before_utc <= issued_at <= signer.not_valid_after_utc:
        raise DocumentError(bad, "document issued outside the list signer's validity")
    if delegated and not signer.not_valid_before_utc <= now <= signer.not_valid_after_utc:
        raise DocumentError(bad, "the list signer's certificate is not valid at the verification time (expired?)")
    if exp - iat > max_lifetime.total_seconds():
        raise DocumentError(bad, f"document valid for {_days(exp - iat)}: longer than the "
                                 f"{_days(max_lifetime.total_seconds())} allowed")  # fmt: skip
    if issued_at > now + MAX_CLOCK_AHEAD:
        raise DocumentError(bad, "document issued in the future (more than a day after the verification time)")
    if seq > iat + MAX_SEQUENCE_AHEAD:
        raise DocumentError(bad, f"sequence {seq} runs ahead of the issue time: an implausible jump")
    if seq < min_sequence:
        raise DocumentError(bad, f"sequence {seq} is older than the {min_sequence} already seen (rollback)")
    content = {k: v for k, v in body.items() if k not in _RESERVED}
    return SignedDocument(fmt, issued_at, expires_at, seq, content, signer, anchor)
