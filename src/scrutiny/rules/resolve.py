"""Resolving what an argument stands for when the file says so: a module constant bound
once, or the values a function's callers in the same file pass for one of its parameters."""

from __future__ import annotations

import ast

from scrutiny.rules.base import argument, parameters, values_bound, walk_function
from scrutiny.source import SourceFile


def module_value(node: ast.expr | None, src: SourceFile, function: ast.AST | None) -> tuple[ast.expr | None, str]:
    """What a bare name used in ``function`` (None: at module level) stands for when the
    file says so: at module level, the value of the last plain assignment above the use
    (none of the statements between storing it otherwise); in a function that neither
    receives nor assigns it, the value it is bound to exactly once at module level. The
    value comes with the name; anything else comes back as it is, with ''."""
    if not isinstance(node, ast.Name):
        return node, ""
    if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        stored = any(isinstance(n, ast.Name) and n.id == node.id and isinstance(n.ctx, ast.Store)
                     for n in walk_function(function))  # fmt: skip
        if stored or node.id in parameters(function):
            return node, ""
    elif function is None:
        found = _last_assigned(node, src)
        if found is not None:
            return (found, node.id) if isinstance(found, ast.expr) else (node, "")
    bound = values_bound(node.id, src.tree.body)
    return (bound[0], node.id) if len(bound) == 1 else (node, "")


def _last_assigned(use: ast.Name, src: SourceFile) -> ast.expr | bool | None:
    """The value of the last top-level ``name = value`` before a module-level use; False
    when a statement in between stores the name some other way; None when nothing above does."""
    found: ast.expr | bool | None = None
    for statement in src.tree.body:
        if statement.lineno >= use.lineno:
            break
        if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == use.id
                                                      for t in statement.targets):  # fmt: skip
            found = statement.value
        elif _stores(statement, use.id):
            found = False
    return found


def _stores(statement: ast.stmt, name: str) -> bool:
    """Whether a top-level statement binds ``name`` other than by a plain assignment
    (a branch, loop, with, import, augmented assignment); bodies of definitions do not count."""
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return statement.name == name
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return any((alias.asname or alias.name.split(".")[0]) == name for alias in statement.names)
    stack: list[ast.AST] = [statement]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Name) and current.id == name and isinstance(current.ctx, ast.Store):
            return True
        if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(current))
    return False


def callers_arguments(function: ast.FunctionDef | ast.AsyncFunctionDef, parameter: str, src: SourceFile
                      ) -> list[tuple[ast.Call, ast.expr]]:  # fmt: skip
    """(call, argument) for each call in the file of ``function`` by its bare name (or as
    self./cls. method) that passes ``parameter``, by keyword or position."""
    positional = [a.arg for a in function.args.posonlyargs + function.args.args]
    if parameter not in positional and parameter not in [a.arg for a in function.args.kwonlyargs]:
        return []
    found: list[tuple[ast.Call, ast.expr]] = []
    for call in src.index.by_type.get(ast.Call, ()):
        assert isinstance(call, ast.Call)
        func = call.func
        skip = 0
        if isinstance(func, ast.Name) and func.id == function.name:
            pass
        elif (isinstance(func, ast.Attribute) and func.attr == function.name and isinstance(func.value, ast.Name)
              and func.value.id in ("self", "cls") and positional[:1] in (["self"], ["cls"])):  # fmt: skip
            skip = 1
        else:
            continue
        position = positional.index(parameter) - skip if parameter in positional else None
        value = argument(call, parameter, position if position is not None and position >= 0 else None)
        if value is not None:
            found.append((call, value))
    return found
