"""Verifying SMART Health Cards: a presentation → one :class:`ShcResult` per card.  Never raises for bad input.

Accepted presentations (detected from the input):

* QR text ``shc:/<digits>``, or the chunks ``shc:/C/N/<digits>`` of one card as a sequence of
  texts in any order (source ``qr`` / ``qr-chunks``);
* a ``.smart-health-card`` file ``{"verifiableCredential": [JWS, ...]}`` (``file``), or the
  FHIR ``Parameters`` resource the ``$health-cards-issue`` operation returns
  (``fhir-parameters``).  A file may hold several cards, of several people (a family's cards):
  each gets its own verdict (:func:`verify_shc_all`);
* a bare compact JWS (``jws``).

Each JWS goes through: header (``alg`` ES256, ``zip`` DEF, ``kid``; raw r‖s signature) →
trust (``kid`` = thumbprint of a trusted issuer's key) → signature → inflate (bounded) →
claims JSON (bounded) → ``iss`` is the issuer whose key signed → ``nbf`` / ``exp`` at ``now`` →
``vc.type`` holds ``https://smarthealth.cards#health-card`` → FHIR bundle (Patient +
Immunizations) → the issuer's card revocation list, when one is loaded.

A result carries one :class:`~vaxcert.codes.FailureCode` and the :class:`~vaxcert.codes.Stage`
it failed at or, when valid, the issuer, kid, times, holder and vaccination events
(:mod:`vaxcert.events`).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ...codes import FailureCode, Stage
from ...errors import DecodeError
from ...events import Holder, VaccinationEvent
from ...logs import log_event, safe_traceback
from . import jws as jws_stage
from . import numeric
from .fhir import read_bundle
from .products import ProductMap
from .trust import ShcIssuer, ShcKey, ShcTrust

__all__ = [
    "HEALTH_CARD_TYPE",
    "MAX_CREDENTIALS",
    "MAX_FILE_BYTES",
    "ShcResult",
    "ShcTrace",
    "ShcVerifier",
    "Source",
    "verify_shc",
    "verify_shc_all",
]

log = logging.getLogger(__name__)

#: The ``vc.type`` every Health Card carries.
HEALTH_CARD_TYPE: Final = "https://smarthealth.cards#health-card"
#: The largest ``.smart-health-card`` file (or text input) accepted.
MAX_FILE_BYTES: Final = 1024 * 1024
#: The most credentials verified from one file.
MAX_CREDENTIALS: Final = 16
_MAX_FILE_DEPTH: Final = 8
_LATEST_TIME: Final = 253402300799  # 9999-12-31T23:59:59Z
_JWS_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_RID = re.compile(r"[A-Za-z0-9_-]{1,64}")

#: What :meth:`ShcVerifier.verify` accepts: text or bytes of a QR code, JWS or card file, or
#: the texts of the chunks of one card.
Source = str | bytes | bytearray | memoryview | Sequence[str]


@dataclass(frozen=True, slots=True)
class ShcTrace:
    """Intermediate artefacts of one card, for tests and diagnostics.  Redacted ``repr``."""

    jws: str | None = None
    header: Mapping[str, Any] | None = None
    compressed: bytes | None = None
    claims_json: bytes | None = None

    def __repr__(self) -> str:
        return "ShcTrace(<redacted>)"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


@dataclass(frozen=True, slots=True)
class ShcResult:
    """The verdict on one SMART Health Card.  ``repr`` is redacted.

    ``source`` says how the card was presented (``qr``, ``qr-chunks``, ``jws``, ``file``,
    ``fhir-parameters``); ``index`` is the card's position in a file (None otherwise).  ``kid``
    and the claimed ``iss`` are set as far as they were read, also on failures; ``claims`` only
    once the signature held; ``holder`` and ``events`` only on valid results.
    """

    valid: bool
    code: FailureCode
    stage: Stage
    reason: str
    source: str
    index: int | None = None
    iss: str | None = None
    kid: str | None = None
    issuer_name: str | None = None
    issuer_country: str | None = None
    issued_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    types: tuple[str, ...] = ()
    fhir_version: str | None = None
    rid: str | None = None
    holder: Holder | None = None
    events: tuple[VaccinationEvent, ...] = ()
    warnings: tuple[str, ...] = ()
    claims: Mapping[str, Any] | None = field(default=None, repr=False)
    trace: ShcTrace = field(default_factory=ShcTrace, repr=False)

    @property
    def format(self) -> str:
        """Always ``"shc"`` (EU DCC results are ``"eu-dcc"``)."""
        return "shc"

    def to_dict(self, *, show_payload: bool = False) -> dict[str, Any]:
        """A JSON-ready summary; holder, events and claims (personal data) only with ``show_payload``."""
        out: dict[str, Any] = {
            "format": self.format,
            "valid": self.valid,
            "code": str(self.code),
            "stage": str(self.stage),
            "reason": self.reason,
            "source": self.source,
            "index": self.index,
            "iss": self.iss,
            "issuer_name": self.issuer_name,
            "issuer_country": self.issuer_country,
            "kid": self.kid,
            "issued_at": _iso(self.issued_at),
            "expires_at": _iso(self.expires_at),
            "types": list(self.types),
            "events": len(self.events),
            "warnings": list(self.warnings),
        }
        if show_payload:
            out["holder"] = self.holder.to_dict() if self.holder else None
            out["events"] = [event.to_dict() for event in self.events]
            out["claims"] = self.claims
        return out

    def __repr__(self) -> str:
        return (
            f"ShcResult(valid={self.valid}, code={self.code}, stage={self.stage}, source={self.source}, "
            f"iss={self.iss!r}, kid={self.kid!r}, events={len(self.events)}, payload=<redacted>)"
        )


class _Run:
    """What one card's check has learnt so far (for the failure result); local to one call."""

    __slots__ = ("claims", "claims_json", "compressed", "header", "iss", "issuer", "jws", "kid")

    def __init__(self, text: str | None = None) -> None:
        self.jws = text
        self.header: Mapping[str, Any] | None = None
        self.kid: str | None = None
        self.iss: str | None = None
        self.issuer: ShcIssuer | None = None
        self.compressed: bytes | None = None
        self.claims_json: bytes | None = None
        self.claims: Mapping[str, Any] | None = None  # set once the signature held

    def trace(self) -> ShcTrace:
        return ShcTrace(self.jws, self.header, self.compressed, self.claims_json)


def _epoch(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DecodeError(FailureCode.SHC_CLAIMS_INVALID, Stage.PAYLOAD, f"{name} is not a number")
    number = float(value)
    if not math.isfinite(number) or not 0 <= number <= _LATEST_TIME:
        raise DecodeError(FailureCode.SHC_CLAIMS_INVALID, Stage.PAYLOAD, f"{name} is out of range")
    return number


def _moment(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class ShcVerifier:
    """Verifies SMART Health Cards against a :class:`~vaxcert.formats.shc.ShcTrust`.

    ``products`` maps vaccine codes to EU products (default: the bundled table);
    ``clock_skew`` (seconds) widens the ``nbf`` / ``exp`` window for imprecise clocks.
    """

    def __init__(self, trust: ShcTrust, *, products: ProductMap | None = None, clock_skew: int = 0) -> None:
        self.trust = trust
        self.products = products if products is not None else ProductMap.bundled()
        self.clock_skew = clock_skew

    def verify(self, source: Source, *, now: dt.datetime) -> ShcResult:
        """The verdict on a presentation of ONE card at ``now``.  Never raises for bad input.

        A file holding several cards gives ``SHC_FILE_INVALID`` saying so: verify such files
        with :meth:`verify_all`, which gives one verdict per card.
        """
        results = self.verify_all(source, now=now)
        if len(results) == 1:
            return results[0]
        return ShcResult(
            valid=False,
            code=FailureCode.SHC_FILE_INVALID,
            stage=Stage.INPUT,
            reason=f"the file holds {len(results)} cards; verify each with verify_shc_all",
            source=results[0].source,
        )

    def verify_all(self, source: Source, *, now: dt.datetime) -> tuple[ShcResult, ...]:
        """One verdict per card of a presentation (at least one).  Never raises for bad input."""
        kind = "unknown"
        try:
            if not isinstance(now, dt.datetime) or now.tzinfo is None:
                raise DecodeError(FailureCode.INTERNAL_ERROR, Stage.INPUT, "now must be a timezone-aware datetime")
            kind, text = self._classify(source)
            kind, jws_texts = self._cards(kind, text)
        except DecodeError as error:
            return (self._failure(_Run(), error, kind, None),)
        except Exception as exc:
            log_event(log, "verify.internal_error", level=logging.ERROR, exc_type=type(exc).__name__,
                      traceback=safe_traceback(exc))
            internal = DecodeError(FailureCode.INTERNAL_ERROR, Stage.INPUT, "internal error")
            return (self._failure(_Run(), internal, kind, None),)
        several = len(jws_texts) > 1
        return tuple(
            self._verify_card(jws_text, now, kind, index if several else None)
            for index, jws_text in enumerate(jws_texts)
        )

    # -- presentations ---------------------------------------------------------------------

    def _classify(self, source: Source) -> tuple[str, str | list[str]]:
        """The kind of presentation and its text (or chunk texts); nothing decoded yet."""
        if isinstance(source, bytes | bytearray | memoryview):
            data = bytes(source)
            if len(data) > MAX_FILE_BYTES:
                raise DecodeError(FailureCode.INPUT_TOO_LARGE, Stage.INPUT, f"input larger than {MAX_FILE_BYTES} bytes")
            try:
                source = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise DecodeError(FailureCode.INPUT_NOT_TEXT, Stage.INPUT, "input is not UTF-8 text") from None
        if isinstance(source, str):
            return self._classify_text(source)
        if isinstance(source, Sequence):
            items: list[object] = list(source[: numeric.MAX_CHUNKS + 1])
            texts = [text for text in items if isinstance(text, str)]
            if len(texts) != len(items):
                raise DecodeError(FailureCode.INPUT_NOT_TEXT, Stage.INPUT, "chunks must be text")
            if len(texts) == 1:
                return self._classify_text(texts[0])
            if sum(len(text) for text in texts) > MAX_FILE_BYTES:
                raise DecodeError(FailureCode.INPUT_TOO_LARGE, Stage.INPUT, "chunks too large")
            return "qr-chunks", texts
        raise DecodeError(FailureCode.INPUT_NOT_TEXT, Stage.INPUT, "input must be text, bytes or a list of texts")

    @staticmethod
    def _classify_text(text: str) -> tuple[str, str]:
        if len(text) > MAX_FILE_BYTES:
            raise DecodeError(FailureCode.INPUT_TOO_LARGE, Stage.INPUT, f"input longer than {MAX_FILE_BYTES}")
        text = text.strip()
        if text[:4].lower() == "shc:":
            return "qr", text
        if text.startswith("{"):
            return "file", text
        if _JWS_SHAPE.fullmatch(text):
            return "jws", text
        raise DecodeError(
            FailureCode.PREFIX_MISSING, Stage.PREFIX, "not a SMART Health Card (no shc:/ prefix, JWS or card file)"
        )

    def _cards(self, kind: str, text: str | list[str]) -> tuple[str, list[str]]:
        """The kind of presentation and its JWS texts."""
        if isinstance(text, list):
            return kind, [numeric.assemble(chunk.strip() for chunk in text)]
        if kind == "qr":
            return kind, [numeric.assemble([text])]
        if kind == "jws":
            return kind, [text]
        return self._file_cards(text)

    @staticmethod
    def _file_cards(text: str) -> tuple[str, list[str]]:
        try:
            document = jws_stage.load_json(text, max_depth=_MAX_FILE_DEPTH, what="card file")
        except DecodeError as exc:
            raise DecodeError(FailureCode.SHC_FILE_INVALID, Stage.INPUT, exc.message) from None
        if not isinstance(document, dict):
            raise DecodeError(FailureCode.SHC_FILE_INVALID, Stage.INPUT, "card file is not a JSON object")
        found: Any
        kind = "file"
        if "verifiableCredential" in document:
            found = document["verifiableCredential"]
            if not isinstance(found, list):
                raise DecodeError(FailureCode.SHC_FILE_INVALID, Stage.INPUT, "verifiableCredential must be a list")
        elif document.get("resourceType") == "Parameters":
            kind = "fhir-parameters"
            parameters = document.get("parameter", [])
            if not isinstance(parameters, list):
                raise DecodeError(FailureCode.SHC_FILE_INVALID, Stage.INPUT, "Parameters.parameter must be a list")
            found = [
                p.get("valueString")
                for p in parameters
                if isinstance(p, dict) and p.get("name") == "verifiableCredential"
            ]
        else:
            raise DecodeError(
                FailureCode.SHC_FILE_INVALID, Stage.INPUT, "no verifiableCredential list (not a .smart-health-card)"
            )
        if not found:
            raise DecodeError(FailureCode.SHC_FILE_INVALID, Stage.INPUT, "the file holds no credential")
        if len(found) > MAX_CREDENTIALS:
            raise DecodeError(FailureCode.SHC_FILE_INVALID, Stage.INPUT, f"more than {MAX_CREDENTIALS} credentials")
        if not all(isinstance(item, str) for item in found):
            raise DecodeError(FailureCode.SHC_FILE_INVALID, Stage.INPUT, "every credential must be a JWS string")
        return kind, [item.strip() for item in found]

    # -- one card ----------------------------------------------------------------------------

    def _verify_card(self, text: str, now: dt.datetime, kind: str, index: int | None) -> ShcResult:
        run = _Run(text)
        try:
            return self._check(run, now, kind, index)
        except DecodeError as error:
            return self._failure(run, error, kind, index)
        except Exception as exc:
            log_event(log, "verify.internal_error", level=logging.ERROR, exc_type=type(exc).__name__,
                      traceback=safe_traceback(exc))
            internal = DecodeError(FailureCode.INTERNAL_ERROR, Stage.INPUT, "internal error")
            return self._failure(run, internal, kind, index)

    @staticmethod
    def _failure(run: _Run, error: DecodeError, kind: str, index: int | None) -> ShcResult:
        log.debug("SHC verification failed: code=%s stage=%s", error.code, error.stage)
        if run.kid is None and run.jws is not None:
            run.kid = jws_stage.peek_kid(run.jws)
        return ShcResult(
            valid=False,
            code=error.code,
            stage=error.stage,
            reason=error.message,
            source=kind,
            index=index,
            iss=run.iss,
            kid=run.kid,
            issuer_name=run.issuer.name if run.issuer else None,
            issuer_country=run.issuer.country if run.issuer else None,
            claims=run.claims,
            trace=run.trace(),
        )

    def _check(self, run: _Run, now: dt.datetime, kind: str, index: int | None) -> ShcResult:
        assert run.jws is not None
        parsed = jws_stage.parse(run.jws)
        run.header, run.kid, run.compressed = parsed.header, parsed.kid, parsed.payload
        candidates = self.trust.candidates(parsed.kid)
        if not candidates:
            raise self._unknown_signer(run, parsed)
        signers = [(issuer, key) for issuer, key in candidates if jws_stage.verify_signature(parsed, key.public_key)]
        if not signers:
            raise DecodeError(FailureCode.SIGNATURE_INVALID, Stage.SIGNATURE, "signature does not verify")
        claims = self._claims(run, parsed)
        run.claims = claims
        iss = claims.get("iss")
        if not isinstance(iss, str) or not iss:
            raise DecodeError(FailureCode.SHC_CLAIMS_INVALID, Stage.PAYLOAD, "iss is missing")
        run.iss = iss
        match = next(((issuer, key) for issuer, key in signers if issuer.iss == iss), None)
        if match is None:
            raise DecodeError(
                FailureCode.KID_UNKNOWN, Stage.TRUST, "the signing key is not trusted for the card's issuer"
            )
        issuer, key = match
        run.issuer = issuer
        issued = _epoch(claims.get("nbf"), "nbf")
        expires = _epoch(claims["exp"], "exp") if claims.get("exp") is not None else None
        vc = claims.get("vc")
        if not isinstance(vc, dict):
            raise DecodeError(FailureCode.SHC_CLAIMS_INVALID, Stage.PAYLOAD, "vc is missing")
        ts = now.timestamp()
        if ts + self.clock_skew < issued:
            raise DecodeError(FailureCode.NOT_YET_VALID, Stage.TIME, "nbf is after the validation time")
        if expires is not None and ts - self.clock_skew > expires:
            raise DecodeError(FailureCode.EXPIRED, Stage.TIME, "expired (exp)")
        types = vc.get("type")
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise DecodeError(FailureCode.SHC_CLAIMS_INVALID, Stage.PAYLOAD, "vc.type must be a list of strings")
        if HEALTH_CARD_TYPE not in types:
            raise DecodeError(FailureCode.SHC_NOT_HEALTH_CARD, Stage.PAYLOAD, f"vc.type lacks {HEALTH_CARD_TYPE}")
        subject = vc.get("credentialSubject")
        if not isinstance(subject, dict):
            raise DecodeError(FailureCode.FHIR_BUNDLE_INVALID, Stage.FHIR, "vc.credentialSubject is missing")
        warnings: list[str] = []
        fhir_version = subject.get("fhirVersion")
        if fhir_version is not None and not isinstance(fhir_version, str):
            raise DecodeError(FailureCode.FHIR_BUNDLE_INVALID, Stage.FHIR, "fhirVersion is not a string")
        if fhir_version is not None and not fhir_version.startswith("4."):
            warnings.append("fhirVersion is not 4.x (R4); read as R4")
        content = read_bundle(subject.get("fhirBundle"), self.products)
        warnings.extend(content.warnings)
        rid = self._revocation(issuer, key, vc, issued, warnings)
        return ShcResult(
            valid=True,
            code=FailureCode.OK,
            stage=Stage.DONE,
            reason="valid",
            source=kind,
            index=index,
            iss=iss,
            kid=key.kid,
            issuer_name=issuer.name,
            issuer_country=issuer.country,
            issued_at=_moment(issued),
            expires_at=_moment(expires) if expires is not None else None,
            types=tuple(types),
            fhir_version=fhir_version,
            rid=rid,
            holder=content.holder,
            events=content.events,
            warnings=tuple(warnings),
            claims=claims,
            trace=run.trace(),
        )

    @staticmethod
    def _claims(run: _Run, parsed: jws_stage.CompactJws) -> dict[str, Any]:
        run.claims_json = jws_stage.inflate(parsed.payload)
        claims = jws_stage.load_json(run.claims_json, what="claims")
        if not isinstance(claims, dict):
            raise DecodeError(FailureCode.SHC_CLAIMS_INVALID, Stage.PAYLOAD, "claims are not a JSON object")
        return claims

    def _unknown_signer(self, run: _Run, parsed: jws_stage.CompactJws) -> DecodeError:
        """KID_UNKNOWN, or ISSUER_UNKNOWN when the (unverified) claims name an issuer not trusted at all."""
        try:
            claims = self._claims(run, parsed)
        except DecodeError:
            return DecodeError(FailureCode.KID_UNKNOWN, Stage.TRUST, "no trusted key with this kid")
        iss = claims.get("iss")
        if isinstance(iss, str) and iss:
            run.iss = iss
            if self.trust.issuer(iss) is None:
                return DecodeError(FailureCode.ISSUER_UNKNOWN, Stage.TRUST, "the card's issuer (iss) is not trusted")
        return DecodeError(FailureCode.KID_UNKNOWN, Stage.TRUST, "no trusted key with this kid")

    @staticmethod
    def _revocation(
        issuer: ShcIssuer, key: ShcKey, vc: Mapping[str, Any], issued: float, warnings: list[str]
    ) -> str | None:
        rid = vc.get("rid")
        if rid is not None and not (isinstance(rid, str) and _RID.fullmatch(rid)):
            warnings.append("vc.rid is malformed; the card cannot be checked for revocation")
            rid = None
        crl = issuer.crls.get(key.kid)
        if crl is None:
            if key.crl_version is not None:
                warnings.append("the issuer publishes a revocation list for this key, but none is loaded")
            return rid
        if key.crl_version is not None and crl.counter < key.crl_version:
            raise DecodeError(
                FailureCode.REVOCATION_LIST_STALE,
                Stage.REVOCATION,
                "the loaded revocation list is older than the key's",
            )
        if rid is not None and crl.revokes(rid, issued):
            raise DecodeError(FailureCode.REVOKED, Stage.REVOCATION, "revoked by the issuer")
        return rid


def verify_shc(
    source: Source,
    trust: ShcTrust,
    *,
    now: dt.datetime,
    products: ProductMap | None = None,
    clock_skew: int = 0,
) -> ShcResult:
    """Verify ONE SMART Health Card against ``trust`` at ``now``.  Never raises for bad input.

    ``source``: ``shc:/`` QR text, a list of the chunk texts of one card, a bare JWS, or the text
    / bytes of a ``.smart-health-card`` file holding one card (use :func:`verify_shc_all` for
    files holding several).
    """
    return ShcVerifier(trust, products=products, clock_skew=clock_skew).verify(source, now=now)


def verify_shc_all(
    source: Source,
    trust: ShcTrust,
    *,
    now: dt.datetime,
    products: ProductMap | None = None,
    clock_skew: int = 0,
) -> tuple[ShcResult, ...]:
    """Verify every card of a presentation (one verdict per card, in file order).  Never raises."""
    return ShcVerifier(trust, products=products, clock_skew=clock_skew).verify_all(source, now=now)
