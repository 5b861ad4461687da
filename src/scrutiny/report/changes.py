"""The change section of a review (--diff, --patch) and the note a baseline leaves.

A change review compares the findings of the changed files before and after the change,
matched by fingerprint: ``introduced`` are new, ``fixed`` were there before and are gone,
``unchanged`` are in both. A finding that folds several reports of one defect matches by
any of them (``classify``). The verdict then speaks about the change while staying honest
about the code: a change that adds nothing but leaves old defects is not called clean.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from scrutiny.findings import Finding, Severity

if TYPE_CHECKING:
    from scrutiny.report.compose import Review


@dataclass(frozen=True, slots=True)
class ChangedFile:
    status: str  # added, modified, deleted, renamed
    old_path: str | None
    new_path: str | None

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""

    def describe(self) -> str:
        if self.status == "renamed":
            return f"{self.old_path} -> {self.new_path} (renamed)"
        return f"{self.path} ({self.status})"


@dataclass
class ChangeSection:
    mode: str  # diff, patch or upgrade
    base: str  # the revision (--diff), the patch file (--patch) or NAME OLD -> NEW (upgrade)
    files: list[ChangedFile]
    introduced: list[Finding] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)  # as found before the change (lines of the old version)
    unchanged: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # An upgrade: install- and import-time behaviour that appeared or disappeared, as
    # (appeared|disappeared, install|import, description).
    behaviour: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {"introduced": len(self.introduced), "fixed": len(self.fixed), "unchanged": len(self.unchanged)}

    @cached_property
    def _introduced(self) -> frozenset[str]:
        return frozenset(f.fingerprint for f in self.introduced)

    def introduced_and_fixed(self) -> list[tuple[str, Finding]]:
        """What the change did, as (state, finding): the introduced findings, then the fixed."""
        return [("introduced", f) for f in self.introduced] + [("fixed", f) for f in self.fixed]

    def state(self, finding: Finding) -> str:
        """introduced or unchanged, for a finding of the review (after the change)."""
        return "introduced" if finding.fingerprint in self._introduced else "unchanged"

    def exit_code(self, reviewed: bool) -> int:
        """1 only for a defect the change introduces; 2 when no changed file that still exists could be read."""
        if any(f.is_defect for f in self.introduced):
            return 1
        if not reviewed and any(f.new_path for f in self.files):
            return 2
        return 0

    def title(self) -> str:
        if self.mode == "upgrade":
            return f"Upgrade of {self.base}: {len(self.files)} Python file(s) changed"
        what = f"since {self.base}" if self.mode == "diff" else f"in the patch {self.base}"
        return f"Change {what}: {len(self.files)} Python file(s)"


@dataclass(frozen=True, slots=True)
class BaselineNote:
    path: str
    entries: int
    hidden: int

    def sentence(self) -> str:
        return f"{self.hidden} finding(s) accepted in the baseline {self.path} are hidden ({self.entries} entries)."


def reports(finding: Finding) -> set[str]:
    """The fingerprints of every report of the finding's defect: its own and its corroboration's."""
    return {finding.fingerprint, *(c.fingerprint for c in finding.corroborated_by)}


def classify(before: list[Finding], after: list[Finding]) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """(introduced, fixed, unchanged): a defect after the change is the one before it when
    they share a report (the same rule and source at the same code). A finding whose shown
    report is new is introduced unless it matches a defect as severe before it: a source
    added to a reported sink introduces nothing unless it makes the defect more severe, and
    a source removed from it fixes nothing while another source still reaches it."""
    earlier: dict[str, Finding] = {}  # fingerprint of a report -> the most severe defect before with it
    for finding in before:
        for report in reports(finding):
            if report not in earlier or finding.severity > earlier[report].severity:
                earlier[report] = finding
    introduced: list[Finding] = []
    unchanged: list[Finding] = []
    later: set[str] = set()
    for finding in after:
        matched = [earlier[p] for p in reports(finding) if p in earlier]
        new = finding.fingerprint not in earlier and all(finding.severity > old.severity for old in matched)
        (introduced if new else unchanged).append(finding)
        later |= reports(finding)
    fixed = [f for f in before if reports(f).isdisjoint(later)]
    return introduced, fixed, unchanged


def _tally(findings: list[Finding]) -> str:
    counts = Counter(f.severity for f in findings)
    return ", ".join(f"{counts[s]} {s.label}" for s in sorted(Severity, reverse=True) if counts.get(s))


def change_verdict(review: Review, clean_verdict: str) -> tuple[str, list[str]]:
    """The verdict of a change review (the review's findings are those of the changed files)."""
    change = review.change
    assert change is not None
    introduced = [f for f in change.introduced if f.is_defect]
    remaining = [f for f in review.defects if f not in introduced]
    fixed = [f for f in change.fixed if f.is_defect]
    reasons: list[str] = []
    if fixed:
        reasons.append(f"The change fixes {len(fixed)} defect(s) present before it ({_tally(fixed)}).")
    if review.errors:
        reasons.append(
            f"{len(review.errors)} input(s) could not be reviewed (see errors), so the review is incomplete."
        )
    reasons.extend(change.notes)
    if not change.files:
        return "The change touches no Python file under review; there is nothing to review.", reasons
    if introduced:
        if remaining:
            reasons.insert(
                0, f"{len(remaining)} defect(s) already present before the change remain ({_tally(remaining)})."
            )
        noun = "defect" if len(introduced) == 1 else "defects"
        return f"The change introduces {len(introduced)} security {noun}: {_tally(introduced)}.", reasons
    if remaining:
        return (
            f"The change introduces no security defects, but {len(remaining)} defect(s) already present before it "
            f"remain in the changed files: {_tally(remaining)}.",
            reasons,
        )
    if review.errors:
        return "The change introduces no security defects in the files that could be reviewed.", reasons
    if not review.reviewed:
        return "The change only deletes files; it introduces no security defects.", reasons
    return clean_verdict, ["The change introduces no security defects.", *reasons]


def baseline_verdict(review: Review, verdict: str, clean_verdict: str) -> str:
    """A review whose only defects were hidden by a baseline is not called free of defects."""
    note = review.baseline
    if note is None or verdict != clean_verdict:
        return verdict
    accepted = sum(
        1 for s in review.suppressed if s.finding.is_defect and s.reason.startswith("accepted in the baseline")
    )
    if not accepted:
        return verdict
    return f"No security defects are detected beyond the {accepted} accepted in the baseline {note.path}."
