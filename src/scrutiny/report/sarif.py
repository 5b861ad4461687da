"""The review as SARIF 2.1.0 for code-scanning dashboards: render(review) -> str.

One run per review. Every registered rule is a ``reportingDescriptor`` (help from its
What / Why / Fix sections) related to a CWE taxon; findings are results with regions,
fingerprints, a taint path as a ``codeFlow`` when they carry one, and the other reports
of the same defect as ``relatedLocations``; files that could not be reviewed are tool
execution notifications. There are no timestamps, so the same review gives the same
bytes. Spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from scrutiny.findings import FileError, Finding, Severity, TraceStep
from scrutiny.report.compose import Review
from scrutiny.rules import registered
from scrutiny.rules.base import Rule

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "scrutiny/v1"
CWE_VERSION = "4.16"

# SARIF has three levels for a problem. "note" for low as well as info: GitHub fails a
# check on error and warning by default, and a low finding is worth reading, not blocking.
LEVELS = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note", Severity.INFO: "note"}
# GitHub code scanning reads these CVSS-like scores (strings) to rank security alerts:
# 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low; info findings are not defects.
SECURITY_SEVERITY = {Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0", Severity.INFO: "0.0"}
PRECISION = {"high": "high", "medium": "medium", "low": "low"}

ERROR_KINDS = {
    "not-found": "The input does not exist.",
    "unreadable": "The input could not be read.",
    "binary": "The file is binary, not Python source.",
    "encoding": "The file's bytes do not match its declared encoding.",
    "syntax": "The file is not valid Python.",
    "python2": "The file is Python 2 code with syntax the line-by-line repair does not cover.",
    "newer-python": "The file needs a newer Python than the one running scrutiny.",
    "too-deep": "The file nests too deeply for the parser.",
    "too-large": "The file is over the size limit.",
    "fetch": "The pypi: target could not be downloaded.",
    "internal": "A scrutiny bug, confined to this file.",
}


# Positions ---------------------------------------------------------------------------


def _char_col(text: str, byte_col: int) -> int:
    """ast columns count UTF-8 bytes; SARIF and editors count characters."""
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", "ignore"))


def columns(finding: Finding) -> tuple[int, int | None]:
    """1-based start column and exclusive end column (None when unknown) in characters.

    The evidence holds the reported lines as they are in the file, so byte offsets are
    converted with them; an end beyond the evidence keeps its byte offset.
    """
    loc = finding.location
    lines = finding.evidence.splitlines()
    start = _char_col(lines[0], loc.col) if lines else loc.col
    if loc.end_col <= 0:
        return start + 1, None
    end_index = max(loc.end_line, loc.line) - loc.line
    end = _char_col(lines[end_index], loc.end_col) if end_index < len(lines) else loc.end_col
    if end_index == 0 and end <= start:
        return start + 1, None
    return start + 1, end + 1


def artifact(path: str) -> dict[str, Any]:
    """A relative path stays relative to the checkout (%SRCROOT%); absolute ones are file URIs."""
    if path.startswith("/"):
        return {"uri": "file://" + quote(path, safe="/")}
    return {"uri": quote(path, safe="/"), "uriBaseId": SRCROOT}


def _region(finding: Finding) -> dict[str, Any]:
    loc = finding.location
    start, end = columns(finding)
    region: dict[str, Any] = {"startLine": loc.line, "startColumn": start, "endLine": loc.last_line}
    if end is not None:
        region["endColumn"] = end
    if finding.evidence:
        region["snippet"] = {"text": finding.evidence}
    return region


def _physical(path: str, region: dict[str, Any] | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact(path)}
    if region:
        physical["region"] = region
    return {"physicalLocation": physical}


# Rules and taxa ------------------------------------------------------------------------


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."


def _rule(rule: type[Rule], cwe_index: dict[int, int]) -> dict[str, Any]:
    docs = rule.doc_sections()
    what, why, fix = docs.get("What", ""), docs.get("Why", ""), docs.get("Fix", "")
    help_text = f"What: {_sentence(what)}\nWhy: {_sentence(why)}\nFix: {_sentence(fix)}"
    example = docs.get("Example", "")
    help_markdown = f"**What** {_sentence(what)}\n\n**Why** {_sentence(why)}\n\n"
    if example:
        help_markdown += f"**Example**\n\n```python\n{example}\n```\n\n"
    help_markdown += f"**Fix** {_sentence(fix)}"
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": _sentence(rule.title())},
        "fullDescription": {"text": f"{_sentence(what)} {_sentence(why)}"},
        "help": {"text": help_text, "markdown": help_markdown},
        "helpUri": _cwe_uri(rule.cwe),
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "relationships": [_taxon_reference(rule.cwe, cwe_index)],
        "properties": {
            "tags": ["security", rule.category.value, f"external/cwe/cwe-{rule.cwe}"],
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "precision": PRECISION[rule.confidence.label],
            "problem.severity": "recommendation" if rule.severity == Severity.INFO else LEVELS[rule.severity],
            "category": rule.category.value,
            "cwe": f"CWE-{rule.cwe}",
        },
    }


def _cwe_uri(cwe: int) -> str:
    return f"https://cwe.mitre.org/data/definitions/{cwe}.html"


def _taxon_reference(cwe: int, cwe_index: dict[int, int]) -> dict[str, Any]:
    # "relevant": a rule checks one specific way to commit the weakness, no more.
    return {
        "target": {"id": f"CWE-{cwe}", "index": cwe_index[cwe], "toolComponent": {"name": "CWE", "index": 0}},
        "kinds": ["relevant"],
    }


def _taxonomy(cwes: list[int]) -> dict[str, Any]:
    return {
        "name": "CWE",
        "organization": "MITRE",
        "version": CWE_VERSION,
        "informationUri": "https://cwe.mitre.org/",
        "shortDescription": {"text": "The MITRE Common Weakness Enumeration."},
        "isComprehensive": False,
        "taxa": [{"id": f"CWE-{cwe}", "helpUri": _cwe_uri(cwe)} for cwe in cwes],
    }


# Results -------------------------------------------------------------------------------


def _code_flow(trace: tuple[TraceStep, ...]) -> dict[str, Any]:
    steps = []
    for order, step in enumerate(trace, start=1):
        region = {"startLine": step.line, "startColumn": step.col + 1} if step.line > 0 else None
        location = _physical(step.path, region)
        if step.message:
            location["message"] = {"text": step.message}
        steps.append({"location": location, "executionOrder": order})
    return {"threadFlows": [{"locations": steps}]}


def _corroboration(finding: Finding) -> list[dict[str, Any]]:
    """The other reports of the defect as related locations: where each is, and where its data enters."""
    related: list[dict[str, Any]] = []
    for number, other in enumerate(finding.corroborated_by):
        where = other.source
        path, line = (where.path, where.line) if where is not None else (finding.location.path, other.line)
        location = _physical(path, {"startLine": line} if line > 0 else None)
        text = f"also {other.rule_id} ({other.severity.label}): {other.message}"
        location.update(id=number, message={"text": _sentence(text)})
        related.append(location)
    return related


def _result(finding: Finding, rule_index: dict[str, int], cwe_index: dict[int, int]) -> dict[str, Any]:
    default = finding.default_severity or finding.severity
    properties: dict[str, Any] = {
        "severity": finding.severity.label,
        "defaultSeverity": default.label,
        "confidence": finding.confidence.label,
        "category": finding.category.value,
        "security-severity": SECURITY_SEVERITY[finding.severity],
    }
    if finding.context_note:
        properties["contextNote"] = finding.context_note
    if finding.scope:
        properties["scope"] = finding.scope
    if finding.fix:
        properties["fix"] = " ".join(finding.fix.split())
    result: dict[str, Any] = {"ruleId": finding.rule_id}
    if finding.rule_id in rule_index:
        result["ruleIndex"] = rule_index[finding.rule_id]
    result.update(
        level=LEVELS[finding.severity],
        message={"text": _sentence(finding.message)},
        locations=[_physical(finding.location.path, _region(finding))],
        partialFingerprints={FINGERPRINT_KEY: finding.fingerprint},
        taxa=[_taxon_reference(finding.cwe, cwe_index)["target"]],
    )
    if finding.trace:
        result["codeFlows"] = [_code_flow(finding.trace)]
    if finding.corroborated_by:
        result["relatedLocations"] = _corroboration(finding)
        properties["corroboratedBy"] = [
            {"ruleId": c.rule_id, "line": c.line, "severity": c.severity.label, "fingerprint": c.fingerprint}
            for c in finding.corroborated_by
        ]
    result["properties"] = properties
    return result


def _error_descriptor(kind: str, text: str) -> dict[str, Any]:
    about = f"{text} The file gets no findings; every other file is still reviewed."
    return {
        "id": kind,
        "shortDescription": {"text": text},
        "fullDescription": {"text": about},
        "help": {"text": about},
        "defaultConfiguration": {"level": "error"},
    }


def _notification(error: FileError, kinds: dict[str, int]) -> dict[str, Any]:
    region = {"startLine": error.line} if error.line > 0 else None
    notification: dict[str, Any] = {
        "level": "error",
        "message": {"text": _sentence(f"{error.path}: {error.kind}: {error.message}")},
        "locations": [_physical(error.path, region)],
    }
    if error.kind in kinds:
        notification["descriptor"] = {"id": error.kind, "index": kinds[error.kind]}
    return notification


def _results(review: Review, rule_index: dict[str, int], cwe_index: dict[int, int]) -> list[dict[str, Any]]:
    """One result per finding; a change review marks each new/unchanged and adds the fixed ones as absent."""
    results = [_result(f, rule_index, cwe_index) for f in review.findings]
    change = review.change
    if change is None:
        return results
    for finding, result in zip(review.findings, results, strict=True):
        result["baselineState"] = "new" if change.state(finding) == "introduced" else "unchanged"
    for finding in change.fixed:
        result = _result(finding, rule_index, cwe_index)
        result["baselineState"] = "absent"
        results.append(result)
    return results


def to_dict(review: Review) -> dict[str, Any]:
    rules = registered()
    fixed = review.change.fixed if review.change is not None else []
    cwes = sorted({rule.cwe for rule in rules.values()} | {f.cwe for f in [*review.findings, *fixed]})
    cwe_index = {cwe: n for n, cwe in enumerate(cwes)}
    rule_index = {rule_id: n for n, rule_id in enumerate(rules)}
    kinds = {kind: n for n, kind in enumerate(ERROR_KINDS)}
    driver = {
        "name": "scrutiny",
        "version": review.version,
        "semanticVersion": review.version,
        "rules": [_rule(rule, cwe_index) for rule in rules.values()],
        "notifications": [_error_descriptor(kind, text) for kind, text in ERROR_KINDS.items()],
        "supportedTaxonomies": [{"name": "CWE", "index": 0}],
    }
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [_notification(e, kinds) for e in review.errors],
            }
        ],
        "taxonomies": [_taxonomy(cwes)],
        "columnKind": "unicodeCodePoints",
        "results": _results(review, rule_index, cwe_index),
        "properties": {
            "targets": [i.target for i in review.inputs],
            "verdict": review.verdict,
            "reasons": review.reasons,
            "exitCode": review.exit_code,
            "hiddenFindings": len(review.suppressed),
        },
    }
    if review.change is not None:
        run["properties"]["change"] = {"mode": review.change.mode, "base": review.change.base, **review.change.counts}
    if review.baseline is not None:
        run["properties"]["baseline"] = {"path": review.baseline.path, "hidden": review.baseline.hidden}
    sources = [i for i in review.inputs if i.kind == "pypi"]
    if sources:
        run["properties"]["sources"] = [{"archive": i.archive, "sha256": i.sha256} for i in sources]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(review: Review) -> str:
    return json.dumps(to_dict(review), indent=2, ensure_ascii=False) + "\n"
