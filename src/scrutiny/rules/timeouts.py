"""Network resource rules (4xx): remote calls that can wait forever."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.kinds import main_guard
from scrutiny.rules.base import CallRule, Walk, argument, keep_lower, keyword, note, walk_function
from scrutiny.source import SourceFile

VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
REQUESTS_CALLS = tuple(f"requests.{verb}" for verb in VERBS) + tuple(f"requests.api.{verb}" for verb in VERBS)
# httpx applies a 5 second default; only an explicit timeout=None removes it.
HTTPX_CALLS = tuple(f"httpx.{verb}" for verb in (*VERBS, "stream")) + ("httpx.Client", "httpx.AsyncClient")
URLOPEN_CALLS = ("urllib.request.urlopen", "urllib2.urlopen", "six.moves.urllib.request.urlopen")
SESSION_FACTORIES = frozenset({"requests.Session", "requests.session", "requests.sessions.Session"})


def _is_none(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


class HttpWithoutTimeout(CallRule):
    """HTTP request that can wait forever for the server

    What: requests.get/post/.../request, or the same methods on a requests.Session
    created in the same function, without timeout= (or with timeout=None);
    urllib.request.urlopen without a timeout; httpx calls and clients with
    timeout=None (httpx otherwise applies a 5 second default). Calls that pass
    **kwargs are not reported.
    Why: requests and urlopen wait indefinitely by default: a slow or malicious server,
    or a dropped connection, blocks the worker for good, and a few such requests
    exhaust the pool (denial of service).
    Example:
        resp = requests.get(url)
    Low where the code shows the request runs only in a command a person runs and
    watches: inside the module's if __name__ == "__main__": block (a function defined
    there included), or in a module-level function that the file reaches only from that
    block or from a function that parses the command line (argparse or optparse
    parse_args(), getopt, click or typer commands), every use of it in the file being
    on such a path; a function nothing in the file calls is an API for other modules and
    keeps its severity. Also low in a method of the class Command of a Django management
    command (a module under management/commands/ in a file that imports django), which
    Django runs once per manage.py command an operator starts.
    Fix: always bound the wait: requests.get(url, timeout=(3.05, 30)),
    urlopen(url, timeout=10); set a timeout on the session's adapter or wrapper when
    many calls share it.
    """

    id = "SCR453"
    name = "http-without-timeout"
    category = Category.TLS_NETWORK
    cwe = 1088
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    calls = REQUESTS_CALLS + HTTPX_CALLS + URLOPEN_CALLS
    methods = VERBS
    bandit = ("B113",)
    ruff = ("S113",)
    context = {
        FileKind.TEST: note("a request without a timeout in a test can hang the run, not a service"),
        FileKind.EXAMPLE: note("example code leaves out timeouts for brevity"),
        FileKind.DOCS: note("documentation code leaves out timeouts for brevity"),
        # A stalled request holds up one person's command, who sees it and can stop it,
        # not a pool of workers serving others.
        FileKind.SCRIPT: keep_lower("a script run by hand is watched by the person who runs it"),
    }

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        hand_run = None
        for finding in self._check_call(call, name, walk):
            hand_run = hand_run if hand_run is not None else run_by_hand(call, walk)
            if hand_run:
                finding = dataclasses.replace(finding, severity=Severity.LOW,
                                              message=f"{finding.message}; but {hand_run}")  # fmt: skip
            yield finding

    def _check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if any(kw.arg is None for kw in call.keywords):
            return
        timeout = keyword(call, "timeout")
        src, scope = walk.src, walk.scope_name
        if name in HTTPX_CALLS:
            if _is_none(timeout):
                yield self.finding(call, f"{name}(timeout=None) waits without limit", src, scope=scope)
        elif name in URLOPEN_CALLS:
            timeout = argument(call, "timeout", 2)
            if timeout is None or _is_none(timeout):
                yield self.finding(call, f"{name} without a timeout waits without limit", src, scope=scope)
        elif name in REQUESTS_CALLS:
            if timeout is None or _is_none(timeout):
                yield self.finding(call, f"{name} without a timeout waits without limit", src, scope=scope)
        elif (timeout is None or _is_none(timeout)) and self._on_session(call, walk):
            yield self.finding(call, f"{ast.unparse(call.func)} on a requests session without a timeout waits "
                               "without limit", src, scope=scope, confidence=Confidence.MEDIUM)  # fmt: skip

    def _on_session(self, call: ast.Call, walk: Walk) -> bool:
        func = call.func
        if not isinstance(func, ast.Attribute):
            return False
        receiver = func.value
        src = walk.src
        if isinstance(receiver, ast.Call):
            return src.qualname(receiver.func) in SESSION_FACTORIES
        if not isinstance(receiver, ast.Name):
            return False
        # dict.get and friends share these method names; only a file that imports requests
        # can hold a session, so the function is searched only there.
        if not any(name.split(".", 1)[0] == "requests" for name in src.imported_modules):
            return False
        for node in ast.walk(walk.function or src.tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                if any(isinstance(t, ast.Name) and t.id == receiver.id for t in node.targets):
                    return src.qualname(node.value.func) in SESSION_FACTORIES
            elif isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
                if node.optional_vars.id == receiver.id and isinstance(node.context_expr, ast.Call):
                    return src.qualname(node.context_expr.func) in SESSION_FACTORIES
        return False


CLI_PARSER_CLASSES = frozenset({"argparse.ArgumentParser", "optparse.OptionParser"})
CLI_DECORATOR_ROOTS = ("click.", "typer.")


def _parses_command_line(function: ast.FunctionDef | ast.AsyncFunctionDef, src: SourceFile) -> str:
    """How ``function`` parses the command line ('' when it does not): it builds an argparse
    or optparse parser and calls parse_args(), calls getopt, or is a click or typer command
    (a test of sys.argv alone is not one: a task may check how its process was started)."""
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (src.qualname(target) or "").startswith(CLI_DECORATOR_ROOTS):
            return f"{function.name}(), a command of {src.qualname(target)}"
    parsers = False
    for node in walk_function(function):
        if isinstance(node, ast.Call) and src.qualname(node.func) in CLI_PARSER_CLASSES:
            parsers = True
        elif parsers and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
            node.func.attr in ("parse_args", "parse_known_args")
        ):
            return f"{function.name}(), which parses the command line (line {node.lineno})"
        elif isinstance(node, ast.Call) and src.qualname(node.func) in ("getopt.getopt", "getopt.gnu_getopt"):
            return f"{function.name}(), which parses the command line with getopt (line {node.lineno})"
    return ""


def _management_command(call: ast.Call, walk: Walk) -> str:
    """Where ``call`` runs in a Django management command, or '': Django runs
    ``manage.py NAME`` by importing the module management/commands/NAME.py of an app
    and calling the class named Command in it, so a method of that class (in a file
    that imports django) runs once per command an operator starts."""
    src = walk.src
    parts = str(src.path).replace("\\", "/").split("/")
    if len(parts) < 3 or parts[-3:-1] != ["management", "commands"] or parts[-1].startswith("_"):
        return ""
    if not any(name.split(".", 1)[0] == "django" for name in src.imported_modules):
        return ""
    owner = next((s for s in walk.scope if isinstance(s, ast.ClassDef)), None)
    if owner is None or owner.name != "Command" or owner not in src.tree.body:
        return ""
    return (
        f"it runs in the Django management command {parts[-1].removesuffix('.py')} (class Command in "
        "management/commands/), a one-shot command an operator starts, not a worker serving requests"
    )


def run_by_hand(call: ast.Call, walk: Walk) -> str:
    """Why ``call`` runs only in a command a person runs and watches, or ''."""
    src = walk.src
    command = _management_command(call, walk)
    if command:
        return command
    guard = main_guard(src)
    parents = src.index.parents
    node: ast.AST | None = call
    while node is not None and node is not guard:
        node = parents.get(node)
    if guard is not None and node is guard and call not in ast.walk(guard.test):
        return f"it runs only under the module's __main__ guard (line {guard.lineno}), in a program a person runs"
    function = walk.function
    while function is not None and not isinstance(parents.get(function), ast.Module):
        function = src.index.function_of.get(function)  # a nested function: its module-level one
    if function is None:
        return ""
    defined = {n.name: n for n in src.tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    if function.name not in defined:
        return ""
    memo: dict[str, str] = {}
    in_guard = set(map(id, ast.walk(guard))) if guard is not None else set()

    def reached(name: str, seen: frozenset[str]) -> str:
        """The path by which the module-level function ``name`` is reached from the command
        line ('' when some use of it in the file is not on such a path)."""
        if name in memo:
            return memo[name]
        command = _parses_command_line(defined[name], src)
        if command:
            memo[name] = command
            return command
        uses = [n for n in src.index.of_type(ast.Name) if isinstance(n, ast.Name) and n.id == name
                and isinstance(n.ctx, ast.Load)]  # fmt: skip
        if not uses:
            return ""  # called by nothing here: an API of the module, for others to import
        how = ""
        for use in uses:
            if id(use) in in_guard:
                assert guard is not None
                how = how or f"{name}(), called under the __main__ guard (line {guard.lineno})"
                continue
            caller = src.index.function_of.get(use)
            while caller is not None and not isinstance(parents.get(caller), ast.Module):
                caller = src.index.function_of.get(caller)
            if caller is None or caller.name not in defined or caller.name in seen:
                return ""
            upstream = reached(caller.name, seen | {name})
            if not upstream:
                return ""
            how = how or f"{name}() <- {upstream}"
        memo[name] = how
        return how

    how = reached(function.name, frozenset())
    if not how:
        return ""
    return f"the file calls {function.name}() only on the way from its command line ({how}), in a program a person runs"
