"""Cross-origin rules (95x): WebSocket handshakes and CORS policies that trust any site.

CSRF exemptions are SCR902 (web_frameworks.py); they are not repeated here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, call_tail, exactly, is_true, keyword, note, string_value
from scrutiny.source import SourceFile

WEBSOCKETS_SERVE = frozenset(
    {"websockets.serve", "websockets.server.serve", "websockets.asyncio.server.serve", "websockets.sync.server.serve",
     "websockets.legacy.server.serve", "websockets.unix_serve", "websockets.asyncio.server.unix_serve"}
)  # fmt: skip
TORNADO_WS = frozenset({"tornado.websocket.WebSocketHandler"})
# Constructors of Socket.IO servers, whose cors_allowed_origins="*" accepts every site.
SOCKETIO_SERVERS = frozenset(
    {"flask_socketio.SocketIO", "socketio.Server", "socketio.AsyncServer"}
)  # fmt: skip
CHANNELS_ROUTER = "channels.routing.ProtocolTypeRouter"
ORIGIN_VALIDATORS = ("OriginValidator", "AllowedHostsOriginValidator")
# Handshake objects whose handler must look at the Origin header itself.
MANUAL_HANDSHAKES = frozenset({"aiohttp.web.WebSocketResponse", "aiohttp.web_ws.WebSocketResponse"})

ORIGIN_CONTEXT = {
    FileKind.TEST: note("test servers accept any origin on purpose"),
    FileKind.EXAMPLE: note("example code often skips origin checks for brevity"),
    FileKind.DOCS: note("documentation code often skips origin checks for brevity"),
}


def _mentions_origin(scope: ast.AST) -> bool:
    """Whether a function reads the Origin header or passes an origin allow-list anywhere."""
    for node in ast.walk(scope):
        text = string_value(node)
        if text is not None and text.lower() in ("origin", "http_origin"):
            return True
        if isinstance(node, ast.Attribute) and "origin" in node.attr.lower():
            return True
    return False


def _is_wildcard(node: ast.AST | None) -> bool:
    if string_value(node) == "*":
        return True
    return isinstance(node, ast.List | ast.Tuple | ast.Set) and any(string_value(e) == "*" for e in node.elts)


WEBSOCKET_SERVER_TAILS = frozenset({"serve", "unix_serve", "SocketIO", "Server", "AsyncServer", "ProtocolTypeRouter"})
CORS_TAILS = frozenset({"CORS", "cross_origin", "add_middleware", "Middleware", "CORSMiddleware"})


class WebSocketAnyOrigin(Rule):
    """WebSocket handshake accepted from any Origin

    What: websockets.serve without origins=, a tornado WebSocketHandler whose
    check_origin returns True, a Django Channels ProtocolTypeRouter whose "websocket"
    entry is not wrapped in AllowedHostsOriginValidator/OriginValidator, a Socket.IO
    server with cors_allowed_origins="*", and an aiohttp WebSocketResponse prepared by
    a handler that never reads the Origin header.
    Why: browsers send cookies with WebSocket handshakes from any site and the
    same-origin policy does not apply to them, so a page on another site can open a
    socket as the logged-in user and read and send messages (cross-site WebSocket
    hijacking).
    Example:
        async with websockets.serve(handler, "", 8765):
            await asyncio.Future()
    Fix: name the allowed origins: websockets.serve(handler, host, port,
    origins=["https://app.example.com"]); in Channels wrap the websocket router in
    AllowedHostsOriginValidator; in tornado compare the origin's host with your own.
    """

    id = "SCR950"
    name = "websocket-any-origin"
    category = Category.TLS_NETWORK
    cwe = 1385
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Call, ast.ClassDef)
    call_filter = exactly(WEBSOCKET_SERVER_TAILS, "WebSocketResponse")
    context = ORIGIN_CONTEXT

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        src = walk.src
        if isinstance(node, ast.ClassDef):
            yield from self._tornado(node, src)
            return
        assert isinstance(node, ast.Call)
        tail = call_tail(node)
        if tail not in WEBSOCKET_SERVER_TAILS:
            if tail == "WebSocketResponse":
                yield from self._aiohttp(node, walk)
            return
        name = src.qualname(node.func) or ""
        if name in WEBSOCKETS_SERVE:
            origins = keyword(node, "origins")
            if origins is None or (isinstance(origins, ast.Constant) and origins.value is None):
                yield self.finding(node, f"{name} without origins= accepts handshakes from any site", src,
                                   scope=walk.scope_name)  # fmt: skip
        elif name in SOCKETIO_SERVERS:
            if _is_wildcard(keyword(node, "cors_allowed_origins")):
                yield self.finding(node, f"{name} with cors_allowed_origins='*' accepts any site", src,
                                   scope=walk.scope_name)  # fmt: skip
        elif name == CHANNELS_ROUTER and node.args and isinstance(node.args[0], ast.Dict):
            for key, value in zip(node.args[0].keys, node.args[0].values, strict=True):
                if string_value(key) == "websocket" and not self._validated(value):
                    yield self.finding(value, "Channels websocket route is not wrapped in an origin validator",
                                       src, scope=walk.scope_name)  # fmt: skip

    @staticmethod
    def _validated(value: ast.AST) -> bool:
        return any(isinstance(n, ast.Call) and call_tail(n) in ORIGIN_VALIDATORS for n in ast.walk(value))

    def _tornado(self, node: ast.ClassDef, src: SourceFile) -> Iterator[Finding]:
        if not any(src.qualname(base) in TORNADO_WS for base in node.bases):
            return
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "check_origin":
                returns = [n for n in ast.walk(item) if isinstance(n, ast.Return)]
                if returns and all(is_true(r.value) for r in returns):
                    yield self.finding(item, f"{node.name}.check_origin returns True for every origin", src,
                                       scope=node.name)  # fmt: skip

    def _aiohttp(self, node: ast.Call, walk: Walk) -> Iterator[Finding]:
        function = walk.function
        if function is None or walk.src.qualname(node.func) not in MANUAL_HANDSHAKES:
            return
        if not _mentions_origin(function):
            yield self.finding(node, f"{function.name} accepts a WebSocket without checking the Origin header",
                               walk.src, scope=walk.scope_name, confidence=Confidence.LOW)  # fmt: skip


FLASK_CORS = frozenset({"flask_cors.CORS", "flask_cors.cross_origin", "flask_cors.extension.CORS"})
STARLETTE_CORS = frozenset({"starlette.middleware.cors.CORSMiddleware", "fastapi.middleware.cors.CORSMiddleware"})
DJANGO_ALLOW_ALL = ("CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL")
CATCH_ALL_REGEX = frozenset({".*", "^.*$", ".+", "^.+$", "^https?://.*$", "https?://.*"})


class CorsAnyOriginWithCredentials(Rule):
    """CORS policy that lets any site make credentialed requests

    What: Flask-CORS CORS()/cross_origin() with supports_credentials=True and origins
    left at its default or "*"; Starlette/FastAPI CORSMiddleware with allow_credentials=True
    and allow_origins=["*"] or a catch-all allow_origin_regex; django-cors-headers
    settings CORS_ALLOW_ALL_ORIGINS (or CORS_ORIGIN_ALLOW_ALL) = True together with
    CORS_ALLOW_CREDENTIALS = True.
    Why: these libraries answer such a request by echoing the caller's Origin with
    Access-Control-Allow-Credentials: true, so any web page the user visits can call the
    API with the user's cookies and read the responses.
    Example:
        CORS(app, supports_credentials=True)
    Fix: list the origins that may call with credentials:
    CORS(app, origins=["https://app.example.com"], supports_credentials=True).
    """

    id = "SCR951"
    name = "cors-any-origin-with-credentials"
    category = Category.CONFIGURATION
    cwe = 942
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    node_types = (ast.Call, ast.Module)
    call_filter = exactly(CORS_TAILS)
    context = ORIGIN_CONTEXT

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        src = walk.src
        if isinstance(node, ast.Module):
            yield from self._django_settings(node, src)
            return
        assert isinstance(node, ast.Call)
        if call_tail(node) not in CORS_TAILS:
            return
        name = src.qualname(node.func) or ""
        if name in FLASK_CORS:
            if is_true(keyword(node, "supports_credentials")):
                origins = keyword(node, "origins")
                if origins is None or _is_wildcard(origins):
                    yield self.finding(node, "credentials allowed for every origin (origins defaults to '*')", src,
                                       scope=walk.scope_name)  # fmt: skip
            return
        middleware = node.args[0] if node.args else None
        if name in STARLETTE_CORS or (middleware is not None and src.qualname(middleware) in STARLETTE_CORS):
            if not is_true(keyword(node, "allow_credentials")):
                return
            regex = string_value(keyword(node, "allow_origin_regex"))
            if _is_wildcard(keyword(node, "allow_origins")) or regex in CATCH_ALL_REGEX:
                yield self.finding(node, "CORSMiddleware allows credentials from every origin", src,
                                   scope=walk.scope_name)  # fmt: skip

    def _django_settings(self, module: ast.Module, src: SourceFile) -> Iterator[Finding]:
        assigned: dict[str, ast.Assign] = {}
        for statement in module.body:
            if isinstance(statement, ast.Assign) and is_true(statement.value):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        assigned[target.id] = statement
        if "CORS_ALLOW_CREDENTIALS" not in assigned:
            return
        for setting in DJANGO_ALLOW_ALL:
            if setting in assigned:
                yield self.finding(assigned[setting], f"{setting} = True with CORS_ALLOW_CREDENTIALS = True", src)
