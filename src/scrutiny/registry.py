"""The rule registry, imported on first use.

Importing ``scrutiny.rules`` imports every rule module (compiling their tables and
patterns), most of a warm run's start-up; modules a warm run loads (the review's data
classes, the text options) ask for the registry through here, so a run that finds its
review in the cache never imports a rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrutiny.rules.base import Rule


def registered() -> Mapping[str, type[Rule]]:
    """``scrutiny.rules.registered()``: every rule class by id."""
    from scrutiny.rules import registered as every

    return every()
