"""Taint analysis: untrusted input traced to dangerous sinks, within and across modules.

Two phases, so files can be reviewed in parallel: ``summarize`` runs per file (during
``review_file``) and returns a small picklable summary plus the findings it can prove
inside that file; ``link`` runs once over every summary and returns the findings whose
path crosses modules.

The engine (and its models) is imported when one of its names is first used: a run that
finds its review in the cache only asks whether taint is ``enabled``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrutiny.taint.engine import ModuleSummary, link, summarize

__all__ = ["ModuleSummary", "enabled", "link", "summarize"]

DISABLE_VARIABLE = "SCRUTINY_NO_TAINT"


def enabled() -> bool:
    """False when SCRUTINY_NO_TAINT is set to a non-empty value other than 0.

    The switch exists so bench/ can measure what the taint pass costs; a review without it
    has no 5xx findings and its input-validation aspect no longer rests on data flow.
    """
    return os.environ.get(DISABLE_VARIABLE, "") in ("", "0")


def __getattr__(name: str) -> Any:
    if name in ("ModuleSummary", "link", "summarize"):
        from scrutiny.taint import engine

        value = getattr(engine, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
