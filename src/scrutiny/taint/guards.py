"""Branches: how a test narrows taint where it holds and where it does not.

A membership test against an allow-list, an equality with a literal, or a modelled check
(str.isdigit, re.fullmatch, a realpath prefix check) clears taint on the branch where the
check holds, and only there.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from scrutiny.taint.checks import Check
from scrutiny.taint.models import ALL
from scrutiny.taint.values import Env, Module, Taint, clear, copy_env, join_env, key_of, read_key, with_step

UNREAD_CHECK = "a check scrutiny cannot read"  # the step written where such a check holds
TYPE_TESTS = frozenset({"isinstance", "issubclass", "callable", "hasattr", "len", "bool", "any", "all"})


class Branches:
    """The refinement half of the function analysis (flow.Function)."""

    m: Module

    if TYPE_CHECKING:  # flow.Function defines these

        held_tests: dict[str, ast.expr]
        read_nodes: dict[str, ast.expr]

        def expr(self, node: ast.AST, env: Env) -> Taint: ...

        def _callee(self, func: ast.expr, name: str) -> str: ...

        def _tree_name(self, func: ast.expr, name: str) -> str: ...

        def dotted(self, func: ast.expr) -> str: ...

        def tree_check(self, qualified: str) -> Check | None: ...

    def refine(self, test: ast.expr, env: Env) -> tuple[Env, Env]:
        """Environments where ``test`` holds and where it does not."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            yes, no = self.refine(test.operand, env)
            return no, yes
        if isinstance(test, ast.BoolOp):
            if isinstance(test.op, ast.And):
                # Where `a and b` fails, a failed, or a held and b failed: each value's false
                # branch is taken with the earlier values holding (x and not ok(x): x is
                # either empty or passed ok).
                yes, failed = env, None
                for value in test.values:
                    held, no = self.refine(value, yes)
                    failed = join_env(failed, _falsy(value, no))
                    yes = held
                return yes, failed if failed is not None else env
            no = env
            for value in test.values:
                no = self.refine(value, no)[1]
            return env, no
        if isinstance(test, ast.Name) and test.id in self.held_tests:
            held = self.held_tests.pop(test.id)  # taken out while read: ok = ok and check(x) must not loop
            try:
                return self.refine(held, env)  # a name that holds a check's result
            finally:
                self.held_tests[test.id] = held
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "bool" and len(test.args) == 1:
            return self.refine(test.args[0], env)  # bool(check) holds where the check does
        if (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Is | ast.IsNot)
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value is None
        ):
            yes, no = self.refine(test.left, env)  # a match object is None where the match failed
            return (yes, no) if isinstance(test.ops[0], ast.IsNot) else (no, yes)
        shape = _path_shape(test)
        if shape is not None:
            return env, _ruled_out(env, *shape)
        yes = copy_env(env)
        if isinstance(test, ast.Call):
            self._note_unread_check(test, yes)
        no_branch = env
        for name, kinds, marks_needed in self._guards(test):
            if name in yes:
                yes[name] = clear(yes[name], kinds, requires=marks_needed)
                if not yes[name]:
                    del yes[name]
            elif (read := self.read_nodes.pop(name, None)) is not None:
                # The same read, repeated where the check held, is what it vouched for; both
                # branches carry the key, so after they join the read is as tainted as before.
                taint = self.expr(read, env)
                if taint:
                    yes[name] = clear(taint, kinds, requires=marks_needed)
                    no_branch = copy_env(no_branch)
                    no_branch[name] = taint
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.NotIn | ast.NotEq):
            no = copy_env(env)
            flipped = ast.Compare(
                test.left, [ast.In() if isinstance(test.ops[0], ast.NotIn) else ast.Eq()], test.comparators
            )
            for name, kinds, needed in self._guards(flipped):
                if name in no:
                    no[name] = clear(no[name], kinds, requires=needed)
                    if not no[name]:
                        del no[name]
            return env, no
        return yes, no_branch

    def _note_unread_check(self, test: ast.Call, env: Env) -> None:
        """A branch on a predicate scrutiny cannot read (a library call without a model, a
        function of another file such as ``resolver._is_callback(view)``): the data is not
        cleared, but its path says it passed the check, and the finding claims less."""
        func = test.func
        name = self.dotted(func)
        method = func.attr if isinstance(func, ast.Attribute) else ""
        looked = self.m.call_models(name, method)
        if looked.guard or looked.sanitizer or looked.source or (isinstance(func, ast.Name) and func.id in TYPE_TESTS):
            return
        callee = self._tree_name(func, name)
        if callee in self.m.defs:
            return  # read from its body (_tree_predicate)
        shown = callee or name or method or "a call"
        for position, argument in enumerate(test.args):
            key = key_of(argument)
            if key is not None and key in env:
                # The linker reads this step: a predicate of another file may clear the path.
                step = (test.lineno, test.col_offset, f"checked by {shown}() as argument {position}, {UNREAD_CHECK}")
                env[key] = with_step(env[key], step)

    def _tree_predicate(self, test: ast.Call) -> Iterator[tuple[str, frozenset[str], str]]:
        """Arguments a predicate of this file clears where it returns true, read from its body."""
        callee = self._callee(test.func, self.dotted(test.func))
        check = self.tree_check(callee) if callee else None
        if check is None:
            return
        for argument, index in check.index(test):
            kinds = check.when_true[index]
            if kinds and (name := key_of(argument)) is not None:
                yield name, kinds, ""

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
            guard_call = models.guard_calls.get(self.dotted(func))
            if guard_call is None:
                yield from self._tree_predicate(test)
                return
            if guard_call.anchored and not _anchored(test.args[0] if test.args else None):
                return
            if not guard_call.membership:
                checked = test.args[guard_call.arg] if len(test.args) > guard_call.arg else None
                if checked is None and guard_call.keyword:
                    checked = next((k.value for k in test.keywords if k.arg == guard_call.keyword), None)
                if checked is not None and (name := key_of(_unfolded(checked))) is not None:
                    yield name, guard_call.clears, guard_call.requires
                elif checked is not None and (name := read_key(checked)) is not None:
                    self.read_nodes[name] = checked  # a check of request.GET.get("next") itself
                    yield name, guard_call.clears, guard_call.requires


def _falsy(value: ast.expr, env: Env) -> Env:
    """``env`` where the truth test ``value`` of a name failed: the name holds None or an
    empty value, which carries no data to a sink. Where ``a or b`` failed, both did."""
    if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or):
        for part in value.values:
            env = _falsy(part, env)
        return env
    name = key_of(value) if isinstance(value, ast.Name | ast.Attribute) else None
    if name is None or name not in env:
        return env
    out = copy_env(env)
    del out[name]
    return out


# A pattern that accepts x.lower() (or x.strip()) accepts x up to case and surrounding
# blanks: what it rules out of the copy (a slash, "..", a line break) is not in x either.
FOLDS = frozenset({"lower", "upper", "casefold", "strip"})


def _unfolded(checked: ast.expr) -> ast.expr:
    if (
        isinstance(checked, ast.Call)
        and isinstance(checked.func, ast.Attribute)
        and checked.func.attr in FOLDS
        and not checked.args
        and not checked.keywords
    ):
        return checked.func.value
    return checked


ANCHORED = re.compile(r"^(?:\^|\\A).*(?:(?<!\\)\$|\\Z)$", re.DOTALL)
WIDE = re.compile(r"(?<!\\)\.|\\[SWD]|\[\^")  # '.', \S, \W, \D or a negated class lets anything through


def _anchored(pattern: ast.expr | None) -> bool:
    """A literal pattern that must match the whole value and admits only listed characters."""
    if not (isinstance(pattern, ast.Constant) and isinstance(pattern.value, str)):
        return False
    text = pattern.value
    return bool(ANCHORED.match(text)) and not WIDE.search(text) and "|" not in text


# A relative path with no ".." segment stays under the directory it is joined to. Two tests
# show it, usually in one "or" before a raise: ".." among the parts, and an absolute path.
# Where one test fails the path carries its mark; where both have failed, "path" is cleared.
NO_PARENT, RELATIVE = "no-parent-segment", "relative"
PATH_KINDS = frozenset({"path"})
PARENT = frozenset({"..", "../", "..\\"})
ABSOLUTE_TESTS = frozenset({"os.path.isabs", "posixpath.isabs", "ntpath.isabs", "isabs"})
PATH_TYPES = frozenset({"Path", "PurePath", "PurePosixPath", "PureWindowsPath", "PosixPath", "WindowsPath"})
ROOTS = frozenset({"/", "\\"})


def _path_shape(test: ast.expr) -> tuple[str, str] | None:
    """(the name, the mark its path earns where the test fails) for a test that holds when
    the path escapes: '..' in p (or in p.split('/'), p.parts), os.path.isabs(p),
    p.is_absolute() (or Path(p).is_absolute()), p.startswith('/')."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.In):
        left = test.left
        if isinstance(left, ast.Constant) and left.value in PARENT:
            name = key_of(_path_of(test.comparators[0]))
            return (name, NO_PARENT) if name is not None else None
        return None
    if not isinstance(test, ast.Call):
        return None
    func = test.func
    if isinstance(func, ast.Attribute) and func.attr == "is_absolute" and not test.args:
        name = key_of(_path_of(func.value))
        return (name, RELATIVE) if name is not None else None
    if isinstance(func, ast.Attribute) and func.attr == "startswith" and len(test.args) == 1:
        prefixes = test.args[0].elts if isinstance(test.args[0], ast.Tuple) else [test.args[0]]
        if prefixes and all(isinstance(p, ast.Constant) and p.value in ROOTS for p in prefixes):
            name = key_of(func.value)
            return (name, RELATIVE) if name is not None else None
        return None
    dotted = ast.unparse(func)
    if dotted in ABSOLUTE_TESTS and len(test.args) == 1:
        name = key_of(test.args[0])
        return (name, RELATIVE) if name is not None else None
    return None


def _path_of(node: ast.expr) -> ast.expr:
    """p for p.split(sep), p.parts, Path(p) and Path(p).parts: the same path's pieces."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "split":
        return node.func.value
    if isinstance(node, ast.Attribute) and node.attr == "parts":
        node = node.value
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
        func = node.func
        tail = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if tail in PATH_TYPES:
            return node.args[0]
    return node


def _ruled_out(env: Env, name: str, mark: str) -> Env:
    """The environment where a test showing ``mark``'s shape failed for ``name``."""
    if name not in env:
        return env
    other = RELATIVE if mark == NO_PARENT else NO_PARENT
    out = copy_env(env)
    taint = clear(env[name], PATH_KINDS, requires=other)  # the other test failed earlier
    taint = clear(taint, frozenset(), marks=frozenset({mark}))
    if taint:
        out[name] = taint
    else:
        del out[name]
    return out
