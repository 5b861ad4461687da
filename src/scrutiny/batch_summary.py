"""What a results database holds, summed up: by package and by rule, worst first.

Analysis only; report/batch_out.py lays it out as text, JSON or HTML. Where a target was
reviewed more than once (another scrutiny version, other settings, a changed tree), the
summary uses its latest row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from scrutiny.results_db import SEVERITIES, FindingRow, ResultsDB, TargetRow

CONFIDENCES = ("high", "medium", "low")


@dataclass(frozen=True, slots=True)
class PackageLine:
    row: TargetRow
    worst: FindingRow | None  # the most severe, most confident finding (first in review order)

    @property
    def rank(self) -> tuple[int, ...]:
        """Sorts worst first: most high findings, then medium, then low."""
        return (-self.row.high, -self.row.medium, -self.row.low)


@dataclass(frozen=True, slots=True)
class RuleLine:
    rule_id: str
    severity: str  # the worst severity it was reported at
    findings: int
    packages: int
    example_target: str  # the worst-ranked package it was reported in
    example: FindingRow  # its first finding there


@dataclass
class Summary:
    database: str
    targets: int = 0
    reviewed: int = 0
    failed: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # findings by severity
    scrutiny_versions: list[str] = field(default_factory=list)
    packages: list[PackageLine] = field(default_factory=list)  # reviewed, worst first
    failures: list[TargetRow] = field(default_factory=list)
    rules: list[RuleLine] = field(default_factory=list)  # worst severity first, then most findings


def _severity_rank(label: str) -> int:
    return SEVERITIES.index(label) if label in SEVERITIES else len(SEVERITIES)


def _worst(findings: list[FindingRow]) -> FindingRow | None:
    def rank(finding: FindingRow) -> tuple[int, int, int]:
        confidence = CONFIDENCES.index(finding.confidence) if finding.confidence in CONFIDENCES else 3
        return (_severity_rank(finding.severity), confidence, finding.position)

    defects = [f for f in findings if f.severity != "info"]
    return min(defects, key=rank) if defects else None


def summarize(db: ResultsDB) -> Summary:
    latest: dict[str, tuple[str, TargetRow]] = {}
    for key, row in db.targets():  # oldest first: a later row replaces an earlier one
        latest[row.target] = (key, row)
    findings = db.all_findings()
    summary = Summary(database=db.url, targets=len(latest))
    summary.scrutiny_versions = sorted({row.scrutiny_version for _, row in latest.values()})
    counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    by_rule: dict[str, list[tuple[PackageLine, FindingRow]]] = defaultdict(list)
    for key, row in latest.values():
        if row.status != "reviewed":
            summary.failures.append(row)
            continue
        found = findings.get(key, [])
        line = PackageLine(row, _worst(found))
        summary.packages.append(line)
        for finding in found:
            counts[finding.severity] = counts.get(finding.severity, 0) + 1
            by_rule[finding.rule_id].append((line, finding))
    summary.reviewed = len(summary.packages)
    summary.failed = len(summary.failures)
    summary.counts = counts
    summary.packages.sort(key=lambda p: (p.rank, p.row.target))
    summary.failures.sort(key=lambda r: r.target)
    for rule_id, hits in by_rule.items():
        severity = min((f.severity for _, f in hits), key=_severity_rank)
        example = min(hits, key=lambda h: (h[0].rank, h[0].row.target, _severity_rank(h[1].severity), h[1].position))
        packages = len({line.row.target for line, _ in hits})
        summary.rules.append(RuleLine(rule_id, severity, len(hits), packages, example[0].row.target, example[1]))
    summary.rules.sort(key=lambda r: (_severity_rank(r.severity), -r.findings, r.rule_id))
    return summary
