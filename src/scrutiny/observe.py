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
from scrutiny.source import SIMPLE_STATEMENTS, SourceFile

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
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


class Features:
    """What one simple statement mentions: names, words (identifiers, attributes, strings), calls."""

    __slots__ = ("names", "words", "calls", "_identifiers")

    def __init__(self, nodes: list[ast.AST]) -> None:
        names: set[str] = set()
        words: list[str] = []
        calls: list[ast.Call] = []
        for node in nodes:
            if isinstance(node, ast.Name):
                names.add(node.id)
                words.append(node.id)
            elif isinstance(node, ast.Attribute):
                words.append(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 200:
                words.append(node.value)
            elif isinstance(node, ast.Call):
                calls.append(node)
        self.names = names
        self.words = " ".join(words)
        self.calls = calls
        self._identifiers = words

    @property
    def client(self) -> bool:
        """Whether the statement mentions an API client, session or connection."""
        return any(CLIENT_NAME.search(word) for word in self._identifiers if word.isidentifier())


class Observer:
    """Runs every aspect observer over one file, sharing the per-statement features."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.index = src.index
        self._features: dict[ast.stmt, Features] = {}

    def features(self, statement: ast.stmt) -> Features:
        found = self._features.get(statement)
        if found is None:
            nodes = self.index.statement_nodes.get(statement) or list(ast.walk(statement))
            found = self._features[statement] = Features(nodes)
        return found

    def simple_statements(self) -> list[ast.stmt]:
        found = [n for n in self.index.of_type(*SIMPLE_STATEMENTS) if isinstance(n, ast.stmt)]
        return sorted(found, key=lambda n: (n.lineno, n.col_offset))


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


_TAILS: dict[int, frozenset[str]] = {}


def _name_in(src: SourceFile, node: ast.AST, table: dict[str, str]) -> str | None:
    """The dotted name of ``node`` if it is a key of ``table``; cheap for the rest."""
    tails = _TAILS.get(id(table))
    if tails is None:
        tails = _TAILS[id(table)] = frozenset(name.rsplit(".", 1)[-1] for name in table)
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


def _call_name(node: ast.Call) -> str:
    """Dotted name of the called function as written (``self.assertEqual``), or ''."""
    parts: list[str] = []
    func: ast.AST = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def is_assertion(node: ast.AST) -> bool:
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, ast.Expr):
        node = node.value
    if isinstance(node, ast.Call):
        last = _call_name(node).rsplit(".", 1)[-1]
        return last.startswith(("assert", "fail")) or last == "raises"
    return False


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
    for statement in observer.simple_statements():
        function = observer.index.function_of.get(statement)
        if function is None:
            continue
        params = {a.arg for a in function.args.args + function.args.kwonlyargs} - {"self", "cls"}
        features = observer.features(statement)
        used = features.names & params
        if not used:
            continue
        if is_assertion(statement):
            uses.setdefault(function, []).append(_cite(src, statement, "assertion", ",".join(sorted(used))))
        elif features.calls and features.client:
            uses.setdefault(function, []).append(_cite(src, statement, "api-call", ",".join(sorted(used))))
    calls_by_function = _calls_to_local_functions(observer) if uses else {}
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


def _calls_to_local_functions(observer: Observer) -> dict[str, list[Citation]]:
    """Call sites of the file's own functions, each with where its arguments come from."""
    src, index = observer.src, observer.index
    defined = {f.name for f in index.functions()}
    assigned: dict[tuple[FunctionNode | None, str], ast.AST] = {}
    for statement in index.of_type(ast.Assign):
        assert isinstance(statement, ast.Assign)
        for target in statement.targets:
            if isinstance(target, ast.Name):
                assigned.setdefault((index.function_of.get(statement), target.id), statement)
    sites: dict[str, list[Citation]] = {}
    for call in index.of_type(ast.Call):
        assert isinstance(call, ast.Call)
        callee = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
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
    for statement in observer.simple_statements():
        function = observer.index.function_of.get(statement)
        if function is None or not isinstance(statement, ast.Expr | ast.Assign | ast.Assert):
            continue
        features = observer.features(statement)
        if is_assertion(statement):
            error_path = ERROR_WORDS.search(function.name) or ERROR_WORDS.search(features.words)
            if error_path and not CLEANUP_WORDS.search(features.words):
                checks.setdefault(function, []).append(_cite(src, statement, "error-assertion"))
        elif _waits_for_error(features.calls):
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


def _waits_for_error(calls: list[ast.Call]) -> bool:
    """A call handed the literal 'error' (or ['error']): waiting for an error status."""
    for call in calls:
        for argument in call.args:
            values = argument.elts if isinstance(argument, ast.List | ast.Tuple) else [argument]
            if any(
                isinstance(v, ast.Constant) and isinstance(v.value, str) and v.value.lower() == "error" for v in values
            ):
                return True
    return False


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
        name = _name_in(src, node.func, HANDLE_CALLS)
        if name is not None:
            role = "managed-handle" if node in managed else "unmanaged-handle"
            yield Observation(
                Category.RESOURCE_CLEANUP,
                role,
                f"{HANDLE_CALLS[name]} opened by {name}" + (" in a with block" if node in managed else ""),
                (_cite(src, node, role, name),),
            )
    for function in observer.index.functions():
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
        if isinstance(statement, SIMPLE_STATEMENTS) and CLEANUP_WORDS.search(observer.features(statement).words):
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
    for node in src.index.of_type(ast.Call, ast.If):
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
    for node in src.index.of_type(ast.Call):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LOG_METHODS:
            receiver = node.func.value
            name = receiver.id if isinstance(receiver, ast.Name) else getattr(receiver, "attr", "")
            if LOGGER_RECEIVER.match(name):
                citations.append(_cite(src, node, "log-call"))
    if citations:
        yield Observation(Category.LOGGING, "log-calls", f"{len(citations)} logging call(s)", tuple(citations[:200]))
