"""Network resource rules (4xx): remote calls that can wait forever."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import CallRule, Walk, argument, keep_lower, keyword, note

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
