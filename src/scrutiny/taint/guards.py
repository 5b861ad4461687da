"""Branches: how a test narrows taint where it holds and where it does not.

A membership test against an allow-list, an equality with a literal, or a modelled check
(str.isdigit, re.fullmatch, a realpath prefix check) clears taint on the branch where the
check holds, and only there.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.taint.models import ALL, Guard
from scrutiny.taint.values import Env, Module, clear, key_of


class Branches:
    """The refinement half of the function analysis (flow.Function)."""

    m: Module

    def refine(self, test: ast.expr, env: Env) -> tuple[Env, Env]:
        """Environments where ``test`` holds and where it does not."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            yes, no = self.refine(test.operand, env)
            return no, yes
        if isinstance(test, ast.BoolOp):
            if isinstance(test.op, ast.And):
                yes = env
                for value in test.values:
                    yes = self.refine(value, yes)[0]
                return yes, env
            no = env
            for value in test.values:
                no = self.refine(value, no)[1]
            return env, no
        yes = dict(env)
        for name, kinds, marks_needed in self._guards(test):
            if name in yes:
                yes[name] = clear(yes[name], kinds, requires=marks_needed)
                if not yes[name]:
                    del yes[name]
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.NotIn | ast.NotEq):
            no = dict(env)
            flipped = ast.Compare(
                test.left, [ast.In() if isinstance(test.ops[0], ast.NotIn) else ast.Eq()], test.comparators
            )
            for name, kinds, needed in self._guards(flipped):
                if name in no:
                    no[name] = clear(no[name], kinds, requires=needed)
                    if not no[name]:
                        del no[name]
            return env, no
        return yes, env

    def _guards(self, test: ast.expr) -> Iterator[tuple[str, frozenset[str], str]]:
        models = self.m.models
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            op, right = test.ops[0], test.comparators[0]
            left = test.left
            if isinstance(op, ast.Eq) and isinstance(right, ast.Constant):
                if (name := key_of(left)) is not None:
                    yield name, frozenset({ALL}), ""
            if isinstance(op, ast.In):
                if (name := key_of(left)) is not None:
                    yield name, frozenset({ALL}), ""
                    return
                inner = left.value if isinstance(left, ast.Attribute) else left
                if isinstance(inner, ast.Call) and inner.args:
                    guard = models.guard_calls.get(str(self.m.qualname(inner.func)))
                    if guard is not None and guard.membership and (name := key_of(inner.args[0])) is not None:
                        yield name, guard.clears, guard.requires
            return
        if isinstance(test, ast.Call):
            func = test.func
            if isinstance(func, ast.Attribute) and func.attr in models.guard_methods:
                guard = models.guard_methods[func.attr]
                if (name := key_of(func.value)) is not None:
                    yield name, guard.clears, guard.requires
                    return
            guard_call = models.guard_calls.get(str(self.m.qualname(func)))
            if guard_call is None:
                guard_call = _named_predicate(func, models.guard_patterns)
            if guard_call is not None and not guard_call.membership:
                checked = test.args[guard_call.arg] if len(test.args) > guard_call.arg else None
                if checked is None and guard_call.keyword:
                    checked = next((k.value for k in test.keywords if k.arg == guard_call.keyword), None)
                if checked is not None and (name := key_of(checked)) is not None:
                    yield name, guard_call.clears, guard_call.requires


def _named_predicate(func: ast.expr, patterns: list[Guard]) -> Guard | None:
    """The pattern guard whose pattern the called function's own name matches."""
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return next((guard for guard in patterns if guard.pattern is not None and guard.pattern.fullmatch(name)), None)
