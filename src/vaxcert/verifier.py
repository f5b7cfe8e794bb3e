"""The verification front: an EU DCC (``HC1:``) or a SMART Health Card (``shc:/``) → a :class:`VerificationResult`.

For an EU DCC the stages run backwards (prefix → Base45 → zlib → COSE) and then trust,
signature, CWT claims, times, the signer's validity and key usage, payload structure, schema and
revocation.  This is the only place that turns stage errors into a result; :func:`verify` never
raises for bad input.  The result says whether the certificate is *authentic and well-formed*;
whether it grants a pass at a checkpoint is decided by :mod:`vaxcert.rules` on top of it.

The format is detected from the input (:func:`detect_format`): ``HC1:`` text (or COSE bytes) is
an EU DCC; ``shc:/`` text, a list of chunk texts ``shc:/C/N/…``, a compact JWS or the content of
a ``.smart-health-card`` file is a SMART Health Card, verified by :mod:`vaxcert.formats.shc`
against the verifier's ``shc_trust``.  Both give the same :class:`VerificationResult`, with
``format`` (``eu-dcc`` | ``shc``), the normalised ``holder`` and ``events`` (:mod:`vaxcert.events`,
computed when asked for: the HC1 path does no extra work) and, for a Health Card, a DCC view of
its last dose as ``payload`` (:mod:`vaxcert.formats.dccview`) so the pass policy and business
rules read both formats alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, NamedTuple, Protocol

from .codes import FailureCode, Stage
from .dcc import lenient, schema
from .dcc.payload import certificate_type
from .dcc.valuesets import ValueSets, check_payload
from .errors import DecodeError
from .events import Holder, NormalisedRecord, VaccinationEvent, events_from_dcc
from .formats.dccview import dcc_view
from .formats.shc import ProductMap, ShcResult, ShcTrust, ShcVerifier
from .logs import log_event, safe_traceback
from .stages import cose, cwt, hc1, prefix
from .stages.cose import CoseSign1
from .stages.records import maker
from .trust.store import TrustedSigner, TrustList, TrustStore

__all__ = [
    "FORMAT_DCC",
    "FORMAT_SHC",
    "MAX_INPUT_CHARS",
    "Presentation",
    "RevocationChecker",
    "Trace",
    "VerificationResult",
    "Verifier",
    "certificate_type",
    "detect_format",
    "verify",
]

log = logging.getLogger(__name__)

#: A version-40 QR code holds at most 4,296 alphanumeric characters; allow some slack.
MAX_INPUT_CHARS = 8192
_WHITESPACE = " \t\r\n"
#: The ``format`` of results: an EU DCC, a SMART Health Card.
FORMAT_DCC: Final = "eu-dcc"
FORMAT_SHC: Final = "shc"
#: What :meth:`Verifier.verify` accepts: HC1 text or COSE bytes; ``shc:/`` text, a JWS or the
#: text/bytes of a ``.smart-health-card`` file; or the chunk texts of one Health Card.
Presentation = str | bytes | Sequence[str]
_COVID_CARD: Final = "https://smarthealth.cards#covid19"
_JWS_START: Final = re.compile(r"\s*eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\s*")
_BOM: Final = "\ufeff"


def detect_format(data: object) -> str | None:
    """``eu-dcc``, ``shc`` or None (neither) for a presentation, from its first characters only.

    ``HC1:`` text and COSE bytes are EU DCCs; ``shc:/`` (any case), a compact JWS (``eyJ…``), a
    JSON object (a ``.smart-health-card`` file) and a list of texts (chunks) are Health Cards.
    """
    if isinstance(data, str):
        if data.startswith(prefix.PREFIX):
            return FORMAT_DCC
        head = data.lstrip(" \t\r\n" + _BOM)[:5]
        if head.lower() == "shc:/" or head.startswith("{"):
            return FORMAT_SHC
        if head.startswith(prefix.PREFIX):
            return FORMAT_DCC
        if head.startswith("eyJ") and len(data) <= 1024 * 1024 and _JWS_START.fullmatch(data):
            return FORMAT_SHC
        return None
    if isinstance(data, bytes | bytearray | memoryview):
        head_bytes = bytes(data[:16]).lstrip(b" \t\r\n").removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
        if head_bytes[:1] == b"{" or head_bytes[:5].lower() == b"shc:/":
            return FORMAT_SHC
        return FORMAT_DCC
    if isinstance(data, Sequence) and data and all(isinstance(item, str) for item in data):
        return FORMAT_SHC
    return None


class RevocationChecker(Protocol):
    """What the verifier needs from revocation lists (see :mod:`vaxcert.trust.revocation`)."""

    def check(self, message: CoseSign1, payload: Mapping[str, Any], now: dt.datetime) -> FailureCode | None:
        """REVOKED, a list problem (e.g. stale), or None when the certificate is not revoked."""
        ...


class Trace(NamedTuple):
    """Intermediate artefacts of one verification, for comparison with test vectors.

    A NamedTuple (immutable, and cheap to build on the verification hot path).
    """

    base45: str | None = None
    compressed: bytes | None = None
    cose: bytes | None = None
    message: CoseSign1 | None = None
    claims: cwt.Claims | None = None

    def __repr__(self) -> str:
        return "Trace(<redacted>)"


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The verdict on one certificate of either format.  ``repr`` is redacted.

    ``format`` is ``eu-dcc`` or ``shc``.  ``payload`` is set only when the signature held: the
    DCC payload, or for a Health Card its DCC view (:func:`vaxcert.formats.dccview.dcc_view`;
    the card itself is in ``shc``, a :class:`vaxcert.formats.shc.ShcResult`).  ``kid`` is the
    DCC key identifier (bytes); :attr:`key_id` names the signing key of either format.
    :attr:`holder`, :attr:`events` and :attr:`record` are the normalised contents
    (:mod:`vaxcert.events`), computed on each access from the payload (read them once).
    """

    valid: bool
    code: FailureCode
    stage: Stage
    reason: str
    kid: bytes | None = None
    algorithm: str | None = None
    issuer_country: str | None = None
    issued_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    cert_type: str | None = None
    schema_version: str | None = None
    payload: dict[str, Any] | None = field(default=None, repr=False)
    signer: TrustedSigner | None = None
    warnings: tuple[str, ...] = ()
    trace: Trace = field(default_factory=Trace, repr=False)
    format: str = FORMAT_DCC
    shc: ShcResult | None = field(default=None, repr=False)

    @property
    def key_id(self) -> str | None:
        """The signing key's identifier: the DCC kid in hex, or the Health Card key's thumbprint."""
        if self.shc is not None:
            return self.shc.kid
        return self.kid.hex() if self.kid is not None else None

    @property
    def iss(self) -> str | None:
        """A Health Card's issuer URL (``iss``); None for an EU DCC (see ``issuer_country``)."""
        return self.shc.iss if self.shc is not None else None

    @property
    def record(self) -> NormalisedRecord | None:
        """The holder and vaccination events, once the signature held (None before, or if unreadable)."""
        if self.shc is not None:
            holder = self.shc.holder
            return NormalisedRecord(holder, self.shc.events) if holder is not None and self.payload else None
        if self.payload is None:
            return None
        try:
            return events_from_dcc(self.payload)
        except DecodeError:
            return None

    @property
    def holder(self) -> Holder | None:
        """Who the certificate is about (names as printed, birth date), once the signature held."""
        record = self.record
        return record.holder if record is not None else None

    @property
    def events(self) -> tuple[VaccinationEvent, ...]:
        """The vaccination events (an EU test or recovery certificate has none)."""
        record = self.record
        return record.events if record is not None else ()

    @property
    def content_hash(self) -> str | None:
        """SHA-256 (hex) of what the signature covers, once it held: the same certificate always
        gives the same hash, however its text was re-encoded (ECDSA signatures are malleable,
        COSE unprotected headers and compression are not signed).

        EU DCC: the COSE ``Sig_structure`` (protected header and CWT payload); Health Card: the JWS
        signing input (``header.payload``).  Each is prefixed with the format, so the two never collide.
        """
        if self.payload is None:
            return None
        if self.shc is not None:
            jws = self.shc.trace.jws
            if jws is None:
                return None
            signed = jws.rsplit(".", 1)[0].encode("ascii", "replace")
        else:
            message = self.trace.message
            if message is None:
                return None
            signed = message.to_be_signed()
        return hashlib.sha256(self.format.encode() + b"\0" + signed).hexdigest()

    def to_dict(self, *, show_payload: bool = False) -> dict[str, Any]:
        """A JSON-ready summary; personal data (payload, holder, events) only with ``show_payload``."""
        out: dict[str, Any] = {
            "format": self.format,
            "valid": self.valid,
            "code": str(self.code),
            "stage": str(self.stage),
            "reason": self.reason,
            "kid": self.key_id,
            "algorithm": self.algorithm,
            "type": self.cert_type,
            "issuer_country": self.issuer_country,
            "issued_at": _iso(self.issued_at),
            "expires_at": _iso(self.expires_at),
            "schema_version": self.schema_version,
            "signer": self.signer.subject if self.signer else None,
            "warnings": list(self.warnings),
        }
        if self.shc is not None:
            out["iss"] = self.shc.iss
            out["issuer_name"] = self.shc.issuer_name
            out["source"] = self.shc.source
        if show_payload:
            out["payload"] = self.payload
            record = self.record
            out["holder"] = record.holder.to_dict() if record is not None else None
            out["events"] = [event.to_dict() for event in record.events] if record is not None else []
        return out

    def __repr__(self) -> str:
        return (
            f"VerificationResult(format={self.format}, valid={self.valid}, code={self.code}, stage={self.stage}, "
            f"type={self.cert_type}, kid={self.key_id}, payload=<redacted>)"
        )


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


_fromtimestamp = dt.datetime.fromtimestamp
_UTC = dt.UTC
#: ``VerificationResult(*every field)`` and ``Trace(*fields)`` without their constructors' cost
#: (a frozen dataclass's ``__init__`` costs 1.8-2.7 µs for 17 fields; see vaxcert.stages.records).
_new_result = maker(VerificationResult)
_tuple_new = tuple.__new__


def _epoch(ts: float) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(ts, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


class _Run:
    """Mutable state of one verification, local to :meth:`Verifier.verify` (never shared)."""

    __slots__ = ("claims", "compressed", "cose_bytes", "message", "payload", "signer", "text", "type", "warnings")

    def __init__(self) -> None:
        self.payload: dict[str, Any] | None = None
        self.warnings: list[str] = []
        self.text: str | None = None
        self.compressed: bytes | None = None
        self.cose_bytes: bytes | None = None
        self.message: CoseSign1 | None = None
        self.signer: TrustedSigner | None = None
        self.claims: cwt.Claims | None = None
        self.type: str | None = None


class Verifier:
    """Verifies EU DCCs against a trust store (and optionally revocation lists), and SMART Health
    Cards against a set of issuer key sets (``shc_trust``).

    ``clock_skew`` (seconds) widens the iat/exp (nbf/exp) window for devices with imprecise
    clocks; the default is 0, as the DCC test vectors require.  With ``valuesets``, codes outside
    the value sets are reported as ``warnings``: they do not make a certificate invalid (it is
    authentic and well-formed; newer issuers use newer codes), and a pass policy decides
    which products it accepts.  Without ``shc_trust`` no Health Card issuer is trusted: every
    card is refused (``ISSUER_UNKNOWN`` / ``KID_UNKNOWN``), still with the right code for a
    malformed one.  ``shc_products`` replaces the bundled vaccine-code table.  ``shc_fresh_until``
    is the freshness limit of the issuer list (the offline bundle's that carried it): past it,
    every card gets ``TRUST_LIST_STALE``, as DCCs do with a stale trust list.

    By default the verifier reads EU DCC payloads as real issuers wrote them (see
    :mod:`vaxcert.dcc.lenient`): null members, whitespace, integral floats and other ISO 8601
    spellings are normalised, and the schema tolerates ``fnt`` / ``gnt`` outside ``[A-Z<]`` and
    long issuer names; each is reported in ``warnings``, and ``payload`` is the normalised
    payload (the signed one stays in ``trace.claims``).  ``strict=True`` validates the payload as
    signed against the full schema instead, with its ``format`` declarations asserted (RFC 3339
    dates and date-times).  Either way, what the
    signature does not protect is refused (see docs/interop.md).
    """

    def __init__(
        self,
        trust: TrustStore | None = None,
        *,
        revocation: RevocationChecker | None = None,
        valuesets: ValueSets | None = None,
        clock_skew: int = 0,
        check_signer_validity: bool = True,
        shc_trust: ShcTrust | None = None,
        shc_products: ProductMap | None = None,
        shc_fresh_until: dt.datetime | None = None,
        strict: bool = False,
    ) -> None:
        self.strict = strict
        self.trust: TrustStore = trust if trust is not None else TrustList()
        self.revocation = revocation
        self.valuesets = valuesets
        self.clock_skew = clock_skew
        self.check_signer_validity = check_signer_validity
        self.shc_trust = shc_trust if shc_trust is not None else ShcTrust()
        self.shc_fresh_until = shc_fresh_until
        self._shc = ShcVerifier(self.shc_trust, products=shc_products, clock_skew=clock_skew)

    def verify(self, data: Presentation, *, now: dt.datetime) -> VerificationResult:
        """Verify one certificate of either format (see :func:`detect_format`) at ``now``.  Never raises.

        A ``.smart-health-card`` file holding several cards gives ``SHC_FILE_INVALID``: verify it
        with :meth:`verify_all`.
        """
        if type(data) is not str or not data.startswith(prefix.PREFIX):  # the HC1 text path stays first
            if detect_format(data) == FORMAT_SHC:
                return self._verify_shc(data, now)
        run = _Run()
        try:
            return self._verify(data, now, run)
        except DecodeError as exc:
            return self._failure(run, exc.code, exc.stage, exc.message)
        except Exception as exc:
            log_event(log, "verify.internal_error", level=logging.ERROR, exc_type=type(exc).__name__,
                      traceback=safe_traceback(exc))  # frames and type only: the message may quote the input
            return self._failure(run, FailureCode.INTERNAL_ERROR, Stage.INPUT, "internal error")

    def verify_all(self, data: Presentation, *, now: dt.datetime) -> tuple[VerificationResult, ...]:
        """One result per certificate of a presentation: a ``.smart-health-card`` file may hold
        several cards (a family's); anything else gives one result.  Never raises."""
        if detect_format(data) != FORMAT_SHC:
            return (self.verify(data, now=now),)
        stale = self._shc_stale(now)
        if stale is not None:
            return (stale,)
        try:
            cards = self._shc.verify_all(data, now=now)
        except Exception as exc:  # the SHC verifier never raises; be safe anyway
            log_event(log, "verify.internal_error", level=logging.ERROR, exc_type=type(exc).__name__,
                      traceback=safe_traceback(exc))
            return (VerificationResult(False, FailureCode.INTERNAL_ERROR, Stage.INPUT, "internal error",
                                       format=FORMAT_SHC),)
        return tuple(_from_shc(card) for card in cards)

    def _shc_stale(self, now: dt.datetime) -> VerificationResult | None:
        limit = self.shc_fresh_until
        if limit is None or not isinstance(now, dt.datetime) or now.tzinfo is None or now <= limit:
            return None
        return VerificationResult(False, FailureCode.TRUST_LIST_STALE, Stage.TRUST,
                                  "SMART Health Card issuer list past its freshness limit", format=FORMAT_SHC)

    def _verify_shc(self, data: Presentation, now: dt.datetime) -> VerificationResult:
        stale = self._shc_stale(now)
        if stale is not None:
            return stale
        try:
            return _from_shc(self._shc.verify(data, now=now))
        except Exception as exc:  # the SHC verifier never raises; be safe anyway
            log_event(log, "verify.internal_error", level=logging.ERROR, exc_type=type(exc).__name__,
                      traceback=safe_traceback(exc))
            return VerificationResult(False, FailureCode.INTERNAL_ERROR, Stage.INPUT, "internal error",
                                      format=FORMAT_SHC)

    # -- stages ----------------------------------------------------------------------------

    def _verify(self, data: Presentation, now: dt.datetime, run: _Run) -> VerificationResult:
        if now.tzinfo is None:
            raise DecodeError(FailureCode.INTERNAL_ERROR, Stage.INPUT, "now must be timezone-aware")
        if type(data) is str:
            pass
        elif isinstance(data, bytes | bytearray | memoryview):
            data = bytes(data)
            if data.startswith(prefix.PREFIX.encode()):
                data = _ascii(data)
        elif not isinstance(data, str):
            raise DecodeError(FailureCode.INPUT_NOT_TEXT, Stage.INPUT, "input must be text or bytes")
        if len(data) > MAX_INPUT_CHARS:
            raise DecodeError(FailureCode.INPUT_TOO_LARGE, Stage.INPUT, f"input longer than {MAX_INPUT_CHARS}")
        if isinstance(data, str):
            # A line break or spaces around the text (files, scanners that send Enter) are not
            # part of the certificate: Base45 has a space, but never at either end.
            run.text, run.compressed, run.cose_bytes, run.message = hc1.unwrap(data.strip(_WHITESPACE))
        else:
            run.cose_bytes = data
            run.message = cose.decode(run.cose_bytes)
        self._check_signature(run, now)
        message, signer = run.message, run.signer
        assert message is not None and signer is not None
        run.claims = claims = cwt.decode(message.payload)
        # the claims' times, then the signer's validity
        ts = now.timestamp()
        if ts + self.clock_skew < claims.issued_at:
            raise DecodeError(FailureCode.NOT_YET_VALID, Stage.TIME, "issued after the validation time")
        if ts - self.clock_skew > claims.expires_at:
            raise DecodeError(FailureCode.EXPIRED, Stage.TIME, "expired")
        if self.check_signer_validity:
            if now < signer.not_before:
                raise DecodeError(FailureCode.DSC_NOT_YET_VALID, Stage.TRUST, "signer certificate not yet valid")
            if now > signer.not_after:
                raise DecodeError(FailureCode.DSC_EXPIRED, Stage.TRUST, "signer certificate expired")
        content = claims.payload
        # Null members and empty lists do not count as types, so the reading (which drops
        # them) cannot change the type: it is read from the payload as signed.  The usual
        # certificate (tidy, one entry, standard dates) is recognised in one look.
        kind = lenient.tidy_kind(content) if claims.tidy else None
        if kind is None:
            run.type = kind = certificate_type(content)
            if not self.strict and not (lenient.tidy_as_written(content, kind) if claims.tidy
                                        else lenient.reads_as_written(content)):
                reading = lenient.read_payload(content)
                content = reading.payload
                run.warnings.extend(reading.warnings)
        else:
            run.type = kind
        run.payload = content
        # iss / co naming another country than the signer's: reported, not refused (a country
        # may sign for doses given abroad; the trust list, not iss, says who is trusted).
        country = signer.country
        if country:
            if claims.issuer is not None and claims.issuer != country:
                run.warnings.append("iss: issuing country differs from the signer certificate's country")
            entry = content[kind][0]
            if type(entry) is dict and entry.get("co", country) != country and type(entry["co"]) is str:
                run.warnings.append(f"{kind}[0].co: country differs from the signer certificate's country")
        if kind not in signer.types:
            raise DecodeError(FailureCode.KEY_USAGE_MISMATCH, Stage.KEY_USAGE, f"signer may not sign type {kind}")
        version = schema.resolve_version(content.get("ver"))
        if version is None:
            raise DecodeError(FailureCode.SCHEMA_VERSION_UNKNOWN, Stage.SCHEMA, "unsupported schema version")
        if self.strict or not schema.is_valid_plain(content, version):
            errors = schema.validate(content, version, plain_json=True)
            if self.strict and not errors:
                errors = schema.format_problems(content, version)
            if errors:
                tolerated = None if self.strict else schema.validate(content, version, plain_json=True, lenient=True)
                if tolerated is None or tolerated:
                    raise DecodeError(FailureCode.SCHEMA_INVALID, Stage.SCHEMA, (tolerated or errors)[0])
                run.warnings.extend(f"{error} (tolerated; the full schema refuses it)" for error in errors)
        if self.revocation is not None:
            # Revocation lists identify certificates by what their issuer signed.
            code = self.revocation.check(message, claims.payload, now)
            if code is not None:
                raise DecodeError(code, Stage.REVOCATION, "revoked" if code == FailureCode.REVOKED else str(code))
        result = self._valid(run, message, claims, signer, kind, content, version)
        if self.valuesets is not None:
            problems = check_payload(content, self.valuesets)
            if problems:
                result = replace(result, warnings=(*result.warnings,
                                                   *(f"{path}: {message}" for path, message in problems)))
        return result

    def _check_signature(self, run: _Run, now: dt.datetime) -> None:
        assert run.message is not None
        problem = self.trust.problem(now)
        if problem is not None:
            raise DecodeError(problem, Stage.TRUST, "trust list unusable")
        candidates = self.trust.candidates(run.message.kid)
        if not candidates:
            raise DecodeError(FailureCode.KID_UNKNOWN, Stage.TRUST, "no trusted signer with this kid")
        failure: DecodeError | None = None
        for signer in candidates:
            try:
                cose.verify_signature(run.message, signer.public_key)
            except DecodeError as exc:
                # Prefer the most telling reason: a key of the right type that did not verify.
                if failure is None or exc.code == FailureCode.SIGNATURE_INVALID:
                    failure = exc
                continue
            run.signer = signer
            return
        assert failure is not None
        raise failure

    # -- results ---------------------------------------------------------------------------

    @staticmethod
    def _valid(run: _Run, message: CoseSign1, claims: cwt.Claims, signer: TrustedSigner, kind: str,
               payload: dict[str, Any], version: str) -> VerificationResult:
        """:meth:`_result` of a valid certificate (the path of every valid one, written out)."""
        try:
            issued_at: dt.datetime | None = _fromtimestamp(claims.issued_at, _UTC)
            expires_at: dt.datetime | None = _fromtimestamp(claims.expires_at, _UTC)
        except (OverflowError, OSError, ValueError):
            issued_at, expires_at = _epoch(claims.issued_at), _epoch(claims.expires_at)
        # every field, in order (see _result)
        return _new_result(
            True, FailureCode.OK, Stage.DONE, "valid", message.kid, cose.ALGORITHMS.get(message.algorithm),
            claims.issuer, issued_at, expires_at, kind, version, payload, signer,
            tuple(run.warnings) if run.warnings else (),
            _tuple_new(Trace, (run.text, run.compressed, run.cose_bytes, message, claims)), FORMAT_DCC, None,
        )  # fmt: skip

    def _failure(self, run: _Run, code: FailureCode, stage: Stage, reason: str) -> VerificationResult:
        log.debug("verification failed: code=%s stage=%s", code, stage)
        return self._result(run, False, code, stage, reason, None)

    def _result(
        self, run: _Run, valid: bool, code: FailureCode, stage: Stage, reason: str, version: str | None
    ) -> VerificationResult:
        message, claims = run.message, run.claims
        authentic = run.signer is not None
        # every field, in order (valid, code, stage, reason, kid, algorithm, issuer_country,
        # issued_at, expires_at, cert_type, schema_version, payload, signer, warnings, trace,
        # format, shc): on the path of every verification, where the constructor's cost shows
        return _new_result(
            valid, code, stage, reason,
            message.kid if message else None,
            cose.ALGORITHMS.get(message.algorithm) if message else None,
            claims.issuer if claims else None,
            _epoch(claims.issued_at) if claims else None,
            _epoch(claims.expires_at) if claims else None,
            run.type,
            version,
            (run.payload if run.payload is not None else claims.payload) if claims and authentic else None,
            run.signer,
            tuple(run.warnings) if run.warnings else (),
            _tuple_new(Trace, (run.text, run.compressed, run.cose_bytes, message, claims)), FORMAT_DCC, None,
        )  # fmt: skip


def _from_shc(card: ShcResult) -> VerificationResult:
    """The one result type for a Health Card's verdict (its DCC view as ``payload`` when valid)."""
    payload: dict[str, Any] | None = None
    if card.valid and card.holder is not None:
        payload = dcc_view(NormalisedRecord(card.holder, card.events), issuer=card.issuer_name or card.iss,
                           issuer_country=card.issuer_country, covid_card=_COVID_CARD in card.types)
    return VerificationResult(
        valid=card.valid,
        code=card.code,
        stage=card.stage,
        reason=card.reason,
        algorithm="ES256" if card.claims is not None else None,
        issuer_country=card.issuer_country,
        issued_at=card.issued_at,
        expires_at=card.expires_at,
        cert_type="v" if payload is not None else None,
        payload=payload,
        warnings=card.warnings,
        format=FORMAT_SHC,
        shc=card,
    )


def _ascii(data: bytes) -> str:
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise DecodeError(FailureCode.INPUT_NOT_TEXT, Stage.INPUT, "HC1 text must be ASCII") from None


def verify(
    data: Presentation,
    trust: TrustStore | None = None,
    *,
    now: dt.datetime | None = None,
    revocation: RevocationChecker | None = None,
    shc_trust: ShcTrust | None = None,
) -> VerificationResult:
    """Verify one certificate (HC1 text or COSE bytes against ``trust``; a SMART Health Card against
    ``shc_trust``) at ``now`` (default: the current time)."""
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    return Verifier(trust, revocation=revocation, shc_trust=shc_trust).verify(data, now=moment)
