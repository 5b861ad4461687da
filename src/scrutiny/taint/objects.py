"""Which framework's object a bare name is: the evidence a source written on a name needs.

A source such as ``request.GET`` or ``self.path`` names no import: any variable spelt so
reads the same, a crawler's outgoing request object as much as a Django view's request.
Its model names an [[object]] (models.py), and the source counts only where the name is
shown to be that object, strongest evidence first:

1. the name's annotation or constructor is one of the object's classes (for ``self``: the
   method's class derives from one, directly or through classes of the file);
2. the name is a parameter of an entry point of one of the object's kinds (for ``self``:
   the method is one);
3. the file imports one of the object's packages (weaker).

An annotation or constructor naming any other class rules the name out, whatever else
holds. The evidence used is said in the source's label, so the finding shows it.
"""

from __future__ import annotations

import ast
import builtins
from typing import TYPE_CHECKING

from scrutiny.taint.models import ObjectModel, Source

if TYPE_CHECKING:
    from scrutiny.taint.flow import Function
    from scrutiny.taint.values import Module

# Annotations that say nothing about the type (or that the reader cannot resolve to a class).
UNINFORMATIVE = frozenset({"typing.Any", "typing_extensions.Any", "Any", "object"})
# Wrappers whose arguments are the annotated type: Optional[X], Annotated[X, ...], Union[X, Y].
WRAPPERS = frozenset({"Optional", "Annotated", "Union"})

Evidence = tuple[int, str]  # (strength, what it is), the stronger the higher
TYPED, ENTRY, IMPORTED = 3, 2, 1


def evidence(function: Function, root: str, wanted: ObjectModel) -> Evidence | None:
    """Why ``root`` is taken for ``wanted`` in this function, or None when it is not."""
    m = function.m
    if root == "self":
        if function.owner and wanted.classes:
            base = derives_from(m, function.owner, wanted.classes)
            if base:
                shown = function.owner.rsplit(".", 1)[-1]
                return TYPED, f"self is a {shown}, which derives from {base}"
        if function.entry_kind in wanted.entries:
            return ENTRY, f"self in {function.entry_kind} {function.entry_name}"
        return _imported(m, wanted)
    types = function.declared_types(root)
    if types is not None:
        for declared, how in types:
            base = derives_from(m, declared, wanted.classes)
            if base:
                through = f", which derives from {base}" if base != declared else ""
                return TYPED, f"{root} is {how} {declared}{through}"
        return None  # the annotation or constructor shows another type
    if root in function.entry_params and function.entry_kind in wanted.entries:
        return ENTRY, f"{root} is a parameter of {function.entry_kind} {function.entry_name}"
    return _imported(m, wanted)


def member(m: Module, declared: str, attribute: str) -> Source | None:
    """The source an object model gives ``attribute`` of a value of class ``declared`` (the
    GET of a name annotated HttpRequest), or None."""
    models = m.models
    for name, members in models.object_members.items():
        source = members.get(attribute)
        if source is not None and derives_from(m, declared, models.objects[name].classes):
            return source
    return None


def _imported(m: Module, wanted: ObjectModel) -> Evidence | None:
    package = next((p for p in sorted(wanted.modules) if p in m.imported_roots), "")
    return (IMPORTED, f"the file imports {package}") if package else None


def derives_from(m: Module, name: str, classes: frozenset[str]) -> str:
    """The one of ``classes`` that ``name`` is or derives from through classes of the file, or ''."""
    seen: set[str] = set()
    todo = [m.local_class(name)]
    while todo:
        current = todo.pop()
        if current in classes:
            return current
        if current in seen:
            continue
        seen.add(current)
        todo.extend(m.class_bases.get(current, ()))
    return ""


def declared_types(function: Function, root: str) -> list[tuple[str, str]] | None:
    """The classes a parameter's annotation or the call that made the name says it is, each
    with how it was said; None when nothing informative says."""
    node = function.node
    if node is not None:
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if arg.arg == root and arg.annotation is not None:
                names = _annotated(function.m, arg.annotation)
                return [(n, "annotated") for n in names] if names else None
    made = function.instances.get(root, "")
    if made.endswith("()") and "()" not in made[:-2]:
        return [(made[:-2], "made by")]
    return None


def _annotated(m: Module, annotation: ast.expr) -> list[str]:
    """The classes an annotation names ([] when it says nothing the reader can use)."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return []
    if isinstance(annotation, ast.Constant):
        return []  # None in X | None
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        left, right = _annotated(m, annotation.left), _annotated(m, annotation.right)
        return [*left, *right] if left or right else []
    if isinstance(annotation, ast.Subscript):
        wrapper = (m.qualname(annotation.value) or "").rsplit(".", 1)[-1]
        if wrapper not in WRAPPERS:
            return _annotated(m, annotation.value)  # a generic (list[X], Mapping[K, V]): its class
        inner = annotation.slice
        parts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
        if wrapper == "Annotated":
            parts = parts[:1]
        return [name for part in parts for name in _annotated(m, part)]
    name = m.qualname(annotation)
    if not isinstance(name, str) or name in UNINFORMATIVE:
        return []
    if "." not in name and name not in m.classes and not isinstance(getattr(builtins, name, None), type):
        return []  # a name the file neither imports nor defines: its class is unknown
    return [name]
