"""Filesystem rules (4xx): temporary files created unsafely or at predictable paths."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import CallRule, Rule, Walk, call_tail, keep_lower, note, string_value


class TempfileMktemp(CallRule):
    """Temporary file name chosen before the file exists

    What: tempfile.mktemp, os.tempnam or os.tmpnam, which return a free path without
    creating the file. When the function uses the name only to create the path in a way
    that fails if it exists (binding a UNIX socket, mkdir, mkfifo, or as the new path of
    os.symlink / os.link), possibly after converting it (os.fsencode), and then to use,
    move or remove it, the finding is low.
    Why: between the name being chosen and the file being opened, another local process
    can create that path, often as a symlink to a file the program will then overwrite or
    read (a time-of-check/time-of-use race in a shared directory such as /tmp).
    Example:
        path = tempfile.mktemp(suffix=".json")
        with open(path, "w") as out: ...
    Fix: let the library create the file atomically: tempfile.NamedTemporaryFile,
    tempfile.mkstemp, or tempfile.TemporaryDirectory/mkdtemp for a private directory.
    """

    id = "SCR406"
    name = "tempfile-mktemp"
    category = Category.FILESYSTEM
    cwe = 377
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    calls = ("tempfile.mktemp", "os.tempnam", "os.tmpnam")
    bandit = ("B306",)
    ruff = ("S306",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        claimed = _claimed_exclusively(call, walk)
        if claimed is not None:
            yield self.finding(call, f"{name} returns a file name without creating the file; {claimed}, which "
                               "fails if another process made the path first", walk.src, scope=walk.scope_name,
                               severity=Severity.LOW)  # fmt: skip
            return
        yield self.finding(
            call, f"{name} returns a file name without creating the file (race)", walk.src, scope=walk.scope_name
        )


# Calls that create what they are given and fail when the path already exists, so a
# path planted first makes them fail rather than redirects them.
EXCLUSIVE_CREATORS = frozenset({"bind", "listenUNIX", "mkdir", "mkfifo", "symlink", "link"})
# Of those, the ones whose new path is their second argument (os.symlink(target, new)).
CREATED_SECOND = frozenset({"symlink", "link"})
# Calls that may use such a path once it is created, move it, or clean it up.
AFTER_CREATION = frozenset(
    {"connect", "connectUNIX", "unlink", "remove", "rmdir", "exists", "isdir", "rmtree", "rename", "replace"}
)
# Conversions that give the same path in another type (name = os.fsencode(name)).
PATH_CONVERSIONS = frozenset({"fsencode", "fsdecode", "str", "bytes", "encode", "decode"})


def _claimed_exclusively(call: ast.Call, walk: Walk) -> str | None:
    """How the name is claimed, when ``name = mktemp()`` is used in its function only by
    calls that create the path exclusively (a socket bound, a directory made) and,
    after the first of them, by calls that use or remove what was made."""
    statement = walk.parent(call)
    function = walk.function
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name) and function is not None):  # fmt: skip
        return None
    held = statement.targets[0].id
    uses = sorted(
        (n.lineno, n.col_offset, n)
        for n in ast.walk(function)
        if isinstance(n, ast.Name) and n.id == held and isinstance(n.ctx, ast.Load)
    )
    first_creator: ast.Call | None = None
    for _line, _col, use in uses:
        user = walk.parent(use)
        if not isinstance(user, ast.Call) or use not in user.args:
            return None
        tail = call_tail(user)
        if tail in PATH_CONVERSIONS and first_creator is None and _rebinds(user, held, walk):
            continue  # name = os.fsencode(name): the same path
        if tail in CREATED_SECOND and user.args.index(use) != 1:
            return None  # the existing target of a link, not the path it creates
        if tail in EXCLUSIVE_CREATORS and first_creator is None:
            first_creator = user
        elif first_creator is None or tail not in EXCLUSIVE_CREATORS | AFTER_CREATION:
            return None
    if first_creator is None:
        return None
    return f"{held} is first used by {ast.unparse(first_creator.func)} on line {first_creator.lineno}"


def _rebinds(call: ast.Call, held: str, walk: Walk) -> bool:
    """``held = conversion(held)``: the call's value is assigned back to the same name."""
    statement = walk.parent(call)
    return (isinstance(statement, ast.Assign) and statement.value is call and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id == held)  # fmt: skip


# Directories every local user can write to.
SHARED_TEMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")  # noqa: S108  (the directories this rule looks for)
# Calls that create or write the file or directory they are given.
CREATING_CALLS = frozenset(
    {
        "open", "os.open", "io.open", "os.mkdir", "os.makedirs", "os.mkfifo", "os.symlink", "os.link",
        "shutil.copy", "shutil.copyfile", "shutil.copy2", "shutil.copytree", "shutil.move", "os.rename",
        "os.replace", "sqlite3.connect", "logging.FileHandler",
    }
)  # fmt: skip
# Calls that test a path rather than use it.
COMPARING_METHODS = frozenset({"startswith", "endswith", "find", "index", "count", "replace", "split"})
SHARED_TEMP_PREFIXES = tuple(f"{top}/" for top in SHARED_TEMP_DIRS)


def _shared_temp_path(text: str, more: bool = False) -> bool:
    """True for "/tmp/name"; ``more`` says the literal is followed by f-string values."""
    if not text.startswith(SHARED_TEMP_PREFIXES):  # one C-level test rules out nearly every literal
        return False
    return any(text.startswith(prefix) and (more or len(text) > len(prefix)) for prefix in SHARED_TEMP_PREFIXES)


class HardcodedTempPath(Rule):
    """File path in a shared temporary directory written into the code

    What: a string literal (or the literal start of an f-string) naming a path below
    /tmp, /var/tmp or /dev/shm. Medium when the path goes straight to a call that
    creates or writes it (open, os.mkdir, shutil.copy...), low elsewhere. Docstrings,
    comparisons and str methods such as startswith are not reported. In a script run by
    hand (a file that runs as a program outside a package) it is one step lower: the
    fixed path is the operator's working file, though still one another user can plant.
    Why: every local user can create files in these directories. A fixed name is known
    in advance, so another user can create it first, as a symlink to a file the program
    will overwrite, or as a file the program will read back (CWE-377 / CWE-59); two
    copies of the program also clobber each other's files.
    Example:
        with open("/tmp/report.csv", "w") as out: ...
    Fix: create temporary files with tempfile.NamedTemporaryFile / mkstemp, or a private
    directory with tempfile.mkdtemp / TemporaryDirectory; keep data that must persist in
    a directory the application owns.
    """

    id = "SCR407"
    name = "hardcoded-temp-path"
    category = Category.FILESYSTEM
    cwe = 377
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Constant, ast.JoinedStr)
    constant_values = (str,)  # check() returns on any other constant
    bandit = ("B108",)
    ruff = ("S108",)
    context = {
        FileKind.TEST: note("tests commonly use fixed scratch paths that are never created on a shared host"),
        FileKind.EXAMPLE: note("example code uses fixed paths for the reader to replace"),
        FileKind.DOCS: note("documentation code uses fixed paths for the reader to replace"),
        # Lowered, not dropped: another local user can still plant the path before the run.
        FileKind.SCRIPT: keep_lower("a script run by hand writes its working files where its operator expects them"),
    }

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        if isinstance(node, ast.JoinedStr):
            text = string_value(node.values[0]) if node.values else None
            more = len(node.values) > 1
        else:
            text, more = string_value(node), False
        if not text or not _shared_temp_path(text, more) or any(ch.isspace() for ch in text):
            return
        parent = walk.parent(node)
        if not isinstance(node, ast.JoinedStr) and isinstance(parent, ast.JoinedStr):
            return  # reported on the whole f-string
        slot = walk.src.index.slot(node)[0]
        if isinstance(parent, ast.Expr | ast.Compare) or (isinstance(parent, ast.Dict) and slot == "keys"):
            return
        if isinstance(parent, ast.Call) and slot == "args" and call_tail(parent) in COMPARING_METHODS:
            return
        if isinstance(parent, ast.Attribute) and parent.attr in COMPARING_METHODS:
            return
        shown = text if len(text) <= 60 else text[:57] + "..."
        creates = (
            isinstance(parent, ast.Call) and slot == "args" and walk.src.qualname(parent.func) in CREATING_CALLS
        )
        if creates:
            message = f"file created at the fixed shared path {shown!r}"
        else:
            message = f"fixed path {shown!r} in a directory every local user can write to"
        yield self.finding(node, message, walk.src, scope=walk.scope_name,
                           severity=None if creates else Severity.LOW)  # fmt: skip
