"""Pass policy at a checkpoint: GREEN / YELLOW / RED on top of a verification result.

    from vaxcert.rules import DEFAULT_POLICY, Policy, assess

    assessment = assess(result, DEFAULT_POLICY, now=now)
    assessment.colour, assessment.reason, assessment.message("vi")

See ``docs/checkpoint-pass.md`` for the default (Viet Nam) rules and the policy file format.
"""

from .messages import LANGUAGES, Pass, Reason, colour_label
from .policy import DEFAULT_POLICY, VN_2021_PRODUCTS, Assessment, Policy, assess

__all__ = [
    "DEFAULT_POLICY",
    "LANGUAGES",
    "VN_2021_PRODUCTS",
    "Assessment",
    "Pass",
    "Policy",
    "Reason",
    "assess",
    "colour_label",
]
