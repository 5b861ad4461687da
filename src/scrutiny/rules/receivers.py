"""What object a receiver is, as the code shows it, never as its name suggests.

A variable called ``session`` may hold a requests.Session or Flask's session, ``client``
any client at all. A rule that names the object in its message asks here: the answer
rests on a constructor call, an annotation, a with statement or an import, and says
which; when the code shows none of them the type is unknown and the message says so.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from scrutiny.rules.base import Walk, is_self_attr, module_level_nodes, walk_function

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True, slots=True)
class Receiver:
    """The type of an object (dotted, '' when unknown) and the code that shows it."""

    type: str
    evidence: str  # what the object is: "the requests.Session() made at line 5", "annotated httpx.Client"

    @property
    def known(self) -> bool:
        return bool(self.type)


UNKNOWN = Receiver("", "")


def receiver_of(node: ast.expr, walk: Walk) -> Receiver:
    """The type ``node`` (a name, self.attribute or call) has at this point of the code."""
    src = walk.src
    if isinstance(node, ast.Call):
        made = src.qualname(node.func)
        return Receiver(made, f"the {made}() made here") if made else UNKNOWN
    if isinstance(node, ast.Name):
        return _name_type(node, walk)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return _self_attribute_type(node.attr, walk)
    return UNKNOWN


def _from_value(value: ast.expr | None, walk: Walk, line: int) -> Receiver:
    if isinstance(value, ast.Call) and (made := walk.src.qualname(value.func)):
        return Receiver(made, f"the {made}() made at line {line}")
    return UNKNOWN


def _annotated(annotation: ast.expr | None, walk: Walk) -> Receiver:
    if annotation is None:
        return UNKNOWN
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return Receiver(annotation.value, f"annotated {annotation.value}")
    shown = walk.src.qualname(annotation)
    return Receiver(shown, f"annotated {shown}") if shown else UNKNOWN


def _bindings(name: str, nodes: tuple[ast.AST, ...] | list[ast.AST], walk: Walk) -> list[Receiver] | None:
    """What each binding of ``name`` among ``nodes`` makes it; None when nothing binds it."""
    found: list[Receiver] = []
    bound = False
    for node in nodes:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            bound = True
            found.append(_from_value(node.value, walk, node.lineno))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            bound = True
            found.append(_annotated(node.annotation, walk))
        elif isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
            if node.optional_vars.id == name:
                bound = True
                found.append(_from_value(node.context_expr, walk, getattr(node.context_expr, "lineno", 0)))
        elif isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store):
            bound = True  # a loop, unpacking or walrus target: nothing shows the type
            parent = walk.parent(node)
            if not isinstance(parent, ast.Assign | ast.AnnAssign | ast.withitem):
                found.append(UNKNOWN)
    return found if bound else None


def _agreed(found: list[Receiver]) -> Receiver:
    """One type when every binding shows the same one, else unknown."""
    types = {r.type for r in found}
    if len(types) == 1 and found[0].known:
        return found[0]
    return UNKNOWN


def _name_type(node: ast.Name, walk: Walk) -> Receiver:
    src = walk.src
    function = src.index.function_of.get(node)
    if function is not None:
        args = function.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if arg.arg == node.id:
                return _annotated(arg.annotation, walk)
        found = _bindings(node.id, walk_function(function), walk)
        if found is not None:
            return _agreed(found)
    found = _bindings(node.id, module_level_nodes(src.tree), walk)
    if found is not None:
        return _agreed(found)
    imported = src.qualname(node)
    if imported and imported != node.id:
        return Receiver(imported, f"{imported}, as imported")
    return UNKNOWN


def _self_attribute_type(attr: str, walk: Walk) -> Receiver:
    """What ``self.<attr>`` is made of in the class the current method belongs to."""
    function = walk.function
    owner = walk.parent(function) if function is not None else None
    if not isinstance(owner, ast.ClassDef):
        return UNKNOWN
    found: list[Receiver] = []
    for item in owner.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and item.target.id == attr:
            found.append(_annotated(item.annotation, walk))
        if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in walk_function(item):
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(is_self_attr(t, attr) for t in targets):
                    if isinstance(node, ast.AnnAssign):
                        found.append(_annotated(node.annotation, walk))
                    else:
                        found.append(_from_value(node.value, walk, node.lineno))
    return _agreed(found) if found else UNKNOWN
