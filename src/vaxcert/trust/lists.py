"""Signed trust lists, chain checks to a CSCA, and the EU gateway (DCCG) trust-list JSON.

Three sources of signer certificates, one result type (:class:`LoadedTrustList`, a
:class:`vaxcert.trust.TrustStore`):

* the ministry's **signed trust list** (format ``vaxcert.trust-list/1``, a signed document
  as described in :mod:`vaxcert.signeddoc`, body ``{"country": "VN", "dsc": [DER, ...]}``),
  published with :func:`publish` and read with :func:`load_signed`.  A list past its
  freshness limit stays loaded but its :meth:`LoadedTrustList.problem` reports
  ``TRUST_LIST_STALE``, so every verification says why and a checkpoint knows to refresh;
  a list whose signature fails is refused (``TRUST_LIST_INVALID``).
* the **DCCG JSON** list: items ``{kid, timestamp, country, certificateType, thumbprint,
  signature, rawData}`` (:func:`export_dccg`, :func:`import_dccg`).  ``signature`` is a
  detached CMS SignedData over the DER made with the country's upload certificate.
* a file or **folder of PEM/DER** certificates (:func:`load_trust_source`).

Whatever the source, a DSC is kept only if it chains to a trusted CSCA (:func:`check_chain`):
issuer name and signature, the CSCA a CA, the DSC issued within the CSCA's validity.
Certificates that fail are listed in ``rejected`` with a reason and their kid (never personal
data: certificates name institutions).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from .codes import FailureCode
from .errors import ConfigurationError
from .keys import PrivateKey, Signer
from .pki import country_of, split_certificates
from .signeddoc import (
    OID_LIST_SIGNER,
    DocumentError,
    SignedDocument,
    anchors_at,
    open_document,
    sign_document,
)
from .stages import cbor, cose
from .trust import TrustedSigner, TrustList, TrustStore, certificates_in_directory

__all__ = [
    "FORMAT",
    "CombinedTrust",
    "LoadedTrustList",
    "Rejected",
    "check_chain",
    "dccg_kid",
    "export_dccg",
    "import_dccg",
    "load_signed",
    "load_trust_source",
    "publish",
    "read_unverified",
    "sniff",
    "verify_detached_cms",
]

FORMAT = "vaxcert.trust-list/1"
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass(frozen=True, slots=True)
class Rejected:
    """A certificate left out of a trust list, with why.  ``kid`` is hex (or '-' if unknown)."""

    kid: str
    reason: str


class ChainError(ConfigurationError):
    """A DSC does not chain to a trusted CSCA."""


# ----------------------------------------------------------------------------- signatures


def _verify_raw(public_key: object, signature: bytes, data: bytes, algo: str, hash_name: str,
                pss_salt: int | None = None) -> bool:
    """Check a signature made with a named (asn1crypto) algorithm; False on any mismatch."""
    hash_cls = _HASHES.get(hash_name)
    if hash_cls is None:
        return False
    try:
        if algo == "ecdsa" and isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hash_cls()))
        elif algo in ("rsassa_pkcs1v15", "rsa") and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hash_cls())
        elif algo == "rsassa_pss" and isinstance(public_key, rsa.RSAPublicKey):
            salt = pss_salt if pss_salt is not None else padding.PSS.AUTO
            public_key.verify(signature, data, padding.PSS(padding.MGF1(hash_cls()), salt), hash_cls())
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _cert_signature_ok(parsed: asn1_x509.Certificate, issuer_key: object) -> bool:
    algorithm = parsed["signature_algorithm"]
    try:
        algo, hash_name = algorithm.signature_algo, algorithm.hash_algo
        salt = algorithm["parameters"]["salt_length"].native if algo == "rsassa_pss" else None
        tbs = parsed["tbs_certificate"].dump()
        signature = parsed["signature_value"].native
    except Exception:
        return False
    return _verify_raw(issuer_key, signature, tbs, algo, hash_name, salt)


def _asn1_name(name: x509.Name) -> asn1_x509.Name:
    return asn1_x509.Name.load(name.public_bytes())


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def check_chain(der: bytes, cscas: Sequence[x509.Certificate]) -> x509.Certificate:
    """The CSCA that issued the DSC ``der``; raise ChainError naming the reason otherwise.

    Checks: issuer name = CSCA subject, the signature with the CSCA key, the CSCA is a CA,
    and the DSC was issued (notBefore) within the CSCA's validity.  The DSC's own validity
    is left to the verifier, which reports DSC_EXPIRED / DSC_NOT_YET_VALID per certificate.
    The DSC is parsed tolerantly (asn1crypto), as :class:`vaxcert.trust.TrustedSigner` does.
    """
    try:
        parsed = asn1_x509.Certificate.load(der)
        issuer = parsed.issuer
        not_before = parsed["tbs_certificate"]["validity"]["not_before"].native
        eku = parsed.extended_key_usage_value
        basic = parsed.basic_constraints_value
    except Exception:
        raise ChainError("not a usable X.509 certificate") from None
    if basic is not None and basic["ca"].native:
        raise ChainError("a CA certificate is not a document signer")
    if eku is not None and OID_LIST_SIGNER in [oid.dotted for oid in eku]:
        raise ChainError("a list-signer certificate is not a document signer")
    named = False
    for csca in cscas:
        if _asn1_name(csca.subject) != issuer:
            continue
        named = True
        if not _is_ca(csca):
            continue
        if not _cert_signature_ok(parsed, csca.public_key()):
            continue
        if not csca.not_valid_before_utc <= not_before <= csca.not_valid_after_utc:
            raise ChainError("issued outside the CSCA's validity")
        return csca
    raise ChainError("signature does not verify with the CSCA" if named else "issuer is not a trusted CSCA")


def _kid_hex(der: bytes) -> str:
    return hashlib.sha256(der).digest()[:8].hex()


def _filter_chained(
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
            rejected.append(Rejected(_kid_hex(der), str(exc)))
    return kept, rejected


# ----------------------------------------------------------------------------- trust stores


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


# ----------------------------------------------------------------------------- signed lists


def _der_of(item: x509.Certificate | bytes) -> bytes:
    return item if isinstance(item, bytes) else item.public_bytes(serialization.Encoding.DER)


def publish(
    dscs: Iterable[x509.Certificate | bytes],
    signer: Signer,
    *,
    cscas: Sequence[x509.Certificate],
    now: dt.datetime,
    valid_for: dt.timedelta,
    sequence: int | None = None,
    country: str | None = None,
) -> bytes:
    """Sign a trust list of ``dscs`` valid from ``now`` for ``valid_for``.

    Every DSC must chain to one of ``cscas`` and be unexpired at ``now``; otherwise a
    ConfigurationError names the kid and the reason.  ``sequence`` defaults to ``now`` in
    epoch seconds, which grows with every publication.
    """
    blobs = list(dict.fromkeys(_der_of(d) for d in dscs))
    if not blobs:
        raise ConfigurationError("no DSC to publish")
    for der in blobs:
        try:
            check_chain(der, cscas)
            entry = TrustedSigner.from_der(der)
        except ConfigurationError as exc:
            raise ConfigurationError(f"DSC kid {_kid_hex(der)}: {exc}") from None
        if entry.not_after < now:
            raise ConfigurationError(f"DSC kid {_kid_hex(der)}: expired")
    list_country = country or country_of(signer.certificate) or "VN"
    seq = int(now.timestamp()) if sequence is None else sequence
    return sign_document(FORMAT, {"country": list_country, "dsc": sorted(blobs)}, signer,
                         issued_at=now, expires_at=now + valid_for, sequence=seq)


def load_signed(
    data: bytes, cscas: Sequence[x509.Certificate], *, now: dt.datetime, min_sequence: int = 0
) -> LoadedTrustList:
    """Check a signed trust list and the chain of each DSC in it.

    Raises :class:`vaxcert.signeddoc.DocumentError` (code TRUST_LIST_INVALID) when the list
    is not signed by a trusted CSCA (or its list signer), is malformed, or is a rollback.  A
    stale list loads; its :meth:`~LoadedTrustList.problem` reports TRUST_LIST_STALE.
    """
    bad = FailureCode.TRUST_LIST_INVALID
    document = open_document(data, cscas, fmt=FORMAT, now=now, invalid_code=bad, min_sequence=min_sequence)
    blobs = document.body.get("dsc")
    if not isinstance(blobs, list) or not all(isinstance(b, bytes) for b in blobs):
        raise DocumentError(bad, "trust list has no 'dsc' array of DER certificates")
    if not isinstance(document.body.get("country"), str):
        raise DocumentError(bad, "trust list names no country")
    kept, rejected = _filter_chained(blobs, anchors_at(cscas, now))
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


# ----------------------------------------------------------------------------- DCCG


def dccg_kid(der: bytes) -> str:
    """The DCCG kid: base64 of the first 8 bytes of SHA-256 over the DER."""
    return base64.b64encode(hashlib.sha256(der).digest()[:8]).decode("ascii")


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_dccg(
    certificates: Iterable[x509.Certificate | bytes],
    *,
    upload_cert: x509.Certificate,
    upload_key: PrivateKey,
    now: dt.datetime,
    country: str | None = None,
) -> list[dict[str, str]]:
    """DCCG trust-list items for DSCs, each signed (detached CMS) with the upload certificate."""
    items: list[dict[str, str]] = []
    for item in certificates:
        der = _der_of(item)
        cms = (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(der)
            .add_signer(upload_cert, upload_key, hashes.SHA256())
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
        )
        cert_country = country or TrustedSigner.from_der(der).country or country_of(upload_cert) or ""
        items.append({
            "kid": dccg_kid(der),
            "timestamp": _timestamp(now),
            "country": cert_country,
            "certificateType": "DSC",
            "thumbprint": hashlib.sha256(der).hexdigest(),
            "signature": base64.b64encode(cms).decode("ascii"),
            "rawData": base64.b64encode(der).decode("ascii"),
        })
    return items


def verify_detached_cms(
    signature: bytes, content: bytes, certificates: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    """The certificate among ``certificates`` whose key made this detached CMS signature, or None.

    Handles SignedData with or without signed attributes (then the messageDigest attribute
    must equal the content's digest), ECDSA, RSA PKCS#1 v1.5 and RSA-PSS.
    """
    try:
        info = asn1_cms.ContentInfo.load(signature)
        if info["content_type"].native != "signed_data":
            return None
        signed = info["content"]
        if signed["encap_content_info"]["content"].native not in (None, b""):
            return None  # not detached: the signature must be over the DER we were given
        signer_infos = list(signed["signer_infos"])
    except Exception:
        return None
    for signer_info in signer_infos:
        try:
            digest_name = signer_info["digest_algorithm"]["algorithm"].native
            sig_algo = signer_info["signature_algorithm"]
            algo = sig_algo.signature_algo
            salt = sig_algo["parameters"]["salt_length"].native if algo == "rsassa_pss" else None
            raw_signature = signer_info["signature"].native
            attrs = signer_info["signed_attrs"]
            if attrs.native is None or len(attrs) == 0:
                data = content
            else:
                hash_cls = _HASHES.get(digest_name)
                if hash_cls is None:
                    continue
                digest = hashes.Hash(hash_cls())
                digest.update(content)
                expected = digest.finalize()
                values = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
                if values != [expected]:
                    continue
                data = attrs.untag().dump(force=True)
        except Exception:  # noqa: S112 - a malformed signer info: try the next one
            continue
        for certificate in certificates:
            if _verify_raw(certificate.public_key(), raw_signature, data, algo, digest_name, salt):
                return certificate
    return None


def _dccg_items(data: bytes | str | Sequence[Any]) -> list[Any]:
    if isinstance(data, bytes | str):
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise ConfigurationError("not DCCG trust-list JSON") from None
    else:
        document = data
    if not isinstance(document, list):
        raise ConfigurationError("DCCG trust-list JSON must be an array of items")
    return document


def import_dccg(
    data: bytes | str | Sequence[Any],
    *,
    cscas: Sequence[x509.Certificate] | None,
    upload_certs: Sequence[x509.Certificate] | None = None,
    now: dt.datetime,
) -> LoadedTrustList:
    """Trusted DSCs from DCCG trust-list JSON.

    Each DSC item is checked: rawData decodes, kid and thumbprint match it, the country
    matches the certificate's, it chains to one of ``cscas`` (valid at ``now``) and — when
    ``upload_certs`` are given — its detached CMS signature verifies with an upload
    certificate of the same country.  Items of other types (CSCA, UPLOAD, ...) are skipped:
    anchors never come from the list they anchor.  Bad items are listed in ``rejected``.
    """
    anchors = anchors_at(cscas, now) if cscas is not None else None
    kept: list[TrustedSigner] = []
    rejected: list[Rejected] = []
    for index, item in enumerate(_dccg_items(data)):
        if not isinstance(item, Mapping):
            rejected.append(Rejected("-", f"item {index} is not an object"))
            continue
        if item.get("certificateType", "DSC") != "DSC":
            continue
        kid = str(item.get("kid", "-"))[:16]
        try:
            der = base64.b64decode(str(item.get("rawData", "")), validate=True)
        except (binascii.Error, ValueError):
            rejected.append(Rejected(kid, "rawData is not base64"))
            continue
        reason = _dccg_item_problem(item, der, anchors, upload_certs)
        if reason is not None:
            rejected.append(Rejected(_kid_hex(der), reason))
            continue
        kept.append(TrustedSigner.from_der(der))
    return LoadedTrustList(TrustList(kept), kind="dccg", rejected=rejected)


def _dccg_item_problem(
    item: Mapping[str, Any],
    der: bytes,
    anchors: Sequence[x509.Certificate] | None,
    upload_certs: Sequence[x509.Certificate] | None,
) -> str | None:
    if item.get("kid") != dccg_kid(der):
        return "kid does not match rawData"
    if str(item.get("thumbprint", "")).lower() != hashlib.sha256(der).hexdigest():
        return "thumbprint does not match rawData"
    try:
        signer = TrustedSigner.from_der(der)
    except ConfigurationError as exc:
        return str(exc)
    country = item.get("country")
    if signer.country is not None and country != signer.country:
        return "country does not match the certificate"
    if anchors is not None:
        try:
            check_chain(der, anchors)
        except ConfigurationError as exc:
            return str(exc)
    if upload_certs is not None:
        same_country = [c for c in upload_certs if country_of(c) == country]
        try:
            cms = base64.b64decode(str(item.get("signature", "")), validate=True)
        except (binascii.Error, ValueError):
            return "signature is not base64"
        if verify_detached_cms(cms, der, same_country) is None:
            return "upload signature does not verify"
    return None


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
            return load_signed(data, cscas, now=now, min_sequence=min_sequence)
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
    kept, rejected = _filter_chained(blobs, anchors)
    return LoadedTrustList(TrustList(kept), kind="certificates", rejected=rejected)
