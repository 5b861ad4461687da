"""File permission rules (8xx): files and directories anyone on the machine can write."""

from __future__ import annotations

import ast
import re
import stat
from collections.abc import Iterator

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, argument, call_tail, exactly, string_value
from scrutiny.rules.resolve import module_value
from scrutiny.source import SourceFile

# (call, position of the mode argument); chmod-style calls set the mode as given.
CHMOD_CALLS = {"os.chmod": 1, "os.lchmod": 1, "os.fchmod": 1}
# Creation calls whose mode the process umask still narrows.
CREATE_CALLS = {"os.open": 2, "os.mkdir": 1, "os.makedirs": 1, "os.mkfifo": 1, "os.mknod": 1}
STAT_BITS = {name: getattr(stat, name) for name in dir(stat) if name.startswith("S_I") and name.isupper()}
TEMP_WORDS = ("tmp", "temp")


def mode_value(node: ast.AST | None, src: SourceFile) -> int | None:
    """The integer a mode expression stands for: literals and stat.S_* names joined by | or +."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr | ast.Add):
        left, right = mode_value(node.left, src), mode_value(node.right, src)
        if left is None or right is None:
            return None
        return left | right if isinstance(node.op, ast.BitOr) else left + right
    name = src.qualname(node) if isinstance(node, ast.Attribute | ast.Name) else None
    if name and name.startswith("stat.S_I"):
        return STAT_BITS.get(name[5:])
    return None


# Calls that take or set a file mode, by their last name.
MODE_CALLS = frozenset({"chmod", "lchmod", "fchmod", "umask", "open", "mkdir", "makedirs", "mkfifo", "mknod", "touch"})


class PermissiveFileMode(Rule):
    """File or directory made writable by every local user

    What: os.chmod/lchmod/fchmod or Path.chmod with a mode that grants write to others
    (0o777, 0o666, stat.S_IWOTH ...), os.umask with a mask that keeps others' write
    bit (os.umask(0); not when the next statement puts the old mask back, the only way to
    read it), and, at low severity, os.open/mkdir/makedirs/mkfifo or
    Path.mkdir/touch asking for world-writable modes (still narrowed by the umask).
    Why: any local account or compromised service can then replace the file's content:
    configuration, scripts that run later, sockets, or temporary files another process
    trusts, which turns a foothold into code execution or data tampering.
    Example:
        os.chmod(socket_path, 0o777)
    Fix: grant the least needed: 0o600 for private files, 0o644/0o755 for shared
    read-only ones; use a group (0o660/0o770) when several services must write.
    """

    id = "SCR804"
    name = "permissive-file-mode"
    category = Category.FILESYSTEM
    cwe = 732
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    node_types = (ast.Call,)
    call_filter = exactly(MODE_CALLS)
    bandit = ("B103",)
    ruff = ("S103",)

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        func = node.func
        tail = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if tail not in MODE_CALLS:
            return
        src = walk.src
        name = src.qualname(func) or ""
        if name == "os.umask":
            mask = mode_value(argument(node, "mask", 0), src)
            if mask is not None and not mask & stat.S_IWOTH and not _umask_read(node, walk):
                yield self.finding(node, f"os.umask({mask:#o}) lets every new file be world-writable", src,
                                   scope=walk.scope_name)  # fmt: skip
            return
        found = _mode_argument(node, name, tail)
        if found is None:
            return
        mode, created = found
        written, _ = module_value(mode, src, walk.function)
        value = mode_value(written, src)
        if value is None or not value & stat.S_IWOTH or _decimal_typo(written, value, src) is not None:
            return  # a decimal typo is SCR805's finding
        subject = node.args[0] if name.startswith("os.") and node.args else getattr(func, "value", None)
        target = ast.unparse(subject) if subject is not None else ""
        temp = " (a temporary file other users can replace)" if any(w in target.lower() for w in TEMP_WORDS) else ""
        if created:
            yield self.finding(node, f"{tail} asks for mode {value:#o}, world-writable unless the umask removes it",
                               src, scope=walk.scope_name, severity=Severity.LOW,
                               confidence=Confidence.LOW)  # fmt: skip
        else:
            yield self.finding(node, f"{tail} sets mode {value:#o}: every local user can write it{temp}", src,
                               scope=walk.scope_name)  # fmt: skip


def _mode_argument(call: ast.Call, name: str, tail: str) -> tuple[ast.expr | None, bool] | None:
    """The mode argument of a call that sets or creates with a mode, and whether it
    creates (the umask then still narrows the mode); None for other calls."""
    if name in CHMOD_CALLS:
        return argument(call, "mode", CHMOD_CALLS[name]), False
    if name in CREATE_CALLS:
        return argument(call, "mode", CREATE_CALLS[name]), True
    if isinstance(call.func, ast.Attribute) and not name.startswith("os."):
        # pathlib: p.chmod(mode), p.mkdir(mode=...), p.touch(mode=...)
        if tail == "chmod" and len(call.args) == 1 and not call.keywords:
            return call.args[0], False
        if tail in ("mkdir", "touch"):
            return argument(call, "mode", 0), True
    return None


# Permission digits a deliberate mode is made of: none, r, r-x, rw, rwx.
USUAL_DIGITS = frozenset("04567")
PERMISSION_BITS = 0o777


def _usual(mode: int) -> bool:
    """A mode whose owner, group and other digits are each a usual set, none wider than the one before."""
    digits = f"{mode:03o}"
    return mode <= PERMISSION_BITS and set(digits) <= USUAL_DIGITS and digits[0] >= digits[1] >= digits[2]


def _widens_outward(mode: int) -> str | None:
    """Who gets read or write a closer class is denied, as text; None when each class's
    read and write are within the previous one's."""
    owner, group, other = (mode >> 6) & 7, (mode >> 3) & 7, mode & 7
    # Execute alone is left out: 0o701/0o711 let others pass through a directory on purpose.
    if group & ~owner & 6:
        return f"the group gets {_perm(group & ~owner)} the owner does not have"
    if other & ~group & 6:
        return f"other users get {_perm(other & ~group)} the group does not have"
    return None


def _perm(bits: int) -> str:
    return "/".join(word for bit, word in ((4, "read"), (2, "write"), (1, "execute")) if bits & bit)


def _decimal_typo(written: ast.expr | None, value: int, src: SourceFile) -> int | None:
    """The octal mode a decimal literal's digits spell (400 -> 0o400) when that is a usual
    mode and the decimal value is not one (420, which is 0o644, is left alone)."""
    if not isinstance(written, ast.Constant):
        return None
    segment = ast.get_source_segment(src.text, written) or ""
    if len(segment) != 3 or not set(segment) <= set("01234567"):
        return None
    meant = int(segment, 8)
    return meant if _usual(meant) and not _usual(value) else None


class SuspiciousFileMode(Rule):
    """File mode that is probably not the one meant

    What: a mode given to os.chmod/lchmod/fchmod, os.open, os.mkdir/makedirs/mkfifo/mknod
    or Path.chmod/mkdir/touch that is written as a decimal number whose digits spell a
    usual octal mode (400, 644, 755, 600: decimal 400 is 0o620, decimal 644 is 0o1204);
    and, at low severity, one whose bits give the group a permission the owner lacks or
    other users one the group lacks (0o704, 0o060, stat.S_IWGRP alone; execute alone, as in
    0o701 for a directory others pass through, is left out), which is how a
    dropped or misplaced digit or a lone stat constant reads. The mode is resolved from
    literals, stat.S_I* names joined with | and module constants.
    Why: the file ends up with permissions nobody chose: a decimal 644 makes the file
    unreadable by its owner and sets the sticky bit, a decimal 400 lets the group write a
    file meant to be read-only, 0o704 opens a file to every local user while shutting out
    the group, and chmod(p, stat.S_IWGRP) takes every permission from the owner.
    Example:
        os.chmod(key_path, 400)
    Fix: write modes in octal with the 0o prefix (0o400, 0o644), and combine stat
    constants for every class you mean (stat.S_IRUSR | stat.S_IWUSR | stat.S_IWGRP).
    """

    id = "SCR805"
    name = "suspicious-file-mode"
    category = Category.FILESYSTEM
    cwe = 732
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Call,)
    call_filter = exactly(MODE_CALLS)
    bandit = ()
    ruff = ()

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        src = walk.src
        tail = call_tail(node)
        name = src.qualname(node.func) or ""
        found = _mode_argument(node, name, tail) if tail in MODE_CALLS and name != "os.umask" else None
        if found is None or found[0] is None:
            return
        written, via = module_value(found[0], src, walk.function)
        value = mode_value(written, src)
        if value is None:
            return
        shown = f"{via} = " if via else ""
        meant = _decimal_typo(written, value, src)
        if meant is not None:
            yield self.finding(
                node,
                f"{tail} mode {shown}{meant:o} is a decimal number, 0o{value:03o} in octal; 0o{meant:03o} was "
                f"probably meant (the digits spell a usual octal mode)",
                src,
                scope=walk.scope_name,
            )
            return
        wider = _widens_outward(value & PERMISSION_BITS)
        if wider and not value & stat.S_IWOTH:  # others' write is SCR804's finding
            yield self.finding(
                node,
                f"{tail} mode {shown}0o{value:03o}: {wider}, which reads as a misplaced digit or a missing "
                f"stat constant",
                src,
                scope=walk.scope_name,
                severity=Severity.LOW,
            )


OPEN_CALLS = ("open", "io.open", "builtins.open", "codecs.open")
OPEN_MODE = re.compile(r"^[rwxabt+U]{1,4}$")
# An identifier that spells its octal value: o600, MODE_0600, S_0o644.
MODE_NAME = re.compile(r"(?:^|_|[oO])0?[oO]?([0-7]{3})$")
TEMP_FACTORIES = ("mkstemp", "NamedTemporaryFile", "TemporaryFile", "mkdtemp")
CHMOD_TAILS = ("chmod", "lchmod", "fchmod")


def _known_mode(node: ast.AST | None, src: SourceFile) -> int | None:
    """A mode from literals and stat names, a module constant, or a name that spells it (o600)."""
    value = mode_value(node, src)
    if value is not None or not isinstance(node, ast.Name | ast.Attribute):
        return value
    name = node.id if isinstance(node, ast.Name) else node.attr
    for statement in src.tree.body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and statement.targets[0].id == name
        ):
            return mode_value(statement.value, src)
    spelled = MODE_NAME.search(name)
    return int(spelled.group(1), 8) if spelled else None


def _bound_name(call: ast.Call, walk: Walk) -> str | None:
    """The name a created file's object or descriptor is kept under (with ... as f, f = open())."""
    parent = walk.parent(call)
    if isinstance(parent, ast.withitem) and isinstance(parent.optional_vars, ast.Name):
        return parent.optional_vars.id
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
        return parent.targets[0].id
    return None


class ModeNarrowedAfterWrite(Rule):
    """File created with the default mode and made private only afterwards

    What: in one function, a file is created for writing with the default permissions
    (open(p, "w"/"x"/"a"), Path.write_text/write_bytes, Path.open("w"), os.open with
    O_CREAT and no mode) and later os.chmod/Path.chmod on the same path, or os.fchmod on
    its descriptor, takes read access away from other users (0o600, 0o640, 0o400 ...).
    Quiet when os.umask is set first, when the path comes from tempfile (already private),
    or when the chmod does not narrow others' access.
    Why: until the chmod runs, the file has the umask's mode, usually readable by every
    local user; another process can open it in that window and keep reading through its
    descriptor after the chmod, so the key or token written there leaks anyway.
    Example:
        with open(key_path, "w") as f:
            os.chmod(key_path, 0o600)
            f.write(private_key)
    Fix: create it private from the start:
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) and
    os.fdopen(fd, "w"), or set a restrictive os.umask around the creation.
    """

    id = "SCR981"
    name = "mode-narrowed-after-write"
    category = Category.FILESYSTEM
    cwe = 276
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.FunctionDef, ast.AsyncFunctionDef)
    bandit = ()
    ruff = ()

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        src = walk.src
        calls = src.index.calls_by_function.get(node, [])
        if not any(call_tail(call) in CHMOD_TAILS for call in calls):
            return  # most functions: nothing narrows a mode, so nothing to pair
        calls = sorted(calls, key=lambda c: (c.lineno, c.col_offset))
        created: dict[str, ast.Call] = {}  # path text or descriptor name -> creating call
        temporary = _temporary_names(node)
        for call in calls:
            name = src.qualname(call.func) or ""
            tail = call_tail(call)
            if name == "os.umask":
                return
            path = _created_path(call, name, tail)
            if path is not None and path.split(".")[0] not in temporary:
                created.setdefault(path, call)
                bound = _bound_name(call, walk)
                if bound:
                    created.setdefault(f"fd:{bound}", call)
                continue
            if tail not in CHMOD_TAILS:
                continue
            target, mode_node = _chmod_target(call, name, tail)
            creation = created.get(target) if target else None
            mode = _known_mode(mode_node, src)
            if target is None or creation is None or mode is None or mode & stat.S_IROTH:
                continue
            private = not mode & 0o077
            yield self.finding(
                creation,
                f"{ast.unparse(creation.func)}() creates the file with the default mode; the "
                f"{tail}({mode:#o}) at line {call.lineno} removes others' access only after it exists",
                src,
                scope=walk.scope_name,
                severity=Severity.MEDIUM if private else Severity.LOW,
            )
            del created[target]


def _umask_read(call: ast.Call, walk: Walk) -> bool:
    """``old = os.umask(0)`` followed at once by ``os.umask(old)``: the only way to read the
    mask, which is put back before anything can be created."""
    statement = walk.parent(call)
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
        return False
    target = statement.targets[0]
    block = getattr(walk.parent(statement), "body", None)
    if not isinstance(target, ast.Name) or not isinstance(block, list) or statement not in block:
        return False
    position = block.index(statement)
    following = block[position + 1] if position + 1 < len(block) else None
    restore = following.value if isinstance(following, ast.Expr) else None
    return (
        isinstance(restore, ast.Call)
        and walk.src.qualname(restore.func) == "os.umask"
        and bool(restore.args)
        and isinstance(restore.args[0], ast.Name)
        and restore.args[0].id == target.id
    )


def _temporary_names(function: ast.AST) -> set[str]:
    """Names bound from tempfile factories, whose files are already private to the owner."""
    names: set[str] = set()
    for node in ast.walk(function):
        value = node.value if isinstance(node, ast.Assign) else None
        if isinstance(value, ast.Call) and call_tail(value) in TEMP_FACTORIES:
            assert isinstance(node, ast.Assign)
            names.update(n.id for target in node.targets for n in ast.walk(target) if isinstance(n, ast.Name))
        if isinstance(node, ast.withitem) and isinstance(node.context_expr, ast.Call):
            if call_tail(node.context_expr) in TEMP_FACTORIES and isinstance(node.optional_vars, ast.Name):
                names.add(node.optional_vars.id)
    return names


def _created_path(call: ast.Call, name: str, tail: str) -> str | None:
    """The path text of a call that creates a file with the default mode, else None."""
    if name in OPEN_CALLS:
        mode = string_value(argument(call, "mode", 1))
        path = argument(call, "file", 0)
        if mode and OPEN_MODE.match(mode) and set(mode) & set("wxa") and path is not None:
            return ast.unparse(path)
        return None
    if name == "os.open":
        flags, path = argument(call, "flags", 1), argument(call, "path", 0)
        if flags is not None and path is not None and argument(call, "mode", 2) is None:
            return ast.unparse(path) if "O_CREAT" in ast.unparse(flags) else None
        return None
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if receiver is None or name.startswith(("os.", "io.", "codecs.")):
        return None
    if tail in ("write_text", "write_bytes"):
        return _path_text(receiver)
    if tail == "open" and call.args:
        mode = string_value(call.args[0])
        if mode and OPEN_MODE.match(mode) and set(mode) & set("wxa"):
            return _path_text(receiver)
    return None


def _path_text(node: ast.expr) -> str:
    """The text of a path, seeing through Path(p) so that Path(p) and p compare equal."""
    if isinstance(node, ast.Call) and call_tail(node) in ("Path", "PurePath", "PosixPath") and len(node.args) == 1:
        return ast.unparse(node.args[0])
    return ast.unparse(node)


def _chmod_target(call: ast.Call, name: str, tail: str) -> tuple[str | None, ast.expr | None]:
    """(path text or fd:name, mode expression) of a chmod-style call."""
    if name in ("os.chmod", "os.lchmod"):
        path = argument(call, "path", 0)
        return (ast.unparse(path) if path is not None else None), argument(call, "mode", 1)
    if name == "os.fchmod":
        fd = argument(call, "fd", 0)
        if isinstance(fd, ast.Call) and call_tail(fd) == "fileno" and isinstance(fd.func, ast.Attribute):
            fd = fd.func.value
        return (f"fd:{fd.id}" if isinstance(fd, ast.Name) else None), argument(call, "mode", 1)
    if tail == "chmod" and isinstance(call.func, ast.Attribute) and len(call.args) == 1 and not call.keywords:
        if not name.startswith("os."):
            return _path_text(call.func.value), call.args[0]
    return None, None
