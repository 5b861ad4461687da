"""Aspect observers: the facts a review cites when a category is clean.

Rules report defects; observers record what the code does in each aspect (where
parameters go, which assertions check error states, what is cleaned up, what is
logged) so the review can say what was checked and on which lines it rests.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.context import FileContext
from scrutiny.findings import Category, Citation, Observation
from scrutiny.observe_facts import (
    CLEANUP,
    CLIENT,
    ERROR,
    ERROR_WORDS,
    Observer,
    is_assertion,
    last_name,
    position,
)
from scrutiny.source import SourceFile

LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
LOGGER_RECEIVER = re.compile(r"^(log|logger|logging|_log|_logger|LOG|LOGGER)$", re.IGNORECASE)
SKIP_CALLS = frozenset({"skip", "skipTest", "skipIf", "skipUnless", "xfail"})  # the called name's last part
HANDLE_CALLS = {
    "open": "file",
    "io.open": "file",
    "socket.socket": "socket",
    "socket.create_connection": "socket",
    "urllib.request.urlopen": "HTTP response",
    "subprocess.Popen": "process",
    "tempfile.NamedTemporaryFile": "temporary file",
    "tempfile.TemporaryFile": "temporary file",
    "sqlite3.connect": "database connection",
    "zipfile.ZipFile": "archive",
    "tarfile.open": "archive",
    "requests.Session": "HTTP session",
}
HANDLE_TAILS = frozenset(name.rsplit(".", 1)[-1] for name in HANDLE_CALLS)
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def observe(src: SourceFile, context: FileContext) -> list[Observation]:
    observer = Observer(src)
    observations: list[Observation] = []
    observations.extend(_input_validation(observer, context))
    observations.extend(_authorization(src))
    observations.extend(_error_handling(observer))
    observations.extend(_resource_cleanup(observer))
    observations.extend(_disabled_checks(src))
    observations.extend(_logging(src))
    return observations


def _name_in(src: SourceFile, node: ast.AST, table: dict[str, str], tails: frozenset[str]) -> str | None:
    """The dotted name of ``node`` if it is a key of ``table``; cheap for the rest, whose
    last part is not in ``tails``."""
    if isinstance(node, ast.Attribute):
        if node.attr not in tails:
            return None
    elif isinstance(node, ast.Name):
        if src.aliases.get(node.id, node.id).rsplit(".", 1)[-1] not in tails:
            return None
    else:
        return None
    name = src.qualname(node)
    return name if name in table else None


def _cite(src: SourceFile, node: ast.AST, role: str, detail: str = "") -> Citation:
    line = getattr(node, "lineno", 1)
    return Citation(src.path, line, getattr(node, "end_lineno", None) or line, role, detail)


# Input validation ------------------------------------------------------------------


def _input_validation(observer: Observer, context: FileContext) -> Iterator[Observation]:
    """Where untrusted data enters and where parameters go, as the taint engine traced them."""
    from scrutiny.taint.engine import describe

    src = observer.src
    flow = describe(src, context)
    for entry in context.entry_points:
        yield Observation(
            Category.INPUT_VALIDATION,
            "entry-point",
            f"untrusted input enters {entry.kind} {entry.name} through {', '.join(entry.params) or 'the request'}",
            (Citation(src.path, entry.line, entry.line, "entry-point", entry.name),),
            (("kind", entry.kind), ("params", ",".join(entry.params))),
        )
    entry_lines = {e.line for e in context.entry_points}
    for kind, label, line in flow.sources:
        if line in entry_lines and label.startswith("parameter "):
            continue  # said above, as the entry point
        yield Observation(
            Category.INPUT_VALIDATION,
            "source",
            f"{label} ({'network' if kind == 'remote' else 'local'} input)",
            (Citation(src.path, line, line, "source", label),),
        )
    yield Observation(
        Category.INPUT_VALIDATION,
        "taint-summary",
        f"{len(flow.sources)} untrusted source(s), {flow.sink_calls} sink call(s) reached by traced data",
        (),
        (("sources", str(len(flow.sources))), ("sink_calls", str(flow.sink_calls))),
    )
    uses: dict[FunctionNode, list[Citation]] = {}
    function_of = observer.index.function_of
    for statement, used in observer.parameter_uses():
        function = function_of[statement]
        assert function is not None
        if is_assertion(statement):
            uses.setdefault(function, []).append(_cite(src, statement, "assertion", ",".join(sorted(used))))
        elif observer.has_words(statement, CLIENT) and observer.has_call(statement):
            uses.setdefault(function, []).append(_cite(src, statement, "api-call", ",".join(sorted(used))))
    # Only the call sites of functions that pass parameters to API calls are cited.
    wanted = {f.name for f, citations in uses.items() if any(c.role == "api-call" for c in citations)}
    calls_by_function = _calls_to_local_functions(observer, wanted) if wanted else {}
    owners = _owners(src)
    for function, citations in uses.items():
        if not any(c.role == "api-call" for c in citations):
            continue
        names = [a.arg for a in function.args.args + function.args.kwonlyargs if a.arg not in ("self", "cls")]
        header = Citation(src.path, function.lineno, function.lineno, "parameters", ",".join(names))
        callers = tuple(calls_by_function.get(function.name, ()))
        traced = flow.functions.get(owners.get(function, function.name))
        sinks = ";".join(f"{p}:{kind}:{line}" for p, kind, line in traced.to_sinks) if traced else ""
        untrusted = ",".join(traced.untrusted) if traced else ""
        yield Observation(
            Category.INPUT_VALIDATION,
            "parameter-flow",
            f"{function.name}({', '.join(names)}) passes its parameters to API calls",
            (header, *citations, *callers),
            (("function", function.name), ("params", ",".join(names)), ("sinks", sinks), ("untrusted", untrusted)),
        )


def _authorization(src: SourceFile) -> Iterator[Observation]:
    """Which request handlers check the caller's rights, and with what (rules/authz.py)."""
    from scrutiny.rules.authz import authorization_checks

    for handler, checks in authorization_checks(src):
        citations = [_cite(src, handler.function, "handler", handler.name)]
        citations.extend(_cite(src, node, "authorization-check", label) for node, label in checks[:3])
        how = checks[0][1] if checks else ""
        yield Observation(
            Category.INPUT_VALIDATION,
            "authorization",
            f"{handler.name} checks authorization with {how}"
            if how
            else f"{handler.name} makes no authorization check",
            (citations[0], *citations[1:]),
            (("handler", handler.name), ("idiom", how)),
        )


def _owners(src: SourceFile) -> dict[FunctionNode, str]:
    """Functions by the name the taint engine gives them in the file (Class.method)."""
    names: dict[FunctionNode, str] = {}
    for node in src.tree.body:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, FunctionNode):
                    names[item] = f"{node.name}.{item.name}"
    return names


def _calls_to_local_functions(observer: Observer, defined: set[str]) -> dict[str, list[Citation]]:
    """Call sites of the file's own functions named in ``defined``, each with where its
    arguments come from."""
    src, index = observer.src, observer.index
    assigned: dict[tuple[FunctionNode | None, str], ast.AST] = {}
    for statement in index.of_type(ast.Assign):
        assert isinstance(statement, ast.Assign)
        for target in statement.targets:
            if isinstance(target, ast.Name):
                assigned.setdefault((index.function_of.get(statement), target.id), statement)
    sites: dict[str, list[Citation]] = {}
    for call in index.of_type(ast.Call):
        assert isinstance(call, ast.Call)
        func = call.func
        callee = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if callee not in defined:
            continue
        function = index.function_of.get(call)
        origins: list[str] = []
        for argument in call.args:
            if isinstance(argument, ast.Constant):
                origins.append(f"literal {argument.value!r}")
            elif isinstance(argument, ast.Name) and (function, argument.id) in assigned:
                origin = assigned[(function, argument.id)]
                origins.append(f"{argument.id} from line {getattr(origin, 'lineno', 0)}")
            else:
                origins.append(_short(argument))
        sites.setdefault(callee, []).append(_cite(src, call, "call-site", "; ".join(origins)))
    return sites


def _short(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):
        return "an expression"
    return text if len(text) <= 40 else text[:37] + "..."


# Error handling -----------------------------------------------------------------------


def _error_handling(observer: Observer) -> Iterator[Observation]:
    src = observer.src
    handlers = observer.index.of_type(ast.ExceptHandler)
    if handlers:
        yield Observation(
            Category.ERROR_HANDLING,
            "handlers",
            f"{len(handlers)} exception handler(s)",
            tuple(_cite(src, h, "handler") for h in handlers[:50]),
        )
    checks: dict[FunctionNode, list[Citation]] = {}
    if not observer.assertions:
        return  # a function is cited only for an assertion, with its waits for the error
    function_of = observer.index.function_of
    asserted = set(observer.assertions)
    waits = [
        s
        for s in observer.error_waits()
        if isinstance(s, ast.Expr | ast.Assign) and function_of[s] is not None and s not in asserted
    ]
    error_named: dict[FunctionNode, bool] = {}
    for statement in sorted([*observer.assertions, *waits], key=position):
        function = function_of[statement]
        assert function is not None
        if statement in asserted:
            named = error_named.get(function)
            if named is None:
                named = error_named[function] = bool(ERROR_WORDS.search(function.name))
            if (named or observer.has_words(statement, ERROR)) and not observer.has_words(statement, CLEANUP):
                checks.setdefault(function, []).append(_cite(src, statement, "error-assertion"))
        else:
            checks.setdefault(function, []).append(_cite(src, statement, "error-wait"))
    for function, citations in checks.items():
        if any(c.role == "error-assertion" for c in citations):
            yield Observation(
                Category.ERROR_HANDLING,
                "error-state-checks",
                f"{function.name} checks the expected error state",
                tuple(citations),
                (("function", function.name),),
            )


# Resource cleanup ---------------------------------------------------------------------


def _leading_comment_start(src: SourceFile, line: int) -> int:
    start = line
    while start > 1 and src.line_text(start - 1).lstrip().startswith("#"):
        start -= 1
    return start


def _resource_cleanup(observer: Observer) -> Iterator[Observation]:
    src = observer.src
    managed: set[ast.AST] = set()
    for node in observer.index.of_type(ast.With, ast.AsyncWith):
        assert isinstance(node, ast.With | ast.AsyncWith)
        managed.update(item.context_expr for item in node.items)
    for node in observer.index.of_type(ast.Call):
        assert isinstance(node, ast.Call)
        name = _name_in(src, node.func, HANDLE_CALLS, HANDLE_TAILS)
        if name is not None:
            role = "managed-handle" if node in managed else "unmanaged-handle"
            yield Observation(
                Category.RESOURCE_CLEANUP,
                role,
                f"{HANDLE_CALLS[name]} opened by {name}" + (" in a with block" if node in managed else ""),
                (_cite(src, node, role, name),),
            )
    # A run is cited only when it holds an assertion, so only functions with an assertion
    # about resource state are walked.
    function_of = observer.index.function_of
    asserting = {function_of[s] for s in observer.assertions if observer.has_words(s, CLEANUP)}
    for function in observer.index.functions() if asserting else ():
        if function not in asserting:
            continue
        for block in _blocks(function):
            yield from _cleanup_runs(observer, function, block)


def _blocks(function: FunctionNode) -> Iterator[list[ast.stmt]]:
    stack: list[list[ast.stmt]] = [function.body]
    while stack:
        block = stack.pop()
        yield block
        for statement in block:
            if isinstance(statement, FunctionNode | ast.ClassDef):
                continue
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(statement, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    stack.append(inner)


def _cleanup_runs(observer: Observer, function: FunctionNode, block: list[ast.stmt]) -> Iterator[Observation]:
    """Runs of consecutive statements about resource state that end in assertions."""
    src = observer.src
    run: list[ast.stmt] = []
    for statement in [*block, None]:
        if statement is not None and observer.has_words(statement, CLEANUP):
            run.append(statement)
            continue
        asserts = [s for s in run if is_assertion(s)]
        if asserts:
            start = _leading_comment_start(src, run[0].lineno)
            end = run[-1].end_lineno or run[-1].lineno
            citations = [Citation(src.path, start, end, "cleanup-checks", function.name)]
            citations.extend(_cite(src, s, "cleanup-assertion") for s in asserts)
            yield Observation(
                Category.RESOURCE_CLEANUP,
                "cleanup-checks",
                f"{function.name} checks that resources are cleaned up",
                tuple(citations),
                (("function", function.name),),
            )
        run = []


# Disabled checks ----------------------------------------------------------------------


def _disabled_checks(src: SourceFile) -> Iterator[Observation]:
    for note in src.bug_notes:
        yield Observation(
            Category.DISABLED_CHECKS,
            "known-bug",
            f"{note.marker} names bug {note.bug}",
            (Citation(src.path, note.start, note.end, "known-bug", note.bug),),
            (("bug", note.bug), ("marker", note.marker)),
        )
    for code in src.commented_code:
        if code.is_assertion or code.security_calls:
            continue
        yield Observation(
            Category.DISABLED_CHECKS,
            "commented-out-code",
            "commented-out code",
            (Citation(src.path, code.start, code.end, "commented-out-code"),),
        )
    # In ASCII text every name is written as it is, so a file without the words has no such call.
    text = src.text
    may_skip = "skip" in text or "xfail" in text or not text.isascii()
    for node in src.index.of_type(ast.Call, ast.If) if may_skip else src.index.of_type(ast.If):
        if isinstance(node, ast.Call) and last_name(node) in SKIP_CALLS:
            yield Observation(
                Category.DISABLED_CHECKS, "skipped-test", "test skipped", (_cite(src, node, "skipped-test"),)
            )
        elif isinstance(node, ast.If) and isinstance(node.test, ast.Constant) and not node.test.value:
            yield Observation(
                Category.DISABLED_CHECKS,
                "dead-branch",
                f"code under `if {node.test.value!r}:` never runs",
                (_cite(src, node, "dead-branch"),),
            )


# Logging ------------------------------------------------------------------------------


def _logging(src: SourceFile) -> Iterator[Observation]:
    citations: list[Citation] = []
    for node in src.index.of_type(ast.Call):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LOG_METHODS:
            receiver = node.func.value
            name = receiver.id if isinstance(receiver, ast.Name) else getattr(receiver, "attr", "")
            if LOGGER_RECEIVER.match(name):
                citations.append(_cite(src, node, "log-call"))
    if citations:
        yield Observation(Category.LOGGING, "log-calls", f"{len(citations)} logging call(s)", tuple(citations[:200]))
