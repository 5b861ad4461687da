"""The taint engine (not built yet: both phases find nothing)."""

from __future__ import annotations

from dataclasses import dataclass

from scrutiny.context import FileContext
from scrutiny.findings import Finding
from scrutiny.source import SourceFile


@dataclass(frozen=True, slots=True)
class ModuleSummary:
    """What other modules need to know about one module's data flow."""

    path: str
    module: str


def summarize(src: SourceFile, context: FileContext) -> tuple[ModuleSummary | None, list[Finding]]:
    return None, []


def link(summaries: list[ModuleSummary]) -> list[Finding]:
    return []
