"""Turn per-file results into a Review: context policy, fingerprints, aspects, verdict.

Analysis never formats; this module writes the review's statements, and the
renderers (prose, json_out) only lay them out.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from scrutiny import __version__
from scrutiny.context import FileContext, FileKind
from scrutiny.findings import (
    Category,
    Citation,
    Confidence,
    FileError,
    FileResult,
    Finding,
    Observation,
    Severity,
    Suppressed,
)
from scrutiny.pickling import quick_state
from scrutiny.python2 import Python2Repair
from scrutiny.registry import registered
from scrutiny.report import aspects as aspect_writers
from scrutiny.report import corroboration

if TYPE_CHECKING:
    from scrutiny.report.changes import BaselineNote, ChangeSection

CLEAN_VERDICT = "No security defects are detected in the code."
# Statements kept per aspect; the rest are counted, so a huge tree stays readable.
MAX_STATEMENTS = 200
HIDDEN_BY = ("context", "duplicate", "inline", "nosec", "min-severity", "baseline")


@dataclass(frozen=True, slots=True)
class InputInfo:
    target: str
    kind: str  # path or pypi
    archive: str = ""
    sha256: str = ""


@quick_state
@dataclass(frozen=True, slots=True)
class Statement:
    text: str
    citations: tuple[Citation, ...] = ()
    path: str = ""


@dataclass
class Aspect:
    number: int
    category: Category
    status: str  # clean, notes or defects
    statements: list[Statement] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # rule ids that ran for this aspect
    omitted: int = 0

    @property
    def title(self) -> str:
        return self.category.title


@quick_state
@dataclass(frozen=True, slots=True)
class FileSummary:
    path: str
    lines: int
    context: FileContext | None
    error: FileError | None
    python2_repairs: tuple[Python2Repair, ...] = ()  # reviewed after a Python 2 repair


@dataclass
class Review:
    version: str
    inputs: list[InputInfo]
    files: list[FileSummary]
    findings: list[Finding]
    suppressed: list[Suppressed]
    errors: list[FileError]
    aspects: list[Aspect]
    overview: list[str]
    verdict: str
    reasons: list[str]
    min_severity: Severity
    change: ChangeSection | None = None  # set when reviewing a change (--diff, --patch)
    baseline: BaselineNote | None = None  # set when a baseline hid findings (--baseline)

    @property
    def defects(self) -> list[Finding]:
        return [f for f in self.findings if f.is_defect]

    @property
    def reviewed(self) -> list[FileSummary]:
        return [f for f in self.files if f.error is None]

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(f.severity.label for f in self.findings)
        return {s.label: counted.get(s.label, 0) for s in sorted(Severity, reverse=True)}

    @property
    def hidden_by(self) -> dict[str, int]:
        """How many findings each mechanism hid: context, inline, nosec, min-severity."""
        counted = Counter(s.by for s in self.suppressed)
        return {by: counted.get(by, 0) for by in HIDDEN_BY}

    @property
    def exit_code(self) -> int:
        if self.change is not None:
            return self.change.exit_code(bool(self.reviewed))
        if not self.reviewed:
            return 2
        return 1 if self.defects else 0


def compose(
    results: list[FileResult],
    errors: list[FileError],
    inputs: list[InputInfo],
    min_severity: Severity = Severity.INFO,
    *,
    floors: dict[str, Severity] | None = None,
    enabled: frozenset[str] | None = None,
) -> Review:
    """``floors`` are per-file thresholds (configuration overrides) that replace ``min_severity``;
    ``enabled`` the rules the run used (default: every rule), listed as checked per aspect."""
    floors = floors or {}
    results = sorted(results, key=lambda r: r.path)
    shown: list[Finding] = []
    hidden: list[Suppressed] = []
    twins = corroboration.twins()
    for result in results:
        kept, suppressed = _stamped(result)
        reports = [*kept, *(s.finding for s in suppressed)]
        weighed = weigh_by_evidence(kept, reports, enabled)
        defects, records = corroboration.fold(weighed, suppressed, twins)
        hidden.extend(records)
        shown.extend(apply_context(defects, result.context, hidden))
    shown = sorted(set(shown), key=_order)
    below = [f for f in shown if f.severity < floors.get(f.location.path, min_severity)]
    shown = [f for f in shown if f.severity >= floors.get(f.location.path, min_severity)]
    for finding in below:
        floor = floors.get(finding.location.path)
        why = f"below --min-severity {min_severity.label}"
        if floor is not None:
            why = f"below min-severity {floor.label} set for this file"
        hidden.append(Suppressed(finding, why, "min-severity"))

    all_errors = sorted(errors + [r.error for r in results if r.error is not None], key=lambda e: (e.path, e.kind))
    files = [FileSummary(r.path, r.lines, r.context, r.error, r.python2_repairs) for r in results]
    aspects = _aspects(results, shown, hidden, enabled)
    review = Review(
        version=__version__,
        inputs=inputs,
        files=files,
        findings=shown,
        suppressed=sorted(hidden, key=lambda s: _order(s.finding)),
        errors=all_errors,
        aspects=aspects,
        overview=aspect_writers.overview(files),
        verdict="",
        reasons=[],
        min_severity=min_severity,
    )
    review.verdict, review.reasons = _verdict(review)
    return review


def _stamped(result: FileResult) -> tuple[list[Finding], list[Suppressed]]:
    """The file's findings and suppressed records, each finding with its fingerprint.

    Every report is numbered in one order, shown or hidden: a report keeps its fingerprint
    when a suppression hides another, and when it is folded into the report of its defect
    (the change review matches a defect by the fingerprints of all its reports).
    """
    if not result.suppressed:
        return fingerprint(sorted(set(result.findings), key=_order)), []
    raw = sorted({*result.findings, *(s.finding for s in result.suppressed)}, key=_order)
    stamped = dict(zip(raw, fingerprint(raw), strict=True))
    return (
        sorted({stamped[f] for f in result.findings}, key=_order),
        [replace(s, finding=stamped[s.finding]) for s in result.suppressed],
    )


def _order(finding: Finding) -> tuple[object, ...]:
    loc = finding.location
    # Everything after the rule id only breaks ties (two taint paths to one sink), so the
    # order, and with it each fingerprint's occurrence number, is the same in every run.
    trace = tuple((s.path, s.line, s.col, s.message) for s in finding.trace)
    return (loc.path, loc.line, loc.col, finding.rule_id, loc.end_line, loc.end_col, finding.message, trace)


UNTRACED_NOTE = "no untrusted input was traced to it, so it is a defect only if a caller passes one"
WEAK_EVIDENCE_NOTE = (
    "its evidence is weak (confidence low: a name or the wording of the code, not what the code does), "
    "so it is a lead to check rather than a defect"
)


def _traced_lines(reports: Iterable[Finding]) -> set[tuple[str, int]]:
    """(rule, line) pairs a taint report covers: its sink's lines, and the calls through
    which its path enters the function holding the sink (a shell wrapper given shell=True)."""
    traced = {(f.rule_id, n) for f in reports if f.trace for n in range(f.location.line, f.location.last_line + 1)}
    traced |= {(f.rule_id, step.line) for f in reports for step in f.trace
               if step.path == f.location.path and step.message.startswith("calls ")}  # fmt: skip
    return traced


def weigh_by_evidence(findings: list[Finding], reports: list[Finding], enabled: frozenset[str] | None) -> list[Finding]:
    """Severity follows what a finding rests on.

    A pattern finding whose defect a taint rule reports (a shell command built at run
    time, SQL built from strings) rests on where the data comes from. Where the taint rule
    reports the same line (among ``reports``, the file's findings shown or suppressed), it
    is the same defect, folded into the taint finding later (report/corroboration.py);
    where none does, no untrusted input was traced to it and it is a low-severity hint.
    A pattern finding whose own rule calls its evidence weak (confidence low) is at most
    low too: a medium or high finding should be one a maintainer agrees with, and a guess
    from a name is not. A traced path is evidence of what the code does, so a taint report
    keeps its severity at any confidence, and so does a pattern finding its taint rule traced.
    """
    rules = registered()
    traced = _traced_lines(reports)
    weighed: list[Finding] = []
    for finding in findings:
        rule = rules.get(finding.rule_id)
        twin = rule.traced_by if rule is not None else ""
        twin_runs = bool(twin) and (enabled is None or twin in enabled)
        confirmed = bool(finding.trace) or (twin_runs and (twin, finding.location.line) in traced)
        note = ""
        if finding.severity > Severity.LOW and not confirmed:
            if twin_runs:
                note = UNTRACED_NOTE
            elif finding.confidence == Confidence.LOW:
                note = WEAK_EVIDENCE_NOTE
        if note:
            finding = replace(finding, severity=Severity.LOW, default_severity=finding.severity, context_note=note)
        weighed.append(finding)
    return weighed


def apply_context(findings: Iterable[Finding], context: FileContext | None, hidden: list[Suppressed]) -> list[Finding]:
    """Adjust each finding's severity to the kind of file it is in, saying why."""
    rules = registered()
    kept: list[Finding] = []
    for finding in findings:
        kind = context.kind if context else FileKind.PRODUCTION
        policy = rules[finding.rule_id].context_policy(finding, kind) if finding.rule_id in rules else None
        if policy is None:
            kept.append(finding)
            continue
        severity = policy.apply(finding.severity)
        if severity is None:
            hidden.append(Suppressed(finding, policy.reason))
        elif severity != finding.severity:
            kept.append(
                replace(finding, severity=severity, default_severity=finding.severity, context_note=policy.reason)
            )
        else:
            kept.append(finding)
    return kept


def _normalised(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return re.sub(r"\s+", " ", first)


def fingerprint(findings: list[Finding]) -> list[Finding]:
    """A stable id per finding: rule, file, scope, code text and taint origin, not line numbers.

    Inserting or removing lines leaves it unchanged; so does a rename once the caller maps
    the old path to the new one (change review does). Identical keys are numbered by place
    in order; reports with one key at one place (a sink reached from two sources of the
    same kind) share the number, so which of them a folded finding shows does not matter.
    """
    places: dict[str, dict[tuple[int, int, int], int]] = defaultdict(dict)
    stamped: list[Finding] = []
    for finding in findings:
        origin = finding.trace[0].message if finding.trace else ""
        parts = (finding.rule_id, finding.location.path, finding.scope, _normalised(finding.evidence))
        key = "|".join(parts + ((origin,) if origin else ()))
        numbers = places[key]
        occurrence = numbers.setdefault((finding.location.line, finding.location.col, finding.cwe), len(numbers))
        digest = hashlib.sha256(f"{key}|{occurrence}".encode()).hexdigest()[:20]
        stamped.append(replace(finding, fingerprint=digest))
    return stamped


def _aspects(
    results: list[FileResult], shown: list[Finding], hidden: list[Suppressed], enabled: frozenset[str] | None
) -> list[Aspect]:
    by_category: dict[Category, list[Finding]] = defaultdict(list)
    for finding in shown:
        by_category[finding.category].append(finding)
    observations: dict[Category, list[tuple[FileResult, Observation]]] = defaultdict(list)
    for result in results:
        for observation in result.observations:
            observations[observation.category].append((result, observation))
    rule_ids: dict[Category, list[str]] = defaultdict(list)
    for rule_id, rule in registered().items():
        if enabled is None or rule_id in enabled:
            for category in rule.categories():
                rule_ids[category].append(rule_id)
    dropped = Counter(s.finding.category for s in hidden if s.by != "duplicate")
    folded = Counter(s.finding.category for s in hidden if s.by == "duplicate")
    reviewed = [r for r in results if r.error is None]

    aspects: list[Aspect] = []
    for number, category in enumerate(Category, start=1):
        findings = by_category.get(category, [])
        status = "defects" if any(f.is_defect for f in findings) else "notes" if findings else "clean"
        statements = aspect_writers.write(category, reviewed, observations.get(category, []), findings)
        if dropped.get(category):
            statements.append(
                Statement(f"{dropped[category]} finding(s) hidden by context or suppression (listed under suppressed).")
            )
        if folded.get(category):
            statements.append(
                Statement(
                    f"{folded[category]} more report(s) of these defects (another rule or source at the same place) "
                    "are listed with the findings."
                )
            )
        omitted = max(0, len(statements) - MAX_STATEMENTS)
        aspects.append(
            Aspect(number, category, status, statements[:MAX_STATEMENTS], findings, rule_ids.get(category, []), omitted)
        )
    return aspects


def _verdict(review: Review) -> tuple[str, list[str]]:
    reviewed = review.reviewed
    failed = len(review.errors)
    defects = review.defects
    if not reviewed:
        if not failed:
            return ("Nothing could be reviewed: no Python file was found.", [])
        return (f"Nothing could be reviewed: {failed} input(s) failed (see errors).", [])
    if defects:
        counts = Counter(f.severity for f in defects)
        parts = [f"{counts[s]} {s.label}" for s in sorted(Severity, reverse=True) if counts.get(s)]
        noun = "defect" if len(defects) == 1 else "defects"
        verdict = f"{len(defects)} security {noun} found: {', '.join(parts)}."
        reasons = [f"{failed} input(s) could not be reviewed (see errors)."] if failed else []
        return verdict, reasons
    if failed:
        return (
            f"No security defects are detected in the {len(reviewed)} reviewed file(s), but {failed} input(s) "
            "could not be reviewed, so the review is incomplete.",
            [],
        )
    return CLEAN_VERDICT, aspect_writers.clean_reasons(review.files, review.findings, review.suppressed)
