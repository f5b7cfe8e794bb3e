"""vaxcert: vaccination records → signed EU DCC-style certificates (HC1 QR strings) → verdicts.

The recipes::

    from vaxcert import KeySigner, TrustList, Verifier, issue, issue_record, scan, verify, verify_image

    signer = KeySigner.from_files("dsc.key.pem", "dsc.pem", password)
    cert = issue_record(record, signer)            # a dose record; the facility rule applies
    cert = issue(payload_or_record, signer)        # a DCC payload, or a dose record (as above)
    result = verify(cert.hc1, TrustList.from_paths(["dsc.pem"]))
    result.valid, result.code, result.stage        # never raises for bad input
    verify_image("photo.jpg", Verifier(trust))     # the code in a picture ([qr] extra)
    scan(text_or_picture, verifier)                # checkpoint verdicts: result + GREEN/YELLOW/RED

One front for both formats: ``Verifier(trust, shc_trust=ShcTrust.from_paths([...]))`` verifies
EU DCCs (``HC1:``) and SMART Health Cards (``shc:/``, chunks, JWS, ``.smart-health-card`` files)
into the same :class:`VerificationResult` (``format``, ``holder``, ``events``).  ``load_verifier``
sets one up from files or a signed offline bundle, with the business rules it carries
(``loaded.country_rules("VN", "HCM")`` → ``scan(..., rules=...)``).

Everything the command line uses is a public name here (or of :mod:`vaxcert.registry`): the CLI
is a thin layer over this API.  Lower levels, documented as such: :mod:`vaxcert.stages` (pure
encode/decode functions, :mod:`~vaxcert.stages.hc1` for the whole envelope), :mod:`vaxcert.dcc`
(records, the one payload builder, schemas, value sets), :mod:`vaxcert.pki` (keys, certificates,
the facility rule, chain checks), :mod:`vaxcert.trust` (trust stores, signed lists, revocation,
bundles), :mod:`vaxcert.qr`, :mod:`vaxcert.rules`.  See docs/architecture.md for the layers.

Names from optional extras are loaded on first use, so ``import vaxcert`` needs only the base
install: :func:`save_card` / :func:`render_card` / :func:`find_fonts` need ``vaxcert[card]``, the
HSM names ``vaxcert[hsm]``, :func:`decode_image` / :func:`decode_file` (and :func:`verify_image`,
:func:`scan` of pictures) ``vaxcert[qr]``; without the extra they raise
:class:`MissingExtraError` naming it.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from .codes import FailureCode, Stage
from .dcc import DoseRecord, ValueSets
from .errors import (
    ConfigurationError,
    DecodeError,
    InputError,
    KeyLoadError,
    MissingExtraError,
    SigningError,
    StorageError,
    VaxcertError,
    needs_extra,
)
from .events import Holder, NormalisedRecord, PartialDate, VaccinationEvent, events_from_dcc
from .files import write_atomic
from .formats.shc import ShcResult, ShcTrust, ShcTrustError, ShcVerifier, verify_shc, verify_shc_all
from .idcard import CitizenCard, IdentityCheck, Match, looks_like_cccd, match_identity, parse_cccd
from .issuer import IssuedCertificate, Issuer, issue, issue_record
from .jsonio import dumps as dump_json
from .jsonio import loads as load_json
from .logs import JsonFormatter, TextFormatter, log_event, safe_traceback
from .pki import (
    KeyKind,
    KeySigner,
    PrivateKey,
    PublicKey,
    Signer,
    allowed_types,
    certificate_pem,
    check_chain,
    create_csca,
    create_dsc,
    create_list_signer,
    csr_public_key,
    facility_id_of,
    generate_private_key,
    is_ministry_signer,
    load_certificate_file,
    load_private_key,
    pem_from_der,
    save_private_key,
)
from .qr import render_png, render_svg, render_terminal
from .qr import save as save_qr
from .recipes import (
    LoadedVerifier,
    Scanner,
    Verdict,
    bundle_rules,
    bundle_shc_trust,
    image_codes,
    load_verifier,
    scan,
    scan_image,
    scan_text,
    verify_image,
)
from .rules import (
    DEFAULT_POLICY,
    Assessment,
    CountryRules,
    Pass,
    PassRules,
    Policy,
    Reason,
    RuleBook,
    RuleFormatError,
    RuleSet,
    RulesVerdict,
    assess,
    colour_label,
    evaluate_rules,
)
from .rules.ruletests import render_text as render_rule_tests
from .rules.ruletests import run_rule_tests
from .station import DEFAULT_GRACE, BundleState, BundleStatus, Reading, ReadingKind, Station
from .trust import (
    DEFAULT_MAX_LIFETIME,
    Bundle,
    DocumentError,
    HashType,
    LoadedTrustList,
    RevocationList,
    SequenceState,
    TrustedSigner,
    TrustList,
    TrustStore,
    build_bundle,
    certificate_hashes,
    country_uci_hash,
    dccg_kid,
    export_dccg,
    load_bundle,
    load_trust_source,
    open_bundle,
    publish,
    read_unverified,
    sniff,
    uci_hash,
)
from .trust.revocation import hc1_hashes
from .vectors import KnownDefects
from .vectors import render_text as render_vector_report
from .vectors import run as run_vectors
from .verifier import (
    FORMAT_DCC,
    FORMAT_SHC,
    RevocationChecker,
    VerificationResult,
    Verifier,
    detect_format,
    verify,
)

if TYPE_CHECKING:
    from .card import CardFonts, CardLayout, find_fonts, read_card_payload, render_card, save_card
    from .pki.hsm import HsmConfig, HsmSigner, HsmToken
    from .qr.photo import DecodedCode, decode_file, decode_image

__version__ = "0.1.0"

# A library configures no log output: without a handler of the application's, Python's "last
# resort" would print WARNING events to stderr (vaxcert.logs; the CLI has -v / --log-format).
logging.getLogger("vaxcert").addHandler(logging.NullHandler())

#: Public names that need an optional extra: loaded on first access (PEP 562).
_LAZY = {
    "CardFonts": "card", "CardLayout": "card", "find_fonts": "card", "read_card_payload": "card",
    "render_card": "card", "save_card": "card",
    "HsmConfig": "pki.hsm", "HsmSigner": "pki.hsm", "HsmToken": "pki.hsm",
    "DecodedCode": "qr.photo", "decode_file": "qr.photo", "decode_image": "qr.photo",
}  # fmt: skip

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_MAX_LIFETIME",
    "DEFAULT_POLICY",
    "FORMAT_DCC",
    "FORMAT_SHC",
    "Assessment",
    "Bundle",
    "BundleState",
    "BundleStatus",
    "CardFonts",
    "CardLayout",
    "CitizenCard",
    "ConfigurationError",
    "CountryRules",
    "DecodeError",
    "DecodedCode",
    "DocumentError",
    "DoseRecord",
    "FailureCode",
    "HashType",
    "Holder",
    "HsmConfig",
    "HsmSigner",
    "HsmToken",
    "IdentityCheck",
    "InputError",
    "IssuedCertificate",
    "Issuer",
    "JsonFormatter",
    "KeyKind",
    "KeyLoadError",
    "KeySigner",
    "KnownDefects",
    "LoadedTrustList",
    "LoadedVerifier",
    "Match",
    "MissingExtraError",
    "NormalisedRecord",
    "PartialDate",
    "Pass",
    "PassRules",
    "Policy",
    "PrivateKey",
    "PublicKey",
    "Reading",
    "ReadingKind",
    "Reason",
    "RevocationChecker",
    "RevocationList",
    "RuleBook",
    "RuleFormatError",
    "RuleSet",
    "RulesVerdict",
    "Scanner",
    "SequenceState",
    "ShcResult",
    "ShcTrust",
    "ShcTrustError",
    "ShcVerifier",
    "Signer",
    "SigningError",
    "Stage",
    "Station",
    "StorageError",
    "TextFormatter",
    "TrustList",
    "TrustStore",
    "TrustedSigner",
    "VaccinationEvent",
    "ValueSets",
    "VaxcertError",
    "Verdict",
    "VerificationResult",
    "Verifier",
    "__version__",
    "allowed_types",
    "assess",
    "build_bundle",
    "bundle_rules",
    "bundle_shc_trust",
    "certificate_hashes",
    "certificate_pem",
    "check_chain",
    "colour_label",
    "country_uci_hash",
    "create_csca",
    "create_dsc",
    "create_list_signer",
    "csr_public_key",
    "dccg_kid",
    "decode_file",
    "decode_image",
    "detect_format",
    "dump_json",
    "evaluate_rules",
    "events_from_dcc",
    "export_dccg",
    "facility_id_of",
    "find_fonts",
    "generate_private_key",
    "hc1_hashes",
    "image_codes",
    "is_ministry_signer",
    "issue",
    "issue_record",
    "load_bundle",
    "load_certificate_file",
    "load_json",
    "load_private_key",
    "load_trust_source",
    "load_verifier",
    "log_event",
    "looks_like_cccd",
    "match_identity",
    "needs_extra",
    "open_bundle",
    "parse_cccd",
    "pem_from_der",
    "publish",
    "read_card_payload",
    "read_unverified",
    "render_card",
    "render_png",
    "render_rule_tests",
    "render_svg",
    "render_terminal",
    "render_vector_report",
    "run_rule_tests",
    "run_vectors",
    "safe_traceback",
    "save_card",
    "save_private_key",
    "save_qr",
    "scan",
    "scan_image",
    "scan_text",
    "sniff",
    "uci_hash",
    "verify",
    "verify_image",
    "verify_shc",
    "verify_shc_all",
    "write_atomic",
]


def __getattr__(name: str) -> Any:
    """Names of optional extras, imported on first use (see the module docstring)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
