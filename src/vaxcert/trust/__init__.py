"""Trust: which signers a verifier accepts, which certificates are revoked, and the offline bundle.

* :mod:`.store` — :class:`TrustStore` (what the verifier needs), :class:`TrustList`,
  :class:`LoadedTrustList`, :class:`CombinedTrust`;
* :mod:`.signeddoc` — the signed envelope of vaxcert's lists (COSE_Sign1 by a CSCA or a list signer);
* :mod:`.lists` — signed trust lists, and loading trust from any source;
* :mod:`.dccg` — the EU gateway trust-list JSON;
* :mod:`.revocation` — revocation lists (UCI, COUNTRYCODEUCI and SIGNATURE hashes);
* :mod:`.bundle` — trust list, revocation lists and value sets in one signed file;
* :mod:`.testkeys` — the published test keys a verifier warns about;
* :mod:`.state` — :class:`SequenceState`: rollback protection for checkpoints.
"""

from __future__ import annotations

from .bundle import Bundle, BundleTrust, build_bundle, load_bundle, open_bundle
from .dccg import dccg_kid, export_dccg, import_dccg
from .lists import load_signed, load_trust_source, publish, read_unverified, sniff
from .revocation import (
    HashSet,
    HashType,
    RevocationList,
    RevocationSet,
    certificate_hashes,
    country_uci_hash,
    signature_hash,
    uci_hash,
)
from .signeddoc import DEFAULT_MAX_LIFETIME, DocumentError, SignedDocument, open_document, sign_document
from .state import SequenceState
from .store import CombinedTrust, LoadedTrustList, Rejected, TrustedSigner, TrustList, TrustStore
from .testkeys import TEST_ONLY_MARK, PublishedTestKey, find_published_test_keys, published_test_keys

__all__ = [
    "DEFAULT_MAX_LIFETIME",
    "TEST_ONLY_MARK",
    "Bundle",
    "BundleTrust",
    "CombinedTrust",
    "DocumentError",
    "HashSet",
    "HashType",
    "LoadedTrustList",
    "PublishedTestKey",
    "Rejected",
    "RevocationList",
    "RevocationSet",
    "SequenceState",
    "SignedDocument",
    "TrustList",
    "TrustStore",
    "TrustedSigner",
    "build_bundle",
    "certificate_hashes",
    "country_uci_hash",
    "dccg_kid",
    "export_dccg",
    "find_published_test_keys",
    "import_dccg",
    "load_bundle",
    "load_signed",
    "load_trust_source",
    "open_bundle",
    "open_document",
    "publish",
    "published_test_keys",
    "read_unverified",
    "sign_document",
    "signature_hash",
    "sniff",
    "uci_hash",
]
