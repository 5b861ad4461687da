"""Aspect observers: the facts a review cites when a category is clean.

Rules report defects; observers record what the code does in each aspect (where
parameters go, which assertions check error states, what is cleaned up, what is
logged) so the review can say what was checked and on which lines it rests.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileContext
from scrutiny.findings import Category, Citation, Observation
from scrutiny.observe_facts import Observer, is_assertion, last_name, parameters, position
from scrutiny.observe_flow import FileFlow
from scrutiny.source import SourceFile

LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
# Calls that hand out a logger, and the names logging libraries and frameworks give theirs
# (the logging module, loguru's logger, Flask's app.logger): API names, not the file's own.
LOGGER_FACTORIES = frozenset({"getLogger", "get_logger", "getChild", "LoggerAdapter", "get_task_logger"})
LOGGER_API_NAMES = frozenset({"logging", "log", "logger"})
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
    flows = FileFlow(observer)
    observations: list[Observation] = []
    observations.extend(_input_validation(observer, flows, context))
    observations.extend(_authorization(src))
    observations.extend(_error_handling(observer, flows))
    observations.extend(_resource_cleanup(observer, flows))
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


def _input_validation(observer: Observer, flows: FileFlow, context: FileContext) -> Iterator[Observation]:
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
        elif flows.hands_to_collaborator(statement, function):
            uses.setdefault(function, []).append(_cite(src, statement, "api-call", ",".join(sorted(used))))
    # Only the call sites of functions that pass parameters to API calls are cited.
    wanted = {f for f, citations in uses.items() if any(c.role == "api-call" for c in citations)}
    calls_by_function = _calls_to_local_functions(observer, flows, wanted) if wanted else {}
    owners = _owners(src)
    for function, citations in uses.items():
        if not any(c.role == "api-call" for c in citations):
            continue
        names = parameters(function, observer.index.parents)
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


def _calls_to_local_functions(
    observer: Observer, flows: FileFlow, wanted: set[FunctionNode]
) -> dict[str, list[Citation]]:
    """Call sites of the file's own functions in ``wanted``, each with where its arguments
    come from: a function called by its name, a method through the instance or class it is
    bound to (``self.helper()``), not any other object's method that shares its name."""
    src, index = observer.src, observer.index
    methods = {f.name for f in wanted if isinstance(index.parents.get(f), ast.ClassDef)}
    functions = {f.name for f in wanted} - methods
    classes = {c.name for c in index.of_type(ast.ClassDef) if isinstance(c, ast.ClassDef)}
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
        function = index.function_of.get(call)
        if isinstance(func, ast.Name) and func.id in functions:
            callee = func.id
        elif isinstance(func, ast.Attribute) and func.attr in methods and isinstance(func.value, ast.Name):
            bound = func.value.id
            if bound not in classes and (function is None or bound != flows.instance_name(function)):
                continue
            callee = func.attr
        else:
            continue
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


def _error_handling(observer: Observer, flows: FileFlow) -> Iterator[Observation]:
    src = observer.src
    handlers = observer.index.of_type(ast.ExceptHandler)
    if handlers:
        yield Observation(
            Category.ERROR_HANDLING,
            "handlers",
            f"{len(handlers)} exception handler(s)",
            tuple(_cite(src, h, "handler") for h in handlers[:50]),
        )
    if not observer.assertions:
        return  # a function is cited only for an assertion, with its waits for the error
    function_of = observer.index.function_of
    asserted = set(observer.assertions)
    by_function: dict[FunctionNode, list[ast.stmt]] = {}
    for statement in observer.assertions:
        function = function_of[statement]
        assert function is not None
        by_function.setdefault(function, []).append(statement)
    waits: dict[FunctionNode, list[ast.stmt]] = {}
    for statement in observer.error_waits():
        function = function_of[statement]
        if isinstance(statement, ast.Expr | ast.Assign) and function is not None and statement not in asserted:
            waits.setdefault(function, []).append(statement)
    for function in sorted(by_function, key=position):
        checks = flows.error_assertions(function, by_function[function])
        if not checks:
            continue
        cited = sorted([*checks, *waits.get(function, [])], key=position)
        yield Observation(
            Category.ERROR_HANDLING,
            "error-state-checks",
            f"{function.name} checks the expected error state",
            tuple(_cite(src, s, "error-wait" if s not in asserted else "error-assertion") for s in cited),
            (("function", function.name),),
        )


# Resource cleanup ---------------------------------------------------------------------


def _leading_comment_start(src: SourceFile, line: int) -> int:
    start = line
    while start > 1 and src.line_text(start - 1).lstrip().startswith("#"):
        start -= 1
    return start


def _resource_cleanup(observer: Observer, flows: FileFlow) -> Iterator[Observation]:
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
    # Only functions with an assertion can check that anything was cleaned up.
    function_of = observer.index.function_of
    asserting = {function_of[s] for s in observer.assertions}
    for function in observer.index.functions() if asserting else ():
        if function not in asserting:
            continue
        for block in _blocks(function):
            for checked in flows.cleanup_checks(function, block):
                yield _cleanup_observation(src, function, checked, set(observer.assertions))


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


def _cleanup_observation(
    src: SourceFile, function: FunctionNode, checked: list[ast.stmt], assertions: set[ast.stmt]
) -> Observation:
    """The statements that read state back after an operation and assert on it, cited from
    the comment above the first to the end of the last assertion."""
    start = _leading_comment_start(src, checked[0].lineno)
    end = checked[-1].end_lineno or checked[-1].lineno
    citations = [Citation(src.path, start, end, "cleanup-checks", function.name)]
    citations.extend(_cite(src, s, "cleanup-assertion") for s in checked if s in assertions)
    return Observation(
        Category.RESOURCE_CLEANUP,
        "cleanup-checks",
        f"{function.name} checks that resources are cleaned up",
        tuple(citations),
        (("function", function.name),),
    )


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
    loggers: tuple[set[str], set[str]] | None = None
    for node in src.index.of_type(ast.Call):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LOG_METHODS:
            if loggers is None:
                loggers = _loggers(src)
            if _is_logger(src, node.func.value, *loggers):
                citations.append(_cite(src, node, "log-call"))
    if citations:
        yield Observation(Category.LOGGING, "log-calls", f"{len(citations)} logging call(s)", tuple(citations[:200]))


def _loggers(src: SourceFile) -> tuple[set[str], set[str]]:
    """(names, attributes) the file assigns a logger to, and the attributes it assigns at all."""
    held: set[str] = set()
    assigned: set[str] = set()
    for node in src.index.of_type(ast.Assign, ast.AnnAssign):
        assert isinstance(node, ast.Assign | ast.AnnAssign)
        value = node.value
        factory = isinstance(value, ast.Call) and last_name(value) in LOGGER_FACTORIES
        for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
            if isinstance(target, ast.Attribute):
                assigned.add(target.attr)
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if factory and name:
                held.add(name)
    return held, assigned


def _is_logger(src: SourceFile, receiver: ast.expr, held: set[str], assigned: set[str]) -> bool:
    """A receiver bound to a logger by a factory call, the logging module or another imported
    logger, or a logger attribute a framework provides (one the file never assigns)."""
    if isinstance(receiver, ast.Name):
        if receiver.id in held:
            return True
        imported = src.aliases.get(receiver.id)
        return imported is not None and imported.rsplit(".", 1)[-1] in LOGGER_API_NAMES
    if isinstance(receiver, ast.Attribute):
        if receiver.attr in held:
            return True
        return receiver.attr not in assigned and receiver.attr.lstrip("_").lower() in LOGGER_API_NAMES
    return False
