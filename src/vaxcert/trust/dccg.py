"""The EU gateway (DCCG) trust-list JSON: export and import.

Items ``{kid, timestamp, country, certificateType, thumbprint, signature, rawData}``
(:func:`export_dccg`, :func:`import_dccg`).  ``signature`` is a detached CMS SignedData over the
DER made with the country's upload certificate (checked by :func:`vaxcert.pki.chain.verify_detached_cms`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from .. import jsonio
from ..errors import ConfigurationError, InputError
from ..pki.certificates import country_of
from ..pki.chain import check_chain, verify_detached_cms
from ..pki.encoding import kid_of_der
from ..pki.keys import PrivateKey
from .signeddoc import anchors_at
from .store import LoadedTrustList, Rejected, TrustedSigner, TrustList, der_of, kid_hex

__all__ = ["dccg_kid", "export_dccg", "import_dccg"]


def dccg_kid(der: bytes) -> str:
    """The DCCG kid: base64 of the first 8 bytes of SHA-256 over the DER."""
    return base64.b64encode(kid_of_der(der)).decode("ascii")


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_dccg(
    certificates: Iterable[x509.Certificate | bytes],
    *,
    upload_cert: x509.Certificate,
    upload_key: PrivateKey,
    now: dt.datetime,
    country: str | None = None,
    cscas: Sequence[x509.Certificate] | None = None,
) -> list[dict[str, str]]:
    """DCCG trust-list items for DSCs, each signed (detached CMS) with the upload certificate.

    With ``cscas`` every DSC must chain to one of them (a ConfigurationError names the kid).
    """
    items: list[dict[str, str]] = []
    for item in certificates:
        der = der_of(item)
        if cscas is not None:
            try:
                check_chain(der, cscas)
            except ConfigurationError as exc:
                raise ConfigurationError(f"DSC kid {kid_hex(der)}: {exc}") from None
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


def _dccg_items(data: bytes | str | Sequence[Any]) -> list[Any]:
    if isinstance(data, bytes | str):
        try:
            document = jsonio.loads(data, what="DCCG trust list")
        except InputError as exc:
            raise ConfigurationError(f"not DCCG trust-list JSON: {exc.message}") from None
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
            rejected.append(Rejected(kid_hex(der), reason))
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
