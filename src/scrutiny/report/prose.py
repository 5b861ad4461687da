"""The review as text for a terminal or a file: render(review, options) -> str.

Shaped like a review a person reads to the end: the verdict and the counts first, then
what the code is, then the defects most severe first (one item per rule and severity,
however many places), then the aspects, then where to see more. A single file is
reviewed aspect by aspect with every note; a tree gets one line per aspect, and its
notes at info level and per-file statements only when asked for (``TextOptions``).
JSON, SARIF and HTML keep everything; this module only chooses what to print.
"""

from __future__ import annotations

import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass

from scrutiny.findings import Finding, Severity
from scrutiny.registry import registered
from scrutiny.report import corroboration
from scrutiny.report.aspects import HIDDEN_HOW, lines_word, plural
from scrutiny.report.compose import Aspect, Review

WIDTH = 100
MAX_STATEMENTS_SHOWN = 12
# A group of low or info findings in a tree lists this many files, then counts the rest.
MAX_FILES_PER_GROUP = 6
# Code lines quoted for a group of findings in one file.
MAX_EVIDENCE_PER_GROUP = 8
STATUS = {"clean": "checked, clean", "notes": "checked, notes only", "defects": "checked, defects found"}


@dataclass(frozen=True)
class TextOptions:
    """What a tree review prints beyond its defects; a single file's review prints both anyway."""

    notes: bool = False  # the findings at info level (--notes, or --min-severity info asked for)
    details: bool = False  # each file's statements under every aspect (--details)


def _wrap(text: str, indent: str, first: str | None = None) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first if first is not None else indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [indent.rstrip()]


def _targets(review: Review) -> str:
    """The targets as the title names them; '-' is standard input, named by --stdin-name if given."""
    names = []
    for info in review.inputs:
        if info.target != "-":
            names.append(info.target)
            continue
        stdin_name = review.files[0].path if len(review.inputs) == 1 and len(review.files) == 1 else "<stdin>"
        names.append("standard input" + (f" ({stdin_name})" if stdin_name != "<stdin>" else ""))
    return ", ".join(names) or "no input"


def _nothing_reviewed(review: Review) -> list[str]:
    """At most three lines: what was looked at and why nothing was reviewed; no aspects, no verdict."""
    targets = _targets(review)
    errors = review.errors
    if not errors:
        return [f"Nothing was reviewed: no Python file was found in {targets}."]
    if len(errors) == 1:
        error = errors[0]
        why = (
            "does not exist" if error.kind == "not-found" else f"could not be reviewed ({error.kind}: {error.message})"
        )
        return [f"Nothing was reviewed: {error.path} {why}."]
    first = errors[0]
    out = [f"Nothing was reviewed: none of the {len(errors)} inputs in {targets} could be reviewed."]
    out.append(f"  {first.path} ({first.kind}): {first.message}")
    out.append(f"  and {len(errors) - 1} more; --format json lists every error.")
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


def _counts(review: Review, notes_shown: bool) -> list[str]:
    """What was reviewed and what is not printed, under the verdict."""
    out: list[str] = []
    notes = sum(1 for f in review.findings if not f.is_defect)
    if notes and not notes_shown:
        are = "is" if notes == 1 else "are"
        out.extend(_wrap(f"{plural(notes, 'note')} at info level {are} counted, not listed (--notes lists them).", ""))
    if review.suppressed:
        parts = [f"{count} {HIDDEN_HOW[by]}" for by, count in review.hidden_by.items() if count]
        out.extend(_wrap(f"Hidden: {plural(len(review.suppressed), 'finding')} ({', '.join(parts)}).", ""))
    if review.baseline is not None:
        out.extend(_wrap(f"Baseline: {review.baseline.sentence()}", ""))
    if review.errors:
        out.append(f"Not reviewed: {plural(len(review.errors), 'input')} (listed at the end).")
    return out


def _groups(findings: list[Finding]) -> list[list[Finding]]:
    """One group per rule, severity and context: most severe first, then the largest, then by rule."""
    grouped: dict[tuple[str, Severity, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        grouped[(finding.rule_id, finding.severity, finding.context_note)].append(finding)
    ordered = sorted(grouped.items(), key=lambda item: (-item[0][1], -len(item[1]), item[0][0], item[0][2]))
    return [group for _, group in ordered]


def _acceptable(finding: Finding) -> bool:
    """A note whose file's kind made it acceptable: the review offers no fix for it."""
    return not finding.is_defect and bool(finding.context_note)


def _severity(finding: Finding) -> str:
    text = f"severity {finding.severity.label}"
    if finding.default_severity is not None:
        text += f" (rule default {finding.default_severity.label})"
    return text


def _heading(number: int, finding: Finding) -> str:
    rule = registered().get(finding.rule_id)
    title = rule.title() if rule is not None else finding.rule_name
    return f"  {number}. [{finding.rule_id} {finding.rule_name}] {title}"


def _evidence(finding: Finding, limit: int | None = None) -> list[str]:
    lines = finding.evidence.splitlines()[:limit]
    return [f"     {finding.location.line + offset:>5} | {code}" for offset, code in enumerate(lines)]


def _trace(finding: Finding) -> list[str]:
    if not finding.trace:
        return []
    out = ["     Path:"]
    for step_no, step in enumerate(finding.trace, start=1):
        out.extend(_wrap(f"{step_no}. {step.path}:{step.line} {step.message}", "          ", "       "))
    return out


def _closing(finding: Finding) -> list[str]:
    """The context that changed the severity, and the fix unless the review calls the note acceptable."""
    out: list[str] = []
    if _acceptable(finding):
        out.extend(_wrap(f"Acceptable here: {finding.context_note}.", "     "))
        return out
    if finding.context_note:
        out.extend(_wrap(f"Context: {finding.context_note}.", "     "))
    out.extend(_wrap(f"Fix: {' '.join(finding.fix.split())}", "     "))
    return out


def _state(review: Review, finding: Finding) -> str:
    return f" ({review.change.state(finding)} by the change)" if review.change is not None else ""


def _single(number: int, finding: Finding, review: Review) -> list[str]:
    loc = finding.location
    out = [_heading(number, finding) + _state(review, finding)]
    out.append(
        f"     {loc.path}:{loc.line}:{loc.col + 1}"
        + (f"-{loc.end_line}" if loc.end_line > loc.line else "")
        + f"  {_severity(finding)}, confidence {finding.confidence.label}, CWE-{finding.cwe}"
    )
    out.extend(_wrap(finding.message, "     "))
    if finding.corroborated_by:
        out.extend(_wrap(corroboration.summary(finding), "       ", "     "))
    out.extend(_evidence(finding))
    out.extend(_trace(finding))
    return out + _closing(finding)


def _group(number: int, group: list[Finding], review: Review, one_file: bool) -> list[str]:
    """Several findings of one rule and severity as one item listing every place.

    Defects of medium or high severity, and defects in one file, show each place with its
    message; low findings and notes across a tree are listed by file, a few files in full.
    """
    if len(group) == 1:
        return _single(number, group[0], review)
    first = group[0]
    files = Counter(f.location.path for f in group)
    confidences = "/".join(sorted({f.confidence.label for f in group}))
    if not one_file:
        where = f"{len(group)} places in {plural(len(files), 'file')}"
    else:
        where = lines_word((f.location.line, f.location.last_line) for f in group)
        # A tree whose findings all sit in one file still names it; a single file's title does.
        where += f" of {first.location.path}" if len(review.reviewed) > 1 else ""
    out = [_heading(number, first)]
    out.append(f"     {where}  {_severity(first)}, confidence {confidences}, CWE-{first.cwe}")
    if one_file and not first.is_defect:
        for finding in group[:MAX_EVIDENCE_PER_GROUP]:
            out.extend(_evidence(finding, 1))
        if len(group) > MAX_EVIDENCE_PER_GROUP:
            out.append(f"     ... and {len(group) - MAX_EVIDENCE_PER_GROUP} more places")
    elif one_file or first.severity >= Severity.MEDIUM:
        for finding in group:
            loc = finding.location
            place = f"line {loc.line}" if one_file else f"{loc.path}:{loc.line}:{loc.col + 1}"
            out.extend(_wrap(f"{place}{_state(review, finding)}  {finding.message}", "         ", "     - "))
            if finding.corroborated_by:
                out.extend(_wrap(corroboration.summary(finding), "         ", "         "))
            if one_file:
                out.extend(_evidence(finding, 1))
    else:
        out.extend(_wrap(f"For example: {first.message}", "     "))
        lines_by_file: dict[str, list[int]] = defaultdict(list)
        for finding in group:
            lines_by_file[finding.location.path].append(finding.location.line)
        for path, numbers in list(lines_by_file.items())[:MAX_FILES_PER_GROUP]:
            out.extend(_wrap(f"{path}:{', '.join(map(str, numbers))}", "         ", "     - "))
        if len(lines_by_file) > MAX_FILES_PER_GROUP:
            rest = list(lines_by_file.values())[MAX_FILES_PER_GROUP:]
            count = sum(len(numbers) for numbers in rest)
            out.append(f"     - and {plural(count, 'place')} in {plural(len(rest), 'more file')} (--format json)")
    return out + _closing(first)


def _findings(title: str, findings: list[Finding], review: Review, one_file: bool) -> list[str]:
    out = ["", title]
    for number, group in enumerate(_groups(findings), start=1):
        out.extend(_group(number, group, review, one_file))
    return out


def _aspect(aspect: Aspect, multi: bool) -> list[str]:
    out = [f"{aspect.number}. {aspect.title}: {STATUS[aspect.status]}"]
    for statement in aspect.statements[:MAX_STATEMENTS_SHOWN]:
        prefix = f"{statement.path}: " if statement.path and multi else ""
        out.extend(_wrap(prefix + statement.text, "     ", "   - "))
    hidden = len(aspect.statements) - MAX_STATEMENTS_SHOWN + aspect.omitted
    if hidden > 0:
        out.append(f"   - ... and {hidden} more statement(s) (see --format json)")
    return out


def _aspect_summary(aspect: Aspect) -> str:
    """One line for a tree: 'Injection: 3 medium in 2 files; checked everywhere else.'"""
    defects = [f for f in aspect.findings if f.is_defect]
    notes = len(aspect.findings) - len(defects)
    note_text = f"{plural(notes, 'note')} at info level" if notes else ""
    if defects:
        counts = Counter(f.severity for f in defects)
        tally = ", ".join(f"{counts[s]} {s.label}" for s in sorted(counts, reverse=True))
        files = len({f.location.path for f in defects})
        text = f"{tally} in {plural(files, 'file')}" + (f" and {note_text}" if notes else "")
        return f"{aspect.number:>2}. {aspect.title}: {text}; checked everywhere else."
    if notes:
        return f"{aspect.number:>2}. {aspect.title}: no defect; {note_text}."
    return f"{aspect.number:>2}. {aspect.title}: nothing found."


def _more(review: Review, notes_hidden: int, single: bool, details: bool) -> list[str]:
    hints = []
    if notes_hidden:
        hints.append(f"--notes lists the {plural(notes_hidden, 'note')} at info level")
    if not single and not details:
        hints.append("--details adds each file's statements under every aspect")
    hints.append("--format json or --format html has every finding, statement and hidden finding")
    rule_ids = sorted({f.rule_id for f in review.findings})
    if rule_ids:
        hints.append(f"scrutiny explain {rule_ids[0]} explains a rule")
    return ["", "More"] + _wrap("; ".join(hints) + ".", "  ")


def render(review: Review, options: TextOptions | None = None) -> str:
    options = options or TextOptions()
    title = f"Security review by scrutiny {review.version} of {_targets(review)}"
    if not review.reviewed and review.change is None:
        return visible("\n".join(_nothing_reviewed(review))) + "\n"
    # One file is reviewed aspect by aspect; a tree leads with its defects.
    single = len(review.reviewed) == 1
    one_file = len({f.location.path for f in review.findings}) <= 1
    notes_shown = single or options.notes
    details = single or options.details
    out = [title]
    for info in review.inputs:
        if info.kind == "pypi":
            out.append(f"Source: {info.archive} (sha256 {info.sha256}) from the package index.")
    out.extend(["", "Verdict", review.verdict])
    if review.reasons:
        out.extend(_wrap("Why: " + " ".join(review.reasons), ""))
    out.extend(_counts(review, notes_shown))
    out.append("")
    if review.change is not None:
        out.extend(_change(review))
    out.append("What the code is")
    # Up to ten files are described one by one; a larger tree's sentences make one paragraph.
    paragraphs = [" ".join(review.overview)] if len(review.reviewed) > 10 else review.overview
    for number, line in enumerate(paragraphs):
        out.extend(([""] if number else []) + _wrap(line, "  "))
    defects = review.defects
    notes = [f for f in review.findings if not f.is_defect]
    findings: list[str] = []
    if defects:
        findings += _findings(f"Defects ({len(defects)}), most severe first", defects, review, one_file)
    if notes and notes_shown:
        findings += _findings(f"Notes at info level ({len(notes)}), none a defect", notes, review, one_file)
    aspects = ["", "Aspects" if details else f"Aspects, checked in {plural(len(review.reviewed), 'file')}"]
    for aspect in review.aspects:
        aspects.extend(_aspect(aspect, not single) if details else _wrap(_aspect_summary(aspect), "    ", ""))
    # A single file's aspects are its review, its notes the detail; a tree's defects come first.
    out.extend(aspects + findings if single else findings + aspects)
    if review.errors:
        out.append("")
        out.append(f"Files not reviewed ({len(review.errors)})")
        for error in review.errors:
            out.extend(_wrap(f"{error.path}: {error.kind}: {error.message}", "    ", "  - "))
    out.extend(_more(review, 0 if notes_shown else len(notes), single, details))
    # Bidi controls, invisible and control characters from the code are shown as <U+XXXX>.
    return visible("\n".join(out)) + "\n"


def visible(text: str) -> str:
    """``rules.unicode_controls.visible``, imported when a review is written (not to read the options)."""
    from scrutiny.rules.unicode_controls import visible as shown

    return shown(text)
