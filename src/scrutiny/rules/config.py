"""Configuration rules (4xx): debug modes left on."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, argument, exactly, is_true, keyword, name_parts, note, string_value
from scrutiny.rules.resolve import module_value
from scrutiny.source import SourceFile

APP_NAME = re.compile(r"(^|_)app(lication)?(_|$)|app$", re.IGNORECASE)
FLASK_FACTORIES = frozenset({"flask.Flask", "quart.Quart"})
RUN_SIMPLE = frozenset({"werkzeug.serving.run_simple", "werkzeug.run_simple"})
DJANGO_MARKERS = frozenset({"INSTALLED_APPS", "MIDDLEWARE", "MIDDLEWARE_CLASSES", "ROOT_URLCONF"})


def _flask_names(src: SourceFile) -> set[str]:
    """Module-level names bound to a Flask(...) application."""
    names: set[str] = set()
    for node in src.tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            if src.qualname(node.value.func) in FLASK_FACTORIES:
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _is_app(node: ast.AST, src: SourceFile) -> bool:
    """Whether an expression is plainly a Flask/werkzeug application object."""
    if isinstance(node, ast.Call):
        return src.qualname(node.func) in FLASK_FACTORIES
    last = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return bool(APP_NAME.search(last)) or (isinstance(node, ast.Name) and node.id in _flask_names(src))


def _is_flask(node: ast.AST, src: SourceFile) -> bool:
    """An application object by what it is, not its name: Flask(...) or a module-level name bound to one."""
    if isinstance(node, ast.Call):
        return src.qualname(node.func) in FLASK_FACTORIES
    return isinstance(node, ast.Name) and node.id in _flask_names(src)


def _truthy(node: ast.AST | None) -> bool:
    """True, or a non-zero integer (debug=1): what bool() makes true without a doubt."""
    return isinstance(node, ast.Constant) and type(node.value) in (bool, int) and bool(node.value)


def _is_django_settings(src: SourceFile) -> bool:
    path = PurePosixPath(src.path.replace("\\", "/"))
    if path.name.startswith("settings") or "settings" in path.parts[:-1]:
        return True
    return any(
        isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in DJANGO_MARKERS for t in node.targets)
        for node in src.tree.body
    )


# Module names of the development layer of a split settings package (settings/dev.py).
DEVELOPMENT_WORDS = frozenset({"dev", "development", "devel"})


# Calls that draw a new random value each time the module is imported, and the calls
# that only spell such a value as text.
RANDOM_KEY_CALLS = frozenset({
    "django.core.management.utils.get_random_secret_key", "django.utils.crypto.get_random_string",
    "secrets.token_hex", "secrets.token_urlsafe", "secrets.token_bytes", "os.urandom", "uuid.uuid4",
})  # fmt: skip
TEXT_CALLS = frozenset({"str", "hex", "decode", "encode"})


def _fresh_secret_key(src: SourceFile) -> str:
    """The call that draws SECRET_KEY afresh at each import (SECRET_KEY = get_random_secret_key(),
    possibly spelled as text, with no environment or file read on the way), or ''."""
    for node in src.tree.body:
        if not (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "SECRET_KEY"
                                                     for t in node.targets)):  # fmt: skip
            continue
        calls = [c for c in ast.walk(node.value) if isinstance(c, ast.Call)]
        drawn = [c for c in calls if src.qualname(c.func) in RANDOM_KEY_CALLS]
        shown = [c for c in calls if c not in drawn and (c.func.attr if isinstance(c.func, ast.Attribute)
                                                          else getattr(c.func, "id", "")) in TEXT_CALLS]  # fmt: skip
        if drawn and len(drawn) + len(shown) == len(calls):
            return ast.unparse(drawn[0].func)
    return ""


def development_settings(src: SourceFile) -> str:
    """Why the module is settings for a developer's or a throwaway instance, or '': the
    development layer of a split settings package, whose name says development (dev.py,
    settings_dev.py) and that takes the shared settings from a sibling module with a
    relative star import (from .base import *), to change them for a developer's machine
    (a production layer beside it sets its own values); or settings that draw SECRET_KEY
    afresh at each import (get_random_secret_key(), secrets.token_hex(), with no
    environment or file read), so that sessions and signed values do not survive a
    restart or span two worker processes, which no deployment can run on."""
    path = PurePosixPath(src.path.replace("\\", "/"))
    if drawn := _fresh_secret_key(src):
        return (
            f"SECRET_KEY is drawn afresh by {drawn}() at each import, so sessions and signed values do not "
            "survive a restart or span two worker processes: settings for a throwaway instance, not a deployment"
        )
    if not set(name_parts(path.stem)) & DEVELOPMENT_WORDS:
        return ""
    for node in src.tree.body:
        if isinstance(node, ast.ImportFrom) and node.level and any(alias.name == "*" for alias in node.names):
            base = "." * node.level + (node.module or "")
            return (f"{path.name} is the development layer of a split settings package: it takes the shared "
                    f"settings with from {base} import * and changes them for a developer's machine")  # fmt: skip
    return ""


class DebugEnabled(Rule):
    """Web framework debug mode switched on in code

    What: app.run(debug=True) on a Flask application (also debug= a module constant
    that is True or a non-zero number where the call stands, and run = app.run;
    run(debug=True) on an app made by Flask(...)), werkzeug run_simple with
    use_debugger=True, app.debug = True, app.config["DEBUG"] = True or
    app.config.update(DEBUG=True), and DEBUG = True at module level in a Django
    settings module.
    Why: the Werkzeug debugger lets anyone who reaches an error page run Python code
    on the server; Django's debug pages show settings, source, SQL and request data,
    and debug mode keeps every query in memory.
    Example:
        app.run(host="127.0.0.1", debug=True)
    Fix: take debug mode from the environment and keep it off by default:
    app.run(debug=os.environ.get("FLASK_DEBUG") == "1"); in Django,
    DEBUG = os.environ.get("DJANGO_DEBUG") == "1".
    DEBUG = True in the development layer of a split settings package (a module named
    dev, development or devel that takes the shared settings with a relative star import,
    from .base import *) is low: that module is for a developer's machine, and the
    production layer beside it is reported if it turns debug on. So is DEBUG = True in
    settings that draw SECRET_KEY afresh at each import (SECRET_KEY =
    get_random_secret_key(), secrets.token_hex(...), os.urandom(...), with no environment
    or file read): sessions and signed values would not survive a restart or span two
    worker processes, so no deployment runs on them; they serve a throwaway instance.
    """

    id = "SCR405"
    name = "debug-enabled"
    category = Category.CONFIGURATION
    cwe = 489
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    node_types = (ast.Call, ast.Assign)
    call_filter = exactly("run", "update", "from_mapping", "run_simple")
    keyword_filter = exactly("debug")  # an alias of app.run has a name of its own
    bandit = ("B201",)
    ruff = ("S201",)
    context = {
        FileKind.TEST: note("test applications run in debug mode to show errors"),
        FileKind.EXAMPLE: note("example applications often run in debug mode"),
        FileKind.DOCS: note("documentation code often runs in debug mode"),
    }

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        src = walk.src
        if isinstance(node, ast.Call):
            yield from self._check_call(node, walk)
            return
        assert isinstance(node, ast.Assign)
        if not is_true(node.value):
            return
        for target in node.targets:
            if isinstance(target, ast.Attribute) and target.attr == "debug" and _is_app(target.value, src):
                yield self.finding(
                    node, f"{ast.unparse(target)} = True turns on the debugger", src, scope=walk.scope_name
                )
            elif (
                isinstance(target, ast.Subscript)
                and string_value(target.slice) == "DEBUG"
                and isinstance(target.value, ast.Attribute)
                and target.value.attr == "config"
                and _is_app(target.value.value, src)
            ):
                yield self.finding(
                    node, f"{ast.unparse(target)} = True turns on the debugger", src, scope=walk.scope_name
                )
            elif (
                isinstance(target, ast.Name)
                and target.id == "DEBUG"
                and node in src.tree.body
                and _is_django_settings(src)
            ):
                if layer := development_settings(src):
                    yield self.finding(node, f"Django settings set DEBUG = True; {layer}", src,
                                       scope=walk.scope_name, severity=Severity.LOW, confidence=Confidence.HIGH)
                    continue
                yield self.finding(node, "Django settings set DEBUG = True", src, scope=walk.scope_name,
                                   severity=Severity.MEDIUM, confidence=Confidence.HIGH)  # fmt: skip

    def _check_call(self, call: ast.Call, walk: Walk) -> Iterator[Finding]:
        src = walk.src
        func = call.func
        debug, constant = module_value(keyword(call, "debug"), src, walk.function)
        if not _truthy(debug):
            run = None
        elif isinstance(func, ast.Attribute):
            run = func if func.attr == "run" and _is_app(func.value, src) else None
        else:
            # run = app.run; run(debug=True): a module-level alias of a Flask app's run method
            bound, alias = module_value(func, src, walk.function)
            flask_run = isinstance(bound, ast.Attribute) and bound.attr == "run" and _is_flask(bound.value, src)
            run = bound if alias and flask_run else None
        if isinstance(run, ast.Attribute):
            written = ast.unparse(keyword(call, "debug") or debug or call)
            notes = [f"{constant} = {ast.unparse(debug)}"] if constant and debug is not None else []
            notes += [f"an alias of {ast.unparse(run)}"] if run is not func else []
            shown = f" ({'; '.join(notes)})" if notes else ""
            yield self.finding(call, f"{ast.unparse(func)}(debug={written}) runs the interactive debugger{shown}",
                               src, scope=walk.scope_name)  # fmt: skip
            return
        if isinstance(func, ast.Attribute):
            receiver = func.value
            if (
                func.attr in ("update", "from_mapping")
                and is_true(keyword(call, "DEBUG"))
                and isinstance(receiver, ast.Attribute)
                and receiver.attr == "config"
                and _is_app(receiver.value, src)
            ):
                yield self.finding(
                    call, f"{ast.unparse(func)}(DEBUG=True) turns on the debugger", src, scope=walk.scope_name
                )
                return
        tail = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if tail == "run_simple" and src.qualname(func) in RUN_SIMPLE:
            if is_true(argument(call, "use_debugger", 4)):
                yield self.finding(call, "run_simple(use_debugger=True) serves the interactive debugger", src,
                                   scope=walk.scope_name)  # fmt: skip
