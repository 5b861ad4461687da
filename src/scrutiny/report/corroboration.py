"""One finding per defect: the reports of one defect at one place fold into one finding.

Several reports can describe the same defect. A pattern rule and the taint rule that
traces data to the same call both report it (SQL assembled from strings; untrusted input
reaching that SQL); a taint rule reports a sink once per source of the data; a rule
reports a line once per call on it. The review shows the most specific report (taint over
pattern, then the highest severity, then confidence; a pattern rule that does not defer to
data flow is not outranked by a less severe traced report) and lists the others as its
corroboration. A suppression of any one of them (inline, ``# nosec``, a baseline entry)
hides the whole defect: it is the one defect the user looked at, whichever id they named.
A rule switched off (``--disable``, a file's override) is another matter: it does not run,
so it reports nothing here, and the reports of the rules still on stand for the defect
(switching off a taint rule must not hide the pattern findings on exactly the lines where
untrusted data was traced).

Only what the reports say is compared (rule, weakness, lines, whether data was traced);
nothing here reads the code again.
"""

from __future__ import annotations

from dataclasses import replace

from scrutiny.findings import Corroboration, Finding, Suppressed
from scrutiny.registry import registered

# The suppressions a user writes or accepts; a defect hidden by one of them is hidden
# whichever of its reports the suppression named.
USER_SUPPRESSIONS = ("inline", "nosec", "baseline")
# Sources named in the one-line summary; the rest are counted.
SOURCES_NAMED = 4


def twins() -> dict[str, str]:
    """Pattern rule id -> the taint rule that reports its defect with the path of the data."""
    return {rule_id: rule.traced_by for rule_id, rule in registered().items() if rule.traced_by}


def same_defect(a: Finding, b: Finding, twin_of: dict[str, str]) -> bool:
    """Whether two reports in one file describe one defect.

    One rule: on the same line and about the same weakness (several sources, or several
    calls on the line; a rule whose sinks differ in kind gives each kind its CWE). Two
    rules: their lines overlap and either one is the taint rule the other names as its
    twin, or both are about the same weakness (CWE) and one traced the data there.
    """
    if a.rule_id == b.rule_id:
        return a.location.line == b.location.line and a.cwe == b.cwe
    if a.location.line > b.location.last_line or b.location.line > a.location.last_line:
        return False
    if twin_of.get(a.rule_id) == b.rule_id or twin_of.get(b.rule_id) == a.rule_id:
        return True
    return a.cwe == b.cwe and bool(a.trace or b.trace)


def groups(findings: list[Finding], twin_of: dict[str, str]) -> list[list[int]]:
    """The indexes of ``findings`` (one file's) grouped by defect, each group in input order.

    Reports of one rule and weakness on one line are one defect whatever else holds, so
    each such bucket is compared with the others once, by a sweep over lines: a file's
    cost grows with its findings, not with their square.
    """
    parent = list(range(len(findings)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    buckets: dict[tuple[str, int, int], list[int]] = {}
    for index, finding in enumerate(findings):
        buckets.setdefault((finding.rule_id, finding.cwe, finding.location.line), []).append(index)
    # One stand-in per bucket: its widest span, traced if any member is.
    stand_ins: list[tuple[int, Finding]] = []
    for members in buckets.values():
        for other in members[1:]:
            parent[root(other)] = root(members[0])
        widest = max(members, key=lambda i: findings[i].location.last_line)
        traced = next((findings[i] for i in members if findings[i].trace), None)
        stand_in = findings[widest] if traced is None else replace(traced, location=findings[widest].location)
        stand_ins.append((members[0], stand_in))
    stand_ins.sort(key=lambda item: item[1].location.line)
    open_spans: list[tuple[int, Finding]] = []
    for index, finding in stand_ins:
        open_spans = [(i, f) for i, f in open_spans if f.location.last_line >= finding.location.line]
        for other, other_finding in open_spans:
            if same_defect(finding, other_finding, twin_of):
                parent[root(index)] = root(other)
        open_spans.append((index, finding))
    grouped: dict[int, list[int]] = {}
    for index in range(len(findings)):
        grouped.setdefault(root(index), []).append(index)
    return list(grouped.values())


def rank(finding: Finding) -> tuple[object, ...]:
    """Most specific first: traced, then severity, then confidence, then where the data
    enters (file, kind of source, line); the rest only makes the order total.

    The kind of source comes before its line so that moving code around in a file does not
    change which report is shown, nor with it the finding's fingerprint.
    """
    source = finding.trace[0] if finding.trace else None
    loc = finding.location
    return (
        not finding.trace,
        -finding.severity,
        -finding.confidence,
        (source.path, source.message, source.line, source.col) if source else ("", "", 0, 0),
        loc.col,
        finding.rule_id,
        loc.end_line,
        loc.end_col,
        finding.message,
        tuple((s.path, s.line, s.col, s.message) for s in finding.trace),
    )


def _most_specific_first(
    members: list[tuple[Finding, Suppressed | None]], twin_of: dict[str, str]
) -> list[tuple[Finding, Suppressed | None]]:
    """The reports of one defect by ``rank``; except that a pattern rule which does not
    defer to data flow (it names no twin: pickle.loads is a risk whatever feeds it) keeps
    its severity, so it comes first when it is more severe than every traced report."""
    ordered = sorted(members, key=lambda m: rank(m[0]))
    standing = [m for m in ordered if not m[0].trace and m[0].rule_id not in twin_of]
    if standing and standing[0][0].severity > ordered[0][0].severity:
        ordered.remove(standing[0])
        ordered.insert(0, standing[0])
    return ordered


def corroboration(finding: Finding) -> Corroboration:
    source = finding.trace[0] if finding.trace else None
    return Corroboration(
        finding.rule_id,
        finding.severity,
        finding.confidence,
        finding.location.line,
        finding.message,
        finding.fingerprint,
        source,
    )


def fold(
    kept: list[Finding], suppressed: list[Suppressed], twin_of: dict[str, str] | None = None
) -> tuple[list[Finding], list[Suppressed]]:
    """One file's findings, one per defect, and its suppressed records.

    ``kept`` are the findings that stand, ``suppressed`` those hidden so far. Each group of
    reports of one defect becomes its most specific report with the others attached; the
    others are recorded as hidden duplicates of it. A group with a report the user
    suppressed is hidden as a whole, for that suppression's reason. ``twin_of`` is
    ``twins()``, passed in by a caller that folds many files.
    """
    if len(kept) + len(suppressed) < 2:
        return list(kept), list(suppressed)
    by_user = [s for s in suppressed if s.by in USER_SUPPRESSIONS]
    records = [s for s in suppressed if s.by not in USER_SUPPRESSIONS]
    members: list[tuple[Finding, Suppressed | None]] = [(f, None) for f in kept] + [(s.finding, s) for s in by_user]
    shown: list[Finding] = []
    twin_of = twins() if twin_of is None else twin_of
    for group in groups([finding for finding, _ in members], twin_of):
        if len(group) == 1:
            finding, record = members[group[0]]
            if record is None:
                shown.append(finding)
            else:
                records.append(record)
            continue
        ordered = _most_specific_first([members[i] for i in group], twin_of)
        primary = ordered[0][0]
        merged = replace(primary, corroborated_by=tuple(corroboration(f) for f, _ in ordered[1:]))
        hiders: list[tuple[Finding, Suppressed]] = [(f, s) for f, s in ordered if s is not None]
        if hiders:
            hiders.sort(key=lambda m: USER_SUPPRESSIONS.index(m[1].by))
            finding, record = hiders[0]
            reason = record.reason if finding is primary else f"{record.reason} (reported as {finding.rule_id})"
            records.append(Suppressed(merged, reason, record.by))
        else:
            shown.append(merged)
        where = f"{primary.rule_id} at line {primary.location.line}"
        for finding, _ in ordered[1:]:
            records.append(Suppressed(finding, f"the same defect as {where}, listed with it", "duplicate"))
    return shown, records


def summary(finding: Finding) -> str:
    """The corroboration in one line: "also: SCR105 (line 9) ...; 4 more sources: ..."."""
    sources = [c for c in finding.corroborated_by if c.rule_id == finding.rule_id and c.source is not None]
    others = [c for c in finding.corroborated_by if c not in sources]
    parts: list[str] = []
    if others:
        described = (f"{c.rule_id} (line {c.line}, {c.severity.label}) {c.message}" for c in others)
        parts.append("also: " + "; ".join(described))
    if sources:
        named = [_source_text(c, finding.location.path) for c in sources[:SOURCES_NAMED]]
        rest = len(sources) - len(named)
        noun = "source" if len(sources) == 1 else "sources"
        parts.append(f"{len(sources)} more {noun}: " + ", ".join(named) + (f" and {rest} more" if rest else ""))
    return "; ".join(parts)


def _source_text(corroborating: Corroboration, path: str) -> str:
    source = corroborating.source
    assert source is not None
    what = source.message.removeprefix("source: ")
    where = f"line {source.line}" if source.path == path else f"{source.path}:{source.line}"
    return f"{what} at {where} ({corroborating.severity.label})"
