"""Chain checks to a CSCA and detached CMS signatures, on tolerantly parsed certificates.

Real signer certificates are not always strict DER (e.g. an empty extended-key-usage sequence,
which the strict parser in ``cryptography`` refuses), so certificates are read with asn1crypto
and their signatures checked with ``cryptography``.
"""

from __future__ import annotations

from collections.abc import Sequence

from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from ..errors import ConfigurationError
from .certificates import OID_LIST_SIGNER

__all__ = ["ChainError", "check_chain", "verify_detached_cms"]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}



class ChainError(ConfigurationError):
    """A DSC does not chain to a trusted CSCA."""


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
