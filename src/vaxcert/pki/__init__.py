"""Keys, certificates and who may sign what: the ministry's PKI.

* :mod:`.encoding` — PEM / DER loading and the DCC key identifier (the bottom of this package);
* :mod:`.keys` — key files and the :class:`Signer` Protocol with :class:`KeySigner`;
* :mod:`.certificates` — CSCA and Document Signer Certificates, key-usage OIDs, facility ids;
* :mod:`.authority` — the facility rule and the signing period of a DSC;
* :mod:`.chain` — chain checks to a CSCA and detached CMS signatures;
* :mod:`.hsm` — the PKCS#11 signer (needs the ``vaxcert[hsm]`` extra; import it explicitly).
"""

from __future__ import annotations

from .authority import check_facility, check_signer_for_record, check_signing_period
from .certificates import (
    OID_MINISTRY_SIGNER,
    PublicKey,
    allowed_types,
    country_of,
    create_csca,
    create_dsc,
    create_list_signer,
    csr_public_key,
    facility_id_of,
    is_ministry_signer,
    issuer_name_of,
    signing_period,
    subject_summary,
)
from .chain import ChainError, check_chain, verify_detached_cms
from .encoding import certificate_pem, kid_of, kid_of_der, load_certificate_file, load_certificates, pem_from_der
from .keys import KeyKind, KeySigner, PrivateKey, Signer, generate_private_key, load_private_key, save_private_key

__all__ = [
    "OID_MINISTRY_SIGNER",
    "ChainError",
    "KeyKind",
    "KeySigner",
    "PrivateKey",
    "PublicKey",
    "Signer",
    "allowed_types",
    "certificate_pem",
    "check_chain",
    "check_facility",
    "check_signer_for_record",
    "check_signing_period",
    "country_of",
    "create_csca",
    "create_dsc",
    "create_list_signer",
    "csr_public_key",
    "facility_id_of",
    "generate_private_key",
    "is_ministry_signer",
    "issuer_name_of",
    "kid_of",
    "kid_of_der",
    "load_certificate_file",
    "load_certificates",
    "load_private_key",
    "pem_from_der",
    "save_private_key",
    "signing_period",
    "subject_summary",
    "verify_detached_cms",
]
