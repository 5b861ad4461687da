"""The values a local name may hold where it is read, from the assignments on the paths
there. No rule lives here.

Climbing from the read to the function, the nearest plain assignment to the name in an
enclosing block comes before the read on every path; assignments nested in the statements
between (a branch, a loop) may have run instead. Any other binding on the way (a loop or
with target, ``+=``, a parameter, a global) leaves the value unknown.
"""

from __future__ import annotations

import ast

from scrutiny.source import SourceFile

BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers")
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Module)
LOOPS = (ast.For, ast.AsyncFor, ast.While)


def reaching_values(name: str, node: ast.AST, src: SourceFile) -> list[ast.expr] | None:
    """Every value ``name`` may hold at ``node`` (None when one of them cannot be told)."""
    parents = src.index.parents
    current: ast.AST = node
    values: list[ast.expr] = []
    while True:
        parent = parents.get(current)
        field, position = src.index.slot(current)
        block = getattr(parent, field) if field in BLOCK_FIELDS else None
        if parent is None or isinstance(parent, SCOPES) and block is None:
            return None
        if block is not None:
            for statement in reversed(block[:position]):
                if _plain_assignment(statement, name):
                    assert isinstance(statement, ast.Assign)
                    return [*values, statement.value]
                nested = _assigned(statement, name)
                if nested is None:
                    return None
                values.extend(nested)
            if isinstance(parent, ast.Try | ast.TryStar) and block is not parent.body:
                # A handler, else or finally block runs after some or all of the try body.
                earlier: list[ast.AST] = list(parent.body)
                if block is parent.finalbody:
                    earlier += [*parent.handlers, *parent.orelse]
                for statement in earlier:
                    nested = _assigned(statement, name)
                    if nested is None:
                        return None
                    values.extend(nested)
            if isinstance(parent, LOOPS) and field == "body":
                # An earlier iteration may have run the rest of the loop body.
                for statement in block[position + 1 :]:
                    nested = _assigned(statement, name)
                    if nested is None:
                        return None
                    values.extend(nested)
            if isinstance(parent, SCOPES):
                return None  # a parameter, a global or a name bound in no block above
        current = parent


def _plain_assignment(statement: ast.stmt, name: str) -> bool:
    return (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
        and statement.targets[0].id == name
    )


def _assigned(statement: ast.AST, name: str) -> list[ast.expr] | None:
    """Values ``statement`` may bind to ``name`` (nested anywhere but in a new scope); None
    when it binds it otherwise (loop or with target, augmented assignment, unpacking)."""
    found: list[ast.expr] = []
    todo: list[ast.AST] = [statement]
    while todo:
        node = todo.pop()
        if node is not statement and isinstance(node, SCOPES):
            continue
        if isinstance(node, ast.Assign) and any(_binds(t, name) for t in node.targets):
            if not _plain_assignment(node, name):
                return None
            found.append(node.value)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr) and _binds(node.target, name):
            if not isinstance(node, ast.AnnAssign) or node.value is None:
                return None
            found.append(node.value)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension) and _binds(node.target, name):
            return None
        elif isinstance(node, ast.withitem) and node.optional_vars is not None and _binds(node.optional_vars, name):
            return None
        elif isinstance(node, ast.ExceptHandler) and node.name == name:
            return None
        todo.extend(ast.iter_child_nodes(node))
    return found


def _binds(target: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in ast.walk(target))
