"""A checkpoint pass (GREEN / YELLOW / RED) decided by business rules instead of Python settings.

A *pass rule set* (format ``vaxcert-pass-rules/1``) is a JSON document holding two lists of
Acceptance rules in the EU gateway format - the rules that must all hold for ``GREEN`` and
those that must all hold for ``YELLOW`` - plus how to name the outcome::

    {"format": "vaxcert-pass-rules/1", "name": "vn-2021", "country": "VN",
     "GREEN": [<rule>, ...], "YELLOW": [<rule>, ...],
     "reasons": [["VR-VN-0001", "PRODUCT_NOT_ACCEPTED"], ...],
     "labels": {"GREEN": {"Vaccination": [{"when": <CertLogic>, "reason": "BOOSTER"},
                                          {"reason": "FULLY_VACCINATED"}], ...}, "YELLOW": {...}}}

The verdict (:meth:`PassRules.decide`):

* For each colour, GREEN first: the rules are selected as the EU apps select them
  (:meth:`~vaxcert.rules.gateway.RuleSet.select`: country, region, certificate type, validity,
  highest version).  The colour is granted when at least one selected rule is specific to the
  certificate's type (a colour without rules for tests grants nothing to tests) and every
  selected rule passes.  Its reason is the first label whose ``when`` (CertLogic on
  ``{"payload": ...}``) holds.
* Otherwise RED, with the reason of the first rule in ``reasons`` that did not pass (a rule
  that could not be evaluated - open - gives ``CERTIFICATE_INVALID``); a failed rule not listed
  there gives ``RULE_FAILED``; no rules at all for the type gives ``TEST_NOT_ACCEPTED`` /
  ``RECOVERY_NOT_ACCEPTED`` / ``RULE_FAILED``.

vaxcert ships Viet Nam's default pass (the verdicts of :data:`vaxcert.rules.DEFAULT_POLICY`) as
``vn-2021.json`` and Hồ Chí Minh City's variant (region ``HCM``: one dose plus a recovery) as
``vn-2021-hcm.json``; :meth:`PassRules.bundled` loads both.  The HCMC rule reads the holder's
other certificates from ``external.holderCertificates`` - a vaxcert extension to the EU data
shape (see ``docs/business-rules.md``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from ..dcc.valuesets import ValueSets
from .certlogic import CertLogicError, CompiledExpression, compile_expression
from .gateway import (
    Outcome,
    Rule,
    RuleFormatError,
    RuleResult,
    RuleSet,
    certificate_type,
    evaluate_one,
    format_document,
    payload_schema,
    rule_data,
)
from .messages import Pass, Reason

__all__ = ["BUNDLED", "FORMAT", "PassRules", "PassVerdict", "payload_type"]

#: The format tag of a pass rule set document.
FORMAT: Final = "vaxcert-pass-rules/1"
#: The pass rule sets shipped with vaxcert (package data ``vaxcert/rules/data``).
BUNDLED: Final = ("vn-2021.json", "vn-2021-hcm.json")

_COLOURS: Final = (Pass.GREEN, Pass.YELLOW)
_NOT_ACCEPTED: Final = {"Test": Reason.TEST_NOT_ACCEPTED, "Recovery": Reason.RECOVERY_NOT_ACCEPTED}
_DEFAULT_LABELS: Final = {
    "Vaccination": {Pass.GREEN: Reason.FULLY_VACCINATED, Pass.YELLOW: Reason.PARTIALLY_VACCINATED},
    "Test": {Pass.GREEN: Reason.NEGATIVE_TEST, Pass.YELLOW: Reason.NEGATIVE_TEST},
    "Recovery": {Pass.GREEN: Reason.RECOVERED, Pass.YELLOW: Reason.RECOVERED},
}


def payload_type(payload: Any) -> str | None:
    """``Vaccination``/``Test``/``Recovery`` for a payload with exactly one of ``v``/``t``/``r``."""
    if not isinstance(payload, Mapping):
        return None
    groups = [group for group in ("v", "t", "r") if payload.get(group)]
    return certificate_type(groups[0]) if len(groups) == 1 else None


@dataclass(frozen=True, slots=True)
class _Label:
    when: CompiledExpression | None
    reason: Reason


@dataclass(frozen=True, slots=True)
class PassVerdict:
    """The colour and reason, the rule whose failure decided a RED, and every rule result."""

    colour: Pass
    reason: Reason
    cert_type: str | None
    results: Mapping[Pass, tuple[RuleResult, ...]]
    deciding: RuleResult | None = None

    @property
    def passes(self) -> bool:
        """True for GREEN and YELLOW."""
        return self.colour is not Pass.RED

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        """The rules of the colours not granted that did not pass (each once, GREEN's first)."""
        seen: dict[tuple[str, str], RuleResult] = {}
        for colour in _COLOURS:
            if colour is self.colour:
                break
            for result in self.results.get(colour, ()):
                if not result.passed:
                    seen.setdefault((result.identifier, result.rule.version), result)
        return tuple(seen.values())

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """A JSON-ready summary: colour, reason, deciding rule and the failed rules (no personal data)."""
        return {
            "pass": str(self.colour),
            "reason": str(self.reason),
            "type": self.cert_type,
            "rule": self.deciding.identifier if self.deciding is not None else None,
            "failed": [result.to_dict(lang) for result in self.failed],
        }


class PassRules:
    """GREEN and YELLOW rule sets with the names of their outcomes (see the module docstring)."""

    __slots__ = ("_label_source", "_labels", "country", "green", "name", "reasons", "yellow")

    def __init__(
        self,
        *,
        name: str,
        country: str,
        green: RuleSet,
        yellow: RuleSet,
        reasons: Sequence[tuple[str, Reason]] = (),
        labels: Mapping[Pass, Mapping[str, Sequence[tuple[Any, Reason]]]] | None = None,
    ) -> None:
        self.name = name
        self.country = country.upper()
        self.green = green
        self.yellow = yellow
        self.reasons: tuple[tuple[str, Reason], ...] = tuple(reasons)
        compiled: dict[Pass, dict[str, tuple[_Label, ...]]] = {}
        self._labels: Mapping[Pass, Mapping[str, tuple[_Label, ...]]] = compiled
        for colour, by_type in (labels or {}).items():
            compiled[colour] = {
                kind: tuple(_Label(None if when is None else compile_expression(when), reason)
                            for when, reason in items)
                for kind, items in by_type.items()
            }
        self._label_source = labels or {}

    def __repr__(self) -> str:
        return f"PassRules({self.name} {self.country}: {len(self.green)} GREEN, {len(self.yellow)} YELLOW rules)"

    # -- loading ----------------------------------------------------------------------------

    @classmethod
    def from_json(cls, document: Any, *, origin: str = "pass rules") -> PassRules:
        """A pass rule set from its JSON document (or text); raises :class:`RuleFormatError`."""
        document = format_document(document, FORMAT, origin=origin)
        name, country = document.get("name"), document.get("country")
        if not isinstance(name, str) or not name or not isinstance(country, str) or len(country) != 2:
            raise RuleFormatError(f"{origin}: needs a name and a two-letter country")
        sets = {colour: RuleSet.from_json(document.get(str(colour), []), origin=f"{origin} {colour}")
                for colour in _COLOURS}
        for colour, rules in sets.items():
            for rule in rules:
                if rule.type != "Acceptance" or rule.country != country.upper():
                    raise RuleFormatError(f"{origin}: {colour} rule {rule.identifier} must be an Acceptance rule "
                                          f"of {country.upper()}")
        return cls(name=name, country=country, green=sets[Pass.GREEN], yellow=sets[Pass.YELLOW],
                   reasons=_reasons(document.get("reasons", []), origin),
                   labels=_labels(document.get("labels", {}), origin))

    @classmethod
    def load(cls, *paths: str | Path) -> PassRules:
        """Load pass rule set files and merge them (a regional variant after its national set)."""
        if not paths:
            raise ValueError("give at least one pass rule set file")
        loaded = []
        for path in paths:
            source = Path(path)
            try:
                text = source.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as error:
                raise RuleFormatError(f"cannot read pass rules {source}: {error}") from None
            loaded.append(cls.from_json(text, origin=str(source)))
        return functools.reduce(PassRules.merged, loaded)

    @classmethod
    def bundled(cls) -> PassRules:
        """Viet Nam's default pass with its regional variants, as shipped with vaxcert."""
        return _bundled()

    def merged(self, other: PassRules) -> PassRules:
        """These rules plus ``other``'s (e.g. a region's); reasons and labels of ``other`` come first."""
        if other.country != self.country:
            raise RuleFormatError(f"cannot merge pass rules of {self.country} and {other.country}")
        labels: dict[Pass, dict[str, list[tuple[Any, Reason]]]] = {}
        for source in (other._label_source, self._label_source):
            for colour, by_type in source.items():
                for kind, items in by_type.items():
                    labels.setdefault(colour, {}).setdefault(kind, []).extend(items)
        known = {identifier for identifier, _ in other.reasons}
        reasons = [*other.reasons, *(item for item in self.reasons if item[0] not in known)]
        return PassRules(name=self.name, country=self.country, green=self.green + other.green,
                         yellow=self.yellow + other.yellow, reasons=reasons, labels=labels)

    def to_json(self) -> dict[str, Any]:
        """The pass rule set as one JSON document (what :meth:`from_json` reads back)."""
        return {
            "format": FORMAT,
            "name": self.name,
            "country": self.country,
            "GREEN": self.green.to_json(),
            "YELLOW": self.yellow.to_json(),
            "reasons": [[identifier, str(reason)] for identifier, reason in self.reasons],
            "labels": {
                str(colour): {kind: [({"when": when} if when is not None else {}) | {"reason": str(reason)}
                                     for when, reason in items] for kind, items in by_type.items()}
                for colour, by_type in self._label_source.items()
            },
        }

    # -- the verdict ------------------------------------------------------------------------

    def select(self, colour: Pass, *, cert_type: str, at: dt.datetime, region: str | None = None) -> list[Rule]:
        """The rules of ``colour`` that apply to a certificate of ``cert_type`` at ``at`` in ``region``."""
        rules = self.green if colour is Pass.GREEN else self.yellow
        return rules.select(country=self.country, at=at, cert_type=cert_type, region=region)

    def evaluate(
        self,
        payload: Any,
        *,
        now: dt.datetime,
        exp: dt.datetime | None = None,
        iat: dt.datetime | None = None,
        region: str | None = None,
        valuesets: ValueSets | Mapping[str, Sequence[str]] | None = None,
        holder_certificates: Iterable[Any] = (),
        issuer_country: str | None = None,
    ) -> PassVerdict:
        """The pass ``payload`` (already verified) gives at ``now``: select, evaluate, decide.

        ``holder_certificates``: payloads of the holder's other verified certificates (for
        rules such as HCMC's one dose plus a recovery); they go to
        ``external.holderCertificates``.  Never raises for a hostile payload.
        """
        kind = payload_type(payload)
        results: dict[Pass, tuple[RuleResult, ...]] = {}
        if kind is not None:
            data = rule_data(payload, now=now, country=self.country, exp=exp, iat=iat, valuesets=valuesets,
                             region=region, issuer_country=issuer_country,
                             external={"holderCertificates": list(holder_certificates)})
            known: dict[tuple[str, str, str], RuleResult] = {}
            schema = payload_schema(payload)
            for colour in _COLOURS:
                chosen = self.select(colour, cert_type=kind, at=now, region=region)
                results[colour] = tuple(_reuse(rule, known, data, schema) for rule in chosen)
                if _granted(results[colour], kind):  # a colour granted: the next ones are not needed
                    break
        return self.decide(payload, results)

    def decide(self, payload: Any, results: Mapping[Pass, Sequence[RuleResult]]) -> PassVerdict:
        """Turn the rule results of each colour into the verdict (see the module docstring)."""
        kind = payload_type(payload)
        frozen = MappingProxyType({colour: tuple(results.get(colour, ())) for colour in _COLOURS})
        if kind is None:
            return PassVerdict(Pass.RED, Reason.CERTIFICATE_INVALID, None, frozen)
        for colour in _COLOURS:
            if _granted(frozen[colour], kind):
                return PassVerdict(colour, self._label(colour, kind, payload), kind, frozen)
        if not any(result.rule.certificate_type == kind for colour in _COLOURS for result in frozen[colour]):
            return PassVerdict(Pass.RED, _NOT_ACCEPTED.get(kind, Reason.RULE_FAILED), kind, frozen)
        failed = [result for colour in _COLOURS for result in frozen[colour] if not result.passed]
        for identifier, reason in self.reasons:
            for result in failed:
                if result.identifier == identifier:
                    why = Reason.CERTIFICATE_INVALID if result.outcome is Outcome.OPEN else reason
                    return PassVerdict(Pass.RED, why, kind, frozen, result)
        for result in failed:
            if result.outcome is Outcome.OPEN:
                return PassVerdict(Pass.RED, Reason.CERTIFICATE_INVALID, kind, frozen, result)
        return PassVerdict(Pass.RED, Reason.RULE_FAILED, kind, frozen, failed[0] if failed else None)

    def _label(self, colour: Pass, kind: str, payload: Any) -> Reason:
        data = {"payload": payload}
        for label in self._labels.get(colour, {}).get(kind, ()):
            if label.when is None:
                return label.reason
            try:
                if label.when(data) is True:
                    return label.reason
            except CertLogicError:
                continue
        return _DEFAULT_LABELS[kind][colour]


def _granted(results: Sequence[RuleResult], kind: str) -> bool:
    """Every result passed, and at least one rule is specific to the certificate type."""
    typed = False
    for result in results:
        if result.outcome is not Outcome.PASSED:
            return False
        typed = typed or result.rule.certificate_type == kind
    return typed


def _reuse(
    rule: Rule, known: dict[tuple[str, str, str], RuleResult], data: Mapping[str, Any],
    schema: tuple[int, int, int] | None,
) -> RuleResult:
    """The result of ``rule``, reusing that of an identical rule (same identifier, version and
    logic) already evaluated on the same data - GREEN and YELLOW share their general rules."""
    key = (rule.identifier, rule.version, rule.logic_key)
    done = known.get(key)
    if done is None:
        done = known[key] = evaluate_one(rule, data, schema)
        return done
    return done if done.rule is rule else RuleResult(rule, done.outcome, done.error)


def _reasons(value: Any, origin: str) -> list[tuple[str, Reason]]:
    if not isinstance(value, list):
        raise RuleFormatError(f"{origin}: reasons must be a list of [rule identifier, reason]")
    out = []
    for item in value:
        if (not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], str)
                or item[1] not in Reason.__members__):
            raise RuleFormatError(f"{origin}: reasons entries must be [rule identifier, reason name]")
        out.append((item[0], Reason(item[1])))
    return out


def _labels(value: Any, origin: str) -> dict[Pass, dict[str, list[tuple[Any, Reason]]]]:
    if not isinstance(value, Mapping):
        raise RuleFormatError(f"{origin}: labels must be an object by colour")
    out: dict[Pass, dict[str, list[tuple[Any, Reason]]]] = {}
    for colour_name, by_type in value.items():
        if colour_name not in ("GREEN", "YELLOW") or not isinstance(by_type, Mapping):
            raise RuleFormatError(f"{origin}: labels are given for GREEN and YELLOW, by certificate type")
        for kind, items in by_type.items():
            try:
                kind_name = certificate_type(kind)
            except ValueError:
                raise RuleFormatError(f"{origin}: labels: unknown certificate type") from None
            if not isinstance(items, list):
                raise RuleFormatError(f"{origin}: labels of {kind_name} must be a list")
            for item in items:
                if not isinstance(item, Mapping) or item.get("reason") not in Reason.__members__:
                    raise RuleFormatError(f"{origin}: a label needs a reason name (and optionally when)")
                out.setdefault(Pass(colour_name), {}).setdefault(kind_name, []).append(
                    (item.get("when"), Reason(item["reason"])))
    return out


@functools.cache
def _bundled() -> PassRules:
    folder = resources.files("vaxcert.rules").joinpath("data")
    loaded = []
    for name in BUNDLED:
        try:
            text = folder.joinpath(name).read_text(encoding="utf-8")
        except OSError as error:  # a broken installation
            raise RuleFormatError(f"bundled pass rules {name} unreadable: {error}") from None
        loaded.append(PassRules.from_json(text, origin=f"bundled {name}"))
    return functools.reduce(PassRules.merged, loaded)
