"""Containment checks: a path resolved, then tested against a base directory. No rule lives here.

The vocabulary is the taint models' (taint/models/builtins.toml): the calls whose result
carries the ``realpath`` mark (os.path.realpath, abspath, normpath) and the guards that
clear the path kind only on a value carrying it (str.startswith, os.path.commonpath).
pathlib's resolve/is_relative_to, os.path.commonprefix and a comparison of the resolved
path's leading components with the base's (``parts[:len(base)] == base``) are read the same
way. A check is recognised by what it does to a value derived from the path, inline or in
a function of the file, never by the function's name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import lru_cache

from scrutiny.rules.base import names_in, parameters, walk_function
from scrutiny.source import SourceFile
from scrutiny.taint.models import load

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
RESOLVED_MARK = "realpath"
EXTRA_RESOLVING_METHODS = frozenset({"resolve", "absolute"})
EXTRA_TEST_METHODS = frozenset({"is_relative_to", "relative_to"})
EXTRA_TEST_CALLS = frozenset({"os.path.commonprefix", "posixpath.commonprefix", "posixpath.commonpath"})


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(resolving calls, containment test methods, containment test calls) from the models."""
    models = load()
    resolving = {call for call, s in models.sanitizer_calls.items() if RESOLVED_MARK in s.marks}
    methods = {m for m, g in models.guard_methods.items() if g.requires == RESOLVED_MARK and "path" in g.clears}
    calls = {c for c, g in models.guard_calls.items() if g.requires == RESOLVED_MARK and "path" in g.clears}
    return frozenset(resolving), frozenset(methods) | EXTRA_TEST_METHODS, frozenset(calls) | EXTRA_TEST_CALLS


def derived(seeds: set[str], statements: Iterable[ast.AST]) -> set[str]:
    """``seeds`` and the names assigned from expressions that mention one of them."""
    assigns = [node for node in statements if isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr)]
    names = set(seeds)
    changed = True
    while changed:
        changed = False
        for node in assigns:
            if node.value is None or not names_in(node.value) & names:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name) and name.id not in names:
                        names.add(name.id)
                        changed = True
    return names


class Reader:
    """Reads containment checks in one file; a helper's verdict is computed once."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.resolving, self.test_methods, self.test_calls = _vocabulary()
        self._helpers: dict[FunctionNode, frozenset[int]] = {}

    def resolves(self, node: ast.AST, paths: set[str]) -> bool:
        """``node`` contains a resolving call (realpath(...), Path(...).resolve()) of a value
        mentioning one of ``paths``."""
        for sub in ast.walk(node):
            if not isinstance(sub, ast.Call):
                continue
            func = sub.func
            if self.src.qualname(func) in self.resolving and any(names_in(a) & paths for a in sub.args):
                return True
            if (
                isinstance(func, ast.Attribute)
                and func.attr in EXTRA_RESOLVING_METHODS
                and names_in(func.value) & paths
            ):
                return True
        return False

    def resolved_names(self, paths: set[str], statements: Iterable[ast.AST]) -> set[str]:
        """Names bound to a resolved form of ``paths``, and names derived from those."""
        statements = list(statements)
        direct = {
            name.id
            for node in statements
            if isinstance(node, ast.Assign | ast.AnnAssign)
            and node.value is not None
            and self.resolves(node.value, paths)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            for name in ast.walk(target)
            if isinstance(name, ast.Name)
        }
        return derived(direct, statements) if direct else set()

    def tests(self, expr: ast.AST, paths: set[str], resolved: set[str]) -> bool:
        """``expr`` holds a containment test of a resolved value derived from ``paths``."""

        def resolved_value(node: ast.AST) -> bool:
            return bool(names_in(node) & resolved) or self.resolves(node, paths)

        for node in ast.walk(expr):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr in self.test_methods and resolved_value(func.value):
                    return True
                if self.src.qualname(func) in self.test_calls and any(resolved_value(a) for a in node.args):
                    return True
            elif isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq | ast.NotEq):
                # parts[:len(base)] == base: the resolved path's leading components are the base's.
                for side in (node.left, node.comparators[0]):
                    if isinstance(side, ast.Subscript) and isinstance(side.slice, ast.Slice) and resolved_value(side):
                        return True
        return False

    def helper(self, function: FunctionNode) -> frozenset[int]:
        """Positions of the parameters whose containment ``function`` checks and decides on:
        its body tests a resolved form of the parameter, and it returns a value or raises."""
        known = self._helpers.get(function)
        if known is not None:
            return known
        self._helpers[function] = frozenset()  # a helper calling itself proves nothing
        nodes = walk_function(function)
        decides = any(isinstance(n, ast.Raise) or (isinstance(n, ast.Return) and n.value is not None) for n in nodes)
        checked: set[int] = set()
        if decides:
            for index, param in enumerate(parameters(function)):
                paths = derived({param}, nodes)
                resolved = self.resolved_names(paths, nodes)
                if any(self.tests(n, paths, resolved) for n in nodes if isinstance(n, ast.expr)):
                    checked.add(index)
        found = self._helpers[function] = frozenset(checked)
        return found

    def function_of_file(self, call: ast.Call) -> FunctionNode | None:
        """The function of this file a call runs: a module-level function, or a method of the
        class around the call (self.name / cls.name)."""
        func = call.func
        if isinstance(func, ast.Name):
            return next(
                (n for n in self.src.tree.body if isinstance(n, FunctionNode) and n.name == func.id), None
            )
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
            owner = self.src.index.parents.get(self.src.index.function_of.get(call) or call)
            if isinstance(owner, ast.ClassDef):
                return next((n for n in owner.body if isinstance(n, FunctionNode) and n.name == func.attr), None)
        return None

    def checks(self, expr: ast.AST, paths: set[str], resolved: set[str]) -> str:
        """How ``expr`` checks the containment of ``paths``: the helper or test that does it
        ('' when it does not)."""
        if self.tests(expr, paths, resolved):
            return "an inline containment test"
        for node in ast.walk(expr):
            if not isinstance(node, ast.Call):
                continue
            function = self.function_of_file(node)
            if function is None:
                continue
            positions = self.helper(function)
            params = parameters(function)
            given = [i for i, a in enumerate(node.args) if names_in(a) & paths]
            given += [params.index(k.arg) for k in node.keywords if k.arg in params and names_in(k.value) & paths]
            if positions.intersection(given):
                return f"{function.name}() (line {function.lineno})"
        return ""
