"""Failure-path rules (86x): resources and data left behind when an error escapes.

Test code is left out entirely: fixtures clean up through addCleanup and tearDown, and a
leaked handle in a test process harms nobody.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, call_tail, drop, names_in, note, tails
from scrutiny.source import SourceFile

FAILURE_CONTEXT = {
    FileKind.TEST: drop("test fixtures clean up through addCleanup/tearDown; a test process leaks nothing"),
    FileKind.EXAMPLE: note("example code keeps error handling short"),
    FileKind.DOCS: note("documentation code keeps error handling short"),
    FileKind.SCRIPT: note("a script's process exits soon after, releasing what it held"),
    FileKind.MIGRATION: note("a migration runs once, under supervision"),
}

# Calls whose result must be released, and how: method on the result, or a function
# taking it as first argument.
ACQUIRE_CALLS = {
    "open": ("close", "file"),
    "io.open": ("close", "file"),
    "os.open": ("os.close", "file descriptor"),
    "os.fdopen": ("close", "file"),
    "socket.socket": ("close", "socket"),
    "socket.create_connection": ("close", "socket"),
    "sqlite3.connect": ("close", "database connection"),
    "psycopg2.connect": ("close", "database connection"),
    "pymysql.connect": ("close", "database connection"),
    "urllib.request.urlopen": ("close", "HTTP response"),
    "zipfile.ZipFile": ("close", "archive"),
    "tarfile.open": ("close", "archive"),
    "tempfile.mkdtemp": ("shutil.rmtree", "temporary directory"),
}

# The last names of the calls _acquired looks for.
ACQUIRE_TAILS = frozenset({"acquire", *tails(ACQUIRE_CALLS)})


def _could_acquire(call: ast.Call, aliases: dict[str, str]) -> bool:
    """Whether the call's last name, as written or as imported, is one _acquired looks for."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr in ACQUIRE_TAILS
    if isinstance(func, ast.Name):
        return aliases.get(func.id, func.id).rsplit(".", 1)[-1] in ACQUIRE_TAILS
    return False


def _release_of(statement: ast.stmt, variable: str, release: str, src: SourceFile) -> bool:
    """Whether ``statement`` is the release of ``variable`` (x.close(), os.close(x), lock.release())."""
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
        return False
    call = statement.value
    if "." in release:
        return src.qualname(call.func) == release and bool(call.args) and ast.unparse(call.args[0]) == variable
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr == release and ast.unparse(func.value) == variable


def _acquired(statement: ast.stmt, src: SourceFile) -> tuple[str, str, str] | None:
    """(variable, release, what) when ``statement`` acquires something that must be released."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        if isinstance(func, ast.Attribute) and func.attr == "acquire" and not statement.value.args:
            return ast.unparse(func.value), "release", "lock"
        return None
    if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
        return None
    target, value = statement.targets[0], statement.value
    if not isinstance(value, ast.Call) or not isinstance(target, ast.Name | ast.Attribute):
        return None
    name = src.qualname(value.func)
    if name not in ACQUIRE_CALLS:
        return None
    release, what = ACQUIRE_CALLS[name]
    return ast.unparse(target), release, what


def _can_raise(statements: list[ast.stmt]) -> bool:
    return any(isinstance(n, ast.Call | ast.Raise | ast.Subscript) for s in statements for n in ast.walk(s))


def _handled(statements: list[ast.stmt], variable: str, release: str, src: SourceFile) -> bool:
    """A try between acquire and release that releases or re-raises on its own error paths."""
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Try | ast.TryStar) and (node.finalbody or node.handlers):
                guarded = node.finalbody + [s for h in node.handlers for s in h.body]
                if any(_release_of(s, variable, release, src) for g in guarded for s in ast.walk(g)
                       if isinstance(s, ast.stmt)):  # fmt: skip
                    return True
    return False


def _blocks(function: ast.AST) -> Iterator[tuple[list[ast.stmt], bool]]:
    """Statement lists in a function, each with whether it runs as a finally/except body."""
    stack: list[tuple[list[ast.stmt], bool]] = [(getattr(function, "body", []), False)]
    while stack:
        block, cleanup = stack.pop()
        yield block, cleanup
        for statement in block:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            for field in ("body", "orelse"):
                inner = getattr(statement, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    stack.append((inner, cleanup))
            if isinstance(statement, ast.Try | ast.TryStar):
                stack.append((statement.finalbody, True))
                stack.extend((h.body, True) for h in statement.handlers)
            if isinstance(statement, ast.Match):
                stack.extend((case.body, cleanup) for case in statement.cases)


class ReleaseSkippedOnError(Rule):
    """Resource released only when nothing fails in between

    What: a file, socket, connection, temporary directory or lock acquired without a
    with block, then released by a later statement of the same block (close(),
    release(), shutil.rmtree) with calls in between that can raise, and no try/finally
    or except that releases it.
    Why: when one of those calls raises, the release never runs: descriptors and
    connections leak until the process runs out of them, a lock stays held and every
    later caller blocks, and a temporary directory with its data stays on disk
    (CWE-404, CWE-459).
    Example:
        lock.acquire()
        update_quota(project)
        lock.release()
    Fix: use the resource as a context manager (with lock:, with open(...) as f:,
    with tempfile.TemporaryDirectory() as d:) or release it in a finally block.
    """

    id = "SCR860"
    name = "release-skipped-on-error"
    category = Category.RESOURCE_CLEANUP
    cwe = 404
    severity = Severity.LOW
    confidence = Confidence.MEDIUM
    node_types = (ast.FunctionDef, ast.AsyncFunctionDef)
    context = FAILURE_CONTEXT

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        src = walk.src
        # Most functions call nothing that acquires: their blocks need no walk.
        calls = src.index.calls_by_function.get(node, ())  # type: ignore[call-overload]
        if not any(_could_acquire(call, src.aliases) for call in calls):
            return
        scope = ".".join(filter(None, (walk.scope_name, getattr(node, "name", ""))))
        for block, cleanup in _blocks(node):
            if cleanup:
                continue
            for index, statement in enumerate(block):
                acquired = _acquired(statement, src)
                if acquired is None:
                    continue
                variable, release, what = acquired
                for later in range(index + 1, len(block)):
                    if _release_of(block[later], variable, release, src):
                        between = block[index + 1 : later]
                        if _can_raise(between) and not _handled(between, variable, release, src):
                            cwe = 459 if what == "temporary directory" else None
                            yield self.finding(
                                statement,
                                f"{what} {variable} is released at line {block[later].lineno} "
                                "but not if a call in between raises",
                                src, scope=scope, cwe=cwe,
                            )  # fmt: skip
                        break
                    if variable in _stored_names(block[later]):
                        break  # rebound: a different resource from here on


def _stored_names(statement: ast.stmt) -> set[str]:
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AugAssign | ast.AnnAssign):
        targets = [statement.target]
    return {ast.unparse(t) for t in targets}


# SCR861 ---------------------------------------------------------------------------

BROAD = frozenset({"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"})
# Calls that destroy data; their failure leaves that data where others may reach it.
# Removing one file is left out: ``except OSError: pass`` around unlink is the usual
# "already gone" idiom, and what it leaves is one file, not a tree of data.
DELETE_CALLS = frozenset({"shutil.rmtree"})
ERASE_WORDS = re.compile(r"(^|_)(wipe|shred|scrub|erase|purge|zero|sanitize|sanitise)", re.IGNORECASE)
LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "print"})


def _swallows(handler: ast.ExceptHandler) -> bool:
    """The handler neither re-raises, returns a failure, nor does anything but log."""
    for statement in handler.body:
        if isinstance(statement, ast.Pass | ast.Continue):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            if call_tail(statement.value) in LOG_METHODS:
                continue
        return False
    return True


def _broad(handler: ast.ExceptHandler, src: SourceFile) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any((src.qualname(n) or "") in BROAD for n in names)


class CleanupFailureSwallowed(Rule):
    """Data deletion whose failure is caught and ignored

    What: inside a try whose broad except (bare, Exception, BaseException) only passes
    or logs, a call that erases data: a name with wipe, shred, scrub, erase, purge or
    zero, or shutil.rmtree of a directory named by a variable.
    Why: if the erase fails, the code carries on as if the data were gone: a volume
    that was not wiped is handed to the next tenant, a directory of decrypted or
    uploaded files stays on disk, and nobody is told beyond a log line (CWE-459,
    CWE-226 when storage is reused).
    Example:
        try:
            wipe_volume(path)
        except Exception:
            LOG.warning("wipe failed")
    Fix: let the failure propagate (or retry, then raise) so the resource is not
    released for reuse; catch only the error you expect (FileNotFoundError for an
    already-deleted file).
    """

    id = "SCR861"
    name = "cleanup-failure-swallowed"
    category = Category.RESOURCE_CLEANUP
    cwe = 459
    severity = Severity.LOW
    confidence = Confidence.MEDIUM
    node_types = (ast.Try,)
    context = FAILURE_CONTEXT

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Try)
        src = walk.src
        if not any(_broad(h, src) and _swallows(h) for h in node.handlers):
            return
        for statement in node.body:
            for call in (n for n in ast.walk(statement) if isinstance(n, ast.Call)):
                name = src.qualname(call.func) or call_tail(call)
                tail = call_tail(call)
                if name in DELETE_CALLS or ERASE_WORDS.search(tail):
                    target = ast.unparse(call.args[0]) if call.args else ""
                    if target and not names_in(call.args[0]) and not isinstance(call.args[0], ast.Attribute):
                        continue  # a fixed path, not data a caller handed in
                    yield self.finding(call, f"failure of {tail}({target}) is caught and ignored; "
                                       "the data stays behind", src, scope=walk.scope_name)  # fmt: skip
