"""Whether the scheme of a URL handed to an opener is settled by the file itself.

``urlopen`` follows ``file:`` and other schemes, so a URL whose scheme someone else
picks can read local files. A URL is settled when what the file shows fixes its scheme
to http or https: a literal, a literal prefix (f-string, ``+``, ``%``, ``.format``), a
name whose every reaching value is settled, a module constant, a property of the same
class returning a settled value, a call of a function the file defines whose every
return is settled, a private function's parameter that every caller in
the file passes settled or tests the scheme of first, or a check of the scheme before the
call (http, https, or data:, which carries its bytes inline). Anything else stays
chosen at run time."""

from __future__ import annotations

import ast

from scrutiny.rules.base import argument, parameters, string_value
from scrutiny.rules.reaching import reaching_values
from scrutiny.rules.resolve import callers_arguments, module_value
from scrutiny.source import SourceFile

WEB_SCHEMES = ("http://", "https://")
DEPTH = 6  # how many names, parameters and properties one decision may pass through


def settled_scheme(url: ast.expr, src: SourceFile, depth: int = DEPTH) -> str | None:
    """Why ``url``'s scheme is http or https by what the file shows; None when it is not."""
    if depth <= 0:
        return None
    prefix = _literal_prefix(url)
    if prefix is not None:
        return f"the literal {prefix[:40]!r} fixes the scheme" if prefix.lower().startswith(WEB_SCHEMES) else None
    if isinstance(url, ast.Call):
        return _through_call(url, src, depth)
    if isinstance(url, ast.BinOp) and isinstance(url.op, ast.Add | ast.Mod):
        # BASE % {...} or BASE + path: the scheme is the left operand's.
        return settled_scheme(url.left, src, depth - 1)
    if isinstance(url, ast.Name):
        return _through_name(url, src, depth)
    if isinstance(url, ast.Attribute) and isinstance(url.value, ast.Name) and url.value.id == "self":
        return _through_property(url, src, depth)
    return None


def scheme_checked(url: ast.expr, call: ast.Call, src: SourceFile) -> str | None:
    """A test of the URL's scheme in the function before ``call``: ``x.scheme`` compared,
    or ``x.startswith('http...')``, on the same name; None when there is none."""
    if not isinstance(url, ast.Name):
        return None
    function = src.index.function_of.get(call)
    if function is None:
        return None
    for node in ast.walk(function):
        if getattr(node, "lineno", call.lineno) >= call.lineno or not isinstance(node, ast.Compare | ast.Call):
            continue
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        if url.id not in names:
            continue
        if isinstance(node, ast.Compare) and any(isinstance(n, ast.Attribute) and n.attr == "scheme"
                                                 for n in ast.walk(node)):  # fmt: skip
            return f"the scheme is tested on line {node.lineno}"
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "startswith"
                and any(_fixes_a_safe_scheme(a) for a in node.args)):  # fmt: skip
            return f"the scheme is tested on line {node.lineno}"
    return None


def _fixes_a_safe_scheme(prefix: ast.expr) -> bool:
    """startswith("http"), startswith(("http://", "https://")) or startswith("data:"): a
    scheme that reads no local file (a data: URL carries its bytes inline)."""
    if isinstance(prefix, ast.Tuple):
        return True
    text = (string_value(prefix) or "").lower()
    return "http" in text or text.startswith("data:")


def _literal_prefix(node: ast.expr) -> str | None:
    """The literal text a string expression starts with, when it starts with one."""
    text = string_value(node)
    if text is not None:
        return text
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return _literal_prefix(node.left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return string_value(node.func.value)
    return None


def _through_call(call: ast.Call, src: SourceFile, depth: int) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "replace" and len(call.args) == 2:
        new = string_value(call.args[1])
        if new is not None and ("://" not in new or new.lower().startswith(WEB_SCHEMES)):
            return settled_scheme(func.value, src, depth - 1)
        return None
    tail = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if tail == "Request":  # urllib.request.Request(url, ...): the request's URL is its first argument
        inner = argument(call, "url", 0)
        return settled_scheme(inner, src, depth - 1) if inner is not None else None
    return _through_own_function(call, src, depth)


def _through_own_function(call: ast.Call, src: SourceFile, depth: int) -> str | None:
    """A call of a function this file defines (at module level, or a method of the same
    class through self.) whose every return is settled."""
    func, owner = call.func, None
    if isinstance(func, ast.Name):
        body: list[ast.stmt] = src.tree.body
        name = func.id
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
        owner = src.index.parents.get(src.index.function_of.get(call) or call)
        if not isinstance(owner, ast.ClassDef):
            return None
        body, name = owner.body, func.attr
    else:
        return None
    defined = [f for f in body if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) and f.name == name]
    if len(defined) != 1:
        return None
    returns = [n.value for n in ast.walk(defined[0]) if isinstance(n, ast.Return)]
    if returns and all(r is not None and settled_scheme(r, src, depth - 1) for r in returns):
        return f"{name}() returns a fixed http(s) URL"
    return None


def _through_name(name: ast.Name, src: SourceFile, depth: int) -> str | None:
    function = src.index.function_of.get(name)
    values = reaching_values(name.id, name, src)
    if values:
        reasons = [settled_scheme(v, src, depth - 1) for v in values]
        return f"{name.id}: {reasons[0]}" if all(reasons) else None
    if function is not None and name.id in parameters(function):
        return _through_parameter(function, name.id, src, depth)
    value, bound = module_value(name, src, function)
    if bound and value is not None:
        reason = settled_scheme(value, src, depth - 1)
        return f"{bound}: {reason}" if reason else None
    if function is not None and value is name:
        # A global bound on each branch of a module-level if/try (one URL per Python version).
        values = _module_bindings(name.id, src.tree.body)
        if values and all(settled_scheme(v, src, depth - 1) for v in values):
            return f"{name.id}: every module-level binding is a fixed http(s) URL"
    return None


def _module_bindings(name: str, statements: list[ast.stmt]) -> list[ast.expr]:
    """Values of ``name = value`` at module level, inside if/try/with blocks too (not in
    functions or classes); empty when the name is also bound another way there."""
    found: list[ast.expr] = []
    for statement in statements:
        if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                     for t in statement.targets):  # fmt: skip
            found.append(statement.value)
        elif isinstance(statement, ast.If | ast.Try | ast.With):
            blocks = [getattr(statement, field, []) for field in ("body", "orelse", "finalbody")]
            blocks += [h.body for h in getattr(statement, "handlers", [])]
            for block in blocks:
                found.extend(_module_bindings(name, block))
    return found


def _through_parameter(function: ast.FunctionDef | ast.AsyncFunctionDef, parameter: str, src: SourceFile,
                       depth: int) -> str | None:  # fmt: skip
    """A private function (leading underscore) whose every caller in the file passes a
    settled URL; a public one may be called from anywhere with anything."""
    if not function.name.startswith("_") or function.name.startswith("__"):
        return None
    passed = callers_arguments(function, parameter, src)
    if not passed:
        return None
    for call, value in passed:
        if settled_scheme(value, src, depth - 1) is None and scheme_checked(value, call, src) is None:
            return None
    lines = ", ".join(str(call.lineno) for call, _value in passed)
    return f"every caller of {function.name} passes a URL whose scheme is fixed or tested (line {lines})"


def _through_property(node: ast.Attribute, src: SourceFile, depth: int) -> str | None:
    """``self.name`` where the enclosing class defines ``name`` as a property whose every
    return is settled."""
    parents = src.index.parents
    owner = parents.get(src.index.function_of.get(node) or node)
    while owner is not None and not isinstance(owner, ast.ClassDef):
        owner = parents.get(owner)
    if owner is None:
        return None
    for statement in owner.body:
        if (isinstance(statement, ast.FunctionDef) and statement.name == node.attr
                and any(isinstance(d, ast.Name) and d.id == "property" for d in statement.decorator_list)):  # fmt: skip
            returns = [n.value for n in ast.walk(statement) if isinstance(n, ast.Return) and n.value is not None]
            if returns and all(settled_scheme(r, src, depth - 1) for r in returns):
                return f"the property {node.attr} returns a fixed http(s) URL"
    return None


# Decorators that leave a function a plain helper; any other (a route, a task) makes it an
# entry point whose parameters come from outside.
PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod"})
REQUEST_NAMES = frozenset({"request", "req"})


def caller_chosen(url: ast.expr, call: ast.Call, src: SourceFile) -> str | None:
    """Why the URL is the caller's to choose: it is (a Request of, or a value derived from)
    a parameter of the public, undecorated helper that opens it, and no caller in the file
    passes request data; None otherwise (a handler's parameter, a private function, or a
    caller passing what a client sent)."""
    function = src.index.function_of.get(call)
    if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) or function.name.startswith("_"):
        return None
    if any(not (isinstance(d, ast.Name) and d.id in PLAIN_DECORATORS) for d in function.decorator_list):
        return None
    if set(parameters(function)) & REQUEST_NAMES:
        return None  # a view: its parameters come from the request
    parameter = _parameter_behind(url, function, 3)
    if parameter is None:
        return None
    for _caller, value in callers_arguments(function, parameter, src):
        if any(isinstance(n, ast.Name) and n.id in REQUEST_NAMES or isinstance(n, ast.Attribute)
               and n.attr == "request" for n in ast.walk(value)):  # fmt: skip
            return None
    return f"the URL is the parameter {parameter} of {function.name}(), so its scheme is the caller's choice"


def _parameter_behind(node: ast.expr | None, function: ast.FunctionDef | ast.AsyncFunctionDef,
                      depth: int) -> str | None:  # fmt: skip
    """The parameter of ``function`` that ``node`` is, or is a urllib Request of, through
    local names bound once; a parameter rebound only from itself (url = quote(url)) stays it."""
    if depth <= 0 or node is None:
        return None
    if isinstance(node, ast.Call):
        func = node.func
        tail = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return _parameter_behind(argument(node, "url", 0), function, depth - 1) if tail == "Request" else None
    if not isinstance(node, ast.Name):
        return None
    bindings = [n for n in ast.walk(function) if isinstance(n, ast.Name) and n.id == node.id
                and isinstance(n.ctx, ast.Store)]  # fmt: skip
    statements = [_binding_statement(b, function) for b in bindings]
    if node.id in parameters(function):
        for statement in statements:
            if not isinstance(statement, ast.Assign) or node.id not in {
                    n.id for n in ast.walk(statement.value) if isinstance(n, ast.Name)}:  # fmt: skip
                return None
        return node.id
    if len(statements) == 1 and isinstance(statements[0], ast.Assign) and len(statements[0].targets) == 1:
        return _parameter_behind(statements[0].value, function, depth - 1)
    return None


def _binding_statement(name: ast.Name, function: ast.AST) -> ast.AST | None:
    """The assignment statement binding ``name`` (or the node that binds it otherwise)."""
    node: ast.AST = name
    for parent in ast.walk(function):
        if isinstance(parent, ast.Assign) and any(name in ast.walk(t) for t in parent.targets):
            return parent
    return node
