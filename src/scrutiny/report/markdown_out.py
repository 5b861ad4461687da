"""The review as a pull-request comment in GitHub-flavoured Markdown: render(review) -> str.

Verdict first, then a findings table, the aspects as a checklist and one collapsible
block per finding. Everything taken from reviewed code or from messages is escaped, so
a ``|``, a backtick or ``<script>`` in a finding's evidence stays text. The comment is
capped below GitHub's 65,536-character limit; what does not fit is counted in a note.
"""

from __future__ import annotations

import html
import re

from scrutiny.findings import Finding
from scrutiny.report import corroboration
from scrutiny.report.compose import Aspect, Review
from scrutiny.rules import registered

MAX_CHARS = 60_000
# Room kept for the closing notes, so cutting never pushes the comment over the cap.
RESERVE = 600
MAX_ERRORS_LISTED = 20
STATUS = {"clean": "checked, clean", "notes": "checked, notes only", "defects": "defects found"}
SEVERITY_MARK = {"high": "🔴 high", "medium": "🟠 medium", "low": "🟡 low", "info": "⚪ info"}

# CommonMark lets a backslash escape any ASCII punctuation; these are the characters that
# start emphasis, links, code, tables, HTML, entities and issue references.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>:])")
# GitHub links @name after Markdown is parsed, so an escape does not stop a mention (a
# decorator in a message would ping a user); a word joiner after the @ does.
_MENTION = "@\u2060"


def text(value: str) -> str:
    """Inline text safe in a table cell or paragraph: one line, no markup, no HTML."""
    one_line = " ".join(value.split())
    escaped = html.escape(one_line, quote=False)  # & < > become entities
    return _SPECIAL.sub(r"\\\1", escaped).replace("@", _MENTION)


def code_block(value: str, language: str = "") -> str:
    """A fenced block whose fence is longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{value}\n{fence}"


def _location(finding: Finding) -> str:
    loc = finding.location
    end = f"-{loc.end_line}" if loc.end_line > loc.line else ""
    return f"{loc.path}:{loc.line}{end}"


def _row(number: int, finding: Finding, state: str = "") -> str:
    cells = [
        str(number),
        SEVERITY_MARK[finding.severity.label] + (f" ({state})" if state else ""),
        text(f"{finding.rule_id} {finding.rule_name}"),
        text(_location(finding)),
        text(finding.message),
    ]
    return "| " + " | ".join(cells) + " |"


def _aspect(aspect: Aspect) -> str:
    box = "x" if aspect.status != "defects" else " "
    count = f" ({len(aspect.findings)})" if aspect.findings else ""
    return f"- [{box}] {aspect.number}. {text(aspect.title)}: {STATUS[aspect.status]}{count}"


def _details(number: int, finding: Finding) -> str:
    rules = registered()
    title = rules[finding.rule_id].title() if finding.rule_id in rules else finding.rule_name
    severity = finding.severity.label
    if finding.default_severity is not None:
        severity += f" (rule default {finding.default_severity.label})"
    # <summary> is raw HTML, where Markdown escapes do not apply: HTML-escape only.
    summary = html.escape(f"{number}. {finding.rule_id} {title}: {_location(finding)}")
    out = [
        "<details>",
        f"<summary>{summary}</summary>",
        "",
        text(finding.message),
        "",
        f"Severity {severity}, confidence {finding.confidence.label}, "
        f"CWE-{finding.cwe}, category {finding.category.value}.",
    ]
    if finding.corroborated_by:
        out.extend(["", text(corroboration.summary(finding))])
    if finding.evidence:
        out.extend(["", code_block(finding.evidence, "python")])
    if finding.trace:
        out.extend(["", "Taint path:", ""])
        out.extend(
            f"{step_no}. {text(f'{step.path}:{step.line}')} {text(step.message)}"
            for step_no, step in enumerate(finding.trace, start=1)
        )
    if finding.context_note:
        out.extend(["", f"Context: {text(finding.context_note)}."])
    if finding.fix:
        out.extend(["", f"**Fix:** {text(finding.fix)}"])
    out.extend(["", f"Fingerprint {text(finding.fingerprint)}", "", "</details>"])
    return "\n".join(out)


def _change(review: Review) -> list[str]:
    """The change section: changed files, counts, and each introduced and fixed finding (capped)."""
    change = review.change
    if change is None:
        return []
    counts = change.counts
    out = [
        "",
        f"### {text(change.title())}",
        "",
        f"Introduced {counts['introduced']}, fixed {counts['fixed']}, unchanged {counts['unchanged']}.",
        "",
    ]
    out.extend(f"- {text(f.describe())}" for f in change.files[:MAX_ERRORS_LISTED])
    if len(change.files) > MAX_ERRORS_LISTED:
        out.append(f"- and {len(change.files) - MAX_ERRORS_LISTED} more file(s)")
    listed = change.introduced_and_fixed()
    if listed:
        out.append("")
    for state, finding in listed[:MAX_ERRORS_LISTED]:
        out.append(f"- **{state}** {text(f'{finding.rule_id} {_location(finding)}: {finding.message}')}")
    if len(listed) > MAX_ERRORS_LISTED:
        out.append(f"- and {len(listed) - MAX_ERRORS_LISTED} more (see the findings below or --format json)")
    return out


def render(review: Review, max_chars: int = MAX_CHARS) -> str:
    head = ["## Security review by scrutiny", "", f"**{text(review.verdict)}**"]
    if review.reasons:
        head.extend(["", text(" ".join(review.reasons))])
    targets = ", ".join(i.target for i in review.inputs)
    if targets:
        head.extend(["", f"Reviewed: {text(targets)} ({len(review.reviewed)} file(s))."])
    head.extend(_change(review))
    if review.baseline is not None:
        head.extend(["", text(review.baseline.sentence())])
    checklist = ["", "### Aspects", "", *(_aspect(a) for a in review.aspects)]
    errors: list[str] = []
    if review.errors:
        errors = ["", f"### Files not reviewed ({len(review.errors)})", ""]
        errors.extend(f"- {text(e.path)}: {text(e.kind)}: {text(e.message)}" for e in review.errors[:MAX_ERRORS_LISTED])
        if len(review.errors) > MAX_ERRORS_LISTED:
            errors.append(f"- and {len(review.errors) - MAX_ERRORS_LISTED} more")

    budget = max_chars - RESERVE - sum(len(line) + 1 for line in head + checklist + errors)
    table: list[str] = []
    rows_cut = 0
    if review.findings:
        table = ["", f"### Findings ({len(review.findings)})", "", "| # | Severity | Rule | Location | Message |"]
        table.append("| --- | --- | --- | --- | --- |")
        budget -= sum(len(line) + 1 for line in table)
        for number, finding in enumerate(review.findings, start=1):
            row = _row(number, finding, review.change.state(finding) if review.change is not None else "")
            if len(row) + 1 > budget:
                rows_cut = len(review.findings) - number + 1
                break
            table.append(row)
            budget -= len(row) + 1
    details: list[str] = []
    details_cut = 0
    if review.findings:
        details = ["", "### Details", ""]
        budget -= sum(len(line) + 1 for line in details)
        for number, finding in enumerate(review.findings, start=1):
            block = _details(number, finding) + "\n"
            if len(block) + 1 > budget:
                details_cut = len(review.findings) - number + 1
                break
            details.append(block)
            budget -= len(block) + 1
        if details_cut == len(review.findings):
            details = []

    notes: list[str] = []
    if rows_cut or details_cut:
        notes = [
            "",
            f"_Cut to fit a comment: {rows_cut} table row(s) and {details_cut} finding detail(s) are not "
            "shown. Run `scrutiny review --format sarif` or `--format json` for the full review._",
        ]
    if review.suppressed:
        notes.extend(["", f"{len(review.suppressed)} finding(s) hidden by context, suppression or --min-severity."])
    return "\n".join(head + table + errors + checklist + details + notes).rstrip("\n") + "\n"
