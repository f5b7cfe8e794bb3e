"""The verification pipeline: HC1 text (or COSE bytes) → a :class:`VerificationResult`.

Stages run backwards (prefix → Base45 → zlib → COSE) and then trust, signature, CWT claims,
times, the signer's validity and key usage, payload structure, schema and revocation.  This
is the only place that turns stage errors into a result; :func:`verify` never raises for bad
input.  The result says whether the certificate is *authentic and well-formed*; whether it
grants a pass at a checkpoint is decided by :mod:`vaxcert.rules` on top of it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, Protocol

from .codes import FailureCode, Stage
from .dcc import lenient, schema
from .dcc.payload import certificate_type
from .dcc.valuesets import ValueSets, check_payload
from .errors import DecodeError
from .stages import cose, cwt, hc1, prefix
from .stages.cose import CoseSign1
from .trust.store import TrustedSigner, TrustStore

__all__ = [
    "MAX_INPUT_CHARS",
    "RevocationChecker",
    "Trace",
    "VerificationResult",
    "Verifier",
    "certificate_type",
    "verify",
]

log = logging.getLogger(__name__)

#: A version-40 QR code holds at most 4,296 alphanumeric characters; allow some slack.
MAX_INPUT_CHARS = 8192
_WHITESPACE = " \t\r\n"


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
    """The verdict.  ``payload`` is set only when the signature held.  ``repr`` is redacted."""

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

    def to_dict(self, *, show_payload: bool = False) -> dict[str, Any]:
        """A JSON-ready summary; personal data (the payload) only with ``show_payload``."""
        out: dict[str, Any] = {
            "valid": self.valid,
            "code": str(self.code),
            "stage": str(self.stage),
            "reason": self.reason,
            "kid": self.kid.hex() if self.kid is not None else None,
            "algorithm": self.algorithm,
            "type": self.cert_type,
            "issuer_country": self.issuer_country,
            "issued_at": _iso(self.issued_at),
            "expires_at": _iso(self.expires_at),
            "schema_version": self.schema_version,
            "signer": self.signer.subject if self.signer else None,
            "warnings": list(self.warnings),
        }
        if show_payload:
            out["payload"] = self.payload
        return out

    def __repr__(self) -> str:
        return (
            f"VerificationResult(valid={self.valid}, code={self.code}, stage={self.stage}, "
            f"type={self.cert_type}, kid={self.kid.hex() if self.kid else None}, payload=<redacted>)"
        )


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


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
    """Verifies HC1 strings against a trust store (and optionally revocation lists).

    ``clock_skew`` (seconds) widens the iat/exp window for devices with imprecise clocks;
    the default is 0, as the DCC test vectors require.  With ``valuesets``, codes outside the
    value sets are reported as ``warnings``: they do not make a certificate invalid (it is
    authentic and well-formed; newer issuers use newer codes), and a pass policy decides
    which products it accepts.

    By default the verifier reads payloads as real issuers wrote them (see
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
        trust: TrustStore,
        *,
        revocation: RevocationChecker | None = None,
        valuesets: ValueSets | None = None,
        clock_skew: int = 0,
        check_signer_validity: bool = True,
        strict: bool = False,
    ) -> None:
        self.strict = strict
        self.trust = trust
        self.revocation = revocation
        self.valuesets = valuesets
        self.clock_skew = clock_skew
        self.check_signer_validity = check_signer_validity

    def verify(self, data: str | bytes, *, now: dt.datetime) -> VerificationResult:
        """Verify ``data`` (HC1 text, or raw COSE bytes) at time ``now``.  Never raises."""
        run = _Run()
        try:
            return self._verify(data, now, run)
        except DecodeError as exc:
            return self._failure(run, exc.code, exc.stage, exc.message)
        except Exception as exc:
            log.error("internal error during verification: %s", type(exc).__name__)
            return self._failure(run, FailureCode.INTERNAL_ERROR, Stage.INPUT, "internal error")

    # -- stages ----------------------------------------------------------------------------

    def _verify(self, data: str | bytes, now: dt.datetime, run: _Run) -> VerificationResult:
        if now.tzinfo is None:
            raise DecodeError(FailureCode.INTERNAL_ERROR, Stage.INPUT, "now must be timezone-aware")
        if isinstance(data, bytes | bytearray | memoryview):
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
            unwrapped = hc1.unwrap(data.strip(_WHITESPACE))
            run.text, run.compressed, run.cose_bytes = unwrapped.base45, unwrapped.compressed, unwrapped.cose
            run.message = unwrapped.message
        else:
            run.cose_bytes = data
            run.message = cose.decode(run.cose_bytes)
        self._check_signature(run, now)
        assert run.message is not None and run.signer is not None
        run.claims = cwt.decode(run.message.payload)
        self._check_times(run, now)
        content = run.claims.payload
        # Null members and empty lists do not count as types, so the reading (which drops
        # them) cannot change the type: it is read from the payload as signed.
        run.type = kind = certificate_type(content)
        if not self.strict and not (lenient.tidy_as_written(content, kind) if run.claims.tidy
                                    else lenient.reads_as_written(content)):
            reading = lenient.read_payload(content)
            content = reading.payload
            run.warnings.extend(reading.warnings)
        run.payload = content
        # iss / co naming another country than the signer's: reported, not refused (a country
        # may sign for doses given abroad; the trust list, not iss, says who is trusted).
        country = run.signer.country
        if country:
            if run.claims.issuer is not None and run.claims.issuer != country:
                run.warnings.append("iss: issuing country differs from the signer certificate's country")
            entry = content[kind][0]
            if type(entry) is dict and entry.get("co", country) != country and type(entry["co"]) is str:
                run.warnings.append(f"{kind}[0].co: country differs from the signer certificate's country")
        if run.type not in run.signer.types:
            raise DecodeError(
                FailureCode.KEY_USAGE_MISMATCH, Stage.KEY_USAGE, f"signer may not sign type {run.type}"
            )
        version = schema.resolve_version(content.get("ver"))
        if version is None:
            raise DecodeError(FailureCode.SCHEMA_VERSION_UNKNOWN, Stage.SCHEMA, "unsupported schema version")
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
            code = self.revocation.check(run.message, run.claims.payload, now)
            if code is not None:
                raise DecodeError(code, Stage.REVOCATION, "revoked" if code == FailureCode.REVOKED else str(code))
        result = self._result(run, True, FailureCode.OK, Stage.DONE, "valid", version)
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

    def _check_times(self, run: _Run, now: dt.datetime) -> None:
        assert run.claims is not None and run.signer is not None
        ts = now.timestamp()
        if ts + self.clock_skew < run.claims.issued_at:
            raise DecodeError(FailureCode.NOT_YET_VALID, Stage.TIME, "issued after the validation time")
        if ts - self.clock_skew > run.claims.expires_at:
            raise DecodeError(FailureCode.EXPIRED, Stage.TIME, "expired")
        if self.check_signer_validity:
            if now < run.signer.not_before:
                raise DecodeError(FailureCode.DSC_NOT_YET_VALID, Stage.TRUST, "signer certificate not yet valid")
            if now > run.signer.not_after:
                raise DecodeError(FailureCode.DSC_EXPIRED, Stage.TRUST, "signer certificate expired")

    # -- results ---------------------------------------------------------------------------

    def _failure(self, run: _Run, code: FailureCode, stage: Stage, reason: str) -> VerificationResult:
        log.debug("verification failed: code=%s stage=%s", code, stage)
        return self._result(run, False, code, stage, reason, None)

    def _result(
        self, run: _Run, valid: bool, code: FailureCode, stage: Stage, reason: str, version: str | None
    ) -> VerificationResult:
        message, claims = run.message, run.claims
        authentic = run.signer is not None
        return VerificationResult(
            valid=valid,
            code=code,
            stage=stage,
            reason=reason,
            kid=message.kid if message else None,
            algorithm=cose.ALGORITHMS.get(message.algorithm) if message else None,
            issuer_country=claims.issuer if claims else None,
            issued_at=_epoch(claims.issued_at) if claims else None,
            expires_at=_epoch(claims.expires_at) if claims else None,
            cert_type=run.type,
            schema_version=version,
            payload=(run.payload if run.payload is not None else claims.payload) if claims and authentic else None,
            signer=run.signer,
            warnings=tuple(run.warnings) if run.warnings else (),
            trace=Trace(run.text, run.compressed, run.cose_bytes, message, claims),
        )


def _ascii(data: bytes) -> str:
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise DecodeError(FailureCode.INPUT_NOT_TEXT, Stage.INPUT, "HC1 text must be ASCII") from None


def verify(
    data: str | bytes,
    trust: TrustStore,
    *,
    now: dt.datetime | None = None,
    revocation: RevocationChecker | None = None,
) -> VerificationResult:
    """Verify one HC1 string (or COSE bytes) against ``trust`` at ``now`` (default: the current time)."""
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    return Verifier(trust, revocation=revocation).verify(data, now=moment)
