"""Request handlers and the request input that names a resource, shared by the
authorization and information-leakage rules. No rule lives here.

A handler is a Flask/FastAPI/aiohttp/Quart route, a Django view, a webob/pecan
controller method or an OpenStack API controller method. Its path parameters (and ids
read from the body or query) are what the caller controls.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from scrutiny.context import CONTROLLER_METHODS, ROUTE_DECORATORS, _makes_response, _url_captures
from scrutiny.rules.base import string_value, walk_function
from scrutiny.source import SourceFile

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
REQUEST_PARAMS = ("req", "request")
# Parameters of controller methods that are not path parameters.
NOT_PATH_PARAMS = {"self", "cls", "req", "request", "body", "kwargs", "args", "kw", "response"}
ROUTE_PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?(\w+)>|\{(\w+)(?::[^}]*)?\}")
CONTROLLER_DECORATORS = {"action", "expected_errors", "schema", "query_schema", "response", "expose", "wsgify"}
VIEW_METHODS = {"get", "post", "put", "patch", "delete", "list", "retrieve", "create", "update", "partial_update",
                "destroy"}  # fmt: skip
# Containers of request input: attributes of the request object, and the body parameter.
REQUEST_FIELDS = {"GET", "POST", "params", "json", "json_body", "form", "args", "values", "data", "query_params",
                  "match_info", "query", "body", "media", "cookies", "headers"}  # fmt: skip
ID_KEY = re.compile(r"(^|_)(id|ids|uuid|pk|slug)$|[a-z]id$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Handler:
    function: FunctionNode
    owner: ast.ClassDef | None
    kind: str  # route, view, api-controller
    path_params: tuple[str, ...]
    request: str  # name of the request parameter, or "" (Flask's global request)

    @property
    def name(self) -> str:
        return f"{self.owner.name}.{self.function.name}" if self.owner else self.function.name


def _decorator_parts(src: SourceFile, decorator: ast.expr) -> tuple[str, str]:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    dotted = src.qualname(target) or ""
    return dotted.rsplit(".", 1)[-1], dotted


def _params(function: FunctionNode) -> list[str]:
    args = function.args
    return [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]


def as_handler(function: FunctionNode, owner: ast.ClassDef | None, src: SourceFile) -> Handler | None:
    """The handler ``function`` is, if it handles requests."""
    params = _params(function)
    request = next((p for p in params if p in REQUEST_PARAMS), "")
    rest = tuple(p for p in params if p not in NOT_PATH_PARAMS)
    for decorator in function.decorator_list:
        attr, dotted = _decorator_parts(src, decorator)
        if attr in ROUTE_DECORATORS and isinstance(decorator, ast.Call) and "." in dotted:
            template = string_value(decorator.args[0]) if decorator.args else None
            placeholders = {a or b for a, b in ROUTE_PLACEHOLDER.findall(template or "")}
            return Handler(function, owner, "route", tuple(p for p in rest if p in placeholders), request)
        if attr in CONTROLLER_DECORATORS and any(w in dotted for w in ("wsgi", "validation", "pecan", "webob")):
            return Handler(function, owner, "api-controller", rest, request)
    bases = [(src.qualname(b) or "").rsplit(".", 1)[-1] for b in owner.bases] if owner else []
    if owner and "req" in params and any(b.endswith("Controller") for b in bases):
        if function.name in CONTROLLER_METHODS:
            return Handler(function, owner, "api-controller", rest, request)
    django = any(m.split(".", 1)[0] in ("django", "rest_framework") for m in src.imported_modules)
    if django and params[:2] == ["self", "request"] and function.name in VIEW_METHODS:
        if any(b.endswith(("View", "ViewSet", "APIView", "Mixin")) for b in bases):
            return Handler(function, owner, "view", rest, request)
    if django and owner is None and params[:1] == ["request"] and _makes_response(function):
        # A function that takes the request and makes no response is a helper views call
        # (flows.disconnect(request, account)); the objects it is passed are not URL captures.
        return Handler(function, owner, "view", _url_captures(function, ("request", *rest))[1:], request)
    return None


# A file defines handlers only if it imports a web framework (nova's controllers import
# nova.api.openstack.wsgi); checking this first keeps the other files cheap.
WEB_MODULES = frozenset(
    "flask django fastapi aiohttp webob pecan quart starlette rest_framework falcon sanic bottle tornado wsgi "
    "litestar pyramid".split()
)
_LAST: list[tuple[SourceFile, list[Handler]]] = []


def handlers(src: SourceFile) -> list[Handler]:
    """Every handler defined at module level or directly in a module-level class."""
    if _LAST and _LAST[0][0] is src:  # the three authorization rules ask for the same file in turn
        return _LAST[0][1]
    found = _find_handlers(src)
    _LAST[:] = [(src, found)]
    return found


def _find_handlers(src: SourceFile) -> list[Handler]:
    if not any(WEB_MODULES.intersection(name.split(".")) for name in src.aliases.values()):
        return []
    found: list[Handler] = []
    for node in src.tree.body:
        if isinstance(node, FunctionNode):
            if (handler := as_handler(node, None, src)) is not None:
                found.append(handler)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, FunctionNode) and (handler := as_handler(item, node, src)) is not None:
                    found.append(handler)
    return found


def handler_of(function: FunctionNode | None, src: SourceFile) -> Handler | None:
    """The handler ``function`` is, looking at the class around it."""
    if function is None:
        return None
    parent = src.index.parents.get(function)
    if isinstance(parent, ast.ClassDef):
        return as_handler(function, parent, src)
    if isinstance(parent, ast.Module):
        return as_handler(function, None, src)
    return None


def reads_request_field(node: ast.AST, handler: Handler) -> bool:
    """``node`` reads the body parameter or a request container (req.GET, request.json...)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id == "body" and "body" in _params(handler.function):
            return True
        if isinstance(sub, ast.Attribute) and sub.attr in REQUEST_FIELDS and isinstance(sub.value, ast.Name):
            if sub.value.id in (handler.request or "request", "request", "req"):
                return True
    return False


def id_reads(handler: Handler) -> list[ast.expr]:
    """Reads of id-like keys from request input: body['server_id'], request.args.get('id')."""
    found: list[ast.expr] = []
    for node in walk_function(handler.function):
        key: str | None = None
        if isinstance(node, ast.Subscript):
            key, container = string_value(node.slice), node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            key, container = (string_value(node.args[0]) if node.args else None), node.func.value
        else:
            continue
        if key and ID_KEY.search(key) and reads_request_field(container, handler):
            found.append(node)
    return found
