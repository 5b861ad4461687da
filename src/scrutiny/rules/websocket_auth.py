"""WebSocket handlers that skip the authentication the rest of the handler enforces (95x)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, drop, note

# Decorators that demand a logged-in user (tornado, Jupyter, Flask-Login, Django).
AUTH_DECORATORS = frozenset({"authenticated", "login_required", "auth_required", "requires_auth", "authorized"})
# Where a tornado handler can refuse the upgrade: before it (prepare) or in the handshake (get).
HANDSHAKE_METHODS = ("prepare", "get")


def _decorator_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        names.add(ast.unparse(target).rsplit(".", 1)[-1])
    return names


def _methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {s.name: s for s in cls.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)}


def _lineage(cls: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> list[ast.ClassDef]:
    """The class and its bases defined in the same module, nearest first."""
    found: list[ast.ClassDef] = []
    pending = [cls]
    while pending:
        current = pending.pop(0)
        if current in found:
            continue
        found.append(current)
        pending.extend(classes[b.id] for b in current.bases if isinstance(b, ast.Name) and b.id in classes)
    return found


class WebSocketOpenWithoutAuthentication(Rule):
    """WebSocket opened without the authentication the handler's other methods require

    What: a handler class (or its bases in the same module) marks request methods with
    an authentication decorator (@web.authenticated, @login_required...), and defines
    the WebSocket hook open() while neither prepare() nor get() of the class or those
    bases is marked or checks anything: the upgrade request reaches open() without
    authentication.
    Why: the WebSocket handshake is an ordinary GET; when only the HTTP verbs carry the
    decorator, anyone who can reach the server can open the socket and use what it
    proxies or controls (CWE-306).
    Example:
        class Proxy(WebSocketHandler):
            @web.authenticated
            def post(self): ...
            async def open(self, path): ...
    Fix: enforce authentication in prepare() (it runs before every method, the upgrade
    included) or decorate get(), the handshake; refuse the upgrade with 403.
    A subclass that overrides open() of such a base is covered by the base's finding.
    """

    id = "SCR952"
    name = "websocket-open-without-auth"
    category = Category.INPUT_VALIDATION
    cwe = 306
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    node_types = (ast.ClassDef,)
    context = {
        FileKind.TEST: drop("handlers in tests are fakes for the code under test"),
        FileKind.EXAMPLE: note("example handlers skip authentication for brevity"),
        FileKind.DOCS: note("documentation handlers skip authentication for brevity"),
    }

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.ClassDef)
        opener = _methods(node).get("open")
        if opener is None or not opener.args.args or opener.args.args[0].arg != "self":
            return  # not a method of a handler
        classes = {c.name: c for c in walk.src.tree.body if isinstance(c, ast.ClassDef)}
        lineage = _lineage(node, classes)
        if any("open" in _methods(base) for base in lineage[1:]):
            return  # a base in this module opens the socket too: one finding there covers both
        methods = [m for cls in lineage for m in _methods(cls).values()]
        guarded = [m for m in methods if _decorator_names(m) & AUTH_DECORATORS]
        if not guarded or _decorator_names(opener) & AUTH_DECORATORS:
            return
        if any(m.name in HANDSHAKE_METHODS for m in methods):
            return  # the handshake or everything before it is handled in the class: trust it
        yield self.finding(
            opener,
            f"open() accepts the WebSocket while {guarded[0].name}() (line {guarded[0].lineno}) requires a "
            "logged-in user and no prepare() or get() checks one",
            walk.src,
            scope=walk.scope_name,
        )
