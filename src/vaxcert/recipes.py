"""Recipes over the two pipelines: set up a verifier, verify a picture, scan at a checkpoint.

* :func:`load_verifier` — a :class:`~vaxcert.verifier.Verifier` from trust sources (certificate
  files or folders, signed trust lists, EU gateway JSON), SMART Health Card issuer key sets, an
  offline bundle (trust list, revocation lists, value sets, business rules, SHC issuers) and
  revocation lists, with the rules to apply and the warnings a front end should show (rejected
  signer certificates, by kid only);
* :func:`verify_image` — the certificate in a picture → a :class:`~vaxcert.verifier.VerificationResult`
  (an EU DCC, or a SMART Health Card, also one split into several chunk codes);
* :func:`scan` / :class:`Scanner` — texts, pictures or card files → a :class:`Verdict` per
  certificate: the verification result and the pass it grants under a
  :class:`~vaxcert.rules.Policy` and, when given, a country's business rules
  (:class:`~vaxcert.rules.country.CountryRules`: the failed rules are listed).

Formats are detected from the codes (``HC1:``, ``shc:/``, ``shc:/C/N/`` chunks, a compact JWS, a
``.smart-health-card`` file).  Chunks of one Health Card are reassembled from the codes of one
picture, or across the pictures a :class:`Scanner` is fed; a card still missing chunks when the
scan finishes gets ``SHC_CHUNKS_INCOMPLETE``.

Like the verifier, :func:`verify_image` and :func:`scan` never raise for bad input: an unreadable
picture, a picture without a code or a code that is not a certificate are verdicts.  Decoding
pictures needs the ``vaxcert[qr]`` extra (zxing-cpp, Pillow); without it they raise
:class:`~vaxcert.errors.MissingExtraError` naming it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from cryptography import x509

from .codes import FailureCode, Stage
from .dcc.valuesets import ValueSets
from .errors import ConfigurationError, DecodeError
from .formats.shc import ChunkCollector, ShcTrust
from .rules import DEFAULT_POLICY, Assessment, Pass, Policy, assess
from .rules.country import CountryRules, RuleBook, RulesVerdict
from .rules.gateway import RuleFormatError
from .stages.prefix import PREFIX
from .trust.bundle import Bundle, load_bundle
from .trust.lists import load_trust_source
from .trust.revocation import RevocationList, RevocationSet
from .trust.signeddoc import DEFAULT_MAX_LIFETIME, DocumentError
from .trust.state import SequenceState
from .trust.store import CombinedTrust, TrustedSigner, TrustStore
from .trust.testkeys import find_published_test_keys
from .verifier import FORMAT_DCC, FORMAT_SHC, RevocationChecker, VerificationResult, Verifier, detect_format

if TYPE_CHECKING:
    from .qr.photo import DecodedCode, ImageSource

__all__ = [
    "LoadedVerifier",
    "Scanner",
    "Verdict",
    "bundle_rules",
    "bundle_shc_trust",
    "image_codes",
    "load_verifier",
    "scan",
    "scan_image",
    "scan_text",
    "verify_image",
]

_CHUNK_HEADER: Final = re.compile(r"\s*shc:/([0-9]{1,4})/([0-9]{1,4})/", re.IGNORECASE)
_TEXT_FILE_STARTS: Final = (b"{", b"shc:/", b"SHC:/", PREFIX.encode(), b"eyJ")
_MAX_TEXT_FILE: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class LoadedVerifier:
    """A verifier set up from files, the business rules loaded with it, and what a front end
    should warn about (no personal data)."""

    verifier: Verifier
    warnings: tuple[str, ...] = ()
    rules: RuleBook = field(default_factory=RuleBook)
    bundle: Bundle | None = None

    def country_rules(self, country: str = "VN", region: str | None = None) -> CountryRules | None:
        """The loaded rules for a checkpoint in ``country`` (``region``), or None when none were loaded."""
        return self.rules.for_country(country, region) if self.rules else None


def bundle_rules(bundle: Bundle) -> RuleBook:
    """The business rules a bundle carries (an empty book for a bundle without rules).

    Raises :class:`~vaxcert.trust.signeddoc.DocumentError` (TRUST_LIST_INVALID) when they are malformed.
    """
    if bundle.rules is None:
        return RuleBook()
    try:
        return RuleBook.from_json(bundle.rules, origin="bundle rules")
    except RuleFormatError as exc:
        raise DocumentError(FailureCode.TRUST_LIST_INVALID, str(exc)) from None


def bundle_shc_trust(bundle: Bundle) -> ShcTrust | None:
    """The SMART Health Card issuers a bundle carries (None when it carries none).

    Raises :class:`~vaxcert.trust.signeddoc.DocumentError` (TRUST_LIST_INVALID) when they are malformed.
    """
    if bundle.shc_issuers is None:
        return None
    try:
        return ShcTrust.from_json(bundle.shc_issuers)
    except ConfigurationError as exc:
        raise DocumentError(FailureCode.TRUST_LIST_INVALID, f"bundle SMART Health Card issuers: {exc}") from None


def load_verifier(
    *,
    trust: Sequence[str | os.PathLike[str]] = (),
    bundle: str | os.PathLike[str] | None = None,
    cscas: Sequence[x509.Certificate] | None = None,
    revocation: Sequence[str | os.PathLike[str]] = (),
    shc_issuers: Sequence[str | os.PathLike[str]] = (),
    rules: Sequence[str | os.PathLike[str]] = (),
    now: dt.datetime,
    strict: bool = False,
    state: SequenceState | None = None,
    max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME,
) -> LoadedVerifier:
    """A verifier for these trust sources, checked at ``now``.

    * ``trust``: certificate files or folders (trusted as given, or chain-checked when ``cscas``
      is given), signed trust lists and EU gateway JSON (both need ``cscas`` to be anchored);
    * ``bundle``: a signed offline bundle (needs ``cscas``); its revocation lists, value sets,
      business rules and SMART Health Card issuers are used too (past the bundle's freshness
      limit, DCCs and Health Cards alike get TRUST_LIST_STALE);
    * ``revocation``: signed revocation lists (need ``cscas``);
    * ``shc_issuers``: SMART Health Card issuer key sets (files or folders, see
      :meth:`vaxcert.formats.shc.ShcTrust.from_paths`), trusted beside the bundle's;
    * ``rules``: business rule files or folders (EU gateway rules, pass rule sets; see
      :meth:`vaxcert.rules.country.RuleBook.load`), applied beside the bundle's.  They are not
      signed: a checkpoint should take its rules from the bundle;
    * ``strict``: a strict verifier for EU DCCs (the full schema, and rule Q2 for pictures; see
      :class:`vaxcert.Verifier` and docs/interop.md);
    * ``state``: a checkpoint's :class:`~vaxcert.trust.state.SequenceState`: every signed document
      (a bundle and its parts, signed trust lists, revocation lists) older than one seen before is
      refused as a rollback, and the newer ones are recorded (call ``state.save()`` afterwards);
    * ``max_lifetime``: the longest a signed document may live (default 7 days).

    The warnings name rejected signer certificates and any published test key (or certificate
    marked ``TEST ONLY``, :mod:`vaxcert.trust.testkeys`) a trust source holds: anyone can sign with
    those, so a real verifier must not trust them.

    Codes outside the value sets (the bundle's, else the bundled snapshot) become warnings of the
    results.  Signature failures raise :class:`vaxcert.trust.signeddoc.DocumentError`; stale lists
    load and make each verification answer TRUST_LIST_STALE / REVOCATION_LIST_STALE.
    """
    stores: list[TrustStore] = []
    lists: list[RevocationList] = []
    warnings: list[str] = []
    valuesets: ValueSets | None = None
    book = RuleBook()
    shc = ShcTrust()
    shc_fresh_until: dt.datetime | None = None
    loaded_bundle: Bundle | None = None
    if bundle is not None:
        if cscas is None:
            raise ConfigurationError("a bundle needs the ministry's CSCA certificate (--csca FILE)")
        loaded_bundle = load_bundle(Path(bundle), cscas, now, max_lifetime=max_lifetime)
        if state is not None:
            state.admit_all(loaded_bundle.signed_documents())
        stores.append(loaded_bundle.trust)
        lists.extend(loaded_bundle.revocation.lists)
        valuesets = loaded_bundle.valuesets
        warnings.extend(f"{bundle}: rejected DSC kid {r.kid}: {r.reason}" for r in loaded_bundle.trust.trust.rejected)
        warnings.extend(_test_key_warnings(bundle, loaded_bundle.trust.trust))
        book = bundle_rules(loaded_bundle)
        carried = bundle_shc_trust(loaded_bundle)
        if carried is not None:  # the bundle's issuers are as fresh as the bundle
            shc = shc.merged(carried)
            shc_fresh_until = loaded_bundle.expires_at
    for path in trust:
        source = load_trust_source(Path(path), cscas=cscas, now=now, max_lifetime=max_lifetime)
        if state is not None and source.document is not None:
            state.admit(source.document, code=FailureCode.TRUST_LIST_INVALID)
        stores.append(source)
        warnings.extend(f"{path}: rejected DSC kid {r.kid}: {r.reason}" for r in source.rejected)
        warnings.extend(_test_key_warnings(path, source))
    if shc_issuers:
        files = ShcTrust.from_paths(shc_issuers)
        shc = shc.merged(files)
        warnings.extend(f"SMART Health Card issuer {iss}: no keys" for iss in files.issuers_without_keys)
    if not stores and not len(shc):
        raise ConfigurationError(
            "no trust configured: pass --trust FILE_OR_DIR (signer certificates or a signed list), "
            "--shc-issuers FILE_OR_DIR or --bundle FILE")
    for path in revocation:
        if cscas is None:
            raise ConfigurationError("a revocation list needs the ministry's CSCA certificate (--csca FILE)")
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"cannot read revocation list {path}: {exc.strerror}") from None
        listed = RevocationList.load(data, cscas, now=now, max_lifetime=max_lifetime)
        if state is not None and listed.document is not None:
            state.admit(listed.document, code=FailureCode.REVOCATION_LIST_INVALID)
        lists.append(listed)
    if rules:
        local = RuleBook.load(*rules)
        book = RuleBook(book.rules + local.rules, (*book.passes, *local.passes))
    store: TrustStore | None = (stores[0] if len(stores) == 1 else CombinedTrust(stores)) if stores else None
    checker: RevocationChecker | None = RevocationSet(lists) if lists else None
    known = valuesets if valuesets is not None else ValueSets.bundled()
    verifier = Verifier(store, revocation=checker, valuesets=known, shc_trust=shc, shc_fresh_until=shc_fresh_until,
                        strict=strict)
    return LoadedVerifier(verifier, tuple(warnings), book, loaded_bundle)


def _test_key_warnings(source: str | os.PathLike[str], signers: Iterable[TrustedSigner]) -> list[str]:
    """One warning per published test key (or TEST ONLY certificate) a trust source holds."""
    return [
        f"{source}: trusts kid {signer.kid.hex()}, a {what}: anyone can sign certificates with it; "
        "never trust test keys outside tests"
        for signer, what in find_published_test_keys(signers)
    ]


def _failure(code: FailureCode, stage: Stage, reason: str, fmt: str = FORMAT_DCC) -> VerificationResult:
    return VerificationResult(False, code, stage, reason, format=fmt)


def _not_a_certificate() -> VerificationResult:
    return _failure(FailureCode.NOT_A_CERTIFICATE, Stage.PREFIX, "QR code is not a health certificate")


def _codes(image: ImageSource, fallback: bool) -> list[DecodedCode] | VerificationResult:
    """The codes in a picture (never empty), or a failure verdict: an unreadable picture, no code,
    or a code seen but not decodable (each with its own retake hint at the checkpoint)."""
    from .qr import photo  # the [qr] extra: imported when a picture is first decoded

    try:
        found = photo.read_codes(image, fallback=fallback)
    except Exception:  # any unreadable picture is a verdict, not a crash
        return _failure(FailureCode.IMAGE_UNREADABLE, Stage.IMAGE, "image unreadable")
    if found.codes:
        return found.codes
    if found.unreadable:
        return _failure(FailureCode.QR_UNREADABLE, Stage.IMAGE, "QR code found but not decodable")
    return _failure(FailureCode.NO_QR_FOUND, Stage.IMAGE, "no QR code found")


def image_codes(image: ImageSource, *, fallback: bool = True) -> list[str]:
    """The texts of the health-certificate codes in a picture (``HC1:``, ``shc:/`` and its chunks), in
    the order found; pass them to :meth:`Verifier.verify` (chunks of one card together).

    Raises :class:`~vaxcert.errors.DecodeError` (IMAGE_UNREADABLE / NO_QR_FOUND / QR_UNREADABLE /
    NOT_A_CERTIFICATE, stage ``image``/``prefix``) when there is none.
    """
    codes = _codes(image, fallback)
    if isinstance(codes, VerificationResult):
        raise DecodeError(codes.code, codes.stage, codes.reason)
    texts = [code.text.strip() for code in codes if detect_format(code.text.strip()) is not None]
    if not texts:
        raise DecodeError(FailureCode.NOT_A_CERTIFICATE, Stage.PREFIX, "QR code is not a health certificate")
    return texts


def _verify_text(verifier: Verifier, text: str, now: dt.datetime, *, alphanumeric: bool = True) -> VerificationResult:
    if not text.startswith(PREFIX):
        return _not_a_certificate()
    if verifier.strict and not alphanumeric:  # rule Q2: the segment mode is not signed (docs/interop.md)
        return _failure(FailureCode.QR_NOT_ALPHANUMERIC, Stage.IMAGE, "QR code not in alphanumeric mode")
    return verifier.verify(text, now=now)


def _chunk_total(text: str) -> int | None:
    """N of a chunked ``shc:/C/N/`` text with N > 1, else None."""
    match = _CHUNK_HEADER.match(text)
    if match is None:
        return None
    total = int(match.group(2))
    return total if total > 1 else None


def verify_image(
    image: ImageSource, verifier: Verifier, *, now: dt.datetime | None = None, fallback: bool = True
) -> VerificationResult:
    """Verify the first health certificate found in a picture (a path, image bytes, PIL image or array).

    An EU DCC (``HC1:``) or a SMART Health Card (``shc:/``); the chunks of a chunked Health Card
    in the picture are verified together.  No code gives NO_QR_FOUND, a QR code seen but not
    decodable (blurred, damaged) QR_UNREADABLE, only other codes NOT_A_CERTIFICATE, an unreadable
    picture IMAGE_UNREADABLE, chunks of a card missing from the picture SHC_CHUNKS_INCOMPLETE.
    Byte-mode and mixed-segment HC1 codes are read like any other; a strict verifier refuses them
    with QR_NOT_ALPHANUMERIC (DCC rule Q2).
    """
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    codes = _codes(image, fallback)
    if isinstance(codes, VerificationResult):
        return codes
    for code in codes:
        text = code.text.strip()
        kind = detect_format(text)
        if kind == FORMAT_DCC:
            return _verify_text(verifier, text, moment, alphanumeric=code.alphanumeric)
        if kind == FORMAT_SHC:
            total = _chunk_total(text)
            if total is None:
                return verifier.verify(text, now=moment)
            chunks = [c.text.strip() for c in codes if _chunk_total(c.text.strip()) == total]
            return verifier.verify(chunks, now=moment)
    return _not_a_certificate()


@dataclass(frozen=True, slots=True)
class Verdict:
    """One certificate's verdict at a checkpoint: the verification result, the pass it grants and,
    when a country's rules were applied, what they said (``rules``: the failed rules are listed)."""

    index: int
    result: VerificationResult
    assessment: Assessment
    rules: RulesVerdict | None = None

    @property
    def colour(self) -> Pass:
        """GREEN, YELLOW or RED."""
        return self.assessment.colour

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """A JSON-ready summary without personal data (no names, birth dates, identifiers, QR text)."""
        r, a = self.result, self.assessment
        out = {
            "index": self.index, "format": r.format, "valid": r.valid, "code": str(r.code), "stage": str(r.stage),
            "pass": str(a.colour), "reason": str(a.reason), "message": a.message(lang), "type": r.cert_type,
            "kid": r.key_id, "issued_at": _iso(r.issued_at),
            "expires_at": _iso(r.expires_at), "valid_from": _iso(a.valid_from), "valid_until": _iso(a.valid_until),
        }  # fmt: skip
        if r.format == FORMAT_SHC:
            out["iss"] = r.iss
        if self.rules is not None:
            out["rules"] = self.rules.to_dict(lang)
        return out


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


@dataclass(frozen=True, slots=True)
class _Code:
    """One scanned text (from a picture, or typed) and whether its QR segment was alphanumeric."""

    text: str
    alphanumeric: bool = True


class Scanner:
    """A checkpoint scanning session: one verifier, policy, rules and moment, fed texts, pictures
    and card files one after the other (:meth:`scan`), then :meth:`finish`\\ ed.

    The certificates found in ONE :meth:`scan` call (the codes of one picture, or the sources of
    a list) are taken as one holder's: each is given the others' payloads as
    ``external.holderCertificates`` (Hồ Chí Minh City's rule: a dose plus a recovery), and the
    rules check themselves that those are the same person's.  Chunks of a chunked Health Card
    wait across calls until every chunk has been seen; :meth:`finish` gives the verdicts of cards
    still incomplete (SHC_CHUNKS_INCOMPLETE).
    """

    def __init__(
        self,
        verifier: Verifier,
        *,
        policy: Policy = DEFAULT_POLICY,
        rules: CountryRules | None = None,
        now: dt.datetime | None = None,
        fallback: bool = True,
        valuesets: ValueSets | None = None,
    ) -> None:
        self.verifier = verifier
        self.policy = policy
        self.rules = rules if rules is not None and not rules.empty else None
        self.now = now if now is not None else dt.datetime.now(dt.UTC)
        self.fallback = fallback
        self.valuesets = valuesets if valuesets is not None else verifier.valuesets
        self._chunks: dict[int, tuple[ChunkCollector, list[str]]] = {}

    def scan(self, source: str | ImageSource | Sequence[str | ImageSource]) -> list[Verdict]:
        """The verdicts of the certificates completed by ``source``: a text (``str``; always text,
        never a file name), a picture or a card/text file (a :class:`~pathlib.Path`, image bytes,
        a PIL image or an array), or a ``list``/``tuple`` of those presented together."""
        items: list[_Code | VerificationResult] = []
        for one in (source if isinstance(source, list | tuple) else [source]):
            items.extend(self._items(one))
        return self._judge(self._results(items))

    def finish(self) -> list[Verdict]:
        """Verdicts of the Health Cards whose chunks were not all seen (the session's chunks are dropped)."""
        pending = [self.verifier.verify(texts, now=self.now) for _, texts in self._chunks.values()]
        self._chunks.clear()
        return self._judge(pending)

    # -- sources -> codes -> results -----------------------------------------------------------

    def _items(self, source: Any) -> list[_Code | VerificationResult]:
        if isinstance(source, str):
            return [_Code(source.strip())]
        if isinstance(source, os.PathLike):
            text = _text_file(Path(source))
            if text is not None:
                return [_Code(text)]
        codes = _codes(source, self.fallback)
        if isinstance(codes, VerificationResult):
            return [codes]
        return [_Code(code.text.strip(), code.alphanumeric) for code in codes]

    def _results(self, items: Iterable[_Code | VerificationResult]) -> list[VerificationResult]:
        results: list[VerificationResult] = []
        for item in items:
            if isinstance(item, VerificationResult):
                results.append(item)
                continue
            kind = detect_format(item.text)
            if kind == FORMAT_DCC:
                results.append(_verify_text(self.verifier, item.text, self.now, alphanumeric=item.alphanumeric))
            elif kind == FORMAT_SHC:
                total = _chunk_total(item.text)
                if total is None:
                    results.extend(self.verifier.verify_all(item.text, now=self.now))
                else:
                    results.extend(self._chunk(total, item.text))
            else:
                results.append(_not_a_certificate())
        return results

    def _chunk(self, total: int, text: str) -> list[VerificationResult]:
        collector, texts = self._chunks.setdefault(total, (ChunkCollector(), []))
        try:
            collector.add(text)
        except DecodeError as exc:  # two different codes for one chunk: the set is unusable
            del self._chunks[total]
            return [_failure(exc.code, exc.stage, exc.message, FORMAT_SHC)]
        texts.append(text)
        if not collector.complete:
            return []
        del self._chunks[total]
        return [self.verifier.verify(texts, now=self.now)]

    # -- results -> verdicts --------------------------------------------------------------------

    def _judge(self, results: Sequence[VerificationResult]) -> list[Verdict]:
        payloads = [r.payload for r in results if r.valid and r.payload is not None]
        verdicts = []
        for index, result in enumerate(results):
            assessment = assess(result, self.policy, now=self.now)
            checked = None
            if self.rules is not None:
                checked = self.rules.evaluate(result, now=self.now, holder_certificates=payloads,
                                              valuesets=self.valuesets)  # fmt: skip
                if checked is not None:
                    assessment = checked.assessment(assessment, details=_details(result))
            verdicts.append(Verdict(index, result, assessment, checked))
        return verdicts


def _details(result: VerificationResult) -> dict[str, str | int]:
    """Dose counts and product of a vaccination entry, for the texts of a rule-decided pass."""
    payload = result.payload
    entries = payload.get("v") if isinstance(payload, Mapping) else None
    if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], Mapping):
        return {}
    entry = entries[0]
    found = (("dn", entry.get("dn")), ("sd", entry.get("sd")), ("product", entry.get("mp")))
    return {key: value for key, value in found if isinstance(value, int | str) and not isinstance(value, bool)}


def _text_file(path: Path) -> str | None:
    """The text of a card file or a text file holding a certificate code; None for anything else (a picture)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
            if not head.lstrip(b" \t\r\n").removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").startswith(
                    _TEXT_FILE_STARTS):
                return None
            data = head + handle.read(_MAX_TEXT_FILE + 1 - len(head))
    except OSError:
        return None
    return data.decode("utf-8", errors="replace").strip().removeprefix("\ufeff")


def scan_text(
    text: str, verifier: Verifier, *, policy: Policy = DEFAULT_POLICY, now: dt.datetime | None = None,
    rules: CountryRules | None = None,
) -> Verdict:  # fmt: skip
    """The verdict for one scanned text (HC1, ``shc:/``, a JWS or a card file's text; anything else
    a scanner read is RED).  A card file with several cards gives the first card's verdict: use
    :func:`scan` for all of them."""
    scanner = Scanner(verifier, policy=policy, rules=rules, now=now)
    verdicts = scanner.scan(text) or scanner.finish()
    return verdicts[0]


def scan_image(
    image: ImageSource, verifier: Verifier, *, policy: Policy = DEFAULT_POLICY, now: dt.datetime | None = None,
    fallback: bool = True, rules: CountryRules | None = None,
) -> list[Verdict]:  # fmt: skip
    """One verdict per certificate in a picture; a picture without a code, or unreadable, gives one RED verdict."""
    scanner = Scanner(verifier, policy=policy, rules=rules, now=now, fallback=fallback)
    return _renumber([*scanner.scan(image), *scanner.finish()])


def scan(
    source: str | ImageSource | Sequence[str | ImageSource], verifier: Verifier, *, policy: Policy = DEFAULT_POLICY,
    now: dt.datetime | None = None, fallback: bool = True, rules: CountryRules | None = None,
) -> list[Verdict]:  # fmt: skip
    """Checkpoint mode: the verdicts for a scanned text (a ``str``), a picture or card file (anything
    else), or a ``list``/``tuple`` of those presented together by one holder.

    A ``str`` is always text, never a file name: pass a :class:`~pathlib.Path` for a file.  With
    ``rules`` (:meth:`LoadedVerifier.country_rules`) the country's business rules decide too, and
    each verdict lists the rules that failed.  See :class:`Scanner` for chunks and holder certificates.
    """
    scanner = Scanner(verifier, policy=policy, rules=rules, now=now, fallback=fallback)
    return _renumber([*scanner.scan(source), *scanner.finish()])


def _renumber(verdicts: Sequence[Verdict]) -> list[Verdict]:
    return [v if v.index == i else Verdict(i, v.result, v.assessment, v.rules) for i, v in enumerate(verdicts)]
