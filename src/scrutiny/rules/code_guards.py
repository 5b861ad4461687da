"""Guards that make a run-time string safe to hand to eval/exec.

Two idioms vet what the evaluated text can name before it runs:

- an anchored regular expression over every variable the text is built from, on the branch
  where it matched (``if re.fullmatch(r"\\\\\\w+", value): eval(f'"{value}"')``);
- the compiled code's names checked against an allow-list, with anything else rejected by a
  raise, before the code runs (``for name in code.co_names: if name not in allowed: raise``).

Restricted globals alone (``{"__builtins__": {}}``) are not a guard: attribute chains reach
builtins again.
"""

from __future__ import annotations

import ast

from scrutiny.rules.base import Walk, module_level_nodes, parameters, string_value, values_bound, walk_function

MATCH_CALLS = frozenset({"re.match", "re.fullmatch", "re.search"})
MATCH_METHODS = frozenset({"match", "fullmatch", "search"})


def _anchored(pattern: str, method: str) -> bool:
    end = pattern.endswith(("$", r"\Z")) and not pattern.endswith(r"\$")
    if method == "fullmatch":
        return True
    if method == "match":
        return end
    return pattern.startswith("^") and end


def _compiled_pattern(name: str, walk: Walk) -> str | None:
    """The literal of a module-level ``NAME = re.compile(literal)``."""
    for value in values_bound(name, walk.src.tree.body):
        if isinstance(value, ast.Call) and walk.src.qualname(value.func) == "re.compile" and value.args:
            return string_value(value.args[0])
    return None


def _matched_name(test: ast.expr, walk: Walk) -> str | None:
    """The variable an anchored regex test checks, if ``test`` is one."""
    if not isinstance(test, ast.Call) or not test.args:
        return None
    name = walk.src.qualname(test.func) or ""
    if name in MATCH_CALLS and len(test.args) >= 2:
        pattern, subject, method = string_value(test.args[0]), test.args[1], name.rsplit(".", 1)[-1]
    elif isinstance(test.func, ast.Attribute) and test.func.attr in MATCH_METHODS:
        owner = test.func.value
        pattern = _compiled_pattern(owner.id, walk) if isinstance(owner, ast.Name) else None
        subject, method = test.args[0], test.func.attr
    else:
        return None
    if pattern is None or not isinstance(subject, ast.Name) or not _anchored(pattern, method):
        return None
    return subject.id


def regex_vetted(call: ast.Call, code: ast.expr, walk: Walk) -> bool:
    """Every variable in ``code`` was matched by an anchored regex on the branch holding ``call``."""
    variables = {n.id for n in ast.walk(code) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    if not variables:
        return False
    vetted: set[str] = set()
    child: ast.AST = call
    parent = walk.parent(call)
    while parent is not None and not isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module):
        if isinstance(parent, ast.If) and walk.src.index.slot(child)[0] == "body":
            tests = parent.test.values if isinstance(parent.test, ast.BoolOp) and isinstance(
                parent.test.op, ast.And) else [parent.test]  # fmt: skip
            vetted.update(n for t in tests if (n := _matched_name(t, walk)))
        child, parent = parent, walk.parent(parent)
    return variables <= vetted


def names_vetted(call: ast.Call, code: ast.expr, walk: Walk) -> bool:
    """Before ``call``, the code's ``co_names`` are looped over with a raise for names not allowed."""
    function = walk.src.index.function_of.get(call)
    if function is None:
        return False
    compiled = {ast.unparse(code)}
    for node in ast.walk(function):
        # code = compile(<the same text>, ...): the names of ``code`` are the text's names.
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and walk.src.qualname(node.value.func) == "compile"
            and node.value.args
            and ast.unparse(node.value.args[0]) in compiled
        ):
            compiled.update(ast.unparse(t) for t in node.targets)
    for node in ast.walk(function):
        if (
            isinstance(node, ast.For)
            and node.lineno < call.lineno
            and isinstance(node.iter, ast.Attribute)
            and node.iter.attr == "co_names"
            and ast.unparse(node.iter.value) in compiled
            and any(isinstance(inner, ast.Raise) for inner in ast.walk(node))
        ):
            return True
    return False


# Where a command-line program's operator hands it text: the console, piped input, the
# environment (PYTHONSTARTUP and the like) and the program's own options.
OPERATOR_CALLS = frozenset({"input", "sys.stdin.read", "sys.stdin.readline", "os.environ.get", "os.getenv"})


def _operator_value(node: ast.AST, walk: Walk, command: bool) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call) and walk.src.qualname(inner.func) in OPERATOR_CALLS:
            return True
        if isinstance(inner, ast.Subscript) and walk.src.qualname(inner.value) == "os.environ":
            return True
        # options["command"] in a management command's handle(): a command-line argument.
        if command and isinstance(inner, ast.Subscript | ast.Call):
            base = inner.value if isinstance(inner, ast.Subscript) else inner.func
            if isinstance(base, ast.Attribute) and base.attr == "get":
                base = base.value
            if isinstance(base, ast.Name) and base.id == "options":
                return True
    return False


def operator_supplied(call: ast.Call, code: ast.expr, walk: Walk) -> bool:
    """The text comes from the operator of a command-line program, a few assignments back:
    typed at a prompt, piped in, named by the environment, or given as the command's option."""
    function = walk.src.index.function_of.get(call)
    if function is None:
        return False
    owner = walk.parent(function)
    command = isinstance(owner, ast.ClassDef) and any(
        ast.unparse(base).rsplit(".", 1)[-1].endswith("Command") for base in owner.bases
    )
    pending, seen = [code], 0
    while pending and seen < 12:
        node = pending.pop()
        seen += 1
        if _operator_value(node, walk, command):
            return True
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        for statement in ast.walk(function):
            if isinstance(statement, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in names for t in statement.targets
            ):
                pending.append(statement.value)
            elif isinstance(statement, ast.For) and any(
                isinstance(t, ast.Name) and t.id in names for t in ast.walk(statement.target)
            ):
                pending.append(statement.iter)
            elif isinstance(statement, ast.With):
                for item in statement.items:
                    if isinstance(item.optional_vars, ast.Name) and item.optional_vars.id in names:
                        pending.append(item.context_expr)
    return False


# Reading a file the project ships: open() on a path fixed in the code, or a pathlib read.
OPEN_CALLS = frozenset({"open", "io.open", "codecs.open"})
READ_METHODS = frozenset({"read", "read_text", "read_bytes"})
PATH_CALLS = frozenset(
    {"os.path.join", "os.path.dirname", "os.path.abspath", "os.path.realpath", "os.path.normpath",
     "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "str"}
)  # fmt: skip
PATH_METHODS = frozenset({"resolve", "absolute", "joinpath", "with_name", "with_suffix"})
LOOKUPS = 6  # names followed back through assignments before giving up


def project_file(code: ast.expr, walk: Walk) -> str:
    """The path expression of the file whose text ``code`` is, when that path is fixed in the
    code (string literals and ``__file__`` joined by os.path or pathlib): the project's own
    file, not text from outside (``exec(open(os.path.join(here, "pkg/__version__.py")).read())``).
    '' when the code is anything else."""
    scope = _scope_statements(walk)
    return _read_path(code, walk, scope, LOOKUPS)


def _scope_statements(walk: Walk) -> tuple[ast.AST, ...]:
    if walk.function is not None:
        return walk_function(walk.function)
    return module_level_nodes(walk.src.tree)


def _plain_values(name: str, scope: tuple[ast.AST, ...]) -> list[ast.expr] | None:
    """The values ``name`` is assigned in ``scope``; None when it is also bound another way
    (a loop, a with, unpacking), which this reading does not follow."""
    values = values_bound(name, scope)
    stores = sum(1 for n in scope if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store))
    return values if stores == len(values) else None


def _bound_once(node: ast.expr, scope: tuple[ast.AST, ...]) -> ast.expr:
    if isinstance(node, ast.Name):
        values = values_bound(node.id, scope)
        if len(values) == 1:
            return values[0]
    return node


def _read_path(code: ast.expr, walk: Walk, scope: tuple[ast.AST, ...], budget: int) -> str:
    node = _bound_once(code, scope)
    if budget <= 0 or not isinstance(node, ast.Call):
        return ""
    if walk.src.qualname(node.func) == "compile" and node.args:
        return _read_path(node.args[0], walk, scope, budget - 1)
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr not in READ_METHODS:
        return ""
    owner = _opened_file(func.value, walk, scope)
    if owner is None and func.attr != "read":
        owner = func.value  # Path(...).read_text()
    return _shown_path(owner, walk, scope) if owner is not None and _fixed_path(owner, walk, scope, budget) else ""


def _shown_path(path: ast.expr, walk: Walk, scope: tuple[ast.AST, ...]) -> str:
    """The literal parts of a fixed path joined with /, the way the file is named on disk."""
    parts: list[str] = []
    todo: list[ast.AST] = [path]
    module = module_level_nodes(walk.src.tree)
    steps = 0
    while todo and len(parts) < 8 and steps < 64:  # a name bound to itself must not loop
        steps += 1
        node = todo.pop(0)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            parts.append(node.value.strip("/"))
        elif isinstance(node, ast.Name):
            todo[:0] = (_plain_values(node.id, scope) or _plain_values(node.id, module) or [])[:1]
        else:
            todo[:0] = list(ast.iter_child_nodes(node))
    return "/".join(p for p in parts if p) or ast.unparse(path)


def _opened_file(handle: ast.expr, walk: Walk, scope: tuple[ast.AST, ...]) -> ast.expr | None:
    """The path argument of the open() call ``handle`` is: the with block around its use that
    binds it, else its one binding in the scope (a with or an assignment)."""
    opened: ast.expr | None = handle
    if isinstance(handle, ast.Name):
        opened = _enclosing_with_value(handle, walk)
        if opened is None:
            bindings = [n.context_expr for n in scope if isinstance(n, ast.withitem) and _binds(n, handle.id)]
            bindings += values_bound(handle.id, scope)
            opened = bindings[0] if len(bindings) == 1 else None
    if isinstance(opened, ast.Call) and walk.src.qualname(opened.func) in OPEN_CALLS and opened.args:
        return opened.args[0]
    return None


def _binds(item: ast.withitem, name: str) -> bool:
    return isinstance(item.optional_vars, ast.Name) and item.optional_vars.id == name


def _enclosing_with_value(use: ast.Name, walk: Walk) -> ast.expr | None:
    node: ast.AST | None = walk.parent(use)
    while node is not None and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module):
        if isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if _binds(item, use.id):
                    return item.context_expr
        node = walk.parent(node)
    return None


def _fixed_path(node: ast.expr, walk: Walk, scope: tuple[ast.AST, ...], budget: int) -> bool:
    """Built only from string literals and ``__file__`` through path joins and names bound to such."""
    if budget <= 0:
        return False
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Name):
        if node.id == "__file__":
            return True
        values = _plain_values(node.id, scope)
        if values == [] and walk.function is not None and node.id not in parameters(walk.function):
            values = _plain_values(node.id, module_level_nodes(walk.src.tree))
        return bool(values) and all(_fixed_path(v, walk, scope, budget - 1) for v in values or ())
    if isinstance(node, ast.JoinedStr):
        return all(_fixed_path(v.value if isinstance(v, ast.FormattedValue) else v, walk, scope, budget)
                   for v in node.values)  # fmt: skip
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Div):
        return _fixed_path(node.left, walk, scope, budget) and _fixed_path(node.right, walk, scope, budget)
    if isinstance(node, ast.Attribute) and node.attr in ("parent", "parents"):
        return _fixed_path(node.value, walk, scope, budget)
    if isinstance(node, ast.Subscript):
        return _fixed_path(node.value, walk, scope, budget) and isinstance(node.slice, ast.Constant)
    if isinstance(node, ast.Call) and not node.keywords:
        name = walk.src.qualname(node.func) or ""
        args = all(_fixed_path(a, walk, scope, budget) for a in node.args)
        if name in PATH_CALLS:
            return args
        if isinstance(node.func, ast.Attribute) and node.func.attr in PATH_METHODS:
            return args and _fixed_path(node.func.value, walk, scope, budget)
    return False
