"""The summary of ``scrutiny deps``: one row per pinned package, as text or JSON.

A row gives the package, version, file reviewed, files, worst finding, counts by severity
and what runs at install and at import time; below the table each package's behaviour
is listed with the lines it rests on, then the entries skipped and the packages that failed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from scrutiny.deps import UNCHECKED
from scrutiny.findings import Finding, Severity
from scrutiny.install_time import IMPORT, INSTALL, Behaviour

if TYPE_CHECKING:
    from scrutiny.deps import DepsReport, PackageReview

LEVELS = [s.label for s in sorted(Severity, reverse=True)]


def render(report: DepsReport, format_name: str) -> str:
    return render_json(report) if format_name == "json" else render_text(report)


def _worst(finding: Finding | None) -> str:
    if finding is None:
        return "-"
    return f"{finding.rule_id} {finding.severity.label} {finding.location.path}:{finding.location.line}"


def _brief(behaviours: list[Behaviour], when: str) -> str:
    """A column's few words: the build backend, then how many other behaviours of which kinds."""
    if not behaviours:
        return "nothing" if when == INSTALL else "no side effects found"
    backend = [b.what.removeprefix("build backend ") for b in behaviours if b.what.startswith("build backend")]
    others = [b for b in behaviours if not b.what.startswith("build backend")]
    kinds = sorted({b.what.split(" ", 1)[0] for b in others})  # network, subprocess, setup.py, hatch, ...
    parts = [backend[0].split(" ", 1)[0]] if backend else []
    if others:
        parts.append(f"{len(others)} more: {', '.join(kinds)}")
    return "; ".join(parts)


def render_text(report: DepsReport) -> str:
    lock = report.lockfile
    out = [f"Dependencies of {lock.path} ({lock.format}): {len(lock.pins)} pinned, {len(lock.skipped)} skipped", ""]
    header = ["package", "version", "reviewed", "files", "worst finding", *LEVELS, "install time", "import time"]
    rows = [header]
    for package in report.packages:
        counts = package.counts
        rows.append(
            [
                package.pin.name,
                package.pin.version,
                package.kind or "FAILED",
                str(package.files),
                _worst(package.worst),
                *(str(counts.get(level, 0)) for level in LEVELS),
                _brief(package.at(INSTALL), INSTALL) if package.review else "-",
                _brief(package.at(IMPORT), IMPORT) if package.review else "-",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    out.extend("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows)
    for package in report.packages:
        lines = _details(package)
        if lines:
            out.extend(["", *lines])
    if lock.skipped:
        out.extend(["", "Skipped (not pinned to one distribution):"])
        out.extend(f"  {s.origin}: {s.entry}: {s.reason}" for s in lock.skipped)
    out.extend(["", _verdict(report)])
    return "\n".join(out) + "\n"


def _details(package: PackageReview) -> list[str]:
    title = f"{package.pin.name} {package.pin.version}"
    if package.review is None:
        return [f"{title}: FAILED: {package.error}"]
    checked = (
        "not checked: neither the lockfile nor the index gives a hash"
        if package.sha256_from == UNCHECKED
        else f"checked against the {package.sha256_from}"
    )
    lines = [f"{title}: {package.artifact}, sha256 {package.sha256} ({checked})"]
    if package.output:
        lines.append(f"  review: {package.output}")
    for when, label in ((INSTALL, "at install"), (IMPORT, "at import")):
        lines.extend(f"  {label}: {b.describe()}" for b in package.at(when))
    if package.review.errors:
        lines.append(f"  {len(package.review.errors)} file(s) could not be reviewed (see its review)")
    return lines


def _verdict(report: DepsReport) -> str:
    failed = [p for p in report.packages if p.review is None or not p.review.reviewed]
    with_defects = [p for p in report.packages if p.review and p.review.defects]
    parts = [f"{len(report.packages) - len(failed)} package(s) reviewed"]
    parts.append(f"{len(with_defects)} with security defects" if with_defects else "no security defects found")
    if failed:
        parts.append(f"{len(failed)} could not be reviewed, so the summary is incomplete")
    return "; ".join(parts) + "."


def _behaviour(behaviour: Behaviour) -> dict[str, Any]:
    return {"what": behaviour.what, "path": behaviour.path, "line": behaviour.line}


def render_json(report: DepsReport) -> str:
    lock = report.lockfile
    document = {
        "lockfile": {"path": lock.path, "format": lock.format},
        "packages": [_package(p) for p in report.packages],
        "skipped": [{"entry": s.entry, "reason": s.reason, "origin": s.origin} for s in lock.skipped],
        "exit_code": report.exit_code,
    }
    return json.dumps(document, indent=2) + "\n"


def _package(package: PackageReview) -> dict[str, Any]:
    worst = package.worst
    return {
        "name": package.pin.name,
        "version": package.pin.version,
        "origin": package.pin.origin,
        "marker": package.pin.marker,
        "status": package.status,
        "error": package.error,
        "artifact": package.artifact,
        "kind": package.kind,
        "sha256": package.sha256,
        "sha256_checked_against": package.sha256_from,
        "files": package.files,
        "counts": package.counts,
        "worst": None
        if worst is None
        else {
            "rule_id": worst.rule_id,
            "severity": worst.severity.label,
            "path": worst.location.path,
            "line": worst.location.line,
            "message": worst.message,
        },
        "install_time": [_behaviour(b) for b in package.at(INSTALL)],
        "import_time": [_behaviour(b) for b in package.at(IMPORT)],
        "review": package.output,
    }
