"""What a PyYAML Loader can build, read from the classes it is made of. No rule lives here.

A loader is assembled from parts: a reader, scanner, parser, composer and resolver, which
only turn text into nodes, and one constructor, which turns nodes into Python values and
alone decides whether a tag can build an arbitrary object. ``class L(CParser,
MyConstructor, Resolver)`` with ``class MyConstructor(SafeConstructor)`` is therefore as
safe as SafeLoader, whatever the classes are called; a class whose bases cannot all be
read (a parameter, a class of another module) is not known either way.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from scrutiny.rules.base import argument, string_value, values_bound
from scrutiny.source import SourceFile

YAML_MODULES = frozenset(
    {"yaml", "yaml.loader", "yaml.cyaml", "yaml.constructor", "yaml.resolver", "yaml.reader", "yaml.scanner",
     "yaml.parser", "yaml.composer", "yaml._yaml", "_yaml"}
)  # fmt: skip
# Loaders and constructors that build only str, int, float, bool, None, list, dict (and dates).
SAFE_PARTS = frozenset(
    {"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader", "SafeConstructor", "BaseConstructor"}
)
# Loaders and constructors whose python/* tags import modules and build or call objects.
UNSAFE_PARTS = frozenset(
    {"Loader", "CLoader", "FullLoader", "CFullLoader", "UnsafeLoader", "CUnsafeLoader", "Constructor",
     "FullConstructor", "UnsafeConstructor"}
)  # fmt: skip
# Parts that turn text into nodes and never construct a value.
TEXT_PARTS = frozenset(
    {"Reader", "Scanner", "Parser", "Composer", "Resolver", "BaseResolver", "CParser", "Mark"}
)
NEUTRAL_BASES = frozenset({"object", "builtins.object", "abc.ABC", "typing.Generic"})
REGISTRATIONS = frozenset({"add_constructor", "add_multi_constructor"})
MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class Verdict:
    """``safe`` is True, False or None (not known); ``because`` says what it rests on and
    ``part`` names the PyYAML loader or constructor that decided it."""

    safe: bool | None
    because: str
    part: str = ""


def yaml_part(name: str) -> str:
    """'safe', 'unsafe' or 'text' for a PyYAML loader or loader part; '' for anything else."""
    module, _, last = name.rpartition(".")
    if module not in YAML_MODULES:
        return ""
    if last in SAFE_PARTS:
        return "safe"
    if last in UNSAFE_PARTS:
        return "unsafe"
    return "text" if last in TEXT_PARTS else ""


def loader_verdict(loader: ast.expr, src: SourceFile, scope: Iterable[ast.AST] = (), depth: int = 0) -> Verdict:
    """Whether the object passed as ``Loader=`` builds only plain data; ``scope`` holds the
    statements around the call, where a local name may have been bound to the loader."""
    if depth > MAX_DEPTH:
        return Verdict(None, f"{ast.unparse(loader)} is bound through too many names")
    if isinstance(loader, ast.IfExp):
        return _every((loader.body, loader.orelse), src, scope, depth)
    if isinstance(loader, ast.BoolOp) and isinstance(loader.op, ast.Or):
        # getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader: a missing C loader falls through.
        return _every([_present(value) for value in loader.values[:-1]] + loader.values[-1:], src, scope, depth)
    if isinstance(loader, ast.Call) and src.qualname(loader.func) == "getattr":
        # getattr(yaml, "CSafeLoader", yaml.SafeLoader): the C loader when it is built.
        module = src.qualname(loader.args[0]) if loader.args else None
        named = string_value(argument(loader, "", 1))
        if module is None or named is None:
            return Verdict(None, f"{ast.unparse(loader)} picks the loader by a name computed at run time")
        chosen = _named(f"{module}.{named}", src, set(), 0)
        fallback = argument(loader, "", 2)
        return loader_verdict(fallback, src, scope, depth + 1) if chosen.safe and fallback is not None else chosen
    name = src.qualname(loader)
    if name is None:
        return Verdict(None, f"{ast.unparse(loader)} is computed at run time")
    if isinstance(loader, ast.Name) and name == loader.id and name not in _classes(src):
        bound = values_bound(name, scope) or values_bound(name, src.tree.body)
        if bound and not any(isinstance(value, ast.Name) and value.id == name for value in bound):
            return _every(bound, src, (), depth)
    return _named(name, src, set(), 0)


def _every(loaders: Iterable[ast.expr], src: SourceFile, scope: Iterable[ast.AST], depth: int) -> Verdict:
    """Safe when every loader the expression may give is; unsafe when one is."""
    verdicts = [loader_verdict(loader, src, scope, depth + 1) for loader in loaders]
    unsafe = next((v for v in verdicts if v.safe is False), None)
    unknown = next((v for v in verdicts if v.safe is None), None)
    return unsafe or unknown or verdicts[-1]


def _present(value: ast.expr) -> ast.expr:
    """getattr(module, name, None) before ``or``: when it gives None the next operand is used."""
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "getattr"
        and len(value.args) == 3
        and isinstance(value.args[2], ast.Constant)
        and not value.args[2].value
    ):
        return ast.Call(value.func, value.args[:2], [])
    return value


def _named(name: str, src: SourceFile, seen: set[str], depth: int) -> Verdict:
    part = yaml_part(name)
    if part == "safe":
        return Verdict(True, f"{name} constructs only plain data", name)
    if part == "unsafe":
        return Verdict(False, f"{name} constructs Python objects from tags", name)
    if part == "text":
        return Verdict(None, f"{name} constructs nothing")
    classes = _classes(src)
    if name in classes and depth < MAX_DEPTH and name not in seen:
        return _class_verdict(classes[name], src, seen | {name}, depth + 1)
    if "." in name:
        return Verdict(None, f"{name} is defined in another module")
    return Verdict(None, f"{name} is not bound to a loader class in this file")


def _class_verdict(cls: ast.ClassDef, src: SourceFile, seen: set[str], depth: int) -> Verdict:
    """A class of the file: unsafe if any base is, safe if one base constructs plain data and
    every other base is a text part or itself safe; the constructors it registers count too."""
    unsafe = _unsafe_registration(cls.name, src)
    if unsafe:
        return Verdict(False, f"{cls.name} (line {cls.lineno}) registers {unsafe}", unsafe.rpartition(".")[0])
    constructs = ""
    unknown: Verdict | None = None
    for base in cls.bases:
        name = src.qualname(base)
        if name in NEUTRAL_BASES:
            continue
        verdict = _named(name, src, seen, depth) if name else Verdict(None, f"base {ast.unparse(base)} is computed")
        if verdict.safe is False:
            return Verdict(False, f"{cls.name} (line {cls.lineno}) is built on {verdict.part}", verdict.part)
        if verdict.safe:
            constructs = constructs or verdict.part
        elif not (name and yaml_part(name) == "text") and unknown is None:
            unknown = verdict
    if unknown is not None:
        return Verdict(None, f"{cls.name} (line {cls.lineno}) has a base that cannot be read: {unknown.because}")
    if constructs:
        return Verdict(True, f"{cls.name} (line {cls.lineno}) is built on {constructs}", constructs)
    return Verdict(None, f"{cls.name} (line {cls.lineno}) has no constructor among its bases")


def _unsafe_registration(class_name: str, src: SourceFile) -> str:
    """An unsafe constructor's method registered on the class: Cls.add_constructor(tag,
    FullConstructor.construct_python_object) or yaml.add_constructor(..., Loader=Cls)."""
    for call in src.index.of_type(ast.Call):
        assert isinstance(call, ast.Call)
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr in REGISTRATIONS):
            continue
        target = src.qualname(func.value)
        given = next((k.value for k in call.keywords if k.arg == "Loader"), None)
        if target != class_name and (given is None or src.qualname(given) != class_name):
            continue
        for value in [*call.args, *(k.value for k in call.keywords)]:
            owner = src.qualname(value.value) if isinstance(value, ast.Attribute) else None
            if owner and yaml_part(owner) == "unsafe":
                return f"{owner}.{value.attr}"
    return ""


def _classes(src: SourceFile) -> dict[str, ast.ClassDef]:
    """The file's module-level classes by name (a name bound to two classes is left out)."""
    found: dict[str, ast.ClassDef] = {}
    twice: set[str] = set()
    for node in src.tree.body:
        if isinstance(node, ast.ClassDef):
            if node.name in found:
                twice.add(node.name)
            found[node.name] = node
    return {name: node for name, node in found.items() if name not in twice}
