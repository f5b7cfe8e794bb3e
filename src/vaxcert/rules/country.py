"""Business rules at a checkpoint: the rule sets a bundle carries, evaluated for one country and region.

A :class:`RuleBook` holds what a ministry distributes (in the signed offline bundle, or as files):

* EU gateway rules (:class:`~vaxcert.rules.gateway.RuleSet`): Acceptance rules of countries of
  arrival, Invalidation rules of issuing countries, each with its descriptions by language;
* pass rule sets (:class:`~vaxcert.rules.passrules.PassRules`, format ``vaxcert-pass-rules/1``):
  the GREEN / YELLOW pass of a country as rules, with regional variants.

:meth:`RuleBook.for_country` gives the :class:`CountryRules` of a checkpoint (``VN``, optionally a
region such as ``HCM``); :meth:`CountryRules.evaluate` runs them on one verified certificate of
either format (a SMART Health Card through its DCC view) and gives a :class:`RulesVerdict`:

* with a pass rule set for the country, its colour and reason decide; any failed EU gateway
  rule of the country (or Invalidation rule of the issuing country) makes it RED ``RULE_FAILED``;
* without one, the Python :class:`~vaxcert.rules.Policy` decides the colour and the gateway rules
  can only refuse (RED ``RULE_FAILED``);
* every rule that did not pass is listed with its identifier and its description in the
  chosen language (fallback English): :attr:`RulesVerdict.failed`.

:meth:`RulesVerdict.assessment` merges the verdict with the policy's
:class:`~vaxcert.rules.Assessment` (the policy still gives the validity window when both agree on
the colour).  Nothing here raises for a hostile payload.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from ..dcc.valuesets import ValueSets
from ..errors import ConfigurationError
from ..verifier import VerificationResult
from .gateway import RuleFormatError, RuleResult, RuleSet, evaluate_rules, format_document
from .messages import LANGUAGES, Pass, Reason, render
from .passrules import FORMAT as PASS_FORMAT
from .passrules import PassRules, PassVerdict, payload_type
from .policy import Assessment

__all__ = ["FORMAT", "CountryRules", "RuleBook", "RulesVerdict"]

#: The format tag of a rule book document (what the offline bundle carries).
FORMAT: Final = "vaxcert-rules/1"
_MAX_RULE_FILE: Final = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RulesVerdict:
    """What a country's rules say of one certificate (no personal data).

    ``passes`` is the pass rule set's verdict (None when the country has none); ``results`` the
    EU gateway rules evaluated (Acceptance of the country, Invalidation of the issuing country).
    """

    country: str
    region: str | None
    passes: PassVerdict | None
    results: tuple[RuleResult, ...] = ()

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        """Every rule that did not pass (failed, or open: could not be evaluated)."""
        mine = self.passes.failed if self.passes is not None else ()
        return (*mine, *(result for result in self.results if not result.passed))

    @property
    def colour(self) -> Pass | None:
        """The colour the rules decide (None: no pass rule set, and no gateway rule refused)."""
        refused = any(not result.passed for result in self.results)
        if self.passes is not None:
            return Pass.RED if refused else self.passes.colour
        return Pass.RED if refused else None

    @property
    def reason(self) -> Reason | None:
        """The reason that goes with :attr:`colour`."""
        if self.passes is not None and self.passes.colour is Pass.RED:
            return self.passes.reason
        if any(not result.passed for result in self.results):
            return Reason.RULE_FAILED
        return self.passes.reason if self.passes is not None else None

    def assessment(self, policy: Assessment, *, details: Mapping[str, str | int] | None = None) -> Assessment:
        """The checkpoint's assessment: the rules' colour and reason, the policy's window when they agree.

        ``details`` (``dn``, ``sd``, ``product``) fill the texts of a verdict the policy did not give.
        """
        colour, reason = self.colour, self.reason
        if colour is None or reason is None or (colour is policy.colour and reason is policy.reason):
            return policy
        same_colour = colour is policy.colour
        start = policy.valid_from if same_colour else None
        end = policy.valid_until if same_colour else None
        texts = {lang: render(reason, colour, lang, valid_from=start, valid_until=end, details=details or {},
                              window_known=same_colour)
                 for lang in LANGUAGES}  # fmt: skip
        return Assessment(colour, reason, MappingProxyType(texts), start, end, policy.cert_type)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """JSON-ready: country, region, the rules' colour and reason, and each rule that did not pass."""
        return {
            "country": self.country,
            "region": self.region,
            "pass": str(self.colour) if self.colour is not None else None,
            "reason": str(self.reason) if self.reason is not None else None,
            "evaluated": len(self.results) + sum(len(r) for r in (self.passes.results.values() if self.passes else ())),
            "failed": [result.to_dict(lang) for result in self.failed],
        }

    def __repr__(self) -> str:
        return f"RulesVerdict({self.country}/{self.region}: {self.colour}, {len(self.failed)} failed)"


@dataclass(frozen=True, slots=True)
class CountryRules:
    """The rules a checkpoint in ``country`` (and ``region``) applies; see the module notes."""

    country: str
    region: str | None = None
    passes: PassRules | None = None
    rules: RuleSet = field(default_factory=RuleSet)

    @property
    def empty(self) -> bool:
        """True when there is nothing to evaluate."""
        return self.passes is None and len(self.rules) == 0

    def evaluate(
        self,
        result: VerificationResult,
        *,
        now: dt.datetime,
        holder_certificates: Iterable[Mapping[str, Any]] = (),
        valuesets: ValueSets | Mapping[str, Sequence[str]] | None = None,
    ) -> RulesVerdict | None:
        """The rules' verdict on a verified certificate (None when it did not verify: nothing to judge).

        ``holder_certificates``: payloads of the holder's other verified certificates (HCMC's one
        dose plus a recovery); they reach the rules as ``external.holderCertificates``.
        """
        payload = result.payload
        if not result.valid or payload is None:
            return None
        others = [p for p in holder_certificates if p is not payload]
        passes = None
        if self.passes is not None:
            passes = self.passes.evaluate(payload, now=now, exp=result.expires_at, iat=result.issued_at,
                                          region=self.region, valuesets=valuesets, holder_certificates=others,
                                          issuer_country=result.issuer_country)  # fmt: skip
        results: list[RuleResult] = []
        kind = payload_type(payload)
        if kind is not None and len(self.rules):
            chosen = self.rules.select(country=self.country, at=now, cert_type=kind, region=self.region,
                                       issuer_country=result.issuer_country)  # fmt: skip
            if chosen:
                results = evaluate_rules(chosen, payload, now=now, country=self.country, exp=result.expires_at,
                                         iat=result.issued_at, valuesets=valuesets, region=self.region,
                                         issuer_country=result.issuer_country,
                                         external={"holderCertificates": others})  # fmt: skip
        return RulesVerdict(self.country, self.region, passes, tuple(results))


class RuleBook:
    """EU gateway rules and pass rule sets, as distributed (immutable)."""

    __slots__ = ("passes", "rules")

    def __init__(self, rules: RuleSet | Iterable[Any] = (), passes: Iterable[PassRules] = ()) -> None:
        self.rules = rules if isinstance(rules, RuleSet) else RuleSet(rules)
        self.passes: tuple[PassRules, ...] = tuple(passes)

    def __len__(self) -> int:
        return len(self.rules) + sum(len(p.green) + len(p.yellow) for p in self.passes)

    def __bool__(self) -> bool:
        return len(self.rules) > 0 or bool(self.passes)

    def __repr__(self) -> str:
        return f"RuleBook({len(self.rules)} gateway rules, {len(self.passes)} pass rule sets)"

    @classmethod
    def bundled(cls) -> RuleBook:
        """Viet Nam's default pass as rules (national and Hồ Chí Minh City), as shipped with vaxcert."""
        return cls(passes=[PassRules.bundled()])

    # -- reading and writing ----------------------------------------------------------------

    @classmethod
    def from_documents(cls, documents: Iterable[tuple[Any, str]]) -> RuleBook:
        """Rules from ``(JSON document, origin)`` pairs: a pass rule set (``vaxcert-pass-rules/1``),
        a rule book (``vaxcert-rules/1``), or EU gateway rules (one, a list, ``{"rules": [...]}``)."""
        rules = RuleSet()
        passes: list[PassRules] = []
        for document, origin in documents:
            kind = document.get("format") if isinstance(document, Mapping) else None
            if kind == PASS_FORMAT:
                passes.append(PassRules.from_json(document, origin=origin))
            elif kind == FORMAT:
                book = cls.from_json(document, origin=origin)
                rules = rules + book.rules
                passes.extend(book.passes)
            else:
                rules = rules + RuleSet.from_json(document, origin=origin)
        return cls(rules, passes)

    @classmethod
    def load(cls, *paths: str | os.PathLike[str]) -> RuleBook:
        """Rules from files and folders (see :meth:`from_documents` for what a file may hold).

        A folder in the rule-test layout (``<COUNTRY>/<RULE-ID>/rule.json``) gives its
        ``rule.json`` files; any other folder every ``*.json`` file in it and below (outside
        ``tests`` folders).  Raises :class:`~vaxcert.rules.RuleFormatError` naming the file.
        """
        documents: list[tuple[Any, str]] = []
        for path in paths:
            source = Path(path)
            if source.is_dir():
                files = sorted(source.rglob("rule.json")) or sorted(
                    p for p in source.rglob("*.json") if "tests" not in p.relative_to(source).parts
                    and not any(part.startswith(".") for part in p.relative_to(source).parts)
                )
            elif source.is_file():
                files = [source]
            else:
                raise ConfigurationError(f"rules not found: {source}")
            for file in files:
                documents.append((_read_json(file), str(file)))
        return cls.from_documents(documents)

    @classmethod
    def from_json(cls, document: Any, *, origin: str = "rule book") -> RuleBook:
        """A rule book from its document (or text/bytes): ``{"format": "vaxcert-rules/1", "rules": [...],
        "pass_rules": [...]}``."""
        document = format_document(document, FORMAT, origin=origin)
        passes = document.get("pass_rules", [])
        if not isinstance(passes, list):
            raise RuleFormatError(f"{origin}: pass_rules must be a list")
        return cls(RuleSet.from_json(document.get("rules", []), origin=f"{origin} rules"),
                   [PassRules.from_json(item, origin=f"{origin} pass_rules[{i}]") for i, item in enumerate(passes)])

    def to_json(self) -> dict[str, Any]:
        """The rule book as one JSON document (what :meth:`from_json` reads back)."""
        return {"format": FORMAT, "rules": self.rules.to_json(), "pass_rules": [p.to_json() for p in self.passes]}

    def to_bytes(self) -> bytes:
        """The document as compact UTF-8 JSON (deterministic: the bundle signs these bytes)."""
        return json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()

    def problems(self) -> list[str]:
        """Static problems (CertLogic validation) of every rule, each naming its rule."""
        found: list[str] = []
        every = [*self.rules, *(rule for p in self.passes for rule in (*p.green, *p.yellow))]
        for rule in every:
            found.extend(f"{rule.identifier} {rule.version}: {problem}" for problem in rule.problems())
        return found

    # -- use ----------------------------------------------------------------------------------

    def countries(self) -> tuple[str, ...]:
        """Countries with Acceptance rules or a pass rule set, sorted."""
        found = {rule.country for rule in self.rules if rule.type == "Acceptance"}
        found.update(p.country for p in self.passes)
        return tuple(sorted(found))

    def for_country(self, country: str, region: str | None = None) -> CountryRules:
        """The rules a checkpoint in ``country`` (``region``) applies: its pass rule sets, merged in
        the order given (a regional variant after the national set), and every gateway rule."""
        code = country.strip().upper()
        area = region.strip().upper() if region and region.strip() else None
        mine = [p for p in self.passes if p.country == code]
        merged = functools.reduce(PassRules.merged, mine) if mine else None
        return CountryRules(code, area, merged, self.rules)


def _read_json(file: Path) -> Any:
    try:
        if file.stat().st_size > _MAX_RULE_FILE:
            raise RuleFormatError(f"rules {file}: larger than {_MAX_RULE_FILE} bytes")
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleFormatError(f"cannot read rules {file}: {type(error).__name__}") from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise RuleFormatError(f"rules {file}: not valid JSON (or nested too deeply)") from None
