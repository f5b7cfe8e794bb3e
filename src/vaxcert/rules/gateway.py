"""Business rules in the EU DCC gateway format: load, select and evaluate them as the EU apps do.

A rule is the JSON object the DCC gateway distributes (``Identifier``, ``Type``, ``Country``,
``Region``, ``Version``, ``SchemaVersion``, ``Engine``, ``EngineVersion``, ``CertificateType``,
``Description``, ``ValidFrom``, ``ValidTo``, ``AffectedFields``, ``Logic``)::

    from vaxcert.rules.gateway import RuleSet, evaluate_rules

    rules = RuleSet.load("rules/")                      # files or folders of rule JSON
    chosen = rules.select(country="DE", cert_type="v", at=now)
    for result in evaluate_rules(chosen, payload, now=now, exp=exp, iat=iat, country="DE"):
        result.identifier, result.outcome, result.description("vi")

Selection (:meth:`RuleSet.select`) follows the EU verifier apps: Acceptance rules of the country
of arrival and Invalidation rules of the issuing country, of certificate type ``General`` or the
certificate's own type, valid at the validation time (``ValidFrom`` <= time <= ``ValidTo``), and
of each identifier only the highest version.  A ``Region`` narrows a rule to one region of the
country: without a region only national rules apply; with one, a regional rule replaces the
national rule of the same identifier and adds to the others (see ``docs/business-rules.md``).

Evaluation (:func:`evaluate_rules`) gives one :class:`RuleResult` per rule: ``passed``,
``failed``, or ``open`` - open when the rule cannot be evaluated: an engine or engine version
vaxcert does not implement, a rule written for another major schema version than the
certificate's, a CertLogic error, or a result that is not a boolean.  An open rule has an
``error`` and counts as not passed.  Evaluation never raises for a hostile payload or rule.
The data a rule sees is ``{"payload": <payload>, "external": {"validationClock", "valueSets",
"countryCode", "exp", "iat", ...}}`` with value sets as lists of codes by their gateway ids.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from ..dcc.valuesets import ValueSets
from ..errors import ConfigurationError
from .certlogic import SPEC_VERSION, CertLogicError, CompiledExpression, compile_expression, validate

__all__ = [
    "CERTIFICATE_TYPES",
    "ENGINE",
    "ENGINE_VERSION",
    "RULE_TYPES",
    "VALUE_SET_IDS",
    "Outcome",
    "Rule",
    "RuleFormatError",
    "RuleResult",
    "RuleSet",
    "certificate_type",
    "evaluate_on",
    "evaluate_one",
    "evaluate_rules",
    "external_value_sets",
    "payload_schema",
    "rule_data",
]

#: The rule engine vaxcert implements, and the highest engine version it runs.
ENGINE: Final = "CERTLOGIC"
ENGINE_VERSION: Final = SPEC_VERSION
#: ``CertificateType`` values; ``General`` rules apply to every certificate.
CERTIFICATE_TYPES: Final = ("General", "Vaccination", "Test", "Recovery")
#: ``Type`` values.
RULE_TYPES: Final = ("Acceptance", "Invalidation")

#: vaxcert's value-set names -> the ids rules use under ``external.valueSets``.
VALUE_SET_IDS: Final[Mapping[str, str]] = MappingProxyType({
    "country-2-codes": "country-2-codes",
    "disease-agent-targeted": "disease-agent-targeted",
    "test-manf": "covid-19-lab-test-manufacturer-and-name",
    "test-result": "covid-19-lab-result",
    "test-type": "covid-19-lab-test-type",
    "vaccine-mah-manf": "vaccines-covid-19-auth-holders",
    "vaccine-medicinal-product": "vaccines-covid-19-names",
    "vaccine-prophylaxis": "sct-vaccines-covid-19",
})

_GROUP_TYPES: Final = {"v": "Vaccination", "t": "Test", "r": "Recovery"}
#: Parts of 1 to 18 ASCII digits: int() of a part of 4,300+ digits raises ValueError.
_VERSION: Final = re.compile(r"\s*([0-9]{1,18})(?![0-9])(?:\.([0-9]{1,18})(?![0-9]))?(?:\.([0-9]{1,18})(?![0-9]))?")
_SAFE_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
_ENGINE_KEY: Final = tuple(int(part) for part in SPEC_VERSION.split("."))


class RuleFormatError(ConfigurationError):
    """A rule (or rule file) is not in the gateway format; the message names the rule and field."""


def format_document(document: Any, fmt: str, *, origin: str) -> Mapping[str, Any]:
    """``document`` (or the JSON text or bytes of it) as a mapping whose ``format`` is ``fmt``
    (vaxcert's own rule documents: pass rule sets, rule books); :class:`RuleFormatError` otherwise."""
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except (ValueError, RecursionError):
            raise RuleFormatError(f"{origin}: not valid JSON (or nested too deeply)") from None
    if not isinstance(document, Mapping) or document.get("format") != fmt:
        raise RuleFormatError(f"{origin}: not a {fmt} document")
    return document


class Outcome(StrEnum):
    """The result of one rule."""

    PASSED = "passed"
    FAILED = "failed"
    OPEN = "open"


def certificate_type(value: str) -> str:
    """``Vaccination``/``Test``/``Recovery``/``General`` from that name (any case) or ``v``/``t``/``r``."""
    if value in _GROUP_TYPES:
        return _GROUP_TYPES[value]
    for name in CERTIFICATE_TYPES:
        if value.lower() == name.lower():
            return name
    raise ValueError(f"unknown certificate type {value!r}; use v, t, r or one of {', '.join(CERTIFICATE_TYPES)}")


def _version(value: object, what: str, origin: str) -> tuple[int, int, int]:
    if not isinstance(value, str) or (match := _VERSION.match(value)) is None:
        raise RuleFormatError(f"{origin}: {what} must be a version like 1.0.0")
    major, minor, patch = match.groups()
    return int(major), int(minor or 0), int(patch or 0)


def _timestamp(value: object, what: str, origin: str) -> dt.datetime:
    """An ISO 8601 timestamp; with no offset it is UTC."""
    if not isinstance(value, str):
        raise RuleFormatError(f"{origin}: {what} must be an ISO 8601 timestamp")
    text = value.strip()
    try:
        moment = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" and text else text)
    except ValueError:
        raise RuleFormatError(f"{origin}: {what} is not an ISO 8601 timestamp") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _descriptions(value: object, origin: str) -> Mapping[str, str]:
    """``Description``: a list of ``{"lang", "desc"}`` (gateway), or ``{lang: text}``, or a text (English)."""
    if value is None:
        return MappingProxyType({})
    if isinstance(value, str):
        return MappingProxyType({"en": value})
    out: dict[str, str] = {}
    if isinstance(value, Mapping):
        items: Iterable[tuple[object, object]] = value.items()
    elif isinstance(value, list):
        items = []
        for entry in value:
            if not isinstance(entry, Mapping):
                raise RuleFormatError(f"{origin}: Description entries must be objects with lang and desc")
            items.append((entry.get("lang"), entry.get("desc")))
    else:
        raise RuleFormatError(f"{origin}: Description must be a list of {{lang, desc}} objects")
    for lang, text in items:
        if not isinstance(lang, str) or not isinstance(text, str):
            raise RuleFormatError(f"{origin}: every Description needs a string lang and desc")
        out.setdefault(lang.strip().lower(), text)
    return MappingProxyType(out)


def _origin(identifier: object, fallback: str) -> str:
    return f"rule {identifier}" if isinstance(identifier, str) and _SAFE_ID.fullmatch(identifier) else fallback


@dataclass(frozen=True, slots=True, eq=False)
class Rule:
    """One business rule in the gateway format (build it with :meth:`from_json`)."""

    identifier: str
    type: str
    country: str
    region: str | None
    version: str
    schema_version: str
    engine: str
    engine_version: str
    certificate_type: str
    descriptions: Mapping[str, str]
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    affected_fields: tuple[str, ...]
    logic: Any
    source: Mapping[str, Any] = field(repr=False)
    version_key: tuple[int, int, int] = field(repr=False)
    schema_key: tuple[int, int, int] = field(repr=False)
    engine_key: tuple[int, int, int] = field(repr=False)
    compiled: CompiledExpression = field(repr=False)
    #: ``Logic`` as canonical JSON (sorted keys): equal for rules with the same logic.
    logic_key: str = field(repr=False)
    #: True when vaxcert can run this rule: engine CERTLOGIC, version at most :data:`ENGINE_VERSION`.
    supported: bool = field(repr=False)
    _passed: RuleResult = field(init=False, repr=False)
    _failed: RuleResult = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_passed", RuleResult(self, Outcome.PASSED))
        object.__setattr__(self, "_failed", RuleResult(self, Outcome.FAILED))

    @classmethod
    def from_json(cls, document: Any, *, origin: str = "rule") -> Rule:
        """A rule from its gateway JSON object (a mapping, or its text).

        Tolerates what real rule files vary in: ``Region``, ``AffectedFields``, ``Type``
        (default ``Acceptance``), ``SchemaVersion`` (default 1.0.0), ``Engine`` (default
        CERTLOGIC) and ``ValidTo`` (default: no end) may be missing; ``Description`` may be a
        list, an object by language or one English text; timestamps may carry any offset or none
        (UTC).  Raises :class:`RuleFormatError` naming the rule and the field otherwise.
        """
        try:
            return cls._from_json(document, origin)
        except RecursionError:
            raise RuleFormatError(f"{origin}: nested too deeply") from None

    @classmethod
    def _from_json(cls, document: Any, origin: str) -> Rule:
        if isinstance(document, str | bytes):
            try:
                document = json.loads(document)
            except ValueError:
                raise RuleFormatError(f"{origin}: not valid JSON") from None
        if not isinstance(document, Mapping):
            raise RuleFormatError(f"{origin}: a rule must be a JSON object")
        identifier = document.get("Identifier")
        origin = _origin(identifier, origin)
        if not isinstance(identifier, str) or not identifier.strip():
            raise RuleFormatError(f"{origin}: Identifier must be a non-empty string")
        if "Logic" not in document:
            raise RuleFormatError(f"{origin}: Logic is missing")
        rule_type = document.get("Type", "Acceptance")
        if not isinstance(rule_type, str) or rule_type.capitalize() not in RULE_TYPES:
            raise RuleFormatError(f"{origin}: Type must be Acceptance or Invalidation")
        country = document.get("Country")
        if not isinstance(country, str) or not re.fullmatch(r"[A-Za-z]{2}", country.strip()):
            raise RuleFormatError(f"{origin}: Country must be a two-letter country code")
        region = document.get("Region")
        if region is not None and not isinstance(region, str):
            raise RuleFormatError(f"{origin}: Region must be a string")
        kind = document.get("CertificateType")
        try:
            cert_type = certificate_type(kind) if isinstance(kind, str) and len(kind) > 1 else ""
        except ValueError:
            cert_type = ""
        if not cert_type:
            raise RuleFormatError(f"{origin}: CertificateType must be one of {', '.join(CERTIFICATE_TYPES)}")
        version = document.get("Version")
        schema_version = document.get("SchemaVersion", "1.0.0")
        engine = document.get("Engine", ENGINE)
        engine_version = document.get("EngineVersion", "1.0.0")
        if not isinstance(engine, str):
            raise RuleFormatError(f"{origin}: Engine must be a string")
        affected = document.get("AffectedFields") or []
        if not isinstance(affected, list) or not all(isinstance(f, str) for f in affected):
            raise RuleFormatError(f"{origin}: AffectedFields must be a list of strings")
        valid_to = document.get("ValidTo")
        logic = document["Logic"]
        return cls(
            identifier=identifier.strip(),
            type=rule_type.capitalize(),
            country=country.strip().upper(),
            region=region.strip().upper() or None if region is not None else None,
            version=str(version),
            schema_version=str(schema_version),
            engine=engine,
            engine_version=str(engine_version),
            certificate_type=cert_type,
            descriptions=_descriptions(document.get("Description"), origin),
            valid_from=_timestamp(document.get("ValidFrom"), "ValidFrom", origin),
            valid_to=_timestamp(valid_to, "ValidTo", origin) if valid_to is not None else None,
            affected_fields=tuple(affected),
            logic=logic,
            source=MappingProxyType(json.loads(json.dumps(document))),
            version_key=_version(version, "Version", origin),
            schema_key=_version(schema_version, "SchemaVersion", origin),
            engine_key=_version(engine_version, "EngineVersion", origin),
            compiled=compile_expression(logic),
            logic_key=json.dumps(logic, sort_keys=True, separators=(",", ":")),
            supported=engine.strip().upper() == ENGINE
            and _version(engine_version, "EngineVersion", origin) <= _ENGINE_KEY,
        )

    def to_json(self) -> dict[str, Any]:
        """The rule's gateway JSON object, as it was loaded."""
        result: dict[str, Any] = json.loads(json.dumps(dict(self.source)))
        return result

    def __repr__(self) -> str:
        where = f"{self.country}/{self.region}" if self.region else self.country
        return f"Rule({self.identifier} {self.version} {self.type} {where} {self.certificate_type})"

    # -- queries ----------------------------------------------------------------------------

    def valid_at(self, moment: dt.datetime) -> bool:
        """True when ``moment`` lies in ``ValidFrom`` .. ``ValidTo`` (both inclusive)."""
        return self.valid_from <= moment and (self.valid_to is None or moment <= self.valid_to)

    def description(self, lang: str = "en") -> str:
        """The description in ``lang`` (``vi``, ``de``, ``pt-br``, ...), else English, else any."""
        lang = lang.strip().lower()
        for key in (lang, lang.split("-")[0], "en"):
            if key in self.descriptions:
                return self.descriptions[key]
        return next(iter(self.descriptions.values()), self.identifier)

    def problems(self) -> list[str]:
        """What static validation finds in ``Logic`` (empty for a valid expression)."""
        return validate(self.logic)

    def evaluate(self, data: Any) -> RuleResult:
        """Evaluate ``Logic`` on the data context ``data`` (no engine or schema checks).

        ``true`` passes, ``false`` fails; an error or a non-boolean result is open.
        """
        try:
            value = self.compiled(data)
        except CertLogicError as error:
            return RuleResult(self, Outcome.OPEN, str(error))
        if value is True:
            return self._passed
        if value is False:
            return self._failed
        return RuleResult(self, Outcome.OPEN, "the rule did not evaluate to true or false")


@dataclass(frozen=True, slots=True)
class RuleResult:
    """The outcome of one rule on one certificate; ``error`` says why a rule is open."""

    rule: Rule
    outcome: Outcome
    error: str | None = None

    @property
    def identifier(self) -> str:
        """The rule's identifier."""
        return self.rule.identifier

    @property
    def passed(self) -> bool:
        """True only for :attr:`Outcome.PASSED` (an open rule does not pass)."""
        return self.outcome is Outcome.PASSED

    def description(self, lang: str = "en") -> str:
        """The rule's description in ``lang`` (fallback English)."""
        return self.rule.description(lang)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """A JSON-ready summary (no personal data: rules and outcomes only)."""
        return {
            "rule": self.rule.identifier,
            "version": self.rule.version,
            "type": self.rule.type,
            "country": self.rule.country,
            "region": self.rule.region,
            "certificate_type": self.rule.certificate_type,
            "outcome": str(self.outcome),
            "description": self.description(lang),
            "error": self.error,
        }


class RuleSet:
    """An immutable collection of rules (several versions of one identifier may be present)."""

    __slots__ = ("_boundaries", "_rules", "_selections")

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self._rules = tuple(rules)
        moments = {rule.valid_from for rule in self._rules} | {r.valid_to for r in self._rules if r.valid_to}
        self._boundaries = sorted(moments)
        # (country, issuer, type, region) -> (after, before, rules): the selection holds strictly
        # between two consecutive ValidFrom/ValidTo instants, so it is reused there.
        self._selections: dict[tuple[str, str | None, str, str | None], tuple[Any, Any, tuple[Rule, ...]]] = {}

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __add__(self, other: RuleSet) -> RuleSet:
        return RuleSet((*self._rules, *other._rules))

    def __repr__(self) -> str:
        countries = sorted({rule.country for rule in self._rules})
        return f"RuleSet({len(self._rules)} rules: {', '.join(countries)})"

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules, in the order they were loaded."""
        return self._rules

    # -- loading and saving -----------------------------------------------------------------

    @classmethod
    def from_json(cls, document: Any, *, origin: str = "rules") -> RuleSet:
        """Rules from JSON: one rule object, a list of them, or ``{"rules": [...]}`` (or its text)."""
        if isinstance(document, str | bytes):
            try:
                document = json.loads(document)
            except RecursionError:
                raise RuleFormatError(f"{origin}: nested too deeply") from None
            except ValueError:
                raise RuleFormatError(f"{origin}: not valid JSON") from None
        if isinstance(document, Mapping) and "rules" in document and "Logic" not in document:
            document = document["rules"]
        if isinstance(document, Mapping):
            return cls([Rule.from_json(document, origin=origin)])
        if not isinstance(document, list):
            raise RuleFormatError(f"{origin}: expected a rule object or a list of rules")
        return cls(Rule.from_json(item, origin=f"{origin}[{index}]") for index, item in enumerate(document))

    @classmethod
    def load(cls, *paths: str | Path) -> RuleSet:
        """Rules from files and folders.

        A file holds one rule, a list of rules or ``{"rules": [...]}``.  A folder in the
        rule-test layout (``<COUNTRY>/<RULE-ID>/rule.json``) gives its ``rule.json`` files;
        any other folder gives every ``*.json`` file in it and below.
        """
        rules: list[Rule] = []
        for path in paths:
            source = Path(path)
            if source.is_dir():
                files = sorted(source.rglob("rule.json")) or sorted(
                    p for p in source.rglob("*.json") if "tests" not in p.relative_to(source).parts
                )
            elif source.is_file():
                files = [source]
            else:
                raise ConfigurationError(f"rules not found: {source}")
            for file in files:
                try:
                    text = file.read_text(encoding="utf-8-sig")
                except (OSError, UnicodeDecodeError) as error:
                    raise RuleFormatError(f"cannot read rules {file}: {error}") from None
                rules.extend(cls.from_json(text, origin=str(file)))
        return cls(rules)

    def to_json(self) -> list[dict[str, Any]]:
        """Every rule's gateway JSON object (what :meth:`from_json` reads back)."""
        return [rule.to_json() for rule in self._rules]

    # -- selection --------------------------------------------------------------------------

    def select(
        self,
        *,
        country: str,
        at: dt.datetime,
        cert_type: str,
        region: str | None = None,
        issuer_country: str | None = None,
    ) -> list[Rule]:
        """The rules that apply to one certificate at ``at``, as the EU verifier apps choose them.

        * Acceptance rules of ``country`` (the country of arrival); Invalidation rules of
          ``issuer_country`` (none when it is not given).
        * ``CertificateType`` ``General`` or ``cert_type`` (``v``/``t``/``r`` or the type name).
        * Valid at ``at``; of each identifier only the highest ``Version``.
        * Without ``region`` only rules without a Region; with one, rules of that region replace
          the national rule of the same identifier.

        Rules of an engine vaxcert does not implement are returned (their results are open),
        so that a rule set vaxcert cannot fully run never passes silently.
        """
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("at must be timezone-aware")
        wanted_type = certificate_type(cert_type)
        arrival = country.strip().upper()
        issuer = issuer_country.strip().upper() if issuer_country else None
        area = region.strip().upper() if region and region.strip() else None
        key = (arrival, issuer, wanted_type, area)
        cached = self._selections.get(key)
        if cached is not None and (cached[0] is None or cached[0] < at) and (cached[1] is None or at < cached[1]):
            return list(cached[2])
        chosen = self._select(arrival, issuer, wanted_type, area, at)
        position = bisect.bisect_left(self._boundaries, at)
        if position == len(self._boundaries) or self._boundaries[position] != at:
            after = self._boundaries[position - 1] if position > 0 else None
            before = self._boundaries[position] if position < len(self._boundaries) else None
            if len(self._selections) > 64:
                self._selections.clear()
            self._selections[key] = (after, before, tuple(chosen))
        return chosen

    def _select(
        self, arrival: str, issuer: str | None, wanted_type: str, area: str | None, at: dt.datetime
    ) -> list[Rule]:
        best: dict[tuple[str, str], Rule] = {}
        for rule in self._rules:
            if rule.certificate_type not in ("General", wanted_type) or not rule.valid_at(at):
                continue
            owner = arrival if rule.type == "Acceptance" else issuer
            if owner is None or rule.country != owner:
                continue
            if rule.region is not None and rule.region != area:
                continue
            key = (rule.type, rule.identifier)
            current = best.get(key)
            if current is None or _preferred(rule, current):
                best[key] = rule
        return sorted(best.values(), key=lambda r: (r.type, r.identifier))


def _preferred(candidate: Rule, current: Rule) -> bool:
    """A regional rule beats a national one; then the higher version wins."""
    if (candidate.region is None) != (current.region is None):
        return candidate.region is not None
    return candidate.version_key > current.version_key


# --------------------------------------------------------------------------------------------
# evaluation


@functools.cache
def _bundled_value_sets() -> Mapping[str, list[str]]:
    return _convert_value_sets(ValueSets.bundled())


def _convert_value_sets(sets: ValueSets) -> Mapping[str, list[str]]:
    out = {VALUE_SET_IDS.get(name, name): sorted(sets.codes(name)) for name in sets.names()}
    return MappingProxyType(out)


_CONVERTED: dict[int, tuple[ValueSets, Mapping[str, list[str]]]] = {}


def external_value_sets(valuesets: ValueSets | Mapping[str, Sequence[str]] | None = None) -> Mapping[str, Any]:
    """Value sets as rules read them: ``{gateway id: [codes]}`` (default: vaxcert's bundled sets).

    A :class:`~vaxcert.valuesets.ValueSets` is converted (and the conversion cached); a mapping
    is taken as already in that form.
    """
    if valuesets is None:
        return _bundled_value_sets()
    if isinstance(valuesets, ValueSets):
        cached = _CONVERTED.get(id(valuesets))
        if cached is not None and cached[0] is valuesets:
            return cached[1]
        converted = _convert_value_sets(valuesets)
        if len(_CONVERTED) >= 8:
            _CONVERTED.clear()
        _CONVERTED[id(valuesets)] = (valuesets, converted)
        return converted
    return valuesets


@functools.lru_cache(maxsize=256)
def _clock(moment: dt.datetime) -> str:
    """An ISO 8601 UTC timestamp with milliseconds (``2021-06-01T10:00:00.000Z``)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware")
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def rule_data(
    payload: Any,
    *,
    now: dt.datetime,
    country: str | None = None,
    exp: dt.datetime | None = None,
    iat: dt.datetime | None = None,
    valuesets: ValueSets | Mapping[str, Sequence[str]] | None = None,
    region: str | None = None,
    issuer_country: str | None = None,
    external: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The data context rules see: ``{"payload": payload, "external": {...}}``.

    ``external`` holds ``validationClock`` (``now``), ``valueSets``, ``countryCode`` (arrival),
    ``exp`` and ``iat`` (ISO 8601 or null), and, when given, ``region`` and
    ``issuerCountryCode`` as the EU apps pass them; ``external=`` adds (vaxcert) extension
    fields such as ``holderCertificates``.
    """
    context: dict[str, Any] = {
        "validationClock": _clock(now),
        "valueSets": external_value_sets(valuesets),
        "countryCode": country.strip().upper() if country else None,
        "exp": _clock(exp) if exp is not None else None,
        "iat": _clock(iat) if iat is not None else None,
    }
    if region:
        context["region"] = region.strip().upper()
    if issuer_country:
        context["issuerCountryCode"] = issuer_country.strip().upper()
    if external:
        context.update(external)
    return {"payload": payload, "external": context}


def payload_schema(payload: Any) -> tuple[int, int, int] | None:
    """The payload's schema version ``ver`` as numbers (None when missing or malformed)."""
    version = payload.get("ver") if type(payload) is dict or isinstance(payload, Mapping) else None
    return _schema_version(version) if type(version) is str else None


@functools.lru_cache(maxsize=64)
def _schema_version(version: str) -> tuple[int, int, int] | None:
    if (match := _VERSION.fullmatch(version.strip())) is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor or 0), int(patch or 0)


def evaluate_rules(
    rules: Iterable[Rule],
    payload: Any,
    *,
    now: dt.datetime,
    country: str | None = None,
    exp: dt.datetime | None = None,
    iat: dt.datetime | None = None,
    valuesets: ValueSets | Mapping[str, Sequence[str]] | None = None,
    region: str | None = None,
    issuer_country: str | None = None,
    external: Mapping[str, Any] | None = None,
) -> list[RuleResult]:
    """Evaluate ``rules`` (usually from :meth:`RuleSet.select`) on one certificate's ``payload``.

    A rule is open (not passed), with the reason in ``error``, when its engine or engine version
    is not supported, when its ``SchemaVersion`` has another major version than the payload's
    ``ver`` or a newer one, or when it errors or does not give a boolean.  Never raises for a
    hostile payload; raises ``ValueError`` only for a naive ``now``/``exp``/``iat``.
    """
    data = rule_data(payload, now=now, country=country, exp=exp, iat=iat, valuesets=valuesets,
                     region=region, issuer_country=issuer_country, external=external)
    return evaluate_on(rules, data)


def evaluate_on(rules: Iterable[Rule], data: Mapping[str, Any]) -> list[RuleResult]:
    """:func:`evaluate_rules` on a data context already built with :func:`rule_data`."""
    schema = payload_schema(data.get("payload"))
    return [evaluate_one(rule, data, schema) for rule in rules]


def evaluate_one(rule: Rule, data: Mapping[str, Any], schema: tuple[int, int, int] | None) -> RuleResult:
    """One rule with the engine and schema-version checks (``schema``: :func:`payload_schema`)."""
    if not rule.supported:
        return RuleResult(rule, Outcome.OPEN, f"engine {rule.engine} {rule.engine_version} is not "
                                              f"supported (vaxcert runs {ENGINE} {ENGINE_VERSION})")
    if schema is None:
        return RuleResult(rule, Outcome.OPEN, "the payload has no schema version (ver)")
    if schema[0] != rule.schema_key[0] or schema < rule.schema_key:
        return RuleResult(rule, Outcome.OPEN, f"the rule is for schema version {rule.schema_version}")
    return rule.evaluate(data)
