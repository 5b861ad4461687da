"""Mass assignment (97x): attribute names taken from data and set on an object unchecked."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import DEFAULT_CONTEXT, Rule, Walk, drop


def _key_name(loop: ast.For) -> str | None:
    """The loop variable that holds the key when the loop walks a mapping's items() or keys."""
    it = loop.iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute)):
        return None
    if it.func.attr == "items" and isinstance(loop.target, ast.Tuple) and loop.target.elts:
        first = loop.target.elts[0]
        return first.id if isinstance(first, ast.Name) else None
    if it.func.attr == "keys" and isinstance(loop.target, ast.Name):
        return loop.target.id
    return None


def _mapping_is_kwargs(loop: ast.For, walk: Walk) -> bool:
    """``**kwargs`` names come from the calling code, not from data."""
    it = loop.iter
    assert isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute)
    functions = [s for s in walk.scope if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)]
    if not functions or functions[-1].args.kwarg is None:
        return False
    function = functions[-1]
    assert function.args.kwarg is not None
    return isinstance(it.func.value, ast.Name) and it.func.value.id == function.args.kwarg.arg


def _mapping_is_constant(loop: ast.For, walk: Walk) -> bool:
    """A module-level mapping or an UPPER_CASE class constant is written in the code itself."""
    it = loop.iter
    assert isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute)
    owner = it.func.value
    if isinstance(owner, ast.Attribute):
        return owner.attr.isupper()
    if not isinstance(owner, ast.Name):
        return False
    return owner.id.isupper() or any(
        isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == owner.id for t in stmt.targets)
        for stmt in walk.src.tree.body
    )


def _uses(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _is_setattr_of(node: ast.AST, name: str) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "setattr"
        and len(node.args) == 3
        and isinstance(node.args[1], ast.Name)
        and node.args[1].id == name
    )


def _checks_name(stmt: ast.stmt, name: str) -> bool:
    """A statement that tests the name or hands it to a checker before it is used."""
    for node in ast.walk(stmt):
        if isinstance(node, ast.If | ast.Assert | ast.IfExp | ast.While) and _uses(node.test, name):
            return True
        if isinstance(node, ast.Call) and not _is_setattr_of(node, name):
            if any(_uses(arg, name) for arg in (*node.args, *(k.value for k in node.keywords))):
                return True
    return False


class SetattrFromData(Rule):
    """Attribute names from a mapping set on an object without a check

    What: a loop over a mapping's items() (or keys()) that calls setattr(obj, key, value)
    with the key as the attribute name, and nothing in the loop tests or validates that
    key first. Loops over the function's own ``**kwargs`` are left alone: those names
    come from the calling code, and so are module-level and UPPER_CASE constant
    mappings and tests, whose mappings the test wrote.
    Why: when the mapping comes from a document, a request or a file, its author picks
    which attributes change, including dunder and private ones (``__class__``,
    ``__dict__``, ``_is_admin``) or methods the program calls later; deserializers that did
    this let a document replace methods and run code (CWE-915).
    Example:
        for key, value in state.items():
            setattr(instance, key, value)
    Fix: check each name before setting it: accept only an allowlist of fields, or at least
    reject names that start with an underscore or name methods
    (``if key.startswith("_"): raise ValueError(key)``).
    Low: the rule cannot tell a document's keys from names the program chose itself
    (ORM annotations, settings tables), so it is a prompt to check where the mapping
    comes from.
    """

    id = "SCR970"
    name = "setattr-from-data"
    category = Category.INPUT_VALIDATION
    cwe = 915
    severity = Severity.LOW
    confidence = Confidence.LOW
    node_types = (ast.For,)
    # Tests fill fakes from dicts they wrote themselves: no outside party picks the names.
    context = {**DEFAULT_CONTEXT, FileKind.TEST: drop("in test code, whose mappings the test itself wrote")}

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.For)
        key = _key_name(node)
        if key is None or _mapping_is_kwargs(node, walk) or _mapping_is_constant(node, walk):
            return
        for stmt in node.body:
            if isinstance(stmt, ast.If | ast.While) and _uses(stmt.test, key):
                return  # the setattr below runs only for names that passed the test
            calls = [n for n in ast.walk(stmt) if _is_setattr_of(n, key)]
            if calls:
                yield self.finding(calls[0], f"setattr() with the unchecked key {key!r} from a mapping", walk.src,
                                   scope=walk.scope_name)  # fmt: skip
                return
            if _checks_name(stmt, key):
                return
