"""What the aspect observers know about a file's statements, found in one pass.

Which parameters a statement uses and which statements wait for the 'error' status are read
from the file's names and string constants once, instead of from each statement's nodes.
What the statements do with those values (API calls, error and cleanup checks) is worked out
from the code's structure in observe_flow.py.
"""

from __future__ import annotations

import ast
from functools import cached_property

from scrutiny.source import SIMPLE_STATEMENTS, SourceFile

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


class Observer:
    """One file as the aspect observers see it, with the facts about its statements they share."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.index = src.index

    def statement_of(self, node: ast.AST) -> ast.stmt | None:
        """The simple statement holding ``node``, if any (None under a compound header)."""
        parents = self.index.parents
        while not isinstance(node, ast.stmt):
            parent = parents.get(node)
            if parent is None:
                return None
            node = parent
        return node if isinstance(node, SIMPLE_STATEMENTS) else None

    @cached_property
    def _facts(self) -> tuple[dict[ast.stmt, set[str]], set[ast.stmt]]:
        """(parameters each statement in a function uses, the statements passing the literal
        'error' to a call)."""
        index = self.index
        function_of, statement_of = index.function_of, self.statement_of
        params: dict[FunctionNode | None, set[str]] = {None: set()}
        for function in index.of_type(ast.FunctionDef, ast.AsyncFunctionDef):
            assert isinstance(function, FunctionNode)
            params[function] = set(parameters(function, index.parents))
        any_params = set().union(*params.values())
        uses: dict[ast.stmt, set[str]] = {}
        waits: set[ast.stmt] = set()
        # Plain loops with one dict look-up for most nodes: there are about a million of them
        # in a large project. by_type holds nodes of its key's type.
        names: list[ast.Name] = index.by_type.get(ast.Name, [])  # type: ignore[assignment]
        for node in names:
            word = node.id
            if word in any_params and word in params[function_of[node]]:
                if (statement := statement_of(node)) is not None:
                    uses.setdefault(statement, set()).add(word)
        constants: list[ast.Constant] = index.by_type.get(ast.Constant, [])  # type: ignore[assignment]
        for constant in constants:
            value = constant.value
            if value.__class__ is str and len(value) == 5 and value.lower() == "error":
                if (call := self._error_argument_of(constant)) is not None:
                    if (statement := statement_of(call)) is not None:
                        waits.add(statement)
        return uses, waits

    def _error_argument_of(self, constant: ast.Constant) -> ast.Call | None:
        """The call handed ``constant`` as a positional argument, or in a list or tuple that is one."""
        parents = self.index.parents
        parent = parents.get(constant)
        if isinstance(parent, ast.List | ast.Tuple):
            argument: ast.AST = parent
            parent = parents.get(parent)
        else:
            argument = constant
        if isinstance(parent, ast.Call) and self.index.slot(argument)[0] == "args":
            return parent
        return None

    def parameter_uses(self) -> list[tuple[ast.stmt, set[str]]]:
        """Statements in functions that use their function's parameters, in source order."""
        uses = self._facts[0]
        return [(s, uses[s]) for s in sorted(uses, key=position)]

    def error_waits(self) -> set[ast.stmt]:
        """Statements passing the literal 'error' (or ['error']) to a call: waiting for an error status."""
        return self._facts[1]

    @cached_property
    def assertions(self) -> list[ast.stmt]:
        """Assertion statements inside functions, in source order."""
        function_of = self.index.function_of
        found = [s for s in self.index.of_type(ast.Assert) if isinstance(s, ast.stmt) and function_of[s] is not None]
        for statement in self.index.of_type(ast.Expr):
            assert isinstance(statement, ast.Expr)
            # is_assertion, unrolled: this runs for every expression statement.
            call = statement.value
            if isinstance(call, ast.Call) and function_of[statement] is not None:
                last = last_name(call)
                if last.startswith(("assert", "fail")) or last == "raises":
                    found.append(statement)
        return sorted(found, key=position)

    def has_call(self, statement: ast.stmt) -> bool:
        return any(isinstance(node, ast.Call) for node in self.index.statement_nodes[statement])


def parameters(function: FunctionNode, parents: dict[ast.AST, ast.AST]) -> list[str]:
    """The names a function's callers pass in: without the instance (or class) a method is
    bound to, which is its first parameter unless it is a static method."""
    args = function.args
    names = [a.arg for a in args.posonlyargs + args.args]
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list)
    if names and isinstance(parents.get(function), ast.ClassDef) and not static:
        names = names[1:]
    return names + [a.arg for a in args.kwonlyargs]


def position(node: ast.stmt) -> tuple[int, int]:
    return node.lineno, node.col_offset


def last_name(node: ast.Call) -> str:
    """The called name's last part as written (``assertEqual`` in ``self.assertEqual()``), or ''."""
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def is_assertion(node: ast.AST) -> bool:
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, ast.Expr):
        node = node.value
    if isinstance(node, ast.Call):
        last = last_name(node)
        return last.startswith(("assert", "fail")) or last == "raises"
    return False
