"""Every rule scrutiny runs. Importing a rule module registers its rules.

ID ranges: 1xx injection, 2xx deserialization, 3xx cryptography and TLS,
4xx secrets, hard-coded values and configuration, 5xx taint, 6xx error handling
and disabled checks, 7xx logging and information leakage. IDs are never reused.
"""

from scrutiny.rules import (  # noqa: F401  (imported for registration)
    config,
    crypto,
    deserialization,
    disabled,
    errors,
    files,
    hardcoded,
    injection,
    logs,
    network,
    sql,
)
from scrutiny.rules.base import CallRule, Rule, RuleSet, registered

__all__ = ["CallRule", "Rule", "RuleSet", "all_rules", "registered"]


def all_rules() -> list[Rule]:
    return [rule_class() for rule_class in registered().values()]
