"""Aspect observers: the facts a review cites when a category is clean.

Rules report defects; observers record what the code does in each aspect (where
parameters go, which assertions check error states, what is cleaned up, what is
logged) so the review can say what was checked and on which lines it rests.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.context import FileContext, FileKind
from scrutiny.findings import Category, Citation, Observation
from scrutiny.source import SourceFile

CLIENT_NAME = re.compile(r"(^|_)(api|client|session|conn|connection|http|rpcapi|compute_api)$", re.IGNORECASE)
ERROR_WORDS = re.compile(r"error|fault|fail|exception|raise", re.IGNORECASE)
CLEANUP_WORDS = re.compile(r"alloc|usage|clean|leak|releas|quota|reserv|provider|orphan|dangling", re.IGNORECASE)
LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
LOGGER_RECEIVER = re.compile(r"^(log|logger|logging|_log|_logger|LOG|LOGGER)$", re.IGNORECASE)
SKIP_CALLS = re.compile(r"(^|\.)(skip|skipTest|skipIf|skipUnless|xfail)$")
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
UNTRUSTED_SOURCES = {
    "input": "console input",
    "sys.argv": "command-line arguments",
    "os.environ": "environment",
    "os.getenv": "environment",
    "os.environ.get": "environment",
    "flask.request": "HTTP request",
    "request.args": "HTTP request",
    "request.form": "HTTP request",
    "request.GET": "HTTP request",
    "request.POST": "HTTP request",
    "req.params": "HTTP request",
    "req.body": "HTTP request",
}

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def observe(src: SourceFile, context: FileContext) -> list[Observation]:
    observations: list[Observation] = []
    observations.extend(_input_validation(src, context))
    observations.extend(_error_handling(src))
    observations.extend(_resource_cleanup(src))
    observations.extend(_disabled_checks(src))
    observations.extend(_logging(src))
    return observations


def _cite(src: SourceFile, node: ast.AST, role: str, detail: str = "") -> Citation:
    line = getattr(node, "lineno", 1)
    return Citation(src.path, line, getattr(node, "end_lineno", None) or line, role, detail)


def _functions(tree: ast.AST) -> Iterator[FunctionNode]:
    for node in ast.walk(tree):
        if isinstance(node, FunctionNode):
            yield node


def _call_name(node: ast.Call) -> str:
    try:
        return ast.unparse(node.func)
    except (ValueError, RecursionError):
        return ""


def is_assertion(node: ast.AST) -> bool:
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, ast.Expr):
        node = node.value
    if isinstance(node, ast.Call):
        last = _call_name(node).rsplit(".", 1)[-1]
        return last.startswith(("assert", "fail")) or last == "raises"
    return False


def _statement_calls(statement: ast.stmt) -> list[ast.Call]:
    """Calls in a simple statement (not inside nested function bodies)."""
    return [node for node in ast.walk(statement) if isinstance(node, ast.Call)]


def _mentions_client(call: ast.Call) -> bool:
    nodes: list[ast.AST] = [call.func, *call.args, *(kw.value for kw in call.keywords)]
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and CLIENT_NAME.search(sub.attr):
                return True
            if isinstance(sub, ast.Name) and CLIENT_NAME.search(sub.id):
                return True
    return False


# Input validation ------------------------------------------------------------------


def _input_validation(src: SourceFile, context: FileContext) -> Iterator[Observation]:
    for entry in context.entry_points:
        yield Observation(
            Category.INPUT_VALIDATION,
            "entry-point",
            f"untrusted input enters {entry.kind} {entry.name} through {', '.join(entry.params) or 'the request'}",
            (Citation(src.path, entry.line, entry.line, "entry-point", entry.name),),
            (("kind", entry.kind), ("params", ",".join(entry.params))),
        )
    for node in ast.walk(src.tree):
        name = None
        if isinstance(node, ast.Call):
            name = src.qualname(node.func)
        elif isinstance(node, ast.Attribute):
            name = src.qualname(node)
        if name in UNTRUSTED_SOURCES:
            yield Observation(
                Category.INPUT_VALIDATION,
                "source",
                f"{name} reads {UNTRUSTED_SOURCES[name]}",
                (_cite(src, node, "source", name),),
            )
    calls_by_function = _calls_to_local_functions(src)
    for function in _functions(src.tree):
        params = [a.arg for a in function.args.args + function.args.kwonlyargs if a.arg not in ("self", "cls")]
        if not params:
            continue
        citations: list[Citation] = []
        for statement in ast.walk(function):
            if not isinstance(statement, ast.stmt) or isinstance(statement, FunctionNode | ast.ClassDef):
                continue
            if isinstance(statement, ast.If | ast.For | ast.While | ast.With | ast.Try):
                continue
            used = {n.id for n in ast.walk(statement) if isinstance(n, ast.Name)} & set(params)
            if not used:
                continue
            if is_assertion(statement):
                citations.append(_cite(src, statement, "assertion", ",".join(sorted(used))))
            elif any(_mentions_client(call) for call in _statement_calls(statement)):
                citations.append(_cite(src, statement, "api-call", ",".join(sorted(used))))
        if not any(c.role == "api-call" for c in citations):
            continue
        header = Citation(src.path, function.lineno, function.lineno, "parameters", ",".join(params))
        callers = tuple(calls_by_function.get(function.name, ()))
        yield Observation(
            Category.INPUT_VALIDATION,
            "parameter-flow",
            f"{function.name}({', '.join(params)}) passes its parameters to API calls",
            (header, *citations, *callers),
            (("function", function.name), ("params", ",".join(params))),
        )


def _calls_to_local_functions(src: SourceFile) -> dict[str, list[Citation]]:
    """Call sites of the file's own functions, each with where its arguments come from."""
    defined = {f.name for f in _functions(src.tree)}
    sites: dict[str, list[Citation]] = {}
    for function in _functions(src.tree):
        assigned: dict[str, ast.AST] = {}
        for statement in ast.walk(function):
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        assigned[target.id] = statement
        for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
            callee = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            if callee not in defined:
                continue
            origins: list[str] = []
            for argument in call.args:
                if isinstance(argument, ast.Constant):
                    origins.append(f"literal {argument.value!r}")
                elif isinstance(argument, ast.Name) and argument.id in assigned:
                    origin = assigned[argument.id]
                    origins.append(f"{argument.id} from line {getattr(origin, 'lineno', 0)}")
                else:
                    origins.append(ast.unparse(argument))
            sites.setdefault(callee, []).append(_cite(src, call, "call-site", "; ".join(origins)))
    return sites


# Error handling -----------------------------------------------------------------------


def _error_handling(src: SourceFile) -> Iterator[Observation]:
    handlers = [n for n in ast.walk(src.tree) if isinstance(n, ast.ExceptHandler)]
    if handlers:
        yield Observation(
            Category.ERROR_HANDLING,
            "handlers",
            f"{len(handlers)} exception handler(s)",
            tuple(_cite(src, h, "handler") for h in handlers[:50]),
        )
    for function in _functions(src.tree):
        error_path = bool(ERROR_WORDS.search(function.name))
        checks: list[Citation] = []
        for statement in function.body:
            for node in ast.walk(statement):
                if not isinstance(node, ast.stmt) or isinstance(node, FunctionNode):
                    continue
                text = ast.unparse(node) if isinstance(node, ast.Expr | ast.Assign | ast.Assert) else ""
                if not text:
                    continue
                if is_assertion(node) and not CLEANUP_WORDS.search(text) and (error_path or ERROR_WORDS.search(text)):
                    checks.append(_cite(src, node, "error-assertion"))
                elif any(
                    isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.lower() == "error"
                    for call in _statement_calls(node)
                    for a in (*call.args, *(e for arg in call.args if isinstance(arg, ast.List) for e in arg.elts))
                ):
                    checks.append(_cite(src, node, "error-wait"))
        if any(c.role == "error-assertion" for c in checks):
            yield Observation(
                Category.ERROR_HANDLING,
                "error-state-checks",
                f"{function.name} checks the expected error state",
                tuple(checks),
                (("function", function.name),),
            )


# Resource cleanup ---------------------------------------------------------------------


def _leading_comment_start(src: SourceFile, line: int) -> int:
    start = line
    while start > 1 and src.line_text(start - 1).lstrip().startswith("#"):
        start -= 1
    return start


def _resource_cleanup(src: SourceFile) -> Iterator[Observation]:
    managed: set[ast.AST] = set()
    for node in ast.walk(src.tree):
        if isinstance(node, ast.With | ast.AsyncWith):
            managed.update(item.context_expr for item in node.items)
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Call):
            name = src.qualname(node.func) or ""
            if name in HANDLE_CALLS:
                role = "managed-handle" if node in managed else "unmanaged-handle"
                yield Observation(
                    Category.RESOURCE_CLEANUP,
                    role,
                    f"{HANDLE_CALLS[name]} opened by {name}" + (" in a with block" if node in managed else ""),
                    (_cite(src, node, role, name),),
                )
    for function in _functions(src.tree):
        for block in _blocks(function):
            yield from _cleanup_runs(src, function, block)


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


def _cleanup_runs(src: SourceFile, function: FunctionNode, block: list[ast.stmt]) -> Iterator[Observation]:
    """Runs of consecutive statements about resource state that end in assertions."""
    run: list[ast.stmt] = []
    for statement in [*block, None]:
        related = (
            statement is not None
            and not isinstance(statement, FunctionNode | ast.ClassDef | ast.If | ast.For | ast.While | ast.Try)
            and bool(CLEANUP_WORDS.search(ast.unparse(statement)))
        )
        if related and statement is not None:
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
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Call) and SKIP_CALLS.search(_call_name(node)):
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
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LOG_METHODS:
            receiver = node.func.value
            name = receiver.id if isinstance(receiver, ast.Name) else getattr(receiver, "attr", "")
            if LOGGER_RECEIVER.match(name):
                citations.append(_cite(src, node, "log-call"))
    if citations:
        yield Observation(
            Category.LOGGING, "log-calls", f"{len(citations)} logging call(s)", tuple(citations[:200])
        )


def kind_allows_hardcoding(context: FileContext) -> bool:
    return context.kind in (FileKind.TEST, FileKind.EXAMPLE, FileKind.DOCS)
