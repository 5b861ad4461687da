"""File permission rules (8xx): files and directories anyone on the machine can write."""

from __future__ import annotations

import ast
import stat
from collections.abc import Iterator

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, argument
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


class PermissiveFileMode(Rule):
    """File or directory made writable by every local user

    What: os.chmod/lchmod/fchmod or Path.chmod with a mode that grants write to others
    (0o777, 0o666, stat.S_IWOTH ...), os.umask with a mask that keeps others' write
    bit (os.umask(0)), and, at low severity, os.open/mkdir/makedirs/mkfifo or
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
    bandit = ("B103",)
    ruff = ("S103",)

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        func = node.func
        tail = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if tail not in ("chmod", "lchmod", "fchmod", "umask", "open", "mkdir", "makedirs", "mkfifo", "mknod", "touch"):
            return
        src = walk.src
        name = src.qualname(func) or ""
        if name == "os.umask":
            mask = mode_value(argument(node, "mask", 0), src)
            if mask is not None and not mask & stat.S_IWOTH:
                yield self.finding(node, f"os.umask({mask:#o}) lets every new file be world-writable", src,
                                   scope=walk.scope_name)  # fmt: skip
            return
        if name in CHMOD_CALLS:
            mode, created = argument(node, "mode", CHMOD_CALLS[name]), False
        elif name in CREATE_CALLS:
            mode, created = argument(node, "mode", CREATE_CALLS[name]), True
        elif isinstance(func, ast.Attribute) and not name.startswith("os."):
            # pathlib: p.chmod(mode), p.mkdir(mode=...), p.touch(mode=...)
            if tail == "chmod" and len(node.args) == 1 and not node.keywords:
                mode, created = node.args[0], False
            elif tail in ("mkdir", "touch"):
                mode, created = argument(node, "mode", 0), True
            else:
                return
        else:
            return
        value = mode_value(mode, src)
        if value is None or not value & stat.S_IWOTH:
            return
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
