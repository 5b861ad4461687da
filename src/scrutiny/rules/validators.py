"""Validators of untrusted text (93x)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, call_tail, drop, note, string_value, values_bound
from scrutiny.rules.code_guards import MATCH_CALLS, MATCH_METHODS

# An unbounded quantifier not escaped: *, + or {n,}.
UNBOUNDED = re.compile(r"(?<!\\)(?:[*+]|\{\d+,\})")
VALIDATOR_PREFIXES = ("validate", "is_valid", "clean")


def _is_validator(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return function.name == "__call__" or function.name.lstrip("_").startswith(VALIDATOR_PREFIXES)


def _raises_invalid(function: ast.AST) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Raise) and node.exc is not None:
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = ast.unparse(raised).rsplit(".", 1)[-1]
            if "Validation" in name or "Invalid" in name or name == "ValueError":
                return True
    return False


def _derived_names(function: ast.AST, value: str) -> set[str]:
    """The parameter and the names assigned from expressions that use it (parts, splits)."""
    names = {value}
    changed = True
    while changed:
        changed = False
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and any(
                isinstance(n, ast.Name) and n.id in names for n in ast.walk(node.value)
            ):
                for target in node.targets:
                    for n in ast.walk(target):
                        if isinstance(n, ast.Name) and n.id not in names:
                            names.add(n.id)
                            changed = True
    return names


def _bound_literal(name: str, body: list[ast.stmt]) -> str | None:
    """The first string argument of ``name = something(r"...")`` among ``body``'s statements."""
    for value in values_bound(name, body)[:1]:
        if isinstance(value, ast.Call) and value.args:
            return string_value(value.args[0])
        return string_value(value)
    return None


def _pattern(call: ast.Call, walk: Walk, function: ast.AST) -> str | None:
    """The pattern text a match call uses, when it is written in the module or class."""
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    module = walk.src.tree.body
    if walk.src.qualname(call.func) in MATCH_CALLS:
        first = call.args[0]
        return string_value(first) if not isinstance(first, ast.Name) else _bound_literal(first.id, module)
    if isinstance(receiver, ast.Name):
        return _bound_literal(receiver.id, module)
    if isinstance(receiver, ast.Attribute) and isinstance(receiver.value, ast.Name) and receiver.value.id == "self":
        owner = walk.parent(function)
        if isinstance(owner, ast.ClassDef):
            return _bound_literal(receiver.attr, owner.body)
    return None


def _costly(pattern: str | None) -> bool:
    """Two or more unbounded repetitions: the cost of a failing match grows faster than the text."""
    return pattern is not None and len(UNBOUNDED.findall(pattern)) >= 2


class RegexValidationWithoutLengthCap(Rule):
    """Validator matches regular expressions on text of any length

    What: a validator (__call__ of a validator class, or a function named validate*,
    is_valid*, clean*) that raises a validation error (…ValidationError, Invalid…,
    ValueError) and matches its input, or parts split from it, against a regular
    expression with two or more unbounded repetitions (written in the module or the
    class), without comparing the input's length with a limit anywhere.
    Why: validators run on text straight from clients (form fields, e-mail addresses,
    URLs, host names), and complex patterns cost time that grows with the input, often
    faster than linearly; a megabyte-long value then ties up a worker. Capping the length
    first (e-mail addresses are at most 320 characters, URLs rarely need more than 2048)
    bounds the cost whatever the pattern.
    Example:
        def __call__(self, value):
            if not self.regex.match(value):
                raise ValidationError("invalid")
    Fix: reject over-long values before matching: if len(value) > self.max_length:
    raise ValidationError(...).
    """

    id = "SCR937"
    name = "regex-validation-without-length-cap"
    category = Category.INPUT_VALIDATION
    cwe = 1333
    severity = Severity.LOW
    confidence = Confidence.MEDIUM
    node_types = (ast.FunctionDef, ast.AsyncFunctionDef)
    context = {
        FileKind.TEST: drop("tests validate values they wrote themselves"),
        FileKind.EXAMPLE: note("example validators skip limits for brevity"),
        FileKind.DOCS: note("documentation validators skip limits for brevity"),
    }

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        params = [a.arg for a in node.args.args if a.arg not in ("self", "cls")]
        if not _is_validator(node) or not params or not _raises_invalid(node):
            return
        values = _derived_names(node, params[0])
        matched = [
            call for call in walk.src.index.calls_by_function.get(node, [])
            if isinstance(call.func, ast.Attribute) and call.func.attr in MATCH_METHODS and call.args
            and any(isinstance(n, ast.Name) and n.id in values for n in ast.walk(call.args[-1] if
                    call_tail(call) != "match" or len(call.args) == 1 else call.args[1]))
        ]  # fmt: skip
        matched = [call for call in matched if _costly(_pattern(call, walk, node))]
        if not matched:
            return
        for compare in ast.walk(node):
            if isinstance(compare, ast.Compare):
                for side in (compare.left, *compare.comparators):
                    if isinstance(side, ast.Call) and call_tail(side) == "len" and side.args:
                        if any(isinstance(n, ast.Name) and n.id in values for n in ast.walk(side.args[0])):
                            return
        yield self.finding(
            node,
            f"{node.name}() matches {params[0]} against regular expressions (line {matched[0].lineno}) "
            "without capping its length first",
            walk.src,
            scope=walk.scope_name,
        )
