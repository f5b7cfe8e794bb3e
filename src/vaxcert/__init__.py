"""vaxcert: vaccination records → signed EU DCC-style certificates (HC1 QR strings) → verdicts.

The small public API::

    from vaxcert import KeySigner, TrustList, issue, verify

    signer = KeySigner.from_files("dsc.key.pem", "dsc.pem", password)
    cert = issue(payload, signer)                  # IssuedCertificate: .hc1, .uvci, ...
    result = verify(cert.hc1, TrustList.from_paths(["dsc.pem"]))
    result.valid, result.code, result.stage        # never raises for bad input

Lower levels: :mod:`vaxcert.stages` (pure encode/decode functions per pipeline stage),
:mod:`vaxcert.pki` (CSCA / DSC certificates), :mod:`vaxcert.dcc.payload` (building payloads
from dose records), :mod:`vaxcert.dcc.schema`, :mod:`vaxcert.dcc.valuesets`.
"""

from .codes import FailureCode, Stage
from .errors import ConfigurationError, DecodeError, InputError, KeyLoadError, SigningError, VaxcertError
from .issuer import IssuedCertificate, Issuer, issue
from .pki.keys import KeySigner, Signer
from .trust.store import TrustedSigner, TrustList, TrustStore
from .verifier import RevocationChecker, VerificationResult, Verifier, verify

__version__ = "0.1.0"

__all__ = [
    "ConfigurationError",
    "DecodeError",
    "FailureCode",
    "InputError",
    "IssuedCertificate",
    "Issuer",
    "KeyLoadError",
    "KeySigner",
    "RevocationChecker",
    "Signer",
    "SigningError",
    "Stage",
    "TrustList",
    "TrustStore",
    "TrustedSigner",
    "VaxcertError",
    "VerificationResult",
    "Verifier",
    "__version__",
    "issue",
    "verify",
]
