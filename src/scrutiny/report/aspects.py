"""The review's sentences: what the code is, each aspect's statements, why it is clean.

Each writer turns observations and findings into Statements that cite their lines.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from scrutiny.context import FileKind
from scrutiny.findings import Category, Citation, FileResult, Finding, Observation, Suppressed
from scrutiny.rules import registered

if TYPE_CHECKING:
    from scrutiny.report.compose import FileSummary, Statement

SEVERITY_MEANING = {
    FileKind.TEST: (
        "it is weighed as test code: hard-coded values are expected there and disabled assertions are "
        "test-quality notes, while dangerous calls still count, one step lower"
    ),
    FileKind.PRODUCTION: "it is weighed as production code: every finding counts at full severity",
    FileKind.SCRIPT: "it is weighed as a script run by hand: convenience checks are notes, dangerous calls count",
    FileKind.MIGRATION: "it is weighed as a migration: hard-coded values are expected, dangerous calls count",
    FileKind.EXAMPLE: "it is weighed as example code: findings count one step lower, secrets are notes",
    FileKind.DOCS: "it is weighed as documentation code: findings count one step lower",
}
QUOTED = re.compile(r"'[^']{1,60}'")


def format_lines(citations: Iterable[Citation | tuple[int, int]]) -> str:
    """'55-56, 59, 62, 67-68': spans that touch or overlap are merged."""
    spans = sorted({(c.start, c.end) if isinstance(c, Citation) else c for c in citations})
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return ", ".join(f"{s}" if s == e else f"{s}-{e}" for s, e in merged)


def lines_word(citations: Iterable[Citation | tuple[int, int]]) -> str:
    text = format_lines(citations)
    return ("lines " if ("," in text or "-" in text) else "line ") + text


def _statement(text: str, citations: Iterable[Citation] = (), path: str = "") -> Statement:
    from scrutiny.report.compose import Statement

    return Statement(text, tuple(citations), path)


# What the code is ---------------------------------------------------------------------


def overview(files: list[FileSummary]) -> list[str]:
    reviewed = [f for f in files if f.context is not None]
    lines: list[str] = []
    if len(reviewed) <= 10:
        for summary in reviewed:
            assert summary.context is not None
            ctx = summary.context
            sentence = f"{summary.path} ({summary.lines} lines) is {_article(ctx.description)}."
            if summary.python2_repairs:
                sentence += " " + python2_note(summary)
            sentence += f" Evidence: {'; '.join(ctx.reasons)}."
            if ctx.frameworks:
                sentence += f" Framework: {', '.join(ctx.frameworks)}."
            if ctx.entry_points:
                entries = ", ".join(f"{e.kind} {e.name} (line {e.line})" for e in ctx.entry_points[:8])
                more = f" and {len(ctx.entry_points) - 8} more" if len(ctx.entry_points) > 8 else ""
                sentence += f" Untrusted input enters through {entries}{more}."
            elif ctx.kind is FileKind.TEST:
                sentence += " No untrusted input enters: the test supplies every value itself."
            else:
                sentence += " No request handler, RPC handler or CLI entry point is recognised in it."
            sentence += f" This matters for severity: {SEVERITY_MEANING[ctx.kind]}."
            lines.append(sentence)
        return lines
    kind_counts = Counter(f.context.kind.value for f in reviewed if f.context)
    total_lines = sum(f.lines for f in reviewed)
    ordered = sorted(kind_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = ", ".join(f"{count:,} {kind}" for kind, count in ordered)
    lines.append(f"{len(reviewed):,} files with {total_lines:,} lines were reviewed: {parts}.")
    frameworks = Counter(fw for f in reviewed if f.context for fw in f.context.frameworks[:1])
    if frameworks:
        lines.append("Frameworks: " + ", ".join(f"{name} ({n:,} files)" for name, n in frameworks.most_common(5)) + ".")
    entry_kinds = Counter(e.kind for f in reviewed if f.context for e in f.context.entry_points)
    if entry_kinds:
        lines.append(
            "Untrusted input enters through "
            + ", ".join(f"{n:,} {kind} function(s)" for kind, n in sorted(entry_kinds.items()))
            + "."
        )
    repaired = [f.path for f in reviewed if f.python2_repairs]
    if repaired:
        more = f" and {len(repaired) - 5:,} more" if len(repaired) > 5 else ""
        lines.append(
            f"{len(repaired):,} file(s) are Python 2 code, reviewed after a line-by-line repair to Python 3 syntax "
            f"that keeps every line number: {', '.join(repaired[:5])}{more}."
        )
    lines.append(
        "Severity follows each file's kind: test, example and docs code count lower and tolerate hard-coded "
        "values; production code counts in full."
    )
    return lines


def python2_note(summary: FileSummary) -> str:
    """What the file header says about a Python 2 file reviewed after its repair."""
    by_construct: dict[str, list[int]] = {}
    for repair in summary.python2_repairs:
        by_construct.setdefault(repair.construct, []).append(repair.line)
    parts = []
    for construct, numbers in by_construct.items():  # a dozen kinds at most
        shown = ", ".join(str(n) for n in numbers[:5]) + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")
        parts.append(f"{construct} on line{'s' if len(numbers) > 1 else ''} {shown}")
    return (
        "It is Python 2 code, reviewed after a line-by-line repair to Python 3 syntax that keeps every line "
        f"number ({'; '.join(parts)})."
    )


def _article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


# Aspects ------------------------------------------------------------------------------


def write(
    category: Category,
    results: list[FileResult],
    observations: list[tuple[FileResult, Observation]],
    findings: list[Finding],
) -> list[Statement]:
    statements: list[Statement] = []
    by_file: dict[str, list[Observation]] = defaultdict(list)
    for result, observation in observations:
        by_file[result.path].append(observation)
    findings_by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        findings_by_file[finding.location.path].append(finding)
    writer = WRITERS.get(category)
    for result in results:
        own = by_file.get(result.path, [])
        own_findings = findings_by_file.get(result.path, [])
        if writer is not None:
            statements.extend(writer(result, own, own_findings))
        statements.extend(_finding_statements(own_findings))
    if not findings and not statements:
        titles = sorted({rule.title() for rule in registered().values() if category in rule.categories()})
        checked = "; ".join(titles) if titles else "no rule of this category yet"
        statements.append(_statement(f"Checked ({checked}); nothing found."))
    elif not findings and writer is None:
        statements.append(_statement("Nothing found."))
    return statements


def _finding_statements(findings: list[Finding]) -> list[Statement]:
    grouped: dict[tuple[str, str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        grouped[(finding.rule_id, finding.severity.label, finding.context_note)].append(finding)
    statements: list[Statement] = []
    for (rule_id, severity, note), group in sorted(grouped.items()):
        rule = registered().get(rule_id)
        title = rule.title() if rule else rule_id
        citations = [
            Citation(f.location.path, f.location.line, f.location.last_line, "finding", f.rule_id) for f in group
        ]
        values = sorted({v for f in group for v in QUOTED.findall(f.message)})
        shown = f": {', '.join(values[:6])}" if values else (f": {group[0].message}" if len(group) == 1 else "")
        judgement = f"{severity}, {note}" if note else f"{severity}, reported below"
        if severity == "info" and note:
            judgement = f"acceptable here: {note}"
        statements.append(
            _statement(
                f"{title} ({rule_id}) at {lines_word(citations)}{shown} ({judgement}).",
                citations,
                group[0].location.path,
            )
        )
    return statements


def _prefix(result: FileResult, multi: bool) -> str:
    return f"{result.path}: " if multi else ""


def _input_validation(result: FileResult, observations: list[Observation], findings: list[Finding]) -> list[Statement]:
    out: list[Statement] = []
    path = result.path
    context = result.context
    in_test = context is not None and context.kind is FileKind.TEST
    entries = [o for o in observations if o.kind == "entry-point"]
    for entry in entries:
        out.append(
            _statement(
                f"Untrusted input enters at line {entry.citations[0].start}: {entry.text}.", entry.citations, path
            )
        )
    sources = [o for o in observations if o.kind == "source"]
    if sources:
        kinds = sorted({o.text for o in sources})
        cites = [c for o in sources for c in o.citations]
        out.append(_statement(f"Reads untrusted data at {lines_word(cites)}: {'; '.join(kinds[:4])}.", cites, path))
    for flow in (o for o in observations if o.kind == "parameter-flow"):
        header = flow.citations[0]
        api = [c for c in flow.citations if c.role == "api-call"]
        checks = [c for c in flow.citations if c.role == "assertion"]
        callers = [c for c in flow.citations if c.role == "call-site"]
        data = dict(flow.data)
        params = data["params"].replace(",", ", ")
        text = (
            f"{data['function']}({params}) at line {header.start} passes its parameters "
            f"to API calls at {lines_word(api)}"
        )
        if checks:
            text += f" and checks them in assertions at {lines_word(checks)}"
        text += "."
        for caller in callers[:3]:
            text += f" It is called at line {caller.start} with {caller.detail}."
        text += " " + _traced(params, data.get("sinks", ""), data.get("untrusted", ""), in_test)
        out.append(_statement(text, flow.citations, path))
    out.extend(_authorization(observations, findings, path))
    if context is not None and not entries and not sources:
        if in_test:
            out.append(
                _statement(
                    "In test code these values come from the test itself (literals, fixtures and helper calls), "
                    "not from an untrusted source, and they reach no dangerous sink.",
                    path=path,
                )
            )
        else:
            out.append(
                _statement(
                    "No untrusted source (request data, CLI arguments, environment, console input) is read in this "
                    "file, so no unvalidated input reaches a sink within it.",
                    path=path,
                )
            )
    return out


def _authorization(observations: list[Observation], findings: list[Finding], path: str) -> list[Statement]:
    """One sentence on which handlers check the caller's rights and with which idiom."""
    handlers = [o for o in observations if o.kind == "authorization"]
    checked = [o for o in handlers if dict(o.data)["idiom"]]
    if not handlers:
        return []
    idioms = Counter(dict(o.data)["idiom"] for o in checked)
    cites = [c for o in checked for c in o.citations if c.role == "authorization-check"]
    text = f"{len(checked)} of {len(handlers)} request handler(s) check authorization"
    text += f" ({', '.join(f'{i} {n}x' for i, n in idioms.most_common(3))}) at {lines_word(cites)}" if cites else ""
    unchecked = [dict(o.data)["handler"] for o in handlers if not dict(o.data)["idiom"]]
    if unchecked and not any(f.rule_id == "SCR930" for f in findings):
        text += f"; {', '.join(unchecked[:4])}{' and others' if len(unchecked) > 4 else ''} check nothing, which is "
        text += "not reported: their siblings do not check either, or they act on no resource the request names"
    return [_statement(text + ".", cites, path)]


def _traced(params: str, sinks: str, untrusted: str, in_test: bool) -> str:
    """What the taint engine found for one function's parameters, as one sentence."""
    origin = "test code" if in_test else "their callers in the reviewed code"
    if untrusted:
        where = f"Untrusted data reaches {untrusted.replace(',', ', ')}"
    else:
        where = f"The taint engine traced {params}: they come from {origin}, not from an untrusted source,"
    if not sinks:
        return f"{where} and reach no sink." if not untrusted else f"{where}, but no sink."
    reached = sorted({f"{kind} at line {line}" for _, kind, line in (s.split(":") for s in sinks.split(";"))})
    return f"{where} and reach sinks ({', '.join(reached)}) only with data a caller supplies."


def _error_handling(result: FileResult, observations: list[Observation], findings: list[Finding]) -> list[Statement]:
    out: list[Statement] = []
    path = result.path
    for check in (o for o in observations if o.kind == "error-state-checks"):
        waits = [c for c in check.citations if c.role == "error-wait"]
        asserts = [c for c in check.citations if c.role == "error-assertion"]
        text = f"{dict(check.data)['function']} checks the expected error state"
        if waits:
            text += f": it waits for the error status at {lines_word(waits)}"
        text += f"{' and' if waits else ':'} asserts it at {lines_word(asserts)}."
        out.append(_statement(text, check.citations, path))
    handlers = [o for o in observations if o.kind == "handlers"]
    if handlers:
        cites = [c for o in handlers for c in o.citations]
        swallowing = "" if findings else "; none swallows errors silently"
        out.append(_statement(f"Exception handlers at {lines_word(cites)}{swallowing}.", cites, path))
    else:
        out.append(_statement("There is no try/except in the file, so no error is swallowed or hidden.", path=path))
    return out


def _resource_cleanup(result: FileResult, observations: list[Observation], findings: list[Finding]) -> list[Statement]:
    out: list[Statement] = []
    path = result.path
    for check in (o for o in observations if o.kind == "cleanup-checks"):
        region = check.citations[0]
        asserts = check.citations[1:]
        out.append(
            _statement(
                f"{dict(check.data)['function']} checks that resources are cleaned up "
                f"(lines {region.start}-{region.end}; assertions at {lines_word(asserts)}). "
                "This is functional correctness rather than a security control, "
                "though leaked resources could exhaust capacity in a real deployment.",
                check.citations,
                path,
            )
        )
    # A handle that SCR860 reports is cited by its finding; saying it twice adds nothing.
    reported = {f.location.line for f in findings}
    unmanaged = [o for o in observations if o.kind == "unmanaged-handle" and o.citations[0].start not in reported]
    managed = [o for o in observations if o.kind == "managed-handle"]
    for handle in unmanaged[:20]:
        out.append(
            _statement(
                f"A {handle.text} at line {handle.citations[0].start} is not opened in a with block; "
                "make sure it is closed on every path.",
                handle.citations,
                path,
            )
        )
    if managed:
        cites = [c for o in managed for c in o.citations]
        out.append(
            _statement(f"Handles opened in with blocks at {lines_word(cites)} are closed on every path.", cites, path)
        )
    if not findings and not unmanaged and not managed:
        out.append(_statement("No file, socket, process or connection handle is opened in the file.", path=path))
    return out


def _hardcoded(result: FileResult, observations: list[Observation], findings: list[Finding]) -> list[Statement]:
    if any(f.rule_id == "SCR401" for f in findings):
        return []
    return [_statement("No password, key or token is hard-coded.", path=result.path)]


def _disabled(result: FileResult, observations: list[Observation], findings: list[Finding]) -> list[Statement]:
    out: list[Statement] = []
    path = result.path
    for note in (o for o in observations if o.kind == "known-bug"):
        cite = note.citations[0]
        data = dict(note.data)
        out.append(
            _statement(
                f"The {data['marker']} at lines {cite.start}-{cite.end} names bug {data['bug']}.", note.citations, path
            )
        )
    for kind, sentence in (
        ("skipped-test", "Tests are skipped at {lines}."),
        ("dead-branch", "Code that never runs (if False/0) at {lines}."),
        ("commented-out-code", "Other commented-out code (not a check) at {lines}."),
    ):
        cites = [c for o in observations if o.kind == kind for c in o.citations]
        if cites:
            out.append(_statement(sentence.format(lines=lines_word(cites)), cites, path))
    if not out and not findings:
        out.append(
            _statement("No check is commented out, skipped or disabled, and no FIXME/TODO names a bug.", path=path)
        )
    return out


def _logging(result: FileResult, observations: list[Observation], findings: list[Finding]) -> list[Statement]:
    calls = [c for o in observations if o.kind == "log-calls" for c in o.citations]
    if not calls:
        return [_statement("There is no logging in the file, so nothing leaks through logs.", path=result.path)]
    tail = "" if findings else "; none writes a secret"
    return [_statement(f"Logging calls at {lines_word(calls)}{tail}.", calls, result.path)]


Writer = Callable[[FileResult, list[Observation], list[Finding]], list["Statement"]]
WRITERS: dict[Category, Writer] = {
    Category.INPUT_VALIDATION: _input_validation,
    Category.ERROR_HANDLING: _error_handling,
    Category.RESOURCE_CLEANUP: _resource_cleanup,
    Category.HARDCODED_VALUES: _hardcoded,
    Category.DISABLED_CHECKS: _disabled,
    Category.LOGGING: _logging,
}


# Why a clean review is clean -------------------------------------------------------------


def clean_reasons(files: list[FileSummary], findings: list[Finding], suppressed: list[Suppressed]) -> list[str]:
    reasons: list[str] = []
    kinds = Counter(f.context.kind for f in files if f.context)
    if kinds and set(kinds) == {FileKind.TEST}:
        reasons.append(
            "The code is test code: it assumes a controlled environment and its inputs come from the test itself, "
            "so nothing in it is reachable by an attacker."
        )
    notes = [f for f in findings if not f.is_defect]
    if notes:
        by_rule = Counter(f.rule_id for f in notes)
        listed = ", ".join(f"{n} {rule_id}" for rule_id, n in sorted(by_rule.items()))
        reasons.append(
            f"{len(notes)} note(s) at info level ({listed}) are acceptable in their context or concern test "
            "quality; none is a security defect."
        )
    hidden = [s for s in suppressed if s.by != "duplicate"]  # defects: a folded report is not one more
    if hidden:
        reasons.append(f"{len(hidden)} finding(s) were hidden by context or inline suppression (listed in JSON).")
    rules = len(registered())
    lines = sum(f.lines for f in files)
    reasons.append(f"Every aspect above was checked: {rules} rules and the aspect observers ran over {lines:,} lines.")
    return reasons
