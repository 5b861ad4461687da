"""Baselines: record the findings a project accepts today, and hide them in later reviews.

A baseline is a JSON file (format in docs/ci-integration.md). Each entry identifies a
finding without its line number, so it still matches after lines are inserted or
removed above it: the rule id, the enclosing scope (``Class.method``), a hash of the
finding's source text with whitespace collapsed, and the path. Matching takes entries
with the same path first; an entry whose path no longer exists in the review (the file
was renamed or moved) then matches on the rest alone. Each entry hides one finding, so a
second copy of an accepted line is still reported; a defect that several rules or sources
report is hidden whole when an entry accepts any of its reports (the composer folds them,
report/corroboration.py), and a baseline records only the report the review shows. The
source text is stored hashed, never as code: a baseline of hard-coded secrets must not
repeat them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrutiny import __version__
from scrutiny.findings import FileResult, Finding, Suppressed

if TYPE_CHECKING:
    from scrutiny.report.compose import Review

FORMAT = "scrutiny-baseline"
VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be read or is not a scrutiny baseline."""


@dataclass(frozen=True, slots=True)
class Entry:
    rule_id: str
    scope: str
    code: str  # hash of the normalised source text
    path: str

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.rule_id, self.scope, self.code)


@dataclass(frozen=True, slots=True)
class Baseline:
    source: str  # the file it was read from
    entries: tuple[Entry, ...]


def code_hash(evidence: str) -> str:
    """The finding's source lines with all whitespace runs collapsed, hashed."""
    text = " ".join(re.sub(r"\s+", " ", line).strip() for line in evidence.strip().splitlines())
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def entry_for(finding: Finding) -> Entry:
    return Entry(finding.rule_id, finding.scope, code_hash(finding.evidence), finding.location.path)


def render(findings: list[Finding]) -> str:
    """The baseline file for ``findings`` (sorted, so the file diffs well under version control)."""
    entries = sorted((entry_for(f) for f in findings), key=lambda e: (e.path, e.rule_id, e.scope, e.code))
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "tool": {"name": "scrutiny", "version": __version__},
        "entries": [{"rule_id": e.rule_id, "path": e.path, "scope": e.scope, "code": e.code} for e in entries],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def load(path: str) -> Baseline:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"baseline {path} is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BaselineError(f'{path} is not a scrutiny baseline (no "format": "{FORMAT}")')
    version = document.get("version")
    if version != VERSION:
        raise BaselineError(f"baseline {path} has version {version!r}; this scrutiny reads version {VERSION}")
    rows = document.get("entries")
    if not isinstance(rows, list):
        raise BaselineError(f'baseline {path}: "entries" must be a list')
    entries: list[Entry] = []
    for number, row in enumerate(rows, start=1):
        keys = ("rule_id", "path", "scope", "code")
        if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in keys):
            raise BaselineError(f"baseline {path}: entry {number} needs string fields {', '.join(keys)}")
        entries.append(Entry(row["rule_id"], row["scope"], row["code"], row["path"]))
    return Baseline(path, tuple(entries))


def apply(baseline: Baseline, results: list[FileResult]) -> int:
    """Move the findings the baseline accepts to each result's suppressed list; return how many."""
    reviewed_paths = {r.path for r in results}
    by_path: dict[tuple[str, str, str, str], int] = defaultdict(int)
    by_identity: dict[tuple[str, str, str], int] = defaultdict(int)
    for entry in baseline.entries:
        if entry.path in reviewed_paths:
            by_path[(*entry.identity, entry.path)] += 1
        elif not os.path.exists(entry.path):  # gone (renamed or moved), not merely outside this review
            by_identity[entry.identity] += 1
    reason = f"accepted in the baseline {baseline.source}"
    hidden = 0
    # Same-path entries first across every file, so a moved entry never takes a finding
    # that an entry naming its own file would have matched.
    pending: list[tuple[FileResult, Finding]] = []
    for result in results:
        kept: list[Finding] = []
        for finding in result.findings:
            entry = entry_for(finding)
            key = (*entry.identity, entry.path)
            if by_path[key] > 0:
                by_path[key] -= 1
                result.suppressed.append(Suppressed(finding, reason, "baseline"))
                hidden += 1
            else:
                kept.append(finding)
                pending.append((result, finding))
        result.findings = kept
    for result, finding in pending:
        identity = entry_for(finding).identity
        if by_identity[identity] > 0:
            by_identity[identity] -= 1
            result.findings.remove(finding)
            result.suppressed.append(Suppressed(finding, reason, "baseline"))
            hidden += 1
    return hidden


def note(review: Review, baseline: Baseline) -> None:
    """Record on ``review`` what the baseline hid (defects: the composer hides a defect
    whose report an entry accepts, with its other reports), and keep its verdict honest."""
    from scrutiny.report.changes import BaselineNote, baseline_verdict
    from scrutiny.report.compose import CLEAN_VERDICT

    review.baseline = BaselineNote(baseline.source, len(baseline.entries), review.hidden_by["baseline"])
    review.verdict = baseline_verdict(review, review.verdict, CLEAN_VERDICT)
