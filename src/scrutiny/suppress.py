"""What the per-file review keeps of the rules' findings: enabled rules only, minus inline
suppressions (``# scrutiny: ignore[ID] reason``) and, when honoured, Bandit's ``# nosec``;
plus a finding for each suppression that suppressed nothing (SCR605).

When ``# nosec`` is not honoured, a medium or high finding on a statement that a ``# nosec``
(bare, or naming the rule's Bandit id) or ``# noqa: S...`` (naming its Ruff code) marks is
lowered to low, saying so: the maintainers reviewed that line for the peer tool and kept it.

A suppression covers its own line and the whole statement it belongs to, so a comment at
the end of a call spread over several lines hides a finding on any of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from scrutiny.config import FilePolicy, Plan, every_rule
from scrutiny.discover import Input
from scrutiny.findings import FileResult, Finding, Severity, Suppressed
from scrutiny.rules import registered
from scrutiny.rules.suppressions import SuppressionWithoutReason, UnusedSuppression
from scrutiny.source import SourceFile

NOSEC = re.compile(r"#\s*nosec\b(.*)$", re.IGNORECASE)
BANDIT_ID = re.compile(r"\bB\d{3}\b")
NOQA = re.compile(r"#\s*noqa\s*:\s*([A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)", re.IGNORECASE)
RUFF_S = re.compile(r"^S\d{3}$")
ACKNOWLEDGED = "the maintainers marked this line as reviewed for {peer} ({mark} at line {line}), so it is weighed as deliberate"
UNUSED_ID = UnusedSuppression.id
# Findings about suppression comments: a bare # nosec must not hide the report on itself.
ABOUT_SUPPRESSIONS = frozenset({UNUSED_ID, SuppressionWithoutReason.id})
UNUSED_NAMES = re.compile(r"^ignore\[([A-Z0-9_-]+)\]")


def nosec_lines(src: SourceFile) -> dict[int, frozenset[str]]:
    """Line -> the Bandit ids its ``# nosec`` names (empty: every finding on the line)."""
    found: dict[int, frozenset[str]] = {}
    for comment in src.comments:
        match = NOSEC.search(comment.text)
        if match:
            found[comment.line] = frozenset(BANDIT_ID.findall(match.group(1).split("#", 1)[0].upper()))
    return found


def peer_marks(src: SourceFile) -> dict[int, tuple[str, frozenset[str]]]:
    """Line -> (the comment, the peer rule ids it names) for each ``# nosec`` (Bandit ids;
    empty: every check) and ``# noqa: S...`` (Ruff's security codes) in the file."""
    found: dict[int, tuple[str, frozenset[str]]] = {}
    for comment in src.comments:
        if match := NOSEC.search(comment.text):
            ids = frozenset(BANDIT_ID.findall(match.group(1).split("#", 1)[0].upper()))
            found[comment.line] = ("# nosec" + (" " + ", ".join(sorted(ids)) if ids else ""), ids)
        elif match := NOQA.search(comment.text):
            codes = frozenset(c.upper() for c in re.split(r"[\s,]+", match.group(1).strip()) if RUFF_S.match(c.upper()))
            if codes:
                found[comment.line] = ("# noqa: " + ", ".join(sorted(codes)), codes)
    return found


def _statement_lines(src: SourceFile, finding: Finding) -> range:
    line, end = finding.location.line, finding.location.end_line
    start, stop = src.statement_span(line)
    return range(min(start, line), max(stop, end) + 1)


@dataclass
class _Settler:
    src: SourceFile
    policy: FilePolicy
    nosec: dict[int, frozenset[str]]
    kept: list[Finding] = field(default_factory=list)
    hidden: list[Suppressed] = field(default_factory=list)
    used: set[tuple[int, str]] = field(default_factory=set)  # (suppression line, rule id)
    marks: dict[int, tuple[str, frozenset[str]]] | None = None  # peer markers, read on first need

    def place(self, finding: Finding) -> None:
        suppression = self.src.suppression_for(finding.location.line, finding.location.end_line, finding.rule_id)
        if suppression is not None:
            self.used.add((suppression.line, finding.rule_id))
            reason = suppression.reason or "no reason given"
            self.hidden.append(Suppressed(finding, f"suppressed inline at line {suppression.line}: {reason}", "inline"))
            return
        line = self._nosec(finding)
        if line:
            self.hidden.append(Suppressed(finding, f"hidden by # nosec at line {line} (honor-nosec is on)", "nosec"))
            return
        self.kept.append(self._acknowledged(finding))

    def _acknowledged(self, finding: Finding) -> Finding:
        """A finding above low on a statement whose # nosec or # noqa: S... names this rule's
        peer (or is bare) is lowered: the maintainers looked at it and kept it on purpose."""
        if finding.severity <= Severity.LOW or finding.rule_id in ABOUT_SUPPRESSIONS:
            return finding
        rule = registered().get(finding.rule_id)
        if rule is None:
            return finding
        marks = self.marks if self.marks is not None else peer_marks(self.src)
        self.marks = marks
        if not marks:
            return finding
        for number in _statement_lines(self.src, finding):
            mark = marks.get(number)
            if mark is None:
                continue
            text, ids = mark
            peer = "Bandit" if text.startswith("# nosec") else "Ruff"
            if (not ids and peer == "Bandit") or ids & frozenset((*rule.bandit, *rule.ruff)):
                note = ACKNOWLEDGED.format(peer=peer, mark=text, line=number)
                return replace(finding, severity=Severity.LOW, default_severity=finding.severity, context_note=note)
        return finding

    def _nosec(self, finding: Finding) -> int:
        if not self.nosec or finding.rule_id in ABOUT_SUPPRESSIONS:
            return 0
        rule = registered().get(finding.rule_id)
        peers = frozenset(rule.bandit) if rule is not None else frozenset()
        for number in _statement_lines(self.src, finding):
            ids = self.nosec.get(number)
            if ids is not None and (not ids or ids & peers):
                return number
        return 0


def settle(src: SourceFile, findings: Iterable[Finding], policy: FilePolicy) -> tuple[list[Finding], list[Suppressed]]:
    """The findings of enabled rules that stay, and those suppressions hide (with the reason)."""
    settler = _Settler(src, policy, nosec_lines(src) if policy.honor_nosec else {})
    for finding in findings:
        if finding.rule_id in policy.enabled:
            settler.place(finding)
    if UNUSED_ID in policy.enabled:
        for finding in unused(src, settler.used, policy.enabled):
            settler.place(finding)
    return settler.kept, settler.hidden


def unused(src: SourceFile, used: set[tuple[int, str]], enabled: frozenset[str]) -> list[Finding]:
    """An SCR605 finding per rule id a suppression names that reported nothing under it."""
    known = registered()
    rule = UnusedSuppression()
    found: list[Finding] = []
    for line, suppression in sorted(src.suppressions.items()):
        for rule_id in sorted(suppression.rule_ids):
            if rule_id == UNUSED_ID or (line, rule_id) in used:
                continue
            if rule_id in known and rule_id not in enabled:
                continue  # switched off for this file: it could not fire, so the comment is not stale
            found.append(rule.report(src, line, rule_id, rule_id in known))
    return found


def settle_linked(
    findings: list[Finding],
    results: list[FileResult],
    items: list[Input],
    plan: Plan,
    load: Callable[[str], SourceFile | None],
) -> None:
    """Give each cross-module finding to its file's result, after that file's suppressions.

    The linker runs after the per-file review, so the sink file is read again (only files
    with such a finding); a suppression one of these findings uses is no longer unused.
    """
    by_result = {result.path: result for result in results}
    by_item = {item.display: item for item in items}
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.location.path in by_result:
            by_path.setdefault(finding.location.path, []).append(finding)
    for path, group in by_path.items():
        item = by_item.get(path)
        policy = plan.policy(item.path, item.display) if item is not None else every_rule()
        group = [f for f in group if f.rule_id in policy.enabled]
        result = by_result[path]
        src = load(path) if group and result.has_suppressions else None
        if src is None:
            result.findings.extend(group)
            continue
        settler = _Settler(src, policy, nosec_lines(src) if policy.honor_nosec else {})
        for finding in group:
            settler.place(finding)
        result.findings = [f for f in result.findings if not _now_used(f, settler.used)] + settler.kept
        result.suppressed.extend(settler.hidden)


def _now_used(finding: Finding, used: set[tuple[int, str]]) -> bool:
    if finding.rule_id != UNUSED_ID:
        return False
    match = UNUSED_NAMES.match(finding.message)
    return match is not None and (finding.location.line, match.group(1)) in used
