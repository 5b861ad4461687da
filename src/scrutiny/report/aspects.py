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
from scrutiny.registry import registered

if TYPE_CHECKING:
    from scrutiny.report.compose import FileSummary, Statement

SEVERITY_MEANING = {
    FileKind.TEST: (
        "As test code it may hard-code values, and a disabled assertion is a test-quality note; "
        "dangerous calls still count, one step lower"
    ),
    FileKind.PRODUCTION: "As production code every finding counts at full severity",
    FileKind.SCRIPT: "As a script run by hand its convenience checks are notes; dangerous calls count",
    FileKind.MIGRATION: "As a migration it may hard-code values; dangerous calls count",
    FileKind.EXAMPLE: "As example code its findings count one step lower and secrets are notes",
    FileKind.DOCS: "As documentation code its findings count one step lower",
}
# What was checked and found clean, in plain words, for the aspects no observer writes about.
CLEAN_SENTENCES = {
    Category.INJECTION: "No command, SQL statement, template or code is built from run-time values.",
    Category.DESERIALIZATION: (
        "No data is read with pickle, marshal, an unsafe YAML loader or an XML parser that expands entities."
    ),
    Category.CRYPTOGRAPHY: (
        "No broken hash or cipher, short key, unsigned token or secret from the random module is used."
    ),
    Category.TLS_NETWORK: (
        "No certificate check is turned off, no old protocol is allowed, and no server listens on every interface."
    ),
    Category.FILESYSTEM: (
        "No file is made world-writable or given a predictable temporary name, and no archive is extracted "
        "without a check."
    ),
    Category.CONFIGURATION: "No debug mode, CSRF exemption, open CORS policy or insecure cookie is set.",
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
            sentence = f"{summary.path} ({plural(summary.lines, 'line')}) is {_article(ctx.description)}."
            if summary.python2_repairs:
                sentence += " " + python2_note(summary)
            sentence += f" Evidence: {'; '.join(ctx.reasons)}."
            if ctx.frameworks:
                sentence += f" It uses {', '.join(ctx.frameworks)}."
            if ctx.entry_points:
                entries = ", ".join(f"{e.kind} {e.name} (line {e.line})" for e in ctx.entry_points[:8])
                more = f" and {len(ctx.entry_points) - 8} more" if len(ctx.entry_points) > 8 else ""
                sentence += f" Untrusted input enters through {entries}{more}."
            elif ctx.kind is FileKind.TEST:
                sentence += " No untrusted input enters; the test supplies every value itself."
            else:
                sentence += " No request handler, RPC handler or CLI entry point is recognised in it."
            sentence += f" {SEVERITY_MEANING[ctx.kind]}."
            lines.append(sentence)
        return lines
    kind_counts = Counter(f.context.kind.value for f in reviewed if f.context)
    total_lines = sum(f.lines for f in reviewed)
    ordered = sorted(kind_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = ", ".join(f"{count:,} {kind}" for kind, count in ordered)
    lines.append(f"{len(reviewed):,} files with {total_lines:,} lines were reviewed ({parts}).")
    frameworks = Counter(fw for f in reviewed if f.context for fw in f.context.frameworks[:1])
    if frameworks:
        named = ", ".join(f"{name} ({plural(n, 'file')})" for name, n in frameworks.most_common(5))
        lines.append(f"The frameworks are {named}.")
    entry_kinds = Counter(e.kind for f in reviewed if f.context for e in f.context.entry_points)
    if entry_kinds:
        lines.append(
            "Untrusted input enters through "
            + ", ".join(plural(n, f"{kind} function") for kind, n in sorted(entry_kinds.items()))
            + "."
        )
    repaired = [f.path for f in reviewed if f.python2_repairs]
    if repaired:
        more = f" and {len(repaired) - 5:,} more" if len(repaired) > 5 else ""
        lines.append(
            f"{plural(len(repaired), 'file')} {'is' if len(repaired) == 1 else 'are'} Python 2 code, reviewed after "
            "a line-by-line repair to Python 3 syntax "
            f"that keeps every line number: {', '.join(repaired[:5])}{more}."
        )
    lines.append(
        "Severity follows each file's kind: test, example and docs code count lower and tolerate hard-coded "
        "values; production code counts in full."
    )
    return lines


def plural(count: int, noun: str) -> str:
    """'1 line', '2 lines', '1,518 files'."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


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
    # 'production code' and 'documentation code' are mass nouns: 'is Flask production code'.
    if phrase.endswith(" code"):
        return phrase
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
        # The rules that ran are listed by id in JSON (checked_rules); the review says what they rule out.
        covered = any(category in rule.categories() for rule in registered().values())
        statements.append(
            _statement(
                CLEAN_SENTENCES.get(category, "Nothing found.") if covered else "No rule checks this aspect yet."
            )
        )
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
        shown = f" ({', '.join(values[:6])})" if values else (f" ({group[0].message})" if len(group) == 1 else "")
        judgement = f"{severity}, since {note}" if note else f"{severity}, reported below"
        if severity == "info" and note:
            judgement = f"acceptable here, since {note}"
        statements.append(
            _statement(
                f"{title} ({rule_id}) at {lines_word(citations)}{shown}; {judgement}.",
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
    """Where one function's parameters come from and what they reach, as one sentence."""
    reached = ""
    if sinks:
        places = sorted({f"{kind} at line {line}" for _, kind, line in (s.split(":") for s in sinks.split(";"))})
        reached = f"sinks ({', '.join(places)}) only with data a caller supplies"
    if untrusted:
        where = f"Untrusted data reaches {untrusted.replace(',', ', ')}"
        return f"{where}; the parameters reach {reached}." if reached else f"{where}, but no sink."
    come, reach = ("come", "reach") if "," in params else ("comes", "reaches")
    origin = "the test code" if in_test else "callers in the reviewed code"
    where = f"Followed through the code, {_and(params)} {come} from {origin}, not from an untrusted source,"
    return f"{where} and {reach} {reached or 'no sink'}."


def _and(names: str) -> str:
    """'server, dest_host' as 'server and dest_host'."""
    head, _, last = names.rpartition(", ")
    return f"{head} and {last}" if head else last


def _error_handling(result: FileResult, observations: list[Observation], findings: list[Finding]) -> list[Statement]:
    out: list[Statement] = []
    path = result.path
    for check in (o for o in observations if o.kind == "error-state-checks"):
        waits = [c for c in check.citations if c.role == "error-wait"]
        asserts = [c for c in check.citations if c.role == "error-assertion"]
        text = f"{dict(check.data)['function']} checks the expected error state"
        if waits:
            text += f"; it waits for the error status at {lines_word(waits)} and"
        text += f"{'' if waits else '; it'} asserts it at {lines_word(asserts)}."
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
            "The code is test code. It assumes a controlled environment and its inputs come from the test itself, "
            "so nothing in it is reachable by an attacker."
        )
    notes = [f for f in findings if not f.is_defect]
    if notes:
        by_rule = Counter(f.rule_id for f in notes)
        listed = ", ".join(f"{n} {rule_id}" for rule_id, n in sorted(by_rule.items()))
        reasons.append(
            f"{plural(len(notes), 'note')} at info level ({listed}) "
            f"{'is' if len(notes) == 1 else 'are'} acceptable in context or concern test quality; "
            "none is a security defect."
        )
    hidden = Counter(s.by for s in suppressed if s.by != "duplicate")  # defects: a folded report is not one more
    if hidden:
        how = ", ".join(f"{n} {HIDDEN_HOW[by]}" for by, n in sorted(hidden.items()))
        reasons.append(
            f"{plural(sum(hidden.values()), 'finding')} {'was' if sum(hidden.values()) == 1 else 'were'} "
            f"hidden ({how}); JSON lists them."
        )
    lines = sum(f.lines for f in files)
    reasons.append(f"All {len(Category)} aspects were checked across {plural(lines, 'line')}.")
    return reasons


# How a finding came to be hidden, by the mechanism recorded in Suppressed.by.
HIDDEN_HOW = {
    "context": "by file context",
    "duplicate": "as another report of a defect listed once",
    "inline": "by inline suppression",
    "nosec": "by # nosec",
    "min-severity": "below the minimum severity",
    "baseline": "by the baseline",
}
