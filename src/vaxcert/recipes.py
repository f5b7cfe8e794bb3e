"""Recipes over the two pipelines: set up a verifier, verify a picture, scan at a checkpoint.

* :func:`load_verifier` — a :class:`~vaxcert.verifier.Verifier` from trust sources (certificate
  files or folders, signed trust lists, EU gateway JSON), an offline bundle and revocation lists,
  with the warnings a front end should show (rejected signer certificates, by kid only);
* :func:`verify_image` — the HC1 code in a picture → a :class:`~vaxcert.verifier.VerificationResult`;
* :func:`scan` — a picture (every code in it) or a scanned text → :class:`Verdict` per code: the
  verification result and the pass it grants under a :class:`~vaxcert.rules.Policy`.

Like the verifier, :func:`verify_image` and :func:`scan` never raise for bad input: an unreadable
picture, a picture without a code or a code that is not a certificate are verdicts.  Decoding
pictures needs the ``vaxcert[qr]`` extra (zxing-cpp, Pillow); without it they raise
:class:`~vaxcert.errors.MissingExtraError` naming it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509

from .codes import FailureCode, Stage
from .dcc.valuesets import ValueSets
from .errors import ConfigurationError
from .rules import DEFAULT_POLICY, Assessment, Pass, Policy, assess
from .stages.prefix import PREFIX
from .trust.bundle import load_bundle
from .trust.lists import load_trust_source
from .trust.revocation import RevocationList, RevocationSet
from .trust.store import CombinedTrust, TrustStore
from .verifier import RevocationChecker, VerificationResult, Verifier

if TYPE_CHECKING:
    from .qr.photo import DecodedCode, ImageSource

__all__ = ["LoadedVerifier", "Verdict", "load_verifier", "scan", "scan_image", "scan_text", "verify_image"]


@dataclass(frozen=True, slots=True)
class LoadedVerifier:
    """A verifier set up from files, and what a front end should warn about (no personal data)."""

    verifier: Verifier
    warnings: tuple[str, ...] = ()


def load_verifier(
    *,
    trust: Sequence[str | os.PathLike[str]] = (),
    bundle: str | os.PathLike[str] | None = None,
    cscas: Sequence[x509.Certificate] | None = None,
    revocation: Sequence[str | os.PathLike[str]] = (),
    now: dt.datetime,
    strict: bool = False,
) -> LoadedVerifier:
    """A verifier for these trust sources, checked at ``now``.

    * ``trust``: certificate files or folders (trusted as given, or chain-checked when ``cscas``
      is given), signed trust lists and EU gateway JSON (both need ``cscas`` to be anchored);
    * ``bundle``: a signed offline bundle (needs ``cscas``); its revocation lists and value sets
      are used too;
    * ``revocation``: signed revocation lists (need ``cscas``);
    * ``strict``: a strict verifier (the full schema, and rule Q2 for pictures; see
      :class:`vaxcert.Verifier` and docs/interop.md).

    Codes outside the value sets (the bundle's, else the bundled snapshot) become warnings of the
    results.  Signature failures raise :class:`vaxcert.trust.signeddoc.DocumentError`; stale lists
    load and make each verification answer TRUST_LIST_STALE / REVOCATION_LIST_STALE.
    """
    stores: list[TrustStore] = []
    lists: list[RevocationList] = []
    warnings: list[str] = []
    valuesets: ValueSets | None = None
    if bundle is not None:
        if cscas is None:
            raise ConfigurationError("a bundle needs the ministry's CSCA certificate (--csca FILE)")
        loaded = load_bundle(Path(bundle), cscas, now)
        stores.append(loaded.trust)
        lists.extend(loaded.revocation.lists)
        valuesets = loaded.valuesets
        warnings.extend(f"{bundle}: rejected DSC kid {r.kid}: {r.reason}" for r in loaded.trust.trust.rejected)
    for path in trust:
        source = load_trust_source(Path(path), cscas=cscas, now=now)
        stores.append(source)
        warnings.extend(f"{path}: rejected DSC kid {r.kid}: {r.reason}" for r in source.rejected)
    if not stores:
        raise ConfigurationError(
            "no trust configured: pass --trust FILE_OR_DIR (signer certificates or a signed list) or --bundle FILE")
    for path in revocation:
        if cscas is None:
            raise ConfigurationError("a revocation list needs the ministry's CSCA certificate (--csca FILE)")
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"cannot read revocation list {path}: {exc.strerror}") from None
        lists.append(RevocationList.load(data, cscas, now=now))
    store: TrustStore = stores[0] if len(stores) == 1 else CombinedTrust(stores)
    checker: RevocationChecker | None = RevocationSet(lists) if lists else None
    known = valuesets if valuesets is not None else ValueSets.bundled()
    return LoadedVerifier(Verifier(store, revocation=checker, valuesets=known, strict=strict), tuple(warnings))


def _failure(code: FailureCode, stage: Stage, reason: str) -> VerificationResult:
    return VerificationResult(False, code, stage, reason)


def _codes(image: ImageSource, fallback: bool) -> list[DecodedCode] | VerificationResult:
    """The codes in a picture, or a failure verdict when it cannot be read."""
    from .qr import photo  # the [qr] extra: imported when a picture is first decoded

    try:
        return photo.decode_image(image, fallback=fallback)
    except Exception:  # any unreadable picture is a verdict, not a crash
        return _failure(FailureCode.IMAGE_UNREADABLE, Stage.IMAGE, "image unreadable")


def _verify_text(verifier: Verifier, text: str, now: dt.datetime, *, alphanumeric: bool = True) -> VerificationResult:
    if not text.startswith(PREFIX):
        return _failure(FailureCode.NOT_A_CERTIFICATE, Stage.PREFIX, "QR code is not a health certificate")
    if verifier.strict and not alphanumeric:  # rule Q2: the segment mode is not signed (docs/interop.md)
        return _failure(FailureCode.QR_NOT_ALPHANUMERIC, Stage.IMAGE, "QR code not in alphanumeric mode")
    return verifier.verify(text, now=now)


def verify_image(
    image: ImageSource, verifier: Verifier, *, now: dt.datetime | None = None, fallback: bool = True
) -> VerificationResult:
    """Verify the first health certificate found in a picture (a path, image bytes, PIL image or array).

    No code gives NO_QR_FOUND, only other codes NOT_A_CERTIFICATE, an unreadable picture
    IMAGE_UNREADABLE.  Byte-mode and mixed-segment codes are read like any other; a strict
    verifier refuses them with QR_NOT_ALPHANUMERIC (DCC rule Q2).
    """
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    codes = _codes(image, fallback)
    if isinstance(codes, VerificationResult):
        return codes
    if not codes:
        return _failure(FailureCode.NO_QR_FOUND, Stage.IMAGE, "no QR code found")
    for code in codes:
        if code.text.startswith(PREFIX):
            return _verify_text(verifier, code.text, moment, alphanumeric=code.alphanumeric)
    return _failure(FailureCode.NOT_A_CERTIFICATE, Stage.PREFIX, "QR code is not a health certificate")


@dataclass(frozen=True, slots=True)
class Verdict:
    """One code's verdict at a checkpoint: the verification result and the pass it grants."""

    index: int
    result: VerificationResult
    assessment: Assessment

    @property
    def colour(self) -> Pass:
        """GREEN, YELLOW or RED."""
        return self.assessment.colour

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """A JSON-ready summary without personal data (no names, birth dates, identifiers, QR text)."""
        r, a = self.result, self.assessment
        return {
            "index": self.index, "valid": r.valid, "code": str(r.code), "stage": str(r.stage),
            "pass": str(a.colour), "reason": str(a.reason), "message": a.message(lang), "type": r.cert_type,
            "kid": r.kid.hex() if r.kid is not None else None, "issued_at": _iso(r.issued_at),
            "expires_at": _iso(r.expires_at), "valid_from": _iso(a.valid_from), "valid_until": _iso(a.valid_until),
        }  # fmt: skip


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def scan_text(
    text: str, verifier: Verifier, *, policy: Policy = DEFAULT_POLICY, now: dt.datetime | None = None
) -> Verdict:
    """The verdict for one scanned text (HC1, or anything else a scanner read)."""
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    result = _verify_text(verifier, text.strip(), moment)
    return Verdict(0, result, assess(result, policy, now=moment))


def scan_image(
    image: ImageSource, verifier: Verifier, *, policy: Policy = DEFAULT_POLICY, now: dt.datetime | None = None,
    fallback: bool = True,
) -> list[Verdict]:  # fmt: skip
    """One verdict per code in a picture; a picture without a code, or unreadable, gives one RED verdict."""
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    codes = _codes(image, fallback)
    if isinstance(codes, VerificationResult):
        results = [codes]
    elif not codes:
        results = [_failure(FailureCode.NO_QR_FOUND, Stage.IMAGE, "no QR code found")]
    else:
        results = [_verify_text(verifier, c.text, moment, alphanumeric=c.alphanumeric) for c in codes]
    return [Verdict(i, r, assess(r, policy, now=moment)) for i, r in enumerate(results)]


def scan(
    source: str | ImageSource, verifier: Verifier, *, policy: Policy = DEFAULT_POLICY,
    now: dt.datetime | None = None, fallback: bool = True,
) -> list[Verdict]:  # fmt: skip
    """Checkpoint mode: the verdicts for a scanned text (a ``str``) or a picture (anything else).

    A ``str`` is always text, never a file name: pass a :class:`~pathlib.Path` for a picture file.
    """
    if isinstance(source, str):
        return [scan_text(source, verifier, policy=policy, now=now)]
    return scan_image(source, verifier, policy=policy, now=now, fallback=fallback)
