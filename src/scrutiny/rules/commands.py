"""Process rules (1xx) beyond shell=True: programs chosen at run time, PATH lookups,
shell wildcards, remote commands over SSH and shell=True handed to other functions."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import (
    DEFAULT_CONTEXT,
    CallRule,
    Rule,
    Walk,
    argument,
    exactly,
    is_built_string,
    is_constant_string,
    note,
    parameters,
    string_value,
    values_bound,
    walk_function,
)
from scrutiny.rules.injection import SHELL_CALLS, SUBPROCESS_CALLS, shell_flag
from scrutiny.source import SourceFile

# The subprocess calls that take an argument list (getoutput always uses a shell).
ARGV_CALLS = tuple(c for c in SUBPROCESS_CALLS if not c.endswith(("getoutput", "getstatusoutput")))
# os functions that start a program without a shell: name -> position of the program.
OS_EXEC = {
    **{f"os.exec{suffix}": 0 for suffix in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")},
    **{f"os.spawn{suffix}": 1 for suffix in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")},
    "os.posix_spawn": 0,
    "os.posix_spawnp": 0,
    "os.startfile": 0,
}
# The os functions that look the program up in PATH.
OS_PATH_LOOKUP = frozenset(name for name in OS_EXEC if name.endswith(("p", "pe")) and "posix" not in name)
PROCESS_CONTEXT = {
    **DEFAULT_CONTEXT,
    FileKind.TEST: note("tests start the programs they test"),
    FileKind.SCRIPT: note("a script run by hand starts the programs its operator names"),
}


def _literal_split(node: ast.expr | None) -> ast.expr | None:
    """The literal behind "gcc --version".split(): the program is still fixed."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "split":
        if string_value(node.func.value) is not None and not node.args:
            return node.func.value
    return node


def _program(call: ast.Call, name: str) -> ast.expr | None:
    """The expression naming the program (or the whole command) of a process call."""
    if name in OS_EXEC:
        return argument(call, "path", OS_EXEC[name])
    command = _literal_split(argument(call, "args", 0))
    if isinstance(command, ast.List | ast.Tuple):
        return command.elts[0] if command.elts and not isinstance(command.elts[0], ast.Starred) else None
    return command


class ProgramFromVariable(CallRule):
    """External program chosen at run time

    What: subprocess calls without a shell, os.exec*, os.spawn*, os.posix_spawn and
    os.startfile whose program (the command string, or the first item of the argument
    list) is not a literal. Calls that start a fixed program are left alone, whatever
    their arguments.
    Why: whoever controls the value decides which executable runs with the program's
    rights; a path from a request, a config file others can write or an environment
    variable is enough to run code.
    Example:
        subprocess.run([tool, "--version"])
    Fix: choose the program from a fixed mapping of known absolute paths
    (TOOLS = {"convert": "/usr/bin/convert"}) and pass data only as later arguments.
    """

    id = "SCR130"
    name = "program-from-variable"
    category = Category.INJECTION
    cwe = 78
    severity = Severity.LOW
    confidence = Confidence.MEDIUM
    calls = (*ARGV_CALLS, *OS_EXEC)
    context = PROCESS_CONTEXT
    bandit = ("B603", "B606")
    ruff = ("S603", "S606")

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if name in ARGV_CALLS and shell_flag(call):
            return  # a shell: SCR101 and SCR134 report it
        program = _program(call, name)
        if program is None or is_constant_string(program):
            return
        if isinstance(program, ast.Name) and _bound_to_literal(program, walk):
            return
        shown = ast.unparse(program)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        yield self.finding(call, f"{name} starts a program named by `{shown}`, chosen at run time", walk.src,
                           scope=walk.scope_name)  # fmt: skip


def _bound_to_literal(name: ast.Name, walk: Walk) -> bool:
    """True when every assignment of ``name`` in the same scope is a literal string or list."""
    scope = walk.function or walk.src.tree
    values = values_bound(name.id, ast.walk(scope))

    def literal(value: ast.expr) -> bool:
        if isinstance(value, ast.List | ast.Tuple):
            return all(is_constant_string(e) for e in value.elts)
        return is_constant_string(value)

    return bool(values) and all(literal(v) for v in values)


def _first_word(node: ast.AST | None) -> str | None:
    text = string_value(node)
    if text is None:
        return None
    words = text.split()
    return words[0] if words else None


# Words a shell runs itself, not looked up in PATH.
SHELL_BUILTINS = frozenset({"cd", "echo", "exit", "export", "set", "test", "true", "false", "[", "exec", "umask"})


def _is_partial(program: str) -> bool:
    if program in SHELL_BUILTINS:
        return False
    if program.startswith(("/", "\\", "~")) or (len(program) > 2 and program[1] == ":"):
        return False  # absolute POSIX, UNC or Windows drive path
    return not program.startswith(("$", "%"))


class PartialExecutablePath(CallRule):
    """Program started by a name looked up in PATH

    What: a process started with a literal program name that is not an absolute path
    ("git", "gcc --version", "../bin/tool") by subprocess, os.system, os.popen or an
    os.exec*p/os.spawn*p function.
    Why: the executable that runs is the first match in PATH (or relative to the working
    directory), so anyone who can put a file earlier in PATH, or change the directory the
    service starts in, runs their own program instead.
    Example:
        subprocess.run(["tar", "xf", archive], check=True)
    Fix: use the absolute path of the program (/usr/bin/tar), or resolve it once with
    shutil.which at start-up and check the result lies in a trusted directory.
    """

    id = "SCR131"
    name = "partial-executable-path"
    category = Category.INJECTION
    cwe = 426
    severity = Severity.LOW
    confidence = Confidence.MEDIUM
    calls = (*SUBPROCESS_CALLS, *SHELL_CALLS, *OS_PATH_LOOKUP)
    context = {
        **PROCESS_CONTEXT,
        FileKind.EXAMPLE: note("example code names programs for the reader's PATH"),
        FileKind.DOCS: note("documentation code names programs for the reader's PATH"),
    }
    bandit = ("B607",)
    ruff = ("S607",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if name in OS_PATH_LOOKUP:
            program = _first_word(argument(call, "file", OS_EXEC[name]))
        elif name in SHELL_CALLS:
            program = _first_word(argument(call, "cmd", 0) or argument(call, "command", 0))
        else:
            program = _first_word(_program(call, name))
        if program and _is_partial(program):
            yield self.finding(call, f"{name} starts '{program}' through a PATH lookup", walk.src,
                               scope=walk.scope_name)  # fmt: skip


WILDCARD_PROGRAMS = frozenset({"tar", "chown", "chmod", "chgrp", "rsync", "zip", "7z"})


class ShellWildcard(CallRule):
    """Shell wildcard expanded into the options of tar, chown, chmod or rsync

    What: a command run through a shell (os.system, os.popen, subprocess with a shell)
    whose program is tar, chown, chmod, chgrp, rsync, zip or 7z and which has an
    argument starting with the * wildcard (*, *.log).
    Why: the shell expands * to every file name in the directory, and a file named like
    an option (--checkpoint-action=exec=sh x.sh for tar, --reference=own for chown, -e sh
    for rsync) becomes an option; whoever can create files there runs commands or takes
    over ownership.
    Example:
        os.system("cd /srv/uploads && tar czf /backup/u.tgz *")
    Fix: end the options with -- and name files with ./ (tar czf out.tgz -- ./*), or pass
    an explicit list of paths to subprocess.run without a shell.
    """

    id = "SCR132"
    name = "shell-wildcard-injection"
    category = Category.INJECTION
    cwe = 155
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    calls = (*SUBPROCESS_CALLS, *SHELL_CALLS)
    bandit = ("B609",)
    ruff = ("S609",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if name in ARGV_CALLS and shell_flag(call) != "on":
            return  # no shell, so * reaches the program unexpanded
        text = string_value(argument(call, "args", 0) or argument(call, "cmd", 0) or argument(call, "command", 0))
        if text is None:
            return
        for segment in text.replace("&&", ";").replace("||", ";").replace("|", ";").split(";"):
            words = segment.split()
            if not words:
                continue
            program = words[0].rsplit("/", 1)[-1]
            # Only a word that starts with the wildcard can expand to a name that starts
            # with "-"; dir/* and ./* expand to paths, which are never read as options.
            if program in WILDCARD_PROGRAMS and any(w.startswith("*") for w in words[1:]):
                yield self.finding(call, f"the shell expands * into the options of {program}", walk.src,
                                   scope=walk.scope_name)  # fmt: skip
                return


def _imports_paramiko(src: SourceFile) -> bool:
    return any(target == "paramiko" or target.startswith("paramiko.") for target in src.aliases.values())


def _quoted_only(command: ast.expr, src: SourceFile) -> bool:
    """True when every value pasted into the command goes through shlex.quote."""
    if isinstance(command, ast.JoinedStr):
        parts = [v.value for v in command.values if isinstance(v, ast.FormattedValue)]
    elif isinstance(command, ast.BinOp) and isinstance(command.op, ast.Add):
        parts = [command.left, command.right]
        while isinstance(parts[0], ast.BinOp) and isinstance(parts[0].op, ast.Add):
            parts = [parts[0].left, parts[0].right, *parts[1:]]
        parts = [p for p in parts if not is_constant_string(p)]
    else:
        return False
    return bool(parts) and all(
        isinstance(p, ast.Call) and src.qualname(p.func) in ("shlex.quote", "pipes.quote") for p in parts
    )


class SshCommandBuilt(CallRule):
    """Remote command over SSH assembled from run-time values

    What: exec_command on a paramiko SSH client, in a file that imports paramiko, given
    a command built with an f-string, %, .format or + (or a value that is not a literal).
    A command that is the enclosing function's own parameter, passed on unchanged, is low:
    the function is a wrapper and its callers decide what runs.
    Why: the SSH server hands the command string to the remote user's shell, so a value
    pasted into it can add commands that run on the remote host (OS command injection,
    one hop away).
    Example:
        client.exec_command(f"cat /var/log/{name}")
    Fix: quote each value with shlex.quote before building the command (commands whose
    every pasted value goes through shlex.quote are not reported), or run a fixed remote
    program that reads its input from stdin.
    """

    id = "SCR133"
    name = "ssh-command-built"
    category = Category.INJECTION
    cwe = 78
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    methods = ("exec_command",)
    bandit = ("B601",)
    ruff = ("S601",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if not _imports_paramiko(walk.src):
            return
        command = argument(call, "command", 0)
        if command is None or is_constant_string(command) or _quoted_only(command, walk.src):
            return
        if is_built_string(command):
            yield self.finding(call, "exec_command runs a command built at run time on the remote shell", walk.src,
                               scope=walk.scope_name)  # fmt: skip
        elif (forwarded := _forwarded_parameter(command, walk)) is not None:
            # A method that runs the command its caller hands it is an API like exec_command
            # itself: the defect, if any, is where a caller builds that command.
            yield self.finding(call, f"exec_command runs the command its caller passes as parameter {forwarded} of "
                               f"{walk.function.name if walk.function else ''}(); what callers pass decides",
                               walk.src, scope=walk.scope_name, confidence=Confidence.LOW,
                               severity=Severity.LOW)  # fmt: skip
        else:
            yield self.finding(call, "exec_command runs a command held in a variable on the remote shell", walk.src,
                               scope=walk.scope_name, confidence=Confidence.LOW, severity=Severity.MEDIUM)  # fmt: skip


def _forwarded_parameter(value: ast.expr, walk: Walk) -> str | None:
    """The name of the enclosing function's parameter that ``value`` is, unchanged (the
    function never assigns it)."""
    function = walk.function
    if not isinstance(value, ast.Name) or function is None or value.id not in parameters(function):
        return None
    stored = any(isinstance(n, ast.Name) and n.id == value.id and isinstance(n.ctx, ast.Store)
                 for n in walk_function(function))  # fmt: skip
    return None if stored else value.id


# Builtins that only store their keywords (dict(shell=True) is data, not a call with a shell).
DATA_BUILDERS = frozenset(
    {"dict", "set", "frozenset", "list", "tuple", "collections.OrderedDict", "types.SimpleNamespace"}
)


class ShellTrueElsewhere(Rule):
    """shell=True passed to a function that is not subprocess

    What: a call of any function other than the subprocess ones with shell= set to a
    true value, such as an in-house execute(cmd, shell=True) wrapper or
    asyncio-style helpers that forward it to a shell.
    As with SCR101, where no untrusted input is traced to the call it is a low-severity
    hint, and in a script run by hand it is a note.
    Why: the option almost always reaches a subprocess call further down, so the
    command string is parsed by a shell, and a value pasted into it can add commands.
    Example:
        utils.execute(f"mount {device} {target}", shell=True)
    Fix: pass the command as an argument list and drop shell=True; quote values with
    shlex.quote where a shell is unavoidable.
    """

    id = "SCR134"
    traced_by = "SCR501"
    name = "shell-true-elsewhere"
    category = Category.INJECTION
    cwe = 78
    severity = Severity.MEDIUM
    confidence = Confidence.LOW
    context = PROCESS_CONTEXT
    node_types = (ast.Call,)
    keyword_filter = exactly("shell")
    bandit = ("B604",)
    ruff = ("S604",)

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        if not any(kw.arg == "shell" for kw in node.keywords) or shell_flag(node) != "on":
            return
        name = walk.src.qualname(node.func) or ast.unparse(node.func)
        if name in SUBPROCESS_CALLS:
            return  # SCR101
        if name in DATA_BUILDERS:
            return  # dict(shell=True, ...) builds options as data; the call that uses them is checked
        command = argument(node, "cmd", 0) or argument(node, "command", 0)
        fixed = command is not None and is_constant_string(command)
        yield self.finding(
            node,
            f"{name} is given shell=True" + (" with a fixed command" if fixed else ""),
            walk.src,
            scope=walk.scope_name,
            severity=Severity.LOW if fixed else None,
        )


class FixedProgramStarted(CallRule):
    """Note: a fixed program is started without a shell

    What: a subprocess call without a shell, os.exec*, os.spawn*, os.posix_spawn or
    os.startfile whose program is a literal. Reported as a note only: it is not a
    defect and does not change the verdict.
    Why: the list of programs a project starts is part of what it trusts; the note
    lets a reader see each one. A program chosen at run time is SCR130, a program
    looked up in PATH is SCR131, and a shell is SCR101.
    Example:
        subprocess.run(["/usr/bin/uptime"])
    Fix: nothing to fix; keep data out of the program position and prefer absolute
    paths.
    """

    id = "SCR137"
    name = "fixed-program-started"
    category = Category.INJECTION
    cwe = 78
    severity = Severity.INFO
    confidence = Confidence.HIGH
    calls = (*ARGV_CALLS, *OS_EXEC)
    bandit = ("B603", "B606")
    ruff = ("S603", "S606")

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if name in ARGV_CALLS and shell_flag(call):
            return  # a shell: SCR101 and SCR134 report it
        program = _program(call, name)
        if program is None:
            return
        fixed = string_value(program)
        if fixed is None and isinstance(program, ast.Name) and _bound_to_literal(program, walk):
            fixed = program.id
        if fixed is None:
            return  # chosen at run time: SCR130
        shown = fixed if len(fixed) <= 40 else fixed[:37] + "..."
        yield self.finding(call, f"{name} starts the fixed program '{shown}' without a shell", walk.src,
                           scope=walk.scope_name)  # fmt: skip
