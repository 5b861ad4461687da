"""The review as GitHub Actions workflow commands: render(review) -> str.

One ``::error|warning|notice file=...,line=...::message`` line per finding, which the
runner turns into an annotation on the pull request's diff, and one ``::error`` per file
that could not be reviewed. Levels follow the SARIF mapping (high error, medium warning,
low and info notice). Workflow commands:
https://docs.github.com/actions/reference/workflow-commands-for-github-actions
"""

from __future__ import annotations

from scrutiny.findings import Finding, Severity
from scrutiny.report import corroboration
from scrutiny.report.compose import Review
from scrutiny.report.sarif import columns
from scrutiny.rules import registered

COMMANDS = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "notice", Severity.INFO: "notice"}


def escape_data(value: str) -> str:
    """The message part: % first, so the escapes it adds are not escaped again."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A property value also ends at ',' and the properties end at ':'."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _command(name: str, properties: list[tuple[str, str | int]], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties)
    return f"::{name} {props}::{escape_data(message)}"


def _finding(finding: Finding) -> str:
    rules = registered()
    loc = finding.location
    title = rules[finding.rule_id].title() if finding.rule_id in rules else finding.rule_name
    start, end = columns(finding)
    properties: list[tuple[str, str | int]] = [("file", loc.path), ("line", loc.line), ("endLine", loc.last_line)]
    # GitHub draws a column span only on a single line.
    if loc.last_line == loc.line:
        properties.append(("col", start))
        if end is not None:
            properties.append(("endColumn", end))
    properties.append(("title", f"{finding.rule_id} {finding.rule_name}: {title}"))
    severity = finding.severity.label
    if finding.default_severity is not None:
        severity += f", rule default {finding.default_severity.label}: {finding.context_note}"
    message = (
        f"{finding.message} (severity {severity}; confidence {finding.confidence.label}; CWE-{finding.cwe})\n"
        f"Fix: {' '.join(finding.fix.split())}"
    )
    if finding.corroborated_by:
        message += f"\n{corroboration.summary(finding)}"
    return _command(COMMANDS[finding.severity], properties, message)


def render(review: Review) -> str:
    # In a change review only what the change introduces is annotated: old findings are not
    # the pull request's doing (the SARIF output still has them, marked unchanged).
    shown = review.change.introduced if review.change is not None else review.findings
    lines = [_finding(f) for f in shown]
    for error in review.errors:
        properties: list[tuple[str, str | int]] = [("file", error.path)]
        if error.line > 0:
            properties.append(("line", error.line))
        properties.append(("title", f"scrutiny could not review this file ({error.kind})"))
        lines.append(_command("error", properties, error.message))
    return "".join(line + "\n" for line in lines)
