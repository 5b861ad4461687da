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

from scrutiny.rules.base import Walk, string_value, values_bound

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
        if isinstance(parent, ast.If) and any(child is s for s in parent.body):
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
