"""A checkpoint station: one offline bundle, its freshness, and a reading per camera frame or scanned text.

This is the recipe behind ``vaxcert checkpoint serve`` (and any other checkpoint front end):

* :meth:`Station.open` loads a signed offline bundle (:mod:`vaxcert.trust.bundle`) with the ministry's
  CSCA certificates; :meth:`Station.update` replaces it with a newer one (a refresh), refusing
  one whose sequence is not higher than the highest seen;
* :meth:`Station.status` says how fresh the bundle is (:class:`BundleStatus`): FRESH until its
  freshness limit (the earliest of the bundle's, its trust list's and its revocation lists'),
  GRACE for ``grace`` after it, TOO_OLD afterwards.  Within the grace period verdicts are given as
  if the bundle were fresh (the page shows an "update the bundle" banner); once TOO_OLD no verdict
  is given at all — a stale bundle is the station's problem, never a citizen's RED;
* :meth:`Station.read_text` and :meth:`Station.read_image` turn one scanned text or one camera
  frame into a :class:`Reading`: a checkpoint :class:`~vaxcert.Verdict` (one
  :func:`~vaxcert.scan_text` call: verification result, pass colour and reason, and the holder and
  vaccination events for the identity check), a citizen ID card (:mod:`vaxcert.idcard`), nothing
  (a frame without a code), or "bundle too old".

Like the verifier, readings never raise on hostile input.  Nothing is logged or stored; the
``code_key`` of a reading is a keyed hash (the key is random per station) that lets a front end
recognise the same code in consecutive frames without keeping the code.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography import x509

from .codes import FailureCode
from .dcc.valuesets import ValueSets
from .errors import InputError, MissingExtraError
from .idcard import CitizenCard, looks_like_cccd, parse_cccd
from .recipes import Verdict, scan_text
from .rules import DEFAULT_POLICY, Policy
from .trust.bundle import Bundle, load_bundle, open_bundle
from .trust.revocation import RevocationSet
from .trust.store import TrustedSigner
from .verifier import Verifier

__all__ = ["DEFAULT_GRACE", "BundleState", "BundleStatus", "Reading", "ReadingKind", "Station"]

#: How long after its freshness limit a bundle is still used (under a warning).
DEFAULT_GRACE: Final = dt.timedelta(hours=72)
_PREFIXES: Final = ("HC1:", "shc:/")
_MAX_TEXT: Final = 8_192


class BundleState(enum.StrEnum):
    """How usable the station's bundle is now."""

    FRESH = "fresh"
    GRACE = "grace"
    TOO_OLD = "too_old"


@dataclass(frozen=True, slots=True)
class BundleStatus:
    """The bundle's freshness at ``now``: its state, when it was signed and until when it is usable."""

    state: BundleState
    now: dt.datetime
    issued_at: dt.datetime
    fresh_until: dt.datetime
    usable_until: dt.datetime
    sequence: int

    @property
    def age(self) -> dt.timedelta:
        """Time since the bundle was signed."""
        return self.now - self.issued_at

    @property
    def overdue(self) -> dt.timedelta:
        """Time past the freshness limit (zero while fresh)."""
        return max(dt.timedelta(0), self.now - self.fresh_until)

    @property
    def grace_left(self) -> dt.timedelta:
        """Time left before the bundle is too old (zero once it is)."""
        return max(dt.timedelta(0), self.usable_until - self.now)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (no personal data)."""
        return {
            "state": str(self.state),
            "now": _iso(self.now),
            "issued_at": _iso(self.issued_at),
            "fresh_until": _iso(self.fresh_until),
            "usable_until": _iso(self.usable_until),
            "sequence": self.sequence,
            "age_seconds": int(self.age.total_seconds()),
            "overdue_seconds": int(self.overdue.total_seconds()),
            "grace_left_seconds": int(self.grace_left.total_seconds()),
            "grace_hours": round((self.usable_until - self.fresh_until).total_seconds() / 3600, 1),
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _fresh_until(bundle: Bundle) -> dt.datetime:
    """The earliest freshness limit of the bundle and its parts."""
    limits = [bundle.expires_at]
    trust_expiry = bundle.trust.trust.expires_at
    if trust_expiry is not None:
        limits.append(trust_expiry)
    limits.extend(lst.expires_at for lst in bundle.revocation.lists if lst.expires_at is not None)
    return min(limits)


class _GraceTrust:
    """The bundle's trust store, judged stale only ``grace`` after its limit (the station shows the warning)."""

    __slots__ = ("grace", "inner")

    def __init__(self, inner: Bundle, grace: dt.timedelta) -> None:
        self.inner = inner
        self.grace = grace

    def candidates(self, kid: bytes) -> Sequence[TrustedSigner]:
        return self.inner.trust.candidates(kid)

    def problem(self, now: dt.datetime) -> FailureCode | None:
        return self.inner.trust.problem(now - self.grace)


class _GraceRevocation:
    """The bundle's revocation lists, judged stale only ``grace`` after their limits."""

    __slots__ = ("grace", "inner")

    def __init__(self, inner: RevocationSet, grace: dt.timedelta) -> None:
        self.inner = inner
        self.grace = grace

    def check(self, message: Any, payload: Mapping[str, Any], now: dt.datetime) -> FailureCode | None:
        return self.inner.check(message, payload, now - self.grace)


class ReadingKind(enum.StrEnum):
    """What one frame or text turned out to be."""

    VERDICT = "verdict"
    IDCARD = "idcard"
    NONE = "none"
    BUNDLE_TOO_OLD = "bundle_too_old"


@dataclass(frozen=True, slots=True)
class Reading:
    """One frame's or text's outcome.  ``repr`` is redacted."""

    kind: ReadingKind
    status: BundleStatus
    verdict: Verdict | None = None
    card: CitizenCard | None = None
    code_key: str | None = None

    def __repr__(self) -> str:
        detail = f", {self.verdict.colour}" if self.verdict is not None else ""
        return f"Reading({self.kind}{detail}, <redacted>)"


class Station:
    """A bundle-backed checkpoint: see the module notes.  Thread-safe for readings; :meth:`update`
    swaps the bundle atomically (a reading uses the bundle it started with)."""

    def __init__(self, bundle: Bundle, cscas: Sequence[x509.Certificate], *, policy: Policy = DEFAULT_POLICY,
                 grace: dt.timedelta = DEFAULT_GRACE, valuesets: ValueSets | None = None) -> None:
        if grace < dt.timedelta(0):
            raise ValueError("grace must not be negative")
        self.policy = policy
        self.grace = grace
        self._cscas = tuple(cscas)
        self._valuesets = valuesets
        self._key = secrets.token_bytes(32)
        self._set(bundle)

    @classmethod
    def open(cls, path: str | Path, cscas: Sequence[x509.Certificate], *, now: dt.datetime,
             min_sequence: int = 0, policy: Policy = DEFAULT_POLICY, grace: dt.timedelta = DEFAULT_GRACE,
             valuesets: ValueSets | None = None) -> Station:
        """A station on the bundle file at ``path`` (see :func:`vaxcert.load_bundle`); a bundle whose
        sequence is below ``min_sequence`` (the highest seen before) is refused as a rollback."""
        bundle = load_bundle(path, cscas, now, min_sequence=min_sequence)
        return cls(bundle, cscas, policy=policy, grace=grace, valuesets=valuesets)

    def _set(self, bundle: Bundle) -> None:
        known = bundle.valuesets or self._valuesets or ValueSets.bundled()
        revocation = _GraceRevocation(bundle.revocation, self.grace) if bundle.revocation.lists else None
        verifier = Verifier(_GraceTrust(bundle, self.grace), revocation=revocation, valuesets=known)
        self._state = (bundle, verifier)  # one assignment: readings see the old or the new pair

    @property
    def bundle(self) -> Bundle:
        """The bundle in use."""
        return self._state[0]

    def update(self, data: bytes, *, now: dt.datetime) -> bool:
        """Use a newer bundle: True when ``data`` is properly signed and its sequence is higher than the
        current one, False when it is not newer.  Raises :class:`vaxcert.DocumentError`
        when it is not a properly signed bundle."""
        current = self.bundle.sequence
        bundle = open_bundle(data, self._cscas, now=now, min_sequence=current)
        if bundle.sequence <= current:
            return False
        self._set(bundle)
        return True

    def status(self, now: dt.datetime) -> BundleStatus:
        """The bundle's freshness at ``now``."""
        return self._status(self.bundle, now)

    def _status(self, bundle: Bundle, now: dt.datetime) -> BundleStatus:
        fresh_until = _fresh_until(bundle)
        usable_until = fresh_until + self.grace
        state = (BundleState.FRESH if now <= fresh_until
                 else BundleState.GRACE if now <= usable_until else BundleState.TOO_OLD)
        return BundleStatus(state, now, bundle.issued_at, fresh_until, usable_until, bundle.sequence)

    def code_key(self, text: str) -> str:
        """A keyed hash of a code's text (random key per station): the same code gives the same key."""
        return hmac.new(self._key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:16]

    # -- readings ---------------------------------------------------------------------------------

    def read_text(self, text: str, *, now: dt.datetime) -> Reading:
        """A scanned text (a scanner's input, or a code decoded in the browser)."""
        bundle, verifier = self._state
        status = self._status(bundle, now)
        if not isinstance(text, str):
            text = ""
        return self._read(text.strip(), True, verifier, status, now)

    def read_image(self, image: Any, *, now: dt.datetime, fallback: bool = False) -> Reading:
        """One camera frame (encoded image bytes, a Pillow image or an array); needs ``vaxcert[qr]``.

        A frame without a code (or one that cannot be decoded) gives a NONE reading: the next
        frame will come.  ``fallback`` runs the slower preprocessing passes on frames without a
        code; a live loop keeps it off.  A certificate is preferred over an ID card when a frame
        shows both.
        """
        from .qr import photo  # the [qr] extra: imported when the first frame comes

        bundle, verifier = self._state
        status = self._status(bundle, now)
        try:
            codes = photo.decode_image(image, fallback=fallback)
        except MissingExtraError:
            raise
        except Exception:  # an undecodable frame is no reading
            codes = []
        if not codes:
            return Reading(ReadingKind.BUNDLE_TOO_OLD if status.state is BundleState.TOO_OLD else ReadingKind.NONE,
                           status)
        code = next((c for c in codes if c.text.startswith(_PREFIXES)), codes[0])
        return self._read(code.text.strip(), code.alphanumeric, verifier, status, now)

    def _read(self, text: str, alphanumeric: bool, verifier: Verifier, status: BundleStatus,
              now: dt.datetime) -> Reading:
        if not text:
            return Reading(ReadingKind.NONE, status)
        key = self.code_key(text[:_MAX_TEXT])
        if looks_like_cccd(text):
            try:
                return Reading(ReadingKind.IDCARD, status, card=parse_cccd(text), code_key=key)
            except InputError:
                pass  # shaped like a card but not one: judged as any other code below
        if status.state is BundleState.TOO_OLD:
            return Reading(ReadingKind.BUNDLE_TOO_OLD, status, code_key=key)
        verdict = scan_text(text, verifier, policy=self.policy, now=now, alphanumeric=alphanumeric)
        return Reading(ReadingKind.VERDICT, status, verdict=verdict, code_key=key)
