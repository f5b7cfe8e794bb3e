"""SMART Health Cards: verify ``shc:/`` QR codes and ``.smart-health-card`` files.

The safe recipe::

    from vaxcert.formats.shc import ShcTrust, verify_shc

    trust = ShcTrust.from_paths(["trust/shc/"])        # {"iss": URL, "keys": [...]} files, VCI lists
    result = verify_shc(qr_text_or_file_bytes, trust, now=now)   # one card
    result.valid, result.code, result.stage            # never raises for bad input
    result.iss, result.kid, result.holder, result.events   # vaxcert.events types
    results = verify_shc_all(file_bytes, trust, now=now)   # a file of several cards: one verdict each

Lower levels, one module per stage: :mod:`~vaxcert.formats.shc.numeric` (``shc:/`` digits,
chunks), :mod:`~vaxcert.formats.shc.jws` (compact JWS, ES256, DEFLATE, bounded JSON),
:mod:`~vaxcert.formats.shc.trust` (issuer key sets), :mod:`~vaxcert.formats.shc.fhir` (the FHIR
bundle) and :mod:`~vaxcert.formats.shc.products` (vaccine codes → EU products).
"""

from .fhir import BundleContent, read_bundle
from .numeric import ChunkCollector
from .products import ProductMap, ProductMapping
from .trust import RejectedKey, RevocationList, ShcIssuer, ShcKey, ShcTrust, ShcTrustError, jwk_thumbprint
from .verify import HEALTH_CARD_TYPE, ShcResult, ShcTrace, ShcVerifier, verify_shc, verify_shc_all

__all__ = [
    "HEALTH_CARD_TYPE",
    "BundleContent",
    "ChunkCollector",
    "ProductMap",
    "ProductMapping",
    "RejectedKey",
    "RevocationList",
    "ShcIssuer",
    "ShcKey",
    "ShcResult",
    "ShcTrace",
    "ShcTrust",
    "ShcTrustError",
    "ShcVerifier",
    "jwk_thumbprint",
    "read_bundle",
    "verify_shc",
    "verify_shc_all",
]
