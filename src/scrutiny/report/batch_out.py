"""A batch results database's summary as text, JSON or HTML: render(summary, format) -> str.

The HTML page follows html_out's rules: every text from the database is escaped with its
helpers (invisible characters shown as badges), the one style block is allowed by its
sha256 in the Content-Security-Policy, and there is no script at all.
"""

from __future__ import annotations

import json
from typing import Any

from scrutiny.batch_summary import PackageLine, RuleLine, Summary
from scrutiny.report.html_out import _sha256 as block_hash  # the CSP hash of an inline block
from scrutiny.report.html_out import attr, text
from scrutiny.results_db import SEVERITIES, FindingRow, TargetRow

FORMATS = ("text", "json", "html")


def render(summary: Summary, format_name: str) -> str:
    return {"text": _text, "json": _json, "html": _html}[format_name](summary)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts.get(s, 0)} {s}" for s in SEVERITIES)


def _where(finding: FindingRow) -> str:
    return f"{finding.rule_id} {finding.severity} {finding.path}:{finding.line}: {finding.message}"


def _text(summary: Summary) -> str:
    out = [
        f"scrutiny batch report: {summary.database}",
        f"{summary.targets} targets: {summary.reviewed} reviewed, {summary.failed} failed; "
        f"findings: {_counts(summary.counts)}"
        + (f" (scrutiny {', '.join(summary.scrutiny_versions)})" if summary.scrutiny_versions else ""),
        "",
        "By package, worst first:",
        f"  {'high':>5} {'medium':>6} {'low':>5} {'info':>5} {'files':>6}  target",
    ]
    for package in summary.packages:
        row = package.row
        out.append(f"  {row.high:>5} {row.medium:>6} {row.low:>5} {row.info:>5} {row.files:>6}  {_label(row)}")
        if package.worst is not None:
            out.append(f"{'':>33}worst: {_where(package.worst)}")
    out += ["", "By rule, worst first:", f"  {'rule':<8} {'severity':<8} {'findings':>8} {'packages':>8}  example"]
    for rule in summary.rules:
        out.append(
            f"  {rule.rule_id:<8} {rule.severity:<8} {rule.findings:>8} {rule.packages:>8}  "
            f"{rule.example_target}: {rule.example.path}:{rule.example.line}"
        )
    if summary.failures:
        out += ["", "Failed:"]
        out += [f"  {_label(row)}: {row.error}" for row in summary.failures]
    return "\n".join(out) + "\n"


def _label(row: TargetRow) -> str:
    shown = row.target
    if row.version and row.version not in shown:
        shown += f" ({row.version[:12]})"
    return shown


def _row(row: TargetRow) -> dict[str, Any]:
    keys = (
        "target",
        "kind",
        "name",
        "version",
        "input_sha256",
        "scrutiny_version",
        "settings_hash",
        "status",
        "error",
        "files",
        "lines",
        "file_errors",
        "attempts",
        "fetch_seconds",
        "review_seconds",
        "finished_at",
    )
    document = {key: getattr(row, key) for key in keys}
    document["counts"] = {s: getattr(row, s) for s in SEVERITIES}
    return document


def _finding(finding: FindingRow) -> dict[str, Any]:
    return {
        "fingerprint": finding.fingerprint,
        "rule_id": finding.rule_id,
        "severity": finding.severity,
        "confidence": finding.confidence,
        "cwe": finding.cwe,
        "path": finding.path,
        "line": finding.line,
        "message": finding.message,
    }


def _package(package: PackageLine) -> dict[str, Any]:
    document = _row(package.row)
    document["worst"] = _finding(package.worst) if package.worst is not None else None
    return document


def _rule(rule: RuleLine) -> dict[str, Any]:
    return {
        "rule_id": rule.rule_id,
        "severity": rule.severity,
        "findings": rule.findings,
        "packages": rule.packages,
        "example": {"target": rule.example_target, **_finding(rule.example)},
    }


def _json(summary: Summary) -> str:
    document = {
        "database": summary.database,
        "targets": summary.targets,
        "reviewed": summary.reviewed,
        "failed": summary.failed,
        "counts": {s: summary.counts.get(s, 0) for s in SEVERITIES},
        "scrutiny_versions": summary.scrutiny_versions,
        "packages": [_package(p) for p in summary.packages],
        "rules": [_rule(r) for r in summary.rules],
        "failures": [_row(r) for r in summary.failures],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


STYLE = """
body { margin: 0 auto; max-width: 1200px; padding: 24px 32px 64px; color: #1d2329;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
table { border-collapse: collapse; width: 100%; } th, td { padding: 3px 8px; border-bottom: 1px solid #d9dee3;
  text-align: left; vertical-align: top; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; overflow-wrap: anywhere; }
.sub { color: #5b6570; } .high { color: #b42318; font-weight: 600; } .medium { color: #b54708; }
.uc { border: 1px solid #b42318; border-radius: 3px; padding: 0 2px; color: #b42318; }
"""

CSP = f"default-src 'none'; style-src {block_hash(STYLE)}; img-src 'none'; base-uri 'none'; form-action 'none'"


def _html(summary: Summary) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{attr(CSP)}">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>scrutiny batch report of {attr(summary.database)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f'<h1>scrutiny batch report</h1><p class="sub mono">{text(summary.database)}</p>',
        f"<p>{summary.targets} targets: {summary.reviewed} reviewed, {summary.failed} failed; "
        f"findings: {text(_counts(summary.counts))}.</p>",
        "<h2>By package, worst first</h2><table><thead><tr><th>target</th>"
        + "".join(f'<th class="n">{s}</th>' for s in SEVERITIES)
        + '<th class="n">files</th><th>worst finding</th></tr></thead><tbody>',
    ]
    for package in summary.packages:
        row = package.row
        worst = package.worst
        cells = "".join(f'<td class="n">{getattr(row, s)}</td>' for s in SEVERITIES)
        shown = (
            ""
            if worst is None
            else (
                f'<span class="{attr(worst.severity)}">{text(worst.rule_id)}</span> '
                f'<span class="mono">{text(worst.path)}:{worst.line}</span> {text(worst.message)}'
            )
        )
        out.append(
            f'<tr><td class="mono">{text(_label(row))}</td>{cells}<td class="n">{row.files}</td><td>{shown}</td></tr>'
        )
    out.append("</tbody></table>")
    out.append(
        '<h2>By rule, worst first</h2><table><thead><tr><th>rule</th><th>severity</th><th class="n">findings</th>'
        '<th class="n">packages</th><th>example</th></tr></thead><tbody>'
    )
    for rule in summary.rules:
        example = rule.example
        out.append(
            f'<tr><td>{text(rule.rule_id)}</td><td class="{attr(rule.severity)}">{text(rule.severity)}</td>'
            f'<td class="n">{rule.findings}</td><td class="n">{rule.packages}</td>'
            f'<td><span class="mono">{text(rule.example_target)}: {text(example.path)}:{example.line}</span> '
            f"{text(example.message)}</td></tr>"
        )
    out.append("</tbody></table>")
    if summary.failures:
        out.append("<h2>Failed</h2><table><thead><tr><th>target</th><th>error</th></tr></thead><tbody>")
        out += [f'<tr><td class="mono">{text(_label(r))}</td><td>{text(r.error)}</td></tr>' for r in summary.failures]
        out.append("</tbody></table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
