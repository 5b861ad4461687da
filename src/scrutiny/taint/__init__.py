"""Taint analysis: untrusted input traced to dangerous sinks, within and across modules.

Two phases, so files can be reviewed in parallel: ``summarize`` runs per file (during
``review_file``) and returns a small picklable summary plus the findings it can prove
inside that file; ``link`` runs once over every summary and returns the findings whose
path crosses modules.
"""

from scrutiny.taint.engine import ModuleSummary, enabled, link, summarize

__all__ = ["ModuleSummary", "enabled", "link", "summarize"]
