"""Resolving what an argument stands for when the file says so: a module constant bound
once, or the values a function's callers in the same file pass for one of its parameters."""

from __future__ import annotations

import ast

from scrutiny.rules.base import argument, parameters, values_bound, walk_function
from scrutiny.source import SourceFile



def module_value(node: ast.expr | None, src: SourceFile, function: ast.AST | None) -> tuple[ast.expr | None, str]:
    """What a bare name used in ``function`` (None: at module level) stands for when the
    file says so once: a name the function neither receives nor assigns, bound exactly
    once at module level, gives that value and the name. Anything else comes back as it
    is, with ''."""
    if not isinstance(node, ast.Name):
        return node, ""
    if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) and (
        node.id in parameters(function)
        or any(isinstance(n, ast.Name) and n.id == node.id and isinstance(n.ctx, ast.Store)
               for n in walk_function(function))
    ):  # fmt: skip
        return node, ""
    bound = values_bound(node.id, src.tree.body)
    return (bound[0], node.id) if len(bound) == 1 else (node, "")


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
