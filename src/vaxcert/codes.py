"""Machine-readable failure codes and the pipeline stages they belong to.

Every verdict that is not ``valid`` carries exactly one :class:`FailureCode` and the
:class:`Stage` at which verification stopped.  Codes are stable strings: tools parse them.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["FailureCode", "Stage"]


class Stage(StrEnum):
    """The stage of the HC1 pipeline (and the checks after it) a verdict refers to."""

    INPUT = "input"
    IMAGE = "image"
    PREFIX = "prefix"
    BASE45 = "base45"
    NUMERIC = "numeric"  # SHC: the two-digit numeric encoding after ``shc:/``
    COMPRESSION = "compression"
    COSE = "cose"
    JWS = "jws"  # SHC: JWS compact serialization and its protected header
    TRUST = "trust"
    SIGNATURE = "signature"
    CWT = "cwt"
    TIME = "time"
    KEY_USAGE = "key_usage"
    PAYLOAD = "payload"
    SCHEMA = "schema"
    FHIR = "fhir"  # SHC: the FHIR bundle (Patient, Immunization resources)
    VALUESET = "valueset"
    REVOCATION = "revocation"
    POLICY = "policy"
    DONE = "done"


class FailureCode(StrEnum):
    """Why a certificate was rejected.  ``OK`` is used only for valid results."""

    OK = "OK"
    # input / image
    INPUT_TOO_LARGE = "INPUT_TOO_LARGE"
    INPUT_NOT_TEXT = "INPUT_NOT_TEXT"
    IMAGE_UNREADABLE = "IMAGE_UNREADABLE"
    NO_QR_FOUND = "NO_QR_FOUND"
    QR_UNREADABLE = "QR_UNREADABLE"  # a QR symbol was found but its data could not be decoded (blur, damage)
    QR_NOT_ALPHANUMERIC = "QR_NOT_ALPHANUMERIC"
    NOT_A_CERTIFICATE = "NOT_A_CERTIFICATE"
    # prefix / base45 / zlib
    PREFIX_MISSING = "PREFIX_MISSING"
    PREFIX_UNSUPPORTED = "PREFIX_UNSUPPORTED"
    BASE45_INVALID = "BASE45_INVALID"
    NOT_COMPRESSED = "NOT_COMPRESSED"
    DECOMPRESSION_FAILED = "DECOMPRESSION_FAILED"
    DECOMPRESSED_TOO_LARGE = "DECOMPRESSED_TOO_LARGE"
    COMPRESSED_TRAILING_DATA = "COMPRESSED_TRAILING_DATA"
    # COSE
    CBOR_INVALID = "CBOR_INVALID"
    CBOR_TOO_DEEP = "CBOR_TOO_DEEP"
    COSE_INVALID_STRUCTURE = "COSE_INVALID_STRUCTURE"
    COSE_UNEXPECTED_TAG = "COSE_UNEXPECTED_TAG"
    COSE_TRAILING_DATA = "COSE_TRAILING_DATA"
    CRITICAL_HEADER_UNKNOWN = "CRITICAL_HEADER_UNKNOWN"
    ALGORITHM_MISSING = "ALGORITHM_MISSING"
    ALGORITHM_UNPROTECTED = "ALGORITHM_UNPROTECTED"
    ALGORITHM_UNSUPPORTED = "ALGORITHM_UNSUPPORTED"
    ALGORITHM_KEY_MISMATCH = "ALGORITHM_KEY_MISMATCH"
    KID_MISSING = "KID_MISSING"
    KID_INVALID_LENGTH = "KID_INVALID_LENGTH"
    # trust / signature
    KID_UNKNOWN = "KID_UNKNOWN"
    SIGNATURE_MALFORMED = "SIGNATURE_MALFORMED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    TRUST_LIST_INVALID = "TRUST_LIST_INVALID"
    TRUST_LIST_STALE = "TRUST_LIST_STALE"
    DSC_NOT_YET_VALID = "DSC_NOT_YET_VALID"
    DSC_EXPIRED = "DSC_EXPIRED"
    DSC_CHAIN_INVALID = "DSC_CHAIN_INVALID"
    # CWT
    CWT_INVALID = "CWT_INVALID"
    CWT_TIME_INVALID = "CWT_TIME_INVALID"
    ISSUER_COUNTRY_INVALID = "ISSUER_COUNTRY_INVALID"
    NOT_YET_VALID = "NOT_YET_VALID"
    EXPIRED = "EXPIRED"
    # content
    KEY_USAGE_MISMATCH = "KEY_USAGE_MISMATCH"
    PAYLOAD_MISSING = "PAYLOAD_MISSING"
    PAYLOAD_MULTIPLE_TYPES = "PAYLOAD_MULTIPLE_TYPES"
    PAYLOAD_MULTIPLE_ENTRIES = "PAYLOAD_MULTIPLE_ENTRIES"
    SCHEMA_VERSION_UNKNOWN = "SCHEMA_VERSION_UNKNOWN"
    SCHEMA_INVALID = "SCHEMA_INVALID"
    VALUESET_UNKNOWN_CODE = "VALUESET_UNKNOWN_CODE"
    REVOKED = "REVOKED"
    REVOCATION_LIST_INVALID = "REVOCATION_LIST_INVALID"
    REVOCATION_LIST_STALE = "REVOCATION_LIST_STALE"
    # SMART Health Cards (vaxcert.formats.shc); the codes above are reused where they fit
    SHC_NUMERIC_INVALID = "SHC_NUMERIC_INVALID"  # odd digit count, a non-digit, or a pair above 77
    SHC_CHUNK_INVALID = "SHC_CHUNK_INVALID"  # bad or inconsistent shc:/N/M/ chunk header
    SHC_CHUNKS_INCOMPLETE = "SHC_CHUNKS_INCOMPLETE"  # not every chunk of a chunked card is present
    SHC_FILE_INVALID = "SHC_FILE_INVALID"  # not a .smart-health-card (or FHIR Parameters) document
    JWS_INVALID = "JWS_INVALID"  # not a compact JWS (3 base64url parts, JSON header, no crit)
    SIGNATURE_DER_ENCODED = "SIGNATURE_DER_ENCODED"  # ES256 signature in DER, not raw r||s
    JSON_INVALID = "JSON_INVALID"  # not UTF-8 JSON, duplicate keys, NaN/Infinity
    JSON_TOO_DEEP = "JSON_TOO_DEEP"
    ISSUER_UNKNOWN = "ISSUER_UNKNOWN"  # the issuer (SHC iss) is not in the trust set
    SHC_CLAIMS_INVALID = "SHC_CLAIMS_INVALID"  # JWT claims iss / nbf / exp / vc missing or mistyped
    SHC_NOT_HEALTH_CARD = "SHC_NOT_HEALTH_CARD"  # vc.type lacks https://smarthealth.cards#health-card
    FHIR_BUNDLE_INVALID = "FHIR_BUNDLE_INVALID"
    FHIR_NO_IMMUNIZATION = "FHIR_NO_IMMUNIZATION"  # a valid card, but not a vaccination record
    # internal safety net: a bug, never expected
    INTERNAL_ERROR = "INTERNAL_ERROR"
