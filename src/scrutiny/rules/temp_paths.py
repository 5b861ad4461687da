"""Shared-directory rules (88x): fixed names in the temp directory, check-then-create races,
and owner or mode changes that follow links planted in a walked tree.

tempfile.mktemp is SCR406 and hard-coded "/tmp/..." literals are another rule's; these
rules look at paths built from tempfile.gettempdir() and at files created after an
existence check.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import (
    Rule,
    Walk,
    argument,
    call_tail,
    exactly,
    is_constant_string,
    is_false,
    is_true,
    keyword,
    note,
    string_value,
)
from scrutiny.source import SourceFile

TEMP_DIR_CALLS = frozenset({"tempfile.gettempdir", "tempfile.gettempdirb"})
JOIN_CALLS = frozenset({"os.path.join", "posixpath.join"})

TEMP_CONTEXT = {
    FileKind.TEST: note("tests run on a machine of their own"),
    FileKind.EXAMPLE: note("example code"),
    FileKind.DOCS: note("documentation code"),
}


def _is_temp_dir(node: ast.AST, src: SourceFile) -> bool:
    return isinstance(node, ast.Call) and src.qualname(node.func) in TEMP_DIR_CALLS


class FixedNameInTempDir(Rule):
    """Fixed file name in the shared temporary directory

    What: a path made of tempfile.gettempdir() and a constant name:
    os.path.join(tempfile.gettempdir(), "app.lock"), f"{tempfile.gettempdir()}/x",
    Path(tempfile.gettempdir()) / "x".
    Why: every local user can write to the temporary directory and knows the name in
    advance; they create it first as a symlink to a file the program can write, or as
    a file with content they choose, and the program overwrites or trusts it
    (CWE-377, CWE-59).
    Example:
        cache = os.path.join(tempfile.gettempdir(), "thumbs.db")
    Fix: create a private file or directory with an unpredictable name:
    tempfile.mkstemp(), tempfile.NamedTemporaryFile() or tempfile.mkdtemp(); keep
    lasting state in a directory owned by the service.
    """

    id = "SCR880"
    name = "fixed-name-in-temp-dir"
    category = Category.FILESYSTEM
    cwe = 377
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Call, ast.BinOp, ast.JoinedStr)
    call_filter = exactly("join")  # BinOp and JoinedStr nodes are not filtered
    context = TEMP_CONTEXT

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        src = walk.src
        name: str | None = None
        if isinstance(node, ast.Call) and call_tail(node) == "join" and src.qualname(node.func) in JOIN_CALLS:
            if len(node.args) >= 2 and _is_temp_dir(node.args[0], src):
                if all(is_constant_string(a) for a in node.args[1:]):
                    name = "/".join(string_value(a) or "..." for a in node.args[1:])
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div | ast.Add):
            left = node.left
            if isinstance(left, ast.Call) and call_tail(left) in ("Path", "PurePath") and left.args:
                left = left.args[0]
            if _is_temp_dir(left, src) and is_constant_string(node.right):
                name = string_value(node.right) or "..."
        elif isinstance(node, ast.JoinedStr) and len(node.values) >= 2:
            first, rest = node.values[0], node.values[1:]
            if isinstance(first, ast.FormattedValue) and _is_temp_dir(first.value, src):
                if all(isinstance(v, ast.Constant) for v in rest):
                    name = "".join(str(getattr(v, "value", "")) for v in rest)
        if name:
            yield self.finding(node, f"fixed name {name!r} in the shared temporary directory", src,
                               scope=walk.scope_name)  # fmt: skip


EXISTS_CALLS = frozenset({"os.path.exists", "os.path.isfile", "os.path.lexists", "os.access"})
WRITE_MODES = ("w", "a")


def _creates(node: ast.AST, path: str, src: SourceFile) -> str | None:
    """What ``node`` does to ``path`` when it creates or writes it following links."""
    if not isinstance(node, ast.Call):
        return None
    tail = call_tail(node)
    if tail == "open" and src.qualname(node.func) in ("open", "io.open"):
        target, mode = argument(node, "file", 0), string_value(argument(node, "mode", 1)) or "r"
        if target is not None and ast.unparse(target) == path and mode.startswith(WRITE_MODES) and "x" not in mode:
            return f"open(..., {mode!r})"
    elif tail in ("symlink", "link", "copy", "copyfile", "copy2", "move") and len(node.args) >= 2:
        if ast.unparse(node.args[1]) == path:
            return f"{tail}()"
    return None


class CheckThenCreate(Rule):
    """File created after a separate check that it does not exist

    What: if not os.path.exists(p) (or isfile/lexists/access) followed, inside the
    branch, by open(p, "w"/"a"), os.symlink(..., p), os.link or shutil.copy/move to p.
    Why: between the check and the creation another process can create p, often as a
    symlink, and the write then follows it into a file of the attacker's choosing
    (time-of-check/time-of-use race, CWE-367), or data is appended to a file they
    prepared.
    Example:
        if not os.path.exists(lock_path):
            with open(lock_path, "w") as f: ...
    Fix: create atomically and handle the failure: open(p, "x") or
    os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW), catching
    FileExistsError.
    """

    id = "SCR881"
    name = "check-then-create"
    category = Category.FILESYSTEM
    cwe = 367
    severity = Severity.LOW
    confidence = Confidence.LOW
    node_types = (ast.If,)
    context = TEMP_CONTEXT

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.If)
        test = node.test
        if not (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Call)):
            return
        check = test.operand
        if walk.src.qualname(check.func) not in EXISTS_CALLS or not check.args:
            return
        path = ast.unparse(check.args[0])
        for statement in node.body:
            for inner in ast.walk(statement):
                action = _creates(inner, path, walk.src)
                if action:
                    yield self.finding(inner, f"{action} on {path} after a separate existence check at line "
                                       f"{node.lineno}", walk.src, scope=walk.scope_name)  # fmt: skip
                    return


# SCR882 ---------------------------------------------------------------------------

TREE_WALKS = frozenset({"os.walk", "os.listdir", "os.scandir", "os.fwalk", "glob.glob", "glob.iglob"})
TREE_METHODS = frozenset({"rglob", "iterdir", "walk"})
# Calls that change a file's owner or mode and follow a symlink unless told not to.
FOLLOWING_CALLS = frozenset({"os.chown", "os.chmod", "shutil.chown", "os.utime"})
FOLLOWING_METHODS = frozenset({"chmod", "chown"})


def _walked_names(loop: ast.For, src: SourceFile) -> set[str]:
    """Names bound to entries of a directory tree by ``loop`` and loops nested in it."""
    it = loop.iter
    if not isinstance(it, ast.Call):
        return set()
    is_walk = src.qualname(it.func) in TREE_WALKS or (
        isinstance(it.func, ast.Attribute)
        and it.func.attr in TREE_METHODS
        and not (src.qualname(it.func) or "").startswith("os.")
    )
    if not is_walk:
        return set()
    names = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
    target = loop.target
    if src.qualname(it.func) in ("os.walk", "os.fwalk") and not is_true(keyword(it, "followlinks")):
        # The directories os.walk descends into are real ones; the links are among the names.
        if isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name):
            names.discard(target.elts[0].id)
    for inner in ast.walk(loop):
        if isinstance(inner, ast.For) and inner is not loop and isinstance(inner.iter, ast.Name):
            if inner.iter.id in names:
                names |= {n.id for n in ast.walk(inner.target) if isinstance(n, ast.Name)}
    return names


def _checks_links(scope: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call) and call_tail(n) in ("islink", "is_symlink", "lstat", "realpath", "resolve")
        for n in ast.walk(scope)
    )


class ModeChangeFollowsLinks(Rule):
    """Owner or mode changed on every entry of a directory tree, following symlinks

    What: inside a loop over os.walk, os.listdir, os.scandir, glob or Path.rglob/iterdir,
    os.chown, os.chmod, os.utime or shutil.chown (or Path.chmod/chown) on a path built
    from the entry, without follow_symlinks=False, in a function that never tests for
    links (islink, is_symlink, lstat, realpath).
    Why: whoever can write into the tree (a guest's files, a service running as another
    user, an unpacked archive) places a symlink there; the privileged process then
    changes the owner or mode of the file the link points to, /etc/shadow included
    (CWE-59).
    Example:
        for root, dirs, files in os.walk(path):
            for name in files:
                os.chown(os.path.join(root, name), uid, gid)
    Fix: pass follow_symlinks=False (os.chown, os.chmod where supported) or use
    os.lchown; skip entries for which os.path.islink is true.
    """

    id = "SCR882"
    name = "mode-change-follows-links"
    category = Category.FILESYSTEM
    cwe = 59
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.For,)
    context = TEMP_CONTEXT

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.For)
        src = walk.src
        names = _walked_names(node, src)
        if not names or _checks_links(walk.function or src.tree):
            return
        for inner in ast.walk(node):
            if not isinstance(inner, ast.Call) or call_tail(inner) not in ("chown", "chmod", "utime"):
                continue
            name = src.qualname(inner.func) or ""
            if name in FOLLOWING_CALLS:
                subject = inner.args[0] if inner.args else None
            elif isinstance(inner.func, ast.Attribute) and not name.startswith(("os.", "shutil.")):
                subject = inner.func.value
            else:
                continue
            if subject is None or not names & {n.id for n in ast.walk(subject) if isinstance(n, ast.Name)}:
                continue
            if is_false(keyword(inner, "follow_symlinks")):
                continue
            yield self.finding(inner, f"{call_tail(inner)} on {ast.unparse(subject)[:50]} follows a symlink "
                               "placed in the walked tree", src, scope=walk.scope_name)  # fmt: skip
