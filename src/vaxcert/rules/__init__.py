"""Pass policy at a checkpoint, and business rules as data (CertLogic, EU gateway format).

    from vaxcert.rules import DEFAULT_POLICY, Policy, assess

    assessment = assess(result, DEFAULT_POLICY, now=now)
    assessment.colour, assessment.reason, assessment.message("vi")

The same pass as CertLogic rules, and any EU country's rules::

    from vaxcert.rules import PassRules, RuleSet, evaluate_rules

    verdict = PassRules.bundled().evaluate(payload, now=now, exp=exp, region="HCM")
    rules = RuleSet.load("rules/").select(country="DE", cert_type="v", at=now)
    results = evaluate_rules(rules, payload, now=now, exp=exp, iat=iat, country="DE")

A checkpoint's rules (what the offline bundle carries), on a verified certificate of either format::

    from vaxcert.rules import RuleBook

    checkpoint = RuleBook.load("rules/").for_country("VN", region="HCM")
    verdict = checkpoint.evaluate(result, now=now)     # colour, reason, failed rules

See ``docs/checkpoint-pass.md`` for the default (Viet Nam) rules and the policy file format,
``docs/business-rules.md`` for CertLogic rule sets.
"""

from .certlogic import CertLogicError
from .country import CountryRules, RuleBook, RulesVerdict
from .gateway import Outcome, Rule, RuleFormatError, RuleResult, RuleSet, evaluate_rules
from .messages import LANGUAGES, Pass, Reason, colour_label
from .passrules import PassRules, PassVerdict
from .policy import DEFAULT_POLICY, VN_2021_PRODUCTS, Assessment, Policy, assess

__all__ = [
    "DEFAULT_POLICY",
    "LANGUAGES",
    "VN_2021_PRODUCTS",
    "Assessment",
    "CertLogicError",
    "CountryRules",
    "Outcome",
    "Pass",
    "PassRules",
    "PassVerdict",
    "Policy",
    "Reason",
    "Rule",
    "RuleBook",
    "RuleFormatError",
    "RuleResult",
    "RuleSet",
    "RulesVerdict",
    "assess",
    "colour_label",
    "evaluate_rules",
]
