"""A checkpoint station: one offline bundle, its freshness, and a reading per camera frame or scanned text.

This is the recipe behind ``vaxcert checkpoint serve`` (and any other checkpoint front end):

* :meth:`Station.open` loads a signed offline bundle (:mod:`vaxcert.trust.bundle`) with the ministry's
  CSCA certificates; :meth:`Station.update` replaces it with a newer one (a refresh), refusing
  one whose sequence is not higher than the current one.  With a :class:`~vaxcert.SequenceState`
  (``state=``, kept in a file across restarts) the station records the sequences of every bundle
  it takes (the bundle, its trust list and revocation lists) and refuses one older than any seen
  (a rollback); the caller saves the state (``station.state.save()``);
* :meth:`Station.status` says how fresh the bundle is (:class:`BundleStatus`): FRESH until its
  freshness limit (the earliest of the bundle's, its trust list's and its revocation lists'),
  GRACE for ``grace`` after it, TOO_OLD afterwards.  Within the grace period verdicts are given as
  if the bundle were fresh (the page shows an "update the bundle" banner); once TOO_OLD no verdict
  is given at all — a stale bundle is the station's problem, never a citizen's RED;
* :meth:`Station.read_text` and :meth:`Station.read_image` turn one scanned text or one camera
  frame into a :class:`Reading`: a checkpoint :class:`~vaxcert.Verdict` (one :func:`~vaxcert.scan`
  call, so EU DCCs and SMART Health Cards alike, under the bundle's business rules for the
  station's country and region: verification result with the holder and vaccination events for
  the identity check, pass colour and reason, failed rules), a citizen ID card
  (:mod:`vaxcert.idcard`), nothing (a frame without a code), or "bundle too old".

The bundle's trust list, revocation lists and SMART Health Card issuers are all judged stale only
``grace`` after their limits (the station's own state says when the bundle is in its grace period).

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
from .recipes import Verdict, bundle_rules, bundle_shc_trust, scan
from .rules import DEFAULT_POLICY, CountryRules, Policy
from .trust.bundle import Bundle, load_bundle, open_bundle
from .trust.revocation import RevocationSet
from .trust.state import SequenceState
from .trust.store import TrustedSigner
from .verifier import Verifier, detect_format

__all__ = ["DEFAULT_GRACE", "BundleState", "BundleStatus", "Reading", "ReadingKind", "Station"]

#: How long after its freshness limit a bundle is still used (under a warning).
DEFAULT_GRACE: Final = dt.timedelta(hours=72)
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
class _State:
    """What readings use, swapped as one by :meth:`Station.update`."""

    bundle: Bundle
    verifier: Verifier
    rules: CountryRules | None


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
    swaps the bundle atomically (a reading uses the bundle it started with).

    ``country`` / ``region`` select the business rules the bundle carries for this checkpoint
    (:meth:`vaxcert.RuleBook.for_country`); without ``country`` only the pass ``policy`` decides.
    """

    def __init__(self, bundle: Bundle, cscas: Sequence[x509.Certificate], *, policy: Policy = DEFAULT_POLICY,
                 grace: dt.timedelta = DEFAULT_GRACE, valuesets: ValueSets | None = None,
                 country: str | None = None, region: str | None = None,
                 state: SequenceState | None = None) -> None:  # fmt: skip
        if grace < dt.timedelta(0):
            raise ValueError("grace must not be negative")
        if state is not None:
            state.admit_all(bundle.signed_documents())  # DocumentError: older than one seen (rollback)
        self.state = state
        self.policy = policy
        self.grace = grace
        self.country = country
        self.region = region
        self._cscas = tuple(cscas)
        self._valuesets = valuesets
        self._key = secrets.token_bytes(32)
        self._in_use = self._prepare(bundle)

    @classmethod
    def open(cls, path: str | Path, cscas: Sequence[x509.Certificate], *, now: dt.datetime,
             state: SequenceState | None = None, policy: Policy = DEFAULT_POLICY, grace: dt.timedelta = DEFAULT_GRACE,
             valuesets: ValueSets | None = None, country: str | None = None, region: str | None = None) -> Station:
        """A station on the bundle file at ``path`` (see :func:`vaxcert.load_bundle`); a bundle older
        than one ``state`` has recorded is refused as a rollback, one whose rules or SMART Health
        Card issuers are malformed too (:class:`vaxcert.DocumentError`)."""
        bundle = load_bundle(path, cscas, now)
        return cls(bundle, cscas, policy=policy, grace=grace, valuesets=valuesets, country=country, region=region,
                   state=state)  # fmt: skip

    def _prepare(self, bundle: Bundle) -> _State:
        """Verifier and rules for ``bundle``: its trust list, revocation lists, value sets, SMART Health
        Card issuers (all judged stale only ``grace`` after their limits) and business rules."""
        known = bundle.valuesets or self._valuesets or ValueSets.bundled()
        revocation = _GraceRevocation(bundle.revocation, self.grace) if bundle.revocation.lists else None
        shc = bundle_shc_trust(bundle)
        verifier = Verifier(_GraceTrust(bundle, self.grace), revocation=revocation, valuesets=known, shc_trust=shc,
                            shc_fresh_until=bundle.expires_at + self.grace if shc is not None else None)
        book = bundle_rules(bundle)
        rules = book.for_country(self.country, self.region) if self.country and book else None
        return _State(bundle, verifier, rules if rules is not None and not rules.empty else None)

    @property
    def bundle(self) -> Bundle:
        """The bundle in use."""
        return self._in_use.bundle

    def update(self, data: bytes, *, now: dt.datetime) -> bool:
        """Use a newer bundle: True when ``data`` is properly signed and its sequence is higher than the
        current one (recorded in :attr:`state`), False when it is not newer.  Raises
        :class:`vaxcert.DocumentError` when it is not a properly signed bundle, or older than the
        current one or than one the state has recorded."""
        current = self.bundle.sequence
        bundle = open_bundle(data, self._cscas, now=now, min_sequence=current)
        if bundle.sequence <= current:
            return False
        prepared = self._prepare(bundle)
        if self.state is not None:
            self.state.admit_all(bundle.signed_documents())
        self._in_use = prepared  # one assignment: readings see the old or the new bundle
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
        state = self._in_use
        status = self._status(state.bundle, now)
        if not isinstance(text, str):
            text = ""
        return self._read([text.strip()], state, status, now)

    def read_image(self, image: Any, *, now: dt.datetime, fallback: bool = False) -> Reading:
        """One camera frame (encoded image bytes, a Pillow image or an array); needs ``vaxcert[qr]``.

        A frame without a code (or one that cannot be decoded) gives a NONE reading: the next
        frame will come.  ``fallback`` runs the slower preprocessing passes on frames without a
        code; a live loop keeps it off.  The certificate codes of a frame are presented together
        (the chunks of a Health Card); a certificate is preferred over an ID card when a frame
        shows both.
        """
        from .qr import photo  # the [qr] extra: imported when the first frame comes

        state = self._in_use
        status = self._status(state.bundle, now)
        try:
            codes = photo.decode_image(image, fallback=fallback)
        except MissingExtraError:
            raise
        except Exception:  # an undecodable frame is no reading
            codes = []
        texts = [code.text.strip() for code in codes if code.text.strip()]
        if not texts:
            return Reading(ReadingKind.BUNDLE_TOO_OLD if status.state is BundleState.TOO_OLD else ReadingKind.NONE,
                           status)
        certificates = [text for text in texts if detect_format(text) is not None]
        return self._read(certificates or texts, state, status, now)

    def _read(self, texts: list[str], state: _State, status: BundleStatus, now: dt.datetime) -> Reading:
        """One reading for the texts of one frame (certificate codes, or else whatever codes it showed)."""
        first = texts[0] if texts else ""
        if not first:
            return Reading(ReadingKind.NONE, status)
        key = self.code_key("\n".join(texts)[:_MAX_TEXT])
        if detect_format(first) is None and looks_like_cccd(first):
            try:
                return Reading(ReadingKind.IDCARD, status, card=parse_cccd(first), code_key=key)
            except InputError:
                pass  # shaped like a card but not one: judged as any other code below
        if status.state is BundleState.TOO_OLD:
            return Reading(ReadingKind.BUNDLE_TOO_OLD, status, code_key=key)
        source: str | list[str] = texts if len(texts) > 1 and detect_format(first) is not None else first
        verdicts = scan(source, state.verifier, policy=self.policy, now=now, rules=state.rules)
        return Reading(ReadingKind.VERDICT, status, verdict=verdicts[0], code_key=key)
