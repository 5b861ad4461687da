"""Aspect observers: the facts a review cites when a category is clean.

Rules report defects; observers record what the code does in each aspect (where
parameters go, which assertions check error states, what is cleaned up, what is
logged) so the review can say what was checked and on which lines it rests.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cached_property, lru_cache

from scrutiny.context import FileContext
from scrutiny.findings import Category, Citation, Observation
from scrutiny.source import SIMPLE_STATEMENTS, SourceFile

CLIENT_NAME = re.compile(r"(^|_)(api|client|session|conn|connection|http|rpcapi|compute_api)$", re.IGNORECASE)
ERROR_WORDS = re.compile(r"error|fault|fail|exception|raise", re.IGNORECASE)
CLEANUP_WORDS = re.compile(r"alloc|usage|clean|leak|releas|quota|reserv|provider|orphan|dangling", re.IGNORECASE)
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


# What a statement's words say, as bits (a word is a name, an attribute or a short string).
CLEANUP, ERROR, CLIENT = 1, 2, 4
WORD_FLAGS = CLEANUP | ERROR | CLIENT
ERROR_LITERAL = 8  # the string is 'error' in any case (a status waited for)
# Matches whenever one of the three does: most words match none, and are told so by one search.
ANY_WORD = re.compile(f"{CLEANUP_WORDS.pattern}|{ERROR_WORDS.pattern}|{CLIENT_NAME.pattern}", re.IGNORECASE)
# The same patterns (all lower case) matched against an ASCII word lowered: the same answer,
# about three times faster than a case-insensitive search.
_LOWERED = tuple(re.compile(p.pattern) for p in (ANY_WORD, CLEANUP_WORDS, ERROR_WORDS, CLIENT_NAME))
_FOLDED = (ANY_WORD, CLEANUP_WORDS, ERROR_WORDS, CLIENT_NAME)


@lru_cache(maxsize=1 << 16)
def _word_flags(word: str) -> int:
    lowered = word.lower()
    flags = ERROR_LITERAL if lowered == "error" else 0
    if word.isascii():
        any_word, cleanup, error, client = _LOWERED
        word = lowered
    else:
        any_word, cleanup, error, client = _FOLDED
    if not any_word.search(word):
        return flags
    if cleanup.search(word):
        flags |= CLEANUP
    if error.search(word):
        flags |= ERROR
    if word.isidentifier() and client.search(word):
        flags |= CLIENT
    return flags


class Observer:
    """Runs every aspect observer over one file, sharing what it finds about statements.

    A statement's facts are read from the file's names, attributes and strings in one pass
    (each distinct word is matched once) instead of from each statement's nodes: the words
    that matter are rare, so few statements are ever looked at.
    """

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.index = src.index

    def statement_of(self, node: ast.AST) -> ast.stmt | None:
        """The simple statement holding ``node``, if any (None under a compound header)."""
        parents = self.index.parents
        while not isinstance(node, ast.stmt):
            parent = parents.get(node)
            if parent is None:
                return None
            node = parent
        return node if isinstance(node, SIMPLE_STATEMENTS) else None

    @cached_property
    def _facts(self) -> tuple[dict[ast.stmt, set[str]], dict[ast.stmt, int], set[ast.stmt]]:
        """(parameters each statement in a function uses, the word flags of each statement
        with any, the statements passing the literal 'error' to a call)."""
        index = self.index
        function_of, statement_of = index.function_of, self.statement_of
        params: dict[FunctionNode | None, set[str]] = {None: set()}
        for function in index.of_type(ast.FunctionDef, ast.AsyncFunctionDef):
            assert isinstance(function, FunctionNode)
            args = function.args
            params[function] = {a.arg for a in args.args + args.kwonlyargs} - {"self", "cls"}
        any_params = set().union(*params.values())
        uses: dict[ast.stmt, set[str]] = {}
        flagged: dict[ast.stmt, int] = {}
        waits: set[ast.stmt] = set()
        memo: dict[str, int] = {}
        # Plain loops with one dict look-up for most nodes: there are about a million of them
        # in a large project. by_type holds nodes of its key's type.
        names: list[ast.Name] = index.by_type.get(ast.Name, [])  # type: ignore[assignment]
        for node in names:
            word = node.id
            flags = memo.get(word)
            if flags is None:
                flags = memo[word] = _word_flags(word)
            used = word in any_params and word in params[function_of[node]]
            if (flags & WORD_FLAGS or used) and (statement := statement_of(node)) is not None:
                if flags & WORD_FLAGS:
                    flagged[statement] = flagged.get(statement, 0) | flags & WORD_FLAGS
                if used:
                    uses.setdefault(statement, set()).add(word)
        attributes: list[ast.Attribute] = index.by_type.get(ast.Attribute, [])  # type: ignore[assignment]
        for attribute in attributes:
            word = attribute.attr
            flags = memo.get(word)
            if flags is None:
                flags = memo[word] = _word_flags(word)
            if flags & WORD_FLAGS and (statement := statement_of(attribute)) is not None:
                flagged[statement] = flagged.get(statement, 0) | flags & WORD_FLAGS
        constants: list[ast.Constant] = index.by_type.get(ast.Constant, [])  # type: ignore[assignment]
        for constant in constants:
            value = constant.value
            if not isinstance(value, str):
                continue
            if len(value) >= 200:  # not a word, but may still be the literal
                flags = ERROR_LITERAL if value.lower() == "error" else 0
            else:
                flags = memo.get(value)
                if flags is None:
                    flags = memo[value] = _word_flags(value)
            if not flags:
                continue
            if flags & ERROR_LITERAL and (call := self._error_argument_of(constant)) is not None:
                if (statement := statement_of(call)) is not None:
                    waits.add(statement)
            if flags & WORD_FLAGS and (statement := statement_of(constant)) is not None:
                flagged[statement] = flagged.get(statement, 0) | flags & WORD_FLAGS
        return uses, flagged, waits

    def _error_argument_of(self, constant: ast.Constant) -> ast.Call | None:
        """The call handed ``constant`` as a positional argument, or in a list or tuple that is one."""
        parents = self.index.parents
        parent = parents.get(constant)
        if isinstance(parent, ast.List | ast.Tuple):
            argument: ast.AST = parent
            parent = parents.get(parent)
        else:
            argument = constant
        if isinstance(parent, ast.Call) and any(a is argument for a in parent.args):
            return parent
        return None

    def parameter_uses(self) -> list[tuple[ast.stmt, set[str]]]:
        """Statements in functions that use their function's parameters, in source order."""
        uses = self._facts[0]
        return [(s, uses[s]) for s in sorted(uses, key=_position)]

    def has_words(self, statement: ast.stmt, flag: int) -> bool:
        return bool(self._facts[1].get(statement, 0) & flag)

    def error_waits(self) -> set[ast.stmt]:
        """Statements passing the literal 'error' (or ['error']) to a call: waiting for an error status."""
        return self._facts[2]

    @cached_property
    def assertions(self) -> list[ast.stmt]:
        """Assertion statements inside functions, in source order."""
        function_of = self.index.function_of
        found = [s for s in self.index.of_type(ast.Assert) if isinstance(s, ast.stmt) and function_of[s] is not None]
        for statement in self.index.of_type(ast.Expr):
            assert isinstance(statement, ast.Expr)
            # is_assertion, unrolled: this runs for every expression statement.
            call = statement.value
            if isinstance(call, ast.Call) and function_of[statement] is not None:
                last = _last_name(call)
                if last.startswith(("assert", "fail")) or last == "raises":
                    found.append(statement)
        return sorted(found, key=_position)

    def has_call(self, statement: ast.stmt) -> bool:
        return any(isinstance(node, ast.Call) for node in self.index.statement_nodes[statement])


def _position(node: ast.stmt) -> tuple[int, int]:
    return node.lineno, node.col_offset


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


def _last_name(node: ast.Call) -> str:
    """The called name's last part as written (``assertEqual`` in ``self.assertEqual()``), or ''."""
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def is_assertion(node: ast.AST) -> bool:
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, ast.Expr):
        node = node.value
    if isinstance(node, ast.Call):
        last = _last_name(node)
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
    function_of = observer.index.function_of
    waits = [
        s
        for s in observer.error_waits()
        if isinstance(s, ast.Expr | ast.Assign) and function_of[s] is not None and not is_assertion(s)
    ]
    for statement in sorted([*observer.assertions, *waits], key=_position):
        function = function_of[statement]
        assert function is not None
        if is_assertion(statement):
            error_path = ERROR_WORDS.search(function.name) or observer.has_words(statement, ERROR)
            if error_path and not observer.has_words(statement, CLEANUP):
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
        if isinstance(node, ast.Call) and _last_name(node) in SKIP_CALLS:
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
