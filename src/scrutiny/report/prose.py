"""The review as text for a terminal or a file: render(review) -> str."""

from __future__ import annotations

import textwrap

from scrutiny.report import corroboration
from scrutiny.report.compose import Aspect, Review
from scrutiny.rules import registered
from scrutiny.rules.unicode_controls import visible

WIDTH = 100
MAX_STATEMENTS_SHOWN = 12
STATUS = {"clean": "checked, clean", "notes": "checked, notes only", "defects": "checked, defects found"}


def _wrap(text: str, indent: str, first: str | None = None) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first if first is not None else indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [indent.rstrip()]


def _aspect(aspect: Aspect, multi: bool) -> list[str]:
    out = [f"{aspect.number}. {aspect.title}: {STATUS[aspect.status]}"]
    for statement in aspect.statements[:MAX_STATEMENTS_SHOWN]:
        prefix = f"{statement.path}: " if statement.path and multi else ""
        out.extend(_wrap(prefix + statement.text, "     ", "   - "))
    hidden = len(aspect.statements) - MAX_STATEMENTS_SHOWN + aspect.omitted
    if hidden > 0:
        out.append(f"   - ... and {hidden} more statement(s) (see --format json)")
    return out


def _change(review: Review) -> list[str]:
    change = review.change
    assert change is not None
    out = [change.title()]
    out.extend(f"  {changed.describe()}" for changed in change.files)
    counts = change.counts
    out.append(f"  Introduced {counts['introduced']}, fixed {counts['fixed']}, unchanged {counts['unchanged']}.")
    for label, findings in (("Introduced", change.introduced), ("Fixed", change.fixed)):
        for finding in findings:
            loc = finding.location
            text = f"{label}: [{finding.rule_id}] {loc.path}:{loc.line} ({finding.severity.label}) {finding.message}"
            out.extend(_wrap(text, "      ", "    - "))
    if change.fixed:
        out.append("  (lines of fixed findings are those of the version before the change)")
    out.append("")
    return out


def render(review: Review) -> str:
    multi = len(review.files) > 1
    targets = ", ".join(i.target for i in review.inputs) or "(no input)"
    out = [f"Security review by scrutiny {review.version} of {targets}", ""]
    for info in review.inputs:
        if info.kind == "pypi":
            out.append(f"Source: {info.archive} (sha256 {info.sha256}) from the package index.")
    out.append("What the code is")
    for line in review.overview or ["No file could be read."]:
        out.extend(_wrap(line, "  "))
    out.append("")
    if review.change is not None:
        out.extend(_change(review))
    for aspect in review.aspects:
        out.extend(_aspect(aspect, multi))
    out.append("")
    out.append(f"Findings ({len(review.findings)})" if review.findings else "Findings: none")
    rules = registered()
    for number, finding in enumerate(review.findings, start=1):
        loc = finding.location
        title = rules[finding.rule_id].title() if finding.rule_id in rules else finding.rule_name
        severity = finding.severity.label
        if finding.default_severity is not None:
            severity += f" (rule default {finding.default_severity.label})"
        state = f" ({review.change.state(finding)} by the change)" if review.change is not None else ""
        out.append(f"  {number}. [{finding.rule_id} {finding.rule_name}] {title}{state}")
        out.append(
            f"     {loc.path}:{loc.line}:{loc.col + 1}"
            + (f"-{loc.end_line}" if loc.end_line > loc.line else "")
            + f"  severity {severity}, confidence {finding.confidence.label}, CWE-{finding.cwe}"
            + f", category {finding.category.value}"
        )
        out.extend(_wrap(finding.message, "     "))
        if finding.corroborated_by:
            out.extend(_wrap(corroboration.summary(finding), "       ", "     "))
        for offset, code in enumerate(finding.evidence.splitlines()):
            out.append(f"     {loc.line + offset:>5} | {code}")
        if finding.trace:
            out.append("     Path:")
            for step_no, step in enumerate(finding.trace, start=1):
                out.extend(_wrap(f"{step_no}. {step.path}:{step.line} {step.message}", "          ", "       "))
        if finding.context_note:
            out.extend(_wrap(f"Context: {finding.context_note}.", "     "))
        out.extend(_wrap(f"Fix: {' '.join(finding.fix.split())}", "     "))
        out.append(f"     fingerprint {finding.fingerprint}")
    if review.errors:
        out.append("")
        out.append(f"Files not reviewed ({len(review.errors)})")
        for error in review.errors:
            out.extend(_wrap(f"{error.path}: {error.kind}: {error.message}", "    ", "  - "))
    if review.suppressed:
        out.append("")
        words = {"context": "by file context", "duplicate": "as another report of a defect listed once",
                 "inline": "by inline suppression", "nosec": "by # nosec",
                 "min-severity": "below the minimum severity",
                 "baseline": "by the baseline"}  # fmt: skip
        parts = [f"{count} {words[by]}" for by, count in review.hidden_by.items() if count]
        out.append(f"Hidden: {len(review.suppressed)} finding(s): {', '.join(parts)}.")
    if review.baseline is not None:
        out.append(f"Baseline: {review.baseline.sentence()}")
    out.append("")
    out.append("Verdict")
    out.append(review.verdict)
    if review.reasons:
        out.append("Why: " + " ".join(review.reasons))
    # Bidi controls, invisible and control characters from the code are shown as <U+XXXX>.
    return visible("\n".join(out)) + "\n"
