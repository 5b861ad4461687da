"""The review as JSON (schema in review.schema.json): render(review) -> str."""

from __future__ import annotations

import json
from typing import Any

from scrutiny.findings import Citation, Finding, TraceStep
from scrutiny.report.compose import CLEAN_VERDICT, Review
from scrutiny.rules import registered

SCHEMA_VERSION = 1


def _citation(citation: Citation) -> dict[str, Any]:
    return {
        "path": citation.path,
        "start": citation.start,
        "end": citation.end,
        "role": citation.role,
        "detail": citation.detail,
    }


def finding_dict(finding: Finding) -> dict[str, Any]:
    loc = finding.location
    rule = registered().get(finding.rule_id)
    return {
        "fingerprint": finding.fingerprint,
        "rule_id": finding.rule_id,
        "rule_name": finding.rule_name,
        "title": rule.title() if rule else finding.rule_name,
        "category": finding.category.value,
        "cwe": finding.cwe,
        "severity": finding.severity.label,
        "default_severity": (finding.default_severity or finding.severity).label,
        "confidence": finding.confidence.label,
        "path": loc.path,
        "line": loc.line,
        "col": loc.col,
        "end_line": loc.end_line,
        "end_col": loc.end_col,
        "message": finding.message,
        "evidence": finding.evidence,
        "fix": finding.fix,
        "context_note": finding.context_note,
        "scope": finding.scope,
        "trace": [_step(step) for step in finding.trace],
        "corroborated_by": [
            {
                "rule_id": c.rule_id,
                "severity": c.severity.label,
                "confidence": c.confidence.label,
                "line": c.line,
                "message": c.message,
                "fingerprint": c.fingerprint,
                "source": _step(c.source) if c.source is not None else None,
            }
            for c in finding.corroborated_by
        ],
    }


def _step(step: TraceStep) -> dict[str, Any]:
    return {"path": step.path, "line": step.line, "col": step.col, "message": step.message}


def to_dict(review: Review) -> dict[str, Any]:
    document = _review_dict(review)
    # Optional keys, added in a compatible way (schema version 1 still applies).
    if review.change is not None:
        document["change"] = _change(review)
    if review.baseline is not None:
        note = review.baseline
        document["baseline"] = {"path": note.path, "entries": note.entries, "hidden": note.hidden}
    return document


def _review_dict(review: Review) -> dict[str, Any]:
    files = []
    for summary in review.files:
        entry: dict[str, Any] = {"path": summary.path, "lines": summary.lines, "error": None}
        ctx = summary.context
        if ctx is not None:
            entry.update(
                kind=ctx.kind.value,
                subkinds=list(ctx.subkinds),
                description=ctx.description,
                frameworks=list(ctx.frameworks),
                reasons=list(ctx.reasons),
                entry_points=[
                    {"name": e.name, "line": e.line, "end_line": e.end_line, "kind": e.kind, "params": list(e.params)}
                    for e in ctx.entry_points
                ],
            )
        if summary.error is not None:
            entry["error"] = {"kind": summary.error.kind, "message": summary.error.message, "line": summary.error.line}
        if summary.python2_repairs:  # optional: only a Python 2 file reviewed after its repair has it
            entry["python2_repair"] = [{"line": r.line, "construct": r.construct} for r in summary.python2_repairs]
        files.append(entry)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "scrutiny", "version": review.version},
        "inputs": [
            {"target": i.target, "kind": i.kind, "archive": i.archive, "sha256": i.sha256} for i in review.inputs
        ],
        "summary": {
            "files_reviewed": len(review.reviewed),
            "files_failed": len(review.errors),
            "lines": sum(f.lines for f in review.reviewed),
            "findings": review.counts,
            "defects": len(review.defects),
            "suppressed": len(review.suppressed),
            "hidden_by": {by.replace("-", "_"): count for by, count in review.hidden_by.items()},
            "min_severity": review.min_severity.label,
            "exit_code": review.exit_code,
        },
        "verdict": {
            "text": review.verdict,
            # The clean verdict exactly: a change review that exits 0 over old defects, or a
            # baseline that hid some, is not clean.
            "clean": review.verdict == CLEAN_VERDICT,
            "reasons": review.reasons,
        },
        "overview": review.overview,
        "files": files,
        "aspects": [
            {
                "number": a.number,
                "category": a.category.value,
                "title": a.title,
                "status": a.status,
                "checked_rules": a.checked,
                "statements": [
                    {"text": s.text, "path": s.path, "citations": [_citation(c) for c in s.citations]}
                    for s in a.statements
                ],
                "omitted_statements": a.omitted,
                "findings": [f.fingerprint for f in a.findings],
            }
            for a in review.aspects
        ],
        "findings": [finding_dict(f) for f in review.findings],
        "suppressed": [dict(finding_dict(s.finding), reason=s.reason, hidden_by=s.by) for s in review.suppressed],
        "errors": [{"path": e.path, "kind": e.kind, "message": e.message, "line": e.line} for e in review.errors],
    }


def _change(review: Review) -> dict[str, Any]:
    change = review.change
    assert change is not None
    return {
        "mode": change.mode,
        "base": change.base,
        "files": [{"status": f.status, "old_path": f.old_path, "new_path": f.new_path} for f in change.files],
        "counts": change.counts,
        "introduced": [f.fingerprint for f in change.introduced],
        "unchanged": [f.fingerprint for f in change.unchanged],
        "fixed": [finding_dict(f) for f in change.fixed],
        "notes": change.notes,
        **(
            {"behaviour": [{"state": s, "when": w, "what": d} for s, w, d in change.behaviour]}
            if change.mode == "upgrade"
            else {}
        ),
    }


def render(review: Review) -> str:
    return json.dumps(to_dict(review), indent=2, ensure_ascii=False) + "\n"
