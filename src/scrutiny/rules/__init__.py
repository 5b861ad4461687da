"""Every rule scrutiny runs. Each module in this package is imported, and declaring a
Rule subclass with an ``id`` registers it: adding a rule never means editing a list.

ID ranges: 1xx injection, 2xx deserialization, 3xx cryptography and TLS,
4xx secrets, hard-coded values and configuration, 5xx taint, 6xx error handling
and disabled checks, 7xx logging and information leakage, 8xx files, archives and
parsers, 9xx web frameworks. IDs are never reused.
"""

import importlib
import pkgutil

from scrutiny.rules.base import CallRule, Rule, RuleSet, registered

__all__ = ["CallRule", "Rule", "RuleSet", "all_rules", "registered"]

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")


def all_rules() -> list[Rule]:
    return [rule_class() for rule_class in registered().values()]
