"""The pass at a checkpoint: a :class:`Policy` and :func:`assess`.

:func:`assess` takes a :class:`~vaxcert.verifier.VerificationResult` (is the certificate
authentic and well-formed?) and decides what it is worth at a checkpoint now: GREEN (fully
vaccinated, or recovered), YELLOW (partly vaccinated, or a recent negative test) or RED (not
authentic, expired, revoked, or no pass), with a machine-readable :class:`Reason`, texts in
Vietnamese and English, and the validity window of the pass.  It is a pure function of its
arguments: time is the ``now`` parameter.

The default policy (:data:`DEFAULT_POLICY`) is a reading of Viet Nam's 2021-22 green / yellow
card rules; ``docs/checkpoint-pass.md`` states them and where they come from.  A checkpoint can
load its own policy from JSON or TOML with :meth:`Policy.from_file`.

Dates in certificates (vaccination ``dt``, recovery ``fr``/``df``/``du``) are calendar days; a
day starts at local midnight in the policy's time zone (``utc_offset_minutes``, Viet Nam: UTC+7,
no daylight saving).  ``valid_until`` is exclusive: the first instant the pass no longer holds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from .. import jsonio
from ..codes import FailureCode, Stage
from ..dcc.codes import COVID_19, NAAT, RAPID_ANTIGEN_TEST, TEST_DETECTED, TEST_NOT_DETECTED
from ..dcc.valuesets import ValueSets
from ..errors import ConfigurationError, InputError
from ..verifier import VerificationResult
from .messages import LANGUAGES, Pass, Reason, render

__all__ = [
    "COVID_19",
    "DEFAULT_POLICY",
    "NAAT",
    "RAT",
    "TEST_DETECTED",
    "TEST_NOT_DETECTED",
    "VN_2021_PRODUCTS",
    "Assessment",
    "Policy",
    "assess",
]

#: The rapid antigen test type (LOINC), as the policy's names it.
RAT: Final = RAPID_ANTIGEN_TEST

#: Vaccines Viet Nam's Ministry of Health approved in 2021-22, as EU value-set codes
#: (vaccine-medicinal-product).  ``Inactivated-SARS-CoV-2-Vero-Cell`` is the deprecated code
#: earlier certificates used for Sinopharm's BBIBP-CorV ("Vero Cell"); both are accepted.
VN_2021_PRODUCTS: Final = frozenset(
    {
        "EU/1/21/1529",  # Vaxzevria (AstraZeneca)
        "Sputnik-V",  # Gam-COVID-Vac (Gamaleya)
        "BBIBP-CorV",  # Sinopharm (Vero Cell)
        "Inactivated-SARS-CoV-2-Vero-Cell",  # Sinopharm, deprecated code
        "EU/1/20/1528",  # Comirnaty (Pfizer-BioNTech)
        "EU/1/20/1507",  # Spikevax (Moderna)
        "EU/1/20/1525",  # COVID-19 Vaccine Janssen / Jcovden: one dose is a complete series (1/1)
        "Hayat-Vax",  # Sinopharm made in the UAE
        "Abdala",  # CIGB, Cuba
        "Covaxin",  # Bharat Biotech
    }
)

_MAX_DAYS: Final = 36500
_MAX_HOURS: Final = 24 * 3650


def _nonneg(name: str, value: object, limit: int, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        allowed = " or null" if optional else ""
        raise ConfigurationError(f"policy: {name} must be a whole number 0..{limit}{allowed}")


@dataclass(frozen=True, slots=True)
class Policy:
    """What a checkpoint accepts.  Defaults: Viet Nam's 2021-22 green / yellow card rules.

    * ``accepted_products``: vaccine codes (``mp``) that count.
    * ``complete_wait_days``: days after the last dose of a complete primary series (dn = sd)
      before the green pass starts; ``booster_wait_days`` the same for a booster.
    * A booster is dn > sd, or dn = sd >= ``booster_min_dose`` (the EU encodes a booster after a
      two-dose series as 3/3); for ``three_dose_products`` (a three-dose primary series, e.g.
      Abdala) one dose more is needed.  ``booster_min_dose = None``: only dn > sd.
    * ``complete_validity_days``: how long a complete series (or booster) counts, from the last
      dose; ``None`` = no limit.
    * ``partial_accepted``, ``partial_wait_days``, ``partial_validity_days``: the same for a
      series not yet complete (dn < sd), which gives YELLOW.
    * ``yellow_while_waiting``: a complete series whose waiting time has not passed gives
      YELLOW (when it has at least two doses: an earlier dose exists) instead of RED.
    * ``naat_validity_hours`` / ``rat_validity_hours``: how long after sample collection a
      negative RT-PCR / rapid antigen test counts (``None`` = that kind is not accepted);
      ``test_pass`` is the colour it gives.
    * ``recovery_validity_days``: how long after the first positive result (``fr``) a recovery
      certificate counts, within its own ``df``..``du`` (``None`` = recoveries not accepted);
      ``recovery_pass`` is the colour it gives.
    * ``utc_offset_minutes``: the local time zone in which certificate dates start (VN: +420).
    """

    name: str = "vn-2021"
    accepted_products: frozenset[str] = VN_2021_PRODUCTS
    complete_wait_days: int = 14
    booster_wait_days: int = 0
    booster_min_dose: int | None = 3
    three_dose_products: frozenset[str] = frozenset({"Abdala"})
    complete_validity_days: int | None = 365
    partial_accepted: bool = True
    partial_wait_days: int = 14
    partial_validity_days: int | None = 365
    yellow_while_waiting: bool = True
    naat_validity_hours: int | None = 72
    rat_validity_hours: int | None = 72
    test_pass: Pass = Pass.YELLOW
    recovery_validity_days: int | None = 180
    recovery_pass: Pass = Pass.GREEN
    utc_offset_minutes: int = 7 * 60

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigurationError("policy: name must be a non-empty string")
        for key in ("accepted_products", "three_dose_products"):
            codes = getattr(self, key)
            if isinstance(codes, str) or not all(isinstance(code, str) for code in codes):
                raise ConfigurationError(f"policy: {key} must be a list of product codes")
            object.__setattr__(self, key, frozenset(codes))
        if self.booster_min_dose is not None:
            _nonneg("booster_min_dose", self.booster_min_dose, 100)
            if self.booster_min_dose < 2:
                raise ConfigurationError("policy: booster_min_dose must be at least 2 or null")
        for key in ("complete_wait_days", "booster_wait_days", "partial_wait_days"):
            _nonneg(key, getattr(self, key), _MAX_DAYS)
        for key in ("complete_validity_days", "partial_validity_days", "recovery_validity_days"):
            _nonneg(key, getattr(self, key), _MAX_DAYS, optional=True)
        for key in ("naat_validity_hours", "rat_validity_hours"):
            _nonneg(key, getattr(self, key), _MAX_HOURS, optional=True)
        for key in ("partial_accepted", "yellow_while_waiting"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigurationError(f"policy: {key} must be true or false")
        for key in ("test_pass", "recovery_pass"):
            value = getattr(self, key)
            if value not in (Pass.GREEN, Pass.YELLOW):
                raise ConfigurationError(f"policy: {key} must be GREEN or YELLOW")
            object.__setattr__(self, key, Pass(value))
        offset = self.utc_offset_minutes
        if isinstance(offset, bool) or not isinstance(offset, int) or not -14 * 60 <= offset <= 14 * 60:
            raise ConfigurationError("policy: utc_offset_minutes must be a whole number -840..840")

    @property
    def timezone(self) -> dt.timezone:
        """The local time zone certificate dates are read in."""
        return dt.timezone(dt.timedelta(minutes=self.utc_offset_minutes))

    # -- loading -----------------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, check_products: bool = True) -> Policy:
        """A policy from a JSON/TOML object; keys left out keep their defaults.

        Unknown keys are refused, naming the key.  With ``check_products`` every accepted
        product must be a code of the bundled ``vaccine-medicinal-product`` value set, so a
        typing error cannot silently turn every certificate RED.
        """
        if not isinstance(data, Mapping):
            raise ConfigurationError("policy: must be an object of settings")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise ConfigurationError(f"policy: unknown setting {unknown[0]!r}")
        values = dict(data)
        for key in ("accepted_products", "three_dose_products"):
            if key in values:
                products = values[key]
                if not isinstance(products, list | tuple | set | frozenset):
                    raise ConfigurationError(f"policy: {key} must be a list of product codes")
                values[key] = frozenset(products)
        for key in ("test_pass", "recovery_pass"):
            if key in values and isinstance(values[key], str) and values[key].upper() in Pass.__members__:
                values[key] = Pass(values[key].upper())
        policy = cls(**values)
        if check_products:
            sets = ValueSets.bundled()
            for code in sorted(policy.accepted_products | policy.three_dose_products):
                if not sets.contains("vaccine-medicinal-product", code):
                    raise ConfigurationError(f"policy: accepted product {code!r} is not a known product code")
        return policy

    @classmethod
    def from_file(cls, path: str | Path) -> Policy:
        """Load a policy from a ``.toml`` file, or a JSON file (any other suffix)."""
        source = Path(path)
        try:
            raw = source.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"cannot read policy {source}: {exc.strerror}") from None
        try:
            if source.suffix.lower() == ".toml":
                data = tomllib.loads(raw.decode("utf-8"))
                jsonio.check_depth(data, what=f"policy {source}")
            else:
                data = jsonio.loads(raw, what=f"policy {source}")
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"policy {source}: not valid {type(exc).__name__}") from None
        except RecursionError:
            raise ConfigurationError(f"policy {source}: nested too deeply") from None
        except InputError as exc:
            raise ConfigurationError(f"{exc.field}: {exc.message}") from None
        return cls.from_mapping(data)

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready object (what :meth:`from_mapping` reads)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["accepted_products"] = sorted(self.accepted_products)
        out["three_dose_products"] = sorted(self.three_dose_products)
        out["test_pass"] = str(self.test_pass)
        out["recovery_pass"] = str(self.recovery_pass)
        return out


DEFAULT_POLICY: Final = Policy()


@dataclass(frozen=True, slots=True)
class Assessment:
    """The pass a certificate gives at a checkpoint at one moment.

    ``valid_from`` / ``valid_until`` are the window of the pass the certificate would give
    (also when it is RED because ``now`` is outside that window); ``valid_until`` is
    exclusive.  ``messages`` holds the human text per language (``vi``, ``en``); it holds no
    personal data.
    """

    colour: Pass
    reason: Reason
    messages: Mapping[str, str]
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    cert_type: str | None = None

    @property
    def passes(self) -> bool:
        """True for GREEN and YELLOW."""
        return self.colour is not Pass.RED

    def message(self, lang: str = "vi") -> str:
        """The human text in ``lang`` (``vi`` or ``en``)."""
        if lang not in LANGUAGES:
            raise ValueError(f"unsupported language {lang!r}; use one of {', '.join(LANGUAGES)}")
        return self.messages[lang]

    def to_dict(self, lang: str = "vi") -> dict[str, Any]:
        """A JSON-ready summary with the message in ``lang``."""
        return {
            "pass": str(self.colour),
            "reason": str(self.reason),
            "message": self.message(lang),
            "valid_from": _iso(self.valid_from),
            "valid_until": _iso(self.valid_until),
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


# --------------------------------------------------------------------------------------------
# assess


class _Invalid(Exception):
    """A payload field the policy needs is missing or malformed."""


_FAILURE_REASONS: Final[Mapping[FailureCode, Reason]] = {
    FailureCode.REVOKED: Reason.REVOKED,
    FailureCode.EXPIRED: Reason.CERTIFICATE_EXPIRED,
    FailureCode.NOT_YET_VALID: Reason.CERTIFICATE_NOT_YET_VALID,
    FailureCode.TRUST_LIST_STALE: Reason.TRUST_UNAVAILABLE,
    FailureCode.TRUST_LIST_INVALID: Reason.TRUST_UNAVAILABLE,
    FailureCode.REVOCATION_LIST_STALE: Reason.TRUST_UNAVAILABLE,
    FailureCode.REVOCATION_LIST_INVALID: Reason.TRUST_UNAVAILABLE,
    FailureCode.NO_QR_FOUND: Reason.NO_QR_FOUND,
    FailureCode.QR_UNREADABLE: Reason.QR_UNREADABLE,
    FailureCode.IMAGE_UNREADABLE: Reason.IMAGE_UNREADABLE,
    FailureCode.NOT_A_CERTIFICATE: Reason.NOT_A_CERTIFICATE,
    FailureCode.PREFIX_MISSING: Reason.NOT_A_CERTIFICATE,
}
_CONTENT_STAGES: Final = frozenset({Stage.PAYLOAD, Stage.SCHEMA, Stage.VALUESET})


class _Judge:
    """One assessment: the policy, the moment and the certificate's expiry."""

    def __init__(self, policy: Policy, now: dt.datetime, result: VerificationResult) -> None:
        self.policy = policy
        self.now = now
        self.cap = result.expires_at
        self.cert_type = result.cert_type

    def day_start(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0, 0), tzinfo=self.policy.timezone)

    def local(self, moment: dt.datetime | None) -> dt.datetime | None:
        return moment.astimezone(self.policy.timezone) if moment is not None else None

    def capped(self, end: dt.datetime | None) -> dt.datetime | None:
        """A pass never outlasts the certificate carrying it."""
        if self.cap is None:
            return end
        return self.cap if end is None or self.cap < end else end

    def make(
        self,
        colour: Pass,
        reason: Reason,
        *,
        valid_from: dt.datetime | None = None,
        valid_until: dt.datetime | None = None,
        **details: str | int,
    ) -> Assessment:
        start, end = self.local(valid_from), self.local(valid_until)
        texts = {
            lang: render(reason, colour, lang, valid_from=start, valid_until=end, details=details)
            for lang in LANGUAGES
        }
        return Assessment(colour, reason, MappingProxyType(texts), start, end, self.cert_type)

    def red(self, reason: Reason, **kwargs: Any) -> Assessment:
        return self.make(Pass.RED, reason, **kwargs)

    def window(
        self, start: dt.datetime, end: dt.datetime | None, colour: Pass, reason: Reason,
        not_yet: Reason, **details: str | int,
    ) -> Assessment:
        """``colour``/``reason`` when now is in [start, end); RED ``not_yet`` or PASS_EXPIRED otherwise."""
        end = self.capped(end)
        if self.now < start:
            return self.red(not_yet, valid_from=start, valid_until=end, **details)
        if end is not None and self.now >= end:
            return self.red(Reason.PASS_EXPIRED, valid_from=start, valid_until=end, **details)
        return self.make(colour, reason, valid_from=start, valid_until=end, **details)


def assess(result: VerificationResult, policy: Policy = DEFAULT_POLICY, *, now: dt.datetime) -> Assessment:
    """The pass ``result`` gives under ``policy`` at ``now``.  Pure; never raises for bad payloads."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    judge = _Judge(policy, now, result)
    if not result.valid:
        reason = _FAILURE_REASONS.get(result.code)
        if reason is None:
            reason = Reason.CERTIFICATE_INVALID if result.stage in _CONTENT_STAGES else Reason.NOT_AUTHENTIC
        return judge.red(reason)
    payload = result.payload
    kind = result.cert_type
    if not isinstance(payload, Mapping) or kind not in ("v", "t", "r"):
        return judge.red(Reason.NOT_AUTHENTIC)
    try:
        entries = payload[kind]
        if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], Mapping):
            raise _Invalid(kind)
        entry: Mapping[str, Any] = entries[0]
        if entry.get("tg") != COVID_19:
            return judge.red(Reason.WRONG_DISEASE)
        if kind == "v":
            return _vaccination(entry, judge)
        if kind == "t":
            return _test(entry, judge)
        return _recovery(entry, judge)
    except (_Invalid, KeyError, TypeError, ValueError):
        return judge.red(Reason.CERTIFICATE_INVALID)


def _date(value: object) -> dt.date:
    """A DCC date (``YYYY-MM-DD``; a date-time is cut to its date, as older issuers wrote them)."""
    if not isinstance(value, str) or len(value) < 10:
        raise _Invalid("date")
    return dt.date.fromisoformat(value[:10])


def _datetime(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise _Invalid("datetime")
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise _Invalid("datetime")
    return moment


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Invalid("count")
    return value


def _product_name(code: str) -> str:
    try:
        display = ValueSets.bundled().display("vaccine-medicinal-product", code)
    except Exception:  # a display name is a nicety; the code will do
        display = None
    text = display or code
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:80]


def _vaccination(entry: Mapping[str, Any], judge: _Judge) -> Assessment:
    policy = judge.policy
    dn, sd = _count(entry["dn"]), _count(entry["sd"])
    product = entry["mp"]
    if not isinstance(product, str):
        raise _Invalid("mp")
    day = _date(entry["dt"])
    counts: dict[str, str | int] = {"dn": dn, "sd": sd}
    if product not in policy.accepted_products:
        return judge.red(Reason.PRODUCT_NOT_ACCEPTED, product=_product_name(product), **counts)
    dose_start = judge.day_start(day)
    if dose_start > judge.now:
        return judge.red(Reason.VACCINATION_IN_FUTURE, **counts)
    if dn >= sd:
        booster = dn > sd or (
            policy.booster_min_dose is not None
            and dn >= policy.booster_min_dose + (product in policy.three_dose_products)
        )
        wait = policy.booster_wait_days if booster else policy.complete_wait_days
        start = judge.day_start(day + dt.timedelta(days=wait))
        end = _after(judge, day, policy.complete_validity_days)
        if judge.now < start and policy.yellow_while_waiting and policy.partial_accepted and dn >= 2:
            return judge.make(Pass.YELLOW, Reason.TOO_SOON_AFTER_DOSE, valid_from=dose_start,
                              valid_until=judge.capped(start), days=wait, **counts)
        reason = Reason.BOOSTER if booster else Reason.FULLY_VACCINATED
        return judge.window(start, end, Pass.GREEN, reason, Reason.TOO_SOON_AFTER_DOSE, days=wait, **counts)
    if not policy.partial_accepted:
        return judge.red(Reason.PARTIAL_NOT_ACCEPTED, **counts)
    start = judge.day_start(day + dt.timedelta(days=policy.partial_wait_days))
    end = _after(judge, day, policy.partial_validity_days)
    return judge.window(start, end, Pass.YELLOW, Reason.PARTIALLY_VACCINATED, Reason.TOO_SOON_AFTER_DOSE,
                        days=policy.partial_wait_days, **counts)


def _after(judge: _Judge, day: dt.date, days: int | None) -> dt.datetime | None:
    return None if days is None else judge.day_start(day + dt.timedelta(days=days))


def _test(entry: Mapping[str, Any], judge: _Judge) -> Assessment:
    policy = judge.policy
    result = entry["tr"]
    if result == TEST_DETECTED:
        return judge.red(Reason.TEST_DETECTED)
    if result != TEST_NOT_DETECTED:
        raise _Invalid("tr")
    sample = _datetime(entry["sc"])
    if sample > judge.now:
        return judge.red(Reason.SAMPLE_IN_FUTURE)
    if policy.naat_validity_hours is None and policy.rat_validity_hours is None:
        return judge.red(Reason.TEST_NOT_ACCEPTED)
    kind = {NAAT: "naat", RAT: "rat"}.get(entry.get("tt", ""), "other")
    hours = {"naat": policy.naat_validity_hours, "rat": policy.rat_validity_hours}.get(kind)
    if hours is None:
        return judge.red(Reason.TEST_TYPE_NOT_ACCEPTED, test=kind)
    end = sample + dt.timedelta(hours=hours)
    return judge.window(sample, end, policy.test_pass, Reason.NEGATIVE_TEST, Reason.PASS_NOT_YET_VALID,
                        test=kind)


def _recovery(entry: Mapping[str, Any], judge: _Judge) -> Assessment:
    policy = judge.policy
    if policy.recovery_validity_days is None:
        return judge.red(Reason.RECOVERY_NOT_ACCEPTED)
    first, since, until = _date(entry["fr"]), _date(entry["df"]), _date(entry["du"])
    if since < first or until < since:
        raise _Invalid("df/du")
    start = judge.day_start(since)
    end = min(judge.day_start(until + dt.timedelta(days=1)),
              judge.day_start(first + dt.timedelta(days=policy.recovery_validity_days)))
    return judge.window(start, end, policy.recovery_pass, Reason.RECOVERED, Reason.PASS_NOT_YET_VALID)
