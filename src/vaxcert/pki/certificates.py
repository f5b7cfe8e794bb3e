"""CSCA and Document Signer Certificates (DSC), key-usage OIDs and certificate loading.

A ministry holds a self-signed Country Signing CA (CSCA); each facility gets a DSC signed by
it.  A DSC may restrict the certificate types it signs through extended-key-usage OIDs
(1.3.6.1.4.1.1847.2021.1.1 test, .2 vaccination, .3 recovery; the legacy spellings
1.3.6.1.4.1.0.1847.2021.1.x are read too).  A DSC with none of these OIDs may sign every
type.  The facility's identifier is carried in the subject's serialNumber attribute.

Two vaxcert additions (see docs/trust.md):

* A *ministry* DSC names no facility and carries the certificate policy
  :data:`OID_MINISTRY_SIGNER`; only such a key may sign for doses given at any facility
  (:mod:`vaxcert.pki.authority`).
* Key rotation: a DSC may carry the X.509 PrivateKeyUsagePeriod extension, the period in which
  its key *signs*.  Its validity is that period plus the longest certificate lifetime, so
  certificates signed near the end of the period stay verifiable until they expire, while the
  issuing side refuses to sign outside the period (:func:`signing_period`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ..dcc.codes import CERT_TYPES
from ..errors import ConfigurationError
from .encoding import (
    certificate_pem,
    load_certificate_file,
    load_certificates,
    read_certificate_file,
    split_certificates,
)
from .keys import PrivateKey, algorithm_for_key

__all__ = [
    "CERT_TYPES",
    "OID_MINISTRY_SIGNER",
    "OID_RECOVERY",
    "OID_TEST",
    "OID_VACCINATION",
    "PublicKey",
    "allowed_types",
    "certificate_pem",
    "country_of",
    "create_csca",
    "create_dsc",
    "csr_public_key",
    "facility_id_of",
    "is_ministry_signer",
    "issuer_name_of",
    "load_certificate_file",
    "load_certificates",
    "read_certificate_file",
    "signing_period",
    "split_certificates",
    "subject_summary",
    "types_from_oids",
]

OID_TEST = "1.3.6.1.4.1.1847.2021.1.1"
OID_VACCINATION = "1.3.6.1.4.1.1847.2021.1.2"
OID_RECOVERY = "1.3.6.1.4.1.1847.2021.1.3"
_TYPE_OIDS = {
    OID_TEST: "t",
    OID_VACCINATION: "v",
    OID_RECOVERY: "r",
    "1.3.6.1.4.1.0.1847.2021.1.1": "t",
    "1.3.6.1.4.1.0.1847.2021.1.2": "v",
    "1.3.6.1.4.1.0.1847.2021.1.3": "r",
}
_OID_FOR_TYPE = {"t": OID_TEST, "v": OID_VACCINATION, "r": OID_RECOVERY}
#: Extended key usage of a certificate that signs trust lists, revocation lists and bundles (a UUID OID).
OID_LIST_SIGNER = "2.25.280101063368752685525660475228294815685"
#: Certificate policy of a ministry DSC (one that may sign for every facility).  A UUID-based
#: OID (ITU-T X.667, arc 2.25), so it needs no registration: urn:uuid:44b2a869-b53f-45ac-8294-8be31c249fcd.
OID_MINISTRY_SIGNER = "2.25.91315148374057234283559755995779735501"
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


def types_from_oids(oids: Iterable[str]) -> frozenset[str]:
    """The certificate types (v, t, r) named by extended-key-usage OIDs; all three when none is."""
    types = frozenset(_TYPE_OIDS[oid] for oid in oids if oid in _TYPE_OIDS)
    return types or frozenset(CERT_TYPES)


def allowed_types(certificate: x509.Certificate) -> frozenset[str]:
    """The certificate types (v, t, r) a DSC may sign; all three when it names none."""
    try:
        eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return frozenset(CERT_TYPES)
    return types_from_oids(oid.dotted_string for oid in eku)


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def country_of(certificate: x509.Certificate) -> str | None:
    """The subject's country (C), or the issuer's when the subject has none."""
    return _attr(certificate.subject, NameOID.COUNTRY_NAME) or _attr(certificate.issuer, NameOID.COUNTRY_NAME)


def facility_id_of(certificate: x509.Certificate) -> str | None:
    """The facility identifier a vaxcert DSC carries in its subject serialNumber."""
    return _attr(certificate.subject, NameOID.SERIAL_NUMBER)


def is_ministry_signer(certificate: x509.Certificate) -> bool:
    """True for a ministry DSC: the policy :data:`OID_MINISTRY_SIGNER` and no facility id."""
    try:
        policies = certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return False
    flagged = any(p.policy_identifier.dotted_string == OID_MINISTRY_SIGNER for p in policies)
    return flagged and facility_id_of(certificate) is None


def signing_period(certificate: x509.Certificate) -> tuple[dt.datetime | None, dt.datetime | None] | None:
    """The (start, end) of the PrivateKeyUsagePeriod extension (UTC), or None without one.

    Either end may be None (open).  Outside this period the DSC's key must not sign, though
    certificates it signed stay verifiable for the DSC's whole validity.
    """
    try:
        period = certificate.extensions.get_extension_for_class(x509.PrivateKeyUsagePeriod).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:
        raise ConfigurationError("the certificate has a malformed PrivateKeyUsagePeriod") from None

    def utc(moment: dt.datetime | None) -> dt.datetime | None:
        if moment is None:
            return None
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)

    return utc(period.not_before), utc(period.not_after)


def issuer_name_of(certificate: x509.Certificate) -> str | None:
    """The DCC ``is`` text a DSC stands for: its subject's organisation (the ministry's name)."""
    return _attr(certificate.subject, NameOID.ORGANIZATION_NAME)


def subject_summary(certificate: x509.Certificate) -> str:
    """The subject as an RFC 4514 string (certificates name institutions, not people)."""
    return certificate.subject.rfc4514_string()


def _name(country: str, common_name: str, organization: str | None, serial: str | None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, country)]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    if serial:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    return x509.Name(attrs)


def _check_country(country: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise ConfigurationError("country must be an ISO 3166-1 alpha-2 code such as VN")
    return country


def create_csca(
    key: PrivateKey,
    *,
    country: str,
    name: str,
    now: dt.datetime,
    valid_days: int = 365 * 10,
) -> x509.Certificate:
    """A self-signed Country Signing CA certificate (CA, path length 0)."""
    subject = _name(_check_country(country), name, name, None)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return builder.sign(key, hashes.SHA256())


def create_dsc(
    key: PrivateKey | PublicKey,
    *,
    csca: x509.Certificate,
    csca_key: PrivateKey,
    facility_id: str | None,
    facility_name: str,
    now: dt.datetime,
    types: Iterable[str] = CERT_TYPES,
    valid_days: int = 730,
    signing_days: int | None = None,
    ministry: bool = False,
) -> x509.Certificate:
    """A Document Signer Certificate for a facility (or the ministry), signed by the CSCA.

    ``key`` is the DSC's private key or only its public key (e.g. of a key kept in an HSM).
    The facility id goes into the subject serialNumber, the certificate types into
    extended-key-usage OIDs; the validity never extends past the CSCA's.  With
    ``signing_days`` the DSC records its signing period [now, now + signing_days] in a
    PrivateKeyUsagePeriod extension; ``valid_days`` must then cover it (signing period plus
    the longest certificate lifetime).  ``ministry=True`` makes a ministry DSC: no facility
    id, and the certificate policy :data:`OID_MINISTRY_SIGNER`.
    """
    types = tuple(dict.fromkeys(types))
    bad = [t for t in types if t not in _OID_FOR_TYPE]
    if bad or not types:
        raise ConfigurationError("types must be a non-empty subset of v, t, r")
    if ministry:
        if facility_id:
            raise ConfigurationError("a ministry DSC names no facility id")
    elif not facility_id or not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", facility_id):
        raise ConfigurationError("facility id must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'")
    if signing_days is not None and not 0 < signing_days <= valid_days:
        raise ConfigurationError("signing days must be positive and within the validity (valid days)")
    country = country_of(csca) or "VN"
    eku = [x509.ObjectIdentifier(_OID_FOR_TYPE[t]) for t in types]
    organization = _attr(csca.subject, NameOID.ORGANIZATION_NAME)
    subject = _name(country, facility_name, organization, None if ministry else facility_id)
    builder, not_after = signing_leaf_builder(key, subject=subject, csca=csca, now=now, valid_days=valid_days)
    builder = (
        builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(csca.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    if signing_days is not None:
        period_end = min(now + dt.timedelta(days=signing_days), not_after)
        builder = builder.add_extension(x509.PrivateKeyUsagePeriod(now, period_end), critical=False)
    if ministry:
        policy = x509.PolicyInformation(x509.ObjectIdentifier(OID_MINISTRY_SIGNER), None)
        builder = builder.add_extension(x509.CertificatePolicies([policy]), critical=False)
    return builder.sign(csca_key, hashes.SHA256())


def signing_leaf_builder(
    key: PrivateKey | PublicKey, *, subject: x509.Name, csca: x509.Certificate, now: dt.datetime, valid_days: int
) -> tuple[x509.CertificateBuilder, dt.datetime]:
    """A builder for an end-entity signing certificate issued by ``csca`` (not a CA, digital
    signature only), valid from ``now`` for ``valid_days`` but never past the CSCA; and that end."""
    public_key = key if isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey) else key.public_key()
    not_after = min(now + dt.timedelta(days=valid_days), csca.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(csca.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
    )
    return builder, not_after


def create_list_signer(
    key: PrivateKey | PublicKey,
    *,
    csca: x509.Certificate,
    csca_key: PrivateKey,
    name: str,
    now: dt.datetime,
    valid_days: int = 730,
) -> x509.Certificate:
    """A certificate for a dedicated trust-list / revocation-list / bundle signing key.

    It carries the extended key usage :data:`OID_LIST_SIGNER` only (marked critical) and is
    not a CA; trust-list publishing refuses it as a DSC, so it can never sign certificates.
    """
    country = csca.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, str(country[0].value) if country else "VN"),
             x509.NameAttribute(NameOID.COMMON_NAME, name)]
    builder, _ = signing_leaf_builder(key, subject=x509.Name(attrs), csca=csca, now=now, valid_days=valid_days)
    builder = builder.add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(OID_LIST_SIGNER)]), critical=True)
    return builder.sign(csca_key, hashes.SHA256())


def csr_public_key(data: bytes) -> PublicKey:
    """The public key of a PKCS#10 request (PEM or DER) whose self-signature verifies."""
    try:
        request = (x509.load_pem_x509_csr(data) if data.lstrip().startswith(b"-----")
                   else x509.load_der_x509_csr(data))
    except ValueError:
        raise ConfigurationError("not a PKCS#10 certificate request") from None
    if not request.is_signature_valid:
        raise ConfigurationError("the certificate request's signature does not verify")
    public = request.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise ConfigurationError("the certificate request holds an unsupported key type")
    algorithm_for_key(public)
    return public
