"""What a file is: test, production code, script, migration, example or docs.

``classify`` reads the path and the syntax tree only. The kind, decided by the strongest
of the signals scrutiny.kinds collects (each one kept as a reason), decides how the
composer weighs findings (a hard-coded host is fine in a test, not in a service); the
frameworks and entry points say where untrusted input enters.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from collections.abc import Callable
from typing import TYPE_CHECKING

import functools
import tomllib
from importlib import resources

from scrutiny import kinds
from scrutiny.kinds import TEST_DOUBLE_FILE, FileKind, main_guard_line
from scrutiny.pickling import quick_state
from scrutiny.source import defined_in

if TYPE_CHECKING:
    from scrutiny.source import SourceFile


@quick_state
@dataclass(frozen=True, slots=True)
class EntryPoint:
    """A function through which untrusted input enters the code."""

    name: str
    line: int
    end_line: int
    kind: str  # route, view, api-controller, rpc-handler, cli-main, http-handler
    params: tuple[str, ...]
    evidence: str


@quick_state
@dataclass(frozen=True, slots=True)
class FileContext:
    kind: FileKind
    subkinds: tuple[str, ...]
    frameworks: tuple[str, ...]
    reasons: tuple[str, ...]
    entry_points: tuple[EntryPoint, ...]

    @property
    def description(self) -> str:
        """A phrase such as 'OpenStack nova functional regression test'."""
        words: list[str] = []
        if self.frameworks:
            words.append(self.frameworks[0])
        words.extend(self.subkinds)
        words.append(KIND_NOUNS[self.kind])
        return " ".join(words)


KIND_NOUNS = {
    FileKind.PRODUCTION: "production code",
    FileKind.TEST: "test",
    FileKind.SCRIPT: "script",
    FileKind.MIGRATION: "migration",
    FileKind.EXAMPLE: "example",
    FileKind.DOCS: "documentation code",
}

BUG_DOCSTRING = re.compile(r"\b(?:test|regression test)s? for (?:bug|issue)\s*#?\s*(\d+)", re.IGNORECASE)
REGRESSION_FILE = re.compile(r"^test_bug_?\d+")
TEST_SUBKIND_DIRS = {
    "functional": "functional",
    "unit": "unit",
    "integration": "integration",
    "regressions": "regression",
}

FRAMEWORKS = (
    # (import root, name shown); the first match in the file names the framework.
    ("nova", "OpenStack nova"),
    ("neutron", "OpenStack neutron"),
    ("cinder", "OpenStack cinder"),
    ("glance", "OpenStack glance"),
    ("keystone", "OpenStack keystone"),
    ("oslo_", "OpenStack oslo"),
    ("webob", "webob"),
    ("pecan", "pecan"),
    ("django", "Django"),
    ("rest_framework", "Django REST framework"),
    ("flask", "Flask"),
    ("fastapi", "FastAPI"),
    ("starlette", "Starlette"),
    ("aiohttp", "aiohttp"),
    ("tornado", "Tornado"),
    ("pyramid", "Pyramid"),
)

ROUTE_DECORATORS = {
    "route", "get", "post", "put", "patch", "delete", "head", "options", "websocket", "api_route", "view_config",
}  # fmt: skip
WSGI_DECORATORS = {"response", "action", "expected_errors", "schema", "query_schema", "expose", "wsgify"}
CONTROLLER_METHODS = {"index", "show", "create", "update", "delete", "detail", "get_all", "get_one", "post", "put"}
HTTP_HANDLER_METHODS = re.compile(r"^do_[A-Z]+$")
# Methods of Django class-based views that run for a request: the verbs, the REST
# framework actions, and the generic views' hooks, which read self.kwargs (URL parameters).
DJANGO_VIEW_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "list", "retrieve", "create", "update", "partial_update", "destroy",
     "dispatch", "get_context_data", "get_object", "get_queryset", "get_template_names"}
)  # fmt: skip  (not form_valid: the view calls it with a form that has passed its validation)
SERVED_KINDS = frozenset({"route", "view", "api-controller", "http-handler"})  # entry points a network reaches
CLI_MODULES = {"argparse", "click", "typer", "optparse", "sys", "oslo_config"}


def classify(src: SourceFile) -> FileContext:
    """The file's kind from the strongest of its signals (see scrutiny.kinds), its
    frameworks, and the functions through which untrusted input enters it."""
    path = PurePosixPath(src.path.replace("\\", "/"))
    dirs = [part.lower() for part in path.parts[:-1]]
    name = path.name.lower()
    signals = [
        *kinds.test_signals(src, dirs, name),
        *kinds.path_signals(src, dirs, name),
        *kinds.migration_signals(src, dirs),
        *kinds.program_signals(src, dirs),
    ]
    entry_points: tuple[EntryPoint, ...] = ()
    if kinds.decide(signals)[0] is not FileKind.TEST:  # a test's handlers serve the test's own client
        entry_points = tuple(_entry_points(src))
        if served := [e for e in entry_points if e.kind in SERVED_KINDS]:
            # Handlers take requests from the network, whatever folder the module sits in
            # and whether or not app.run() under a __main__ guard can also start it.
            text = f"a web application ({served[0].kind} {served[0].name}, line {served[0].line})"
            signals.append(kinds.Signal(FileKind.PRODUCTION, kinds.Strength.FIRM, text))
    kind, reasons = kinds.decide(signals)
    subkinds = kinds.subkinds_of(kind, signals)
    if kind is FileKind.TEST:
        subkinds.extend(_test_subkinds(src, dirs, name, reasons))
    return FileContext(kind, tuple(subkinds), _frameworks(src), tuple(reasons), entry_points)


def _test_subkinds(src: SourceFile, dirs: list[str], name: str, reasons: list[str]) -> list[str]:
    found: list[str] = []
    modules = " ".join(sorted(src.imported_modules))
    for directory, subkind in TEST_SUBKIND_DIRS.items():
        if subkind == "regression":
            continue
        if directory in dirs or f".tests.{directory}" in modules:
            found.append(subkind)
            break
    docstring = ast.get_docstring(src.tree) or ""
    for node in src.tree.body:
        if isinstance(node, ast.ClassDef):
            docstring += "\n" + (ast.get_docstring(node) or "")
    bug = BUG_DOCSTRING.search(docstring)
    if REGRESSION_FILE.match(name) or "regressions" in dirs or bug:
        found.append("regression")
        if bug:
            reasons.append(f"docstring says it tests bug {bug.group(1)}")
    if "fixtures" in dirs or name == "conftest.py":
        found.append("fixture")
    if TEST_DOUBLE_FILE.match(name):
        found.append("test double")
    return found


def _frameworks(src: SourceFile) -> tuple[str, ...]:
    roots = kinds.roots(src)
    found: list[str] = []
    for root, shown in FRAMEWORKS:
        # A root ending in "_" names a family of packages (oslo_config, oslo_log ...).
        if root in roots or (root.endswith("_") and any(r.startswith(root) for r in roots)):
            found.append(shown)
    return tuple(found)


def _decorator_attr(src: SourceFile, decorator: ast.expr) -> tuple[str, str]:
    """(last attribute name, full dotted name) of a decorator, call or not."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    dotted = src.qualname(target) or ""
    return dotted.rsplit(".", 1)[-1], dotted


@dataclass(frozen=True)
class Registration:
    call: str  # the called name as written last (add_url_rule) or qualified (django.urls.path)
    handler: tuple[int | str, ...]  # where the handler may be passed, first present wins
    kind: str
    module: str = ""  # the call must resolve into this module
    url_view: bool = False


@dataclass(frozen=True)
class HandlerData:
    registrations: dict[str, list[Registration]] = field(default_factory=dict)  # by last name
    view_classes: dict[str, tuple[frozenset[str], str]] = field(default_factory=dict)  # base -> (methods, kind)
    responders: dict[str, tuple[frozenset[str], str]] = field(default_factory=dict)  # module -> (methods, kind)


@functools.cache
def handler_data() -> HandlerData:
    """frameworks/handlers.toml: registration calls and class-based views, per framework."""
    text = resources.files("scrutiny.frameworks").joinpath("handlers.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    out = HandlerData()
    for entry in data.get("registration", []):
        reg = Registration(
            entry["call"], tuple(entry["handler"]), entry["kind"], entry.get("module", ""), entry.get("url_view", False)
        )
        out.registrations.setdefault(reg.call, []).append(reg)
    for entry in data.get("view_class", []):
        for base in entry["bases"]:
            out.view_classes[base] = (frozenset(entry["methods"]), entry["kind"])
    for entry in data.get("responder", []):
        out.responders[entry["module"]] = (frozenset(entry["methods"]), entry["kind"])
    return out


FunctionDefs = ast.FunctionDef | ast.AsyncFunctionDef


def _functions_anywhere(tree: ast.Module) -> list[tuple[FunctionDefs, ast.ClassDef | None, str]]:
    """Every function of the file at any depth: (function, class it is a method of, qualified name)."""
    out: list[tuple[FunctionDefs, ast.ClassDef | None, str]] = []
    todo: list[tuple[list[ast.stmt], ast.ClassDef | None, str]] = [(tree.body, None, "")]
    while todo:
        body, owner, prefix = todo.pop()
        for node in defined_in(body):
            qualified = f"{prefix}{node.name}"
            if isinstance(node, ast.ClassDef):
                todo.append((node.body, node, f"{qualified}."))
            else:
                out.append((node, owner, qualified))
                todo.append((node.body, None, f"{qualified}."))
    return sorted(out, key=lambda item: item[0].lineno)


def _entry_points(src: SourceFile) -> list[EntryPoint]:
    found: list[EntryPoint] = []
    roots = kinds.roots(src)
    is_django = "django" in roots or "rest_framework" in roots
    cli_file = bool(roots & CLI_MODULES) and main_guard_line(src) or "click" in roots or "typer" in roots

    def add(
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        kind: str,
        qualified: str,
        url_view: bool = False,
    ) -> None:
        params = tuple(a.arg for a in function.args.args + function.args.kwonlyargs if a.arg not in ("self", "cls"))
        if url_view:
            params = _url_captures(function, params)
        found.append(EntryPoint(qualified, function.lineno, function.end_lineno or function.lineno, kind, params, ""))

    # Functions the file itself calls by name (handle_form(request, unit)): its helpers.
    called_here = {node.func.id for node in src.index.of_type(ast.Call)
                   if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}  # fmt: skip
    # A class's base names and whether it is an RPC endpoint, worked out once for all its methods.
    classes: dict[ast.ClassDef, tuple[list[str], bool]] = {}

    def class_facts(owner: ast.ClassDef) -> tuple[list[str], bool]:
        facts = classes.get(owner)
        if facts is None:
            bases = [(src.qualname(b) or "").rsplit(".", 1)[-1] for b in owner.bases]
            facts = classes[owner] = (bases, _is_rpc_endpoint(src, owner))
        return facts

    data = handler_data()
    # Module-level names bound to a routing method (route = app.route), used as decorators.
    route_aliases = {
        node.targets[0].id: node.value.attr
        for node in src.tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr in ROUTE_DECORATORS
    }

    def view_class_kind(owner: ast.ClassDef, method: str) -> str:
        """The entry kind of a method of a class-based view or resource, or ''."""
        for base in owner.bases:
            dotted = src.qualname(base) or ""
            methods, kind = data.view_classes.get(dotted, (frozenset(), ""))
            if method in methods:
                return kind
        for module, (methods, kind) in data.responders.items():
            if method in methods and module in roots:
                return kind
        return ""

    def visit_function(function: ast.FunctionDef | ast.AsyncFunctionDef, owner: ast.ClassDef | None, qualified: str) -> None:
        if owner and (kind := view_class_kind(owner, function.name)):
            add(function, kind, qualified)
            return
        for decorator in function.decorator_list:
            attr, dotted = _decorator_attr(src, decorator)
            if isinstance(decorator, ast.Call) and dotted in route_aliases:
                attr, dotted = route_aliases[dotted], f"{dotted}.{route_aliases[dotted]}"  # route = app.route
            if attr in ROUTE_DECORATORS and isinstance(decorator, ast.Call) and "." in dotted:
                add(function, "route", qualified)
                return
            if attr in WSGI_DECORATORS and (
                "wsgi" in dotted or "validation" in dotted or "pecan" in dotted or "webob" in dotted or attr == "wsgify"
            ):
                add(function, "api-controller", qualified)
                return
            if dotted.startswith(("click.", "typer.")) or attr == "command":
                add(function, "cli-main", qualified)
                return
        bases = class_facts(owner)[0] if owner else []
        positional = [a.arg for a in function.args.args]
        if owner and any(b.endswith("Controller") for b in bases) and function.name in CONTROLLER_METHODS:
            if "req" in positional or "request" in positional:
                add(function, "api-controller", qualified)
                return
        if owner and any(b.endswith("RequestHandler") for b in bases) and HTTP_HANDLER_METHODS.match(function.name):
            add(function, "http-handler", qualified)
            return
        if owner and is_django and any(b.endswith(("View", "ViewSet", "APIView")) for b in bases):
            if function.name in DJANGO_VIEW_METHODS:
                add(function, "view", qualified)
                return
        if not owner and is_django and positional[:1] == ["request"] and _makes_response(function):
            if function.name in called_here:
                return  # a helper the file's views call with their own values, not a routed view
            add(function, "view", qualified, url_view=True)
            return
        if owner and class_facts(owner)[1] and not function.name.startswith("_"):
            add(function, "rpc-handler", qualified)
            return
        if not owner and function.name == "main" and cli_file:
            add(function, "cli-main", qualified)

    functions = _functions_anywhere(src.tree)
    for function, owner, qualified in functions:
        visit_function(function, owner, qualified)
    _registered(src, functions, found, add)
    lines: set[int] = set()
    unique = []
    for entry in found:
        if entry.line not in lines:
            lines.add(entry.line)
            unique.append(entry)
    return unique


def _registered(
    src: SourceFile,
    functions: list[tuple[FunctionDefs, ast.ClassDef | None, str]],
    found: list[EntryPoint],
    add: Callable[..., None],
) -> None:
    """Handlers a registration call names (app.add_url_rule("/p", view_func=show), path("p/", view))."""
    data = handler_data()
    by_name: dict[str, list[tuple[FunctionDefs, str]]] = {}
    for function, owner, qualified in functions:
        if owner is None:
            by_name.setdefault(function.name, []).append((function, qualified))
    known = {e.line for e in found}
    for call in src.index.of_type(ast.Call):
        assert isinstance(call, ast.Call)
        func = call.func
        last = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        for reg in data.registrations.get(last, ()):
            if reg.module and not (src.qualname(func) or "").startswith(reg.module + "."):
                continue
            handler = _handler_argument(call, reg.handler)
            if isinstance(handler, ast.Call):  # falcon: app.add_route("/p", Resource())
                handler = handler.func
            if isinstance(handler, ast.Attribute) and isinstance(handler.value, ast.Name) and handler.attr == "as_view":
                handler = handler.value  # Django/Flask: SomeView.as_view()
            if isinstance(handler, ast.Call) or not isinstance(handler, ast.Name):
                continue
            for function, qualified in by_name.get(handler.id, ()):
                if function.lineno not in known:
                    add(function, reg.kind, qualified, url_view=reg.url_view)
                    known.add(function.lineno)
            break


def _handler_argument(call: ast.Call, places: tuple[int | str, ...]) -> ast.expr | None:
    for place in places:
        if isinstance(place, str):
            for keyword in call.keywords:
                if keyword.arg == place:
                    return keyword.value
        elif place < len(call.args):
            return call.args[place]
    return None


STR_ATTRIBUTES = frozenset(dir(str))


def _url_captures(function: ast.FunctionDef | ast.AsyncFunctionDef, params: tuple[str, ...]) -> tuple[str, ...]:
    """A Django function view's parameters that can be URL captures: the request, then text
    (or converted numbers) from the path. One whose data attributes the body reads
    (``page.content``) is an object some caller passes (``render_page(request, page)``)."""
    objects = {
        node.value.id
        for node in ast.walk(function)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in params[1:]
        and node.attr not in STR_ATTRIBUTES
    }
    return tuple(p for p in params if p not in objects)


def _is_rpc_endpoint(src: SourceFile, owner: ast.ClassDef) -> bool:
    for item in owner.body:
        if isinstance(item, ast.Assign) and any(getattr(t, "id", "") == "target" for t in item.targets):
            if isinstance(item.value, ast.Call) and (src.qualname(item.value.func) or "").endswith("Target"):
                return True
    return False


# Calls whose result is an HTTP response: a function taking `request` first is a Django
# view when it makes one (django.contrib.auth.login(request, user) takes a request and
# returns nothing; it is a helper views call, not a view).
RESPONSE_MAKERS = frozenset({"render", "redirect", "render_to_response", "render_to_string"})


def _makes_response(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name.endswith(("Response", "_response")) or name.startswith("HttpResponse") or name in RESPONSE_MAKERS:
                return True
    return False
