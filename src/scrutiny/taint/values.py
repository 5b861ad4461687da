"""Taint values, environments and the per-file tables the function analysis fills.

See flow.py for how they are used.

A value's taint maps (origin, cleared kinds) to the steps it took. Origins are the
function's parameters ("p", i), sources read in it ("s", i) and results of calls to code
of the reviewed tree ("c", i), whose meaning only the linker knows. The facts say which
origins reach the return value, a sink, or an argument of such a call.
"""

from __future__ import annotations

import ast
import re
from itertools import compress
from operator import is_not
from dataclasses import dataclass
from typing import Any

from scrutiny.source import SourceFile
from scrutiny.taint.models import ALL, Guard, Models, Propagator, Sanitizer, Sink, Source

Origin = tuple[str, int]
Step = tuple[int, int, str]
Key = tuple[Origin, frozenset[str]]
Taint = dict[Key, tuple[Step, ...]]
Env = dict[str, Taint]
FIXED_HOST = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+[/?#]")
MAX_STEPS = 12
FIELD = "@field"  # callee suffix of a read of self.attr: the linker knows what was stored there
HEAD = ".[0]"  # env key suffix: the taint of a list's first item (a program name)
LOOP_ROUNDS = 8


def better(new: tuple[Step, ...], old: tuple[Step, ...]) -> bool:
    return (len(new), new) < (len(old), old)


def union(*taints: Taint) -> Taint:
    # Taints are never changed once made, so one that stands alone is returned as it is:
    # most unions have at most one tainted part. Hand-rolled: this runs for every operator.
    first: Taint | None = None
    out: Taint | None = None
    for taint in taints:
        if not taint:
            continue
        if first is None:
            first = taint
            continue
        if out is None:
            out = dict(first)
        for key, steps in taint.items():
            known = out.get(key)
            if known is None or (len(steps), steps) < (len(known), known):  # better(steps, known)
                out[key] = steps
    if out is not None:
        return out
    return first if first is not None else {}


def with_step(taint: Taint, step: Step) -> Taint:
    return {key: (steps + (step,) if len(steps) < MAX_STEPS else steps) for key, steps in taint.items()}


def clear(taint: Taint, kinds: frozenset[str], marks: frozenset[str] = frozenset(), requires: str = "") -> Taint:
    if ALL in kinds and not requires:
        return {}
    out: Taint = {}
    for (origin, cleared), steps in taint.items():
        if requires and requires not in cleared:
            out[(origin, cleared)] = steps
            continue
        if ALL in kinds:
            continue
        key = (origin, cleared | kinds | marks)
        if key not in out or better(steps, out[key]):
            out[key] = steps
    return out


# An environment of at least this many names is copied as a Layered one (see below).
LAYERED_FROM = 256
# A Layered environment's own names are folded into a new base when it is copied with more.
LAYER_LIMIT = 128
_MISSING = object()
_GONE = object()  # a Layered environment's own entry for a name its base has and it deleted


class Layered:
    """A large environment: a frozen base dict shared with its copies, and its own writes.

    A function of thousands of variables branches thousands of times; copying its whole
    environment at each branch and comparing every name at each join was quadratic. A copy
    of a Layered environment shares the base and copies only the names written since it was
    made (folded into a new base past LAYER_LIMIT), and a join or a comparison of two copies
    of one base looks only at those names. It behaves as the dict it stands for (the
    operations the analysis uses); iteration order is not kept, and nothing reads it.
    """

    __slots__ = ("base", "own", "size")

    def __init__(self, base: dict[str, Taint], own: dict[str, Any], size: int) -> None:
        self.base = base  # never changed once shared
        self.own = own  # name -> taint, or _GONE
        self.size = size

    def __contains__(self, name: object) -> bool:
        found = self.own.get(name, _MISSING)  # type: ignore[call-overload]
        if found is _MISSING:
            return name in self.base
        return found is not _GONE

    def __getitem__(self, name: str) -> Taint:
        found = self.own.get(name, _MISSING)
        if found is _MISSING:
            return self.base[name]
        if found is _GONE:
            raise KeyError(name)
        return found  # type: ignore[no-any-return]

    def get(self, name: str, default: Any = None) -> Any:
        found = self.own.get(name, _MISSING)
        if found is _MISSING:
            return self.base.get(name, default)
        return default if found is _GONE else found

    def __setitem__(self, name: str, taint: Taint) -> None:
        if name not in self:
            self.size += 1
        self.own[name] = taint

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self.size -= 1
        if name in self.base:
            self.own[name] = _GONE
        else:
            del self.own[name]

    def pop(self, name: str, *default: Any) -> Any:
        if name not in self:
            if default:
                return default[0]
            raise KeyError(name)
        taint = self[name]
        del self[name]
        return taint

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Any:
        own = self.own
        for name in self.base:
            if own.get(name, _MISSING) is not _GONE:
                yield name
        base = self.base
        for name, taint in own.items():
            if taint is not _GONE and name not in base:
                yield name

    def keys(self) -> Any:
        return list(self)

    def items(self) -> Any:
        return [(name, self[name]) for name in self]

    def values(self) -> Any:
        return [self[name] for name in self]

    def flat(self) -> dict[str, Taint]:
        """The environment as a new plain dict."""
        out = dict(self.base)
        for name, taint in self.own.items():
            if taint is _GONE:
                del out[name]
            else:
                out[name] = taint
        return out

    def copy(self) -> Layered:
        if len(self.own) > LAYER_LIMIT:
            self.base, self.own = self.flat(), {}
        return Layered(self.base, dict(self.own), self.size)


def copy_env(env: Env) -> Env:
    """A copy of ``env`` to change apart from it (``dict(env)`` for a plain one)."""
    if type(env) is dict:
        if len(env) < LAYERED_FROM:
            return dict(env)
        return Layered(dict(env), {}, len(env))
    return env.copy()  # type: ignore[attr-defined,no-any-return]


def _plain(env: Env) -> dict[str, Taint]:
    return env if type(env) is dict else env.flat()  # type: ignore[attr-defined,no-any-return]


def _changed(a: Layered, b: Layered) -> list[str]:
    """The names of ``b`` whose taint is not the very same object in ``a`` (as _differing(b, a)),
    for two Layered environments of one base: only names either wrote can differ."""
    a_own, b_own, base = a.own, b.own, a.base
    out = []
    for name in _differing(b_own, a_own):
        taint = b_own[name]
        if taint is not _GONE and (name in a_own or base.get(name) is not taint):
            out.append(name)
    for name in _differing(a_own, b_own):
        if name not in b_own and name in base and base[name] is not a_own[name]:
            out.append(name)  # b reads it from the base, a wrote (or deleted) it
    return out


def join_env(a: Env | None, b: Env | None) -> Env | None:
    if a is None:
        return b
    if b is None:
        return a
    if type(a) is dict and type(b) is dict:
        out = dict(a)
        for name in _differing(b, a):
            known = out.get(name)
            out[name] = b[name] if known is None else union(known, b[name])
        return out
    if type(a) is Layered and type(b) is Layered and a.base is b.base:
        names = _changed(a, b)
        joined = a.copy()
        for name in names:
            known = joined.get(name)
            taint = b[name]
            joined[name] = taint if known is None else union(known, taint)
        return joined
    plain = join_env(_plain(a), _plain(b))
    assert plain is not None
    return Layered(plain, {}, len(plain)) if len(plain) >= LAYERED_FROM else plain


def same(a: Env | None, b: Env | None) -> bool:
    if a is None or b is None:
        return a is b
    if type(a) is dict and type(b) is dict:
        return a.keys() == b.keys() and all(a[k].keys() == b[k].keys() for k in _differing(a, b))
    if type(a) is Layered and type(b) is Layered and a.base is b.base:
        if len(a) != len(b):
            return False
        for name in {*a.own, *b.own}:
            left, right = a.get(name), b.get(name)
            if left is right:
                continue
            if left is None or right is None or left.keys() != right.keys():
                return False
        return True
    return same(_plain(a), _plain(b))


def _differing(a: Env, b: Env) -> list[str]:
    """The names of ``a`` (in its order) whose taint is not the very same object in ``b``.

    Both are usually copies of one environment that a branch or a loop body changed in a
    few names; the comparison runs in C (no Python frame per name), so joining the
    environment of a function of thousands of variables at every branch stays cheap.
    """
    return list(compress(a, map(is_not, map(b.get, a), a.values())))


def key_of(node: ast.AST) -> str | None:
    """'x', 'self.name', 'a.b.c' for names and attribute chains; None otherwise."""
    if type(node) is ast.Name:
        return node.id  # the common case, without building a list
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def read_key(node: ast.AST) -> str | None:
    """'request.GET["next"]' for request.GET.get("next") or request.GET["next"]: a read of
    one literal key from a keyed object, which a check may vouch for and a later read of
    the same key then repeats; None for anything else."""
    if isinstance(node, ast.Call) and not node.keywords and len(node.args) in (1, 2):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and isinstance(node.args[0], ast.Constant):
            base, key = func.value, node.args[0].value
        else:
            return None
    elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        base, key = node.value, node.slice.value
    else:
        return None
    owner = key_of(base)
    return f"{owner}[{key!r}]" if owner is not None and isinstance(key, str) else None


def _leading_text(node: ast.AST) -> str:
    """The literal text a string expression starts with: 'https://x/' for 'https://x/' + path."""
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        node = node.left
    if isinstance(node, ast.JoinedStr) and node.values:
        node = node.values[0]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        node = node.func.value
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


def parameters(function: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> list[str]:
    """A function's parameter names as callers pass them (without self or cls)."""
    args = function.args
    names = [a.arg for a in args.posonlyargs + args.args]
    static = any(getattr(d, "id", getattr(d, "attr", "")) == "staticmethod" for d in function.decorator_list)
    if method and names and not static:
        names = names[1:]
    names += [a.arg for a in args.kwonlyargs]
    return names


def short(node: ast.AST, limit: int = 40) -> str:
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):
        return "an expression"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fields(src: SourceFile, module: str) -> frozenset[tuple[str, str]]:
    """Attributes a method stores on self or cls from a value that may carry data (not a literal or a bare call).

    A subclass also reads the attributes it uses but never stores when another class of the
    file stores them (its base, as the linker will check); a base in another module is not
    followed, which keeps summaries small.
    """
    index = src.index
    function_of, parents = index.function_of, index.parents
    classes = {id(n): n for n in src.tree.body if isinstance(n, ast.ClassDef)}
    if not classes:
        return frozenset()
    found: set[tuple[str, str]] = set()
    stored: dict[str, set[str]] = {}
    used: dict[str, set[str]] = {}
    owners: dict[ast.AST | None, str | None] = {None: None}  # function -> its class, if a method of the file's
    # A hand-rolled loop over every attribute of the file, the owner looked up once per function.
    for node in index.of_type(ast.Attribute):
        value = node.value  # type: ignore[attr-defined]
        if type(value) is not ast.Name or value.id not in ("self", "cls"):
            continue
        function = function_of.get(node)
        if function in owners:
            name = owners[function]
        else:
            owner = parents.get(function)  # type: ignore[arg-type]
            name = owners[function] = f"{module}.{owner.name}" if id(owner) in classes else None  # type: ignore[union-attr]
        if name is None:
            continue
        attr = node.attr  # type: ignore[attr-defined]
        if type(node.ctx) is not ast.Store:  # type: ignore[attr-defined]
            used.setdefault(name, set()).add(attr)
            continue
        stored.setdefault(name, set()).add(attr)
        parent = parents.get(node)
        value = getattr(parent, "value", None) if isinstance(parent, ast.Assign | ast.AnnAssign | ast.AugAssign) else 0
        if isinstance(value, ast.Constant) or (isinstance(value, ast.Call) and not value.args and not value.keywords):
            continue
        found.add((name, attr))
    with_data = {attr for _, attr in found}
    for node in classes.values():
        name = f"{module}.{node.name}"
        if node.bases and name in used:
            found.update((name, attr) for attr in (used[name] & with_data) - stored.get(name, set()))
    return frozenset(found)


def instances_in(module: Module, src: SourceFile) -> dict[ast.AST | None, dict[str, str]]:
    """Per function (None: module level), names bound to the result of a library or local class
    call, or of a function of the file that always returns such a result (a factory)."""
    found: dict[ast.AST | None, dict[str, str]] = {}
    index = src.index
    by_factory: list[tuple[ast.AST | None, list[str], str]] = []  # (function, names, factory called)
    for node in index.of_type(ast.Assign, ast.withitem):
        value = node.value if isinstance(node, ast.Assign) else node.context_expr  # type: ignore[attr-defined]
        if not isinstance(value, ast.Call):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.optional_vars]  # type: ignore[attr-defined]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if not names:
            continue
        made = _made_by(module, value)
        if not made and isinstance(value.func, ast.Name) and value.func.id in module.local_defs:
            by_factory.append((index.function_of.get(node), names, value.func.id))
        if not made:
            continue
        bucket = found.setdefault(index.function_of.get(node), {})
        for name in names:
            bucket[name] = made
    if by_factory:
        factories = _factories(module, src, found)
        for function, names, called in by_factory:
            if called in factories:
                found.setdefault(function, {}).update(dict.fromkeys(names, factories[called]))
    return found


def _made_by(module: Module, call: ast.Call) -> str:
    """'pkg.Class()' for a call of an imported name or a class of the file; '' otherwise."""
    made = module.qualname(call.func)
    root = call.func
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(made, str) or not isinstance(root, ast.Name):
        return ""
    if root.id not in module.aliases and made not in module.classes:
        return ""
    return made + "()"


def _factories(module: Module, src: SourceFile, found: dict[ast.AST | None, dict[str, str]]) -> dict[str, str]:
    """Top-level functions of the file whose every return gives what one library call made
    (return Env(...), or env = Env(...); ...; return env): name -> 'pkg.Class()'."""
    top = {id(n): n.name for n in src.tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    returned: dict[str, set[str]] = {}
    function_of = src.index.function_of
    for node in src.index.of_type(ast.Return):
        function = function_of.get(node)
        name = top.get(id(function))
        if name is None:
            continue
        value = node.value  # type: ignore[attr-defined]
        made = ""
        if isinstance(value, ast.Call):
            made = _made_by(module, value)
        elif isinstance(value, ast.Name):
            made = found.get(function, {}).get(value.id, "")
        returned.setdefault(name, set()).add(made)
    return {name: made.pop() for name, made in returned.items() if len(made) == 1 and "" not in made}


def _method_sinks(models: Models, name: str, method: str) -> tuple[Sink, ...]:
    """The sinks of ``method`` on any receiver, but those not held on the object ``name`` is
    a method of (a sandboxed environment's from_string)."""
    receiver = name[: -len(method) - 1] if name.endswith("." + method) else ""
    return tuple(s for s in models.sink_methods.get(method, ()) if not (receiver and receiver in s.safe_on))


@dataclass(frozen=True, slots=True)
class CallModels:
    """The models that apply to a call, by its qualified name and its method name."""

    sinks: tuple[Sink, ...]  # by the call's name
    method_sinks: tuple[Sink, ...]  # by the method name, when the name has no sink model
    source: Source | None
    guard: Guard | None
    sanitizer: Sanitizer | None
    propagator: Propagator | None


class DottedKeys:
    """Every environment key with a dot ('self.conn', 'cmd.[0]') written in a file's analysis,
    filed under each name it extends ('self', 'cmd'): an assignment to ``x`` forgets what
    was known of ``x.*`` by looking those up, not by scanning the whole environment (which
    made a function of many variables quadratic).

    Only the writes that can add a key note it (flow.Function.assign, _store_item, a
    propagator into its receiver, shapes.remember_names); every other write changes a key
    already there, and copies and joins only carry keys that were written. Shared by every
    function of the file, as closures carry keys from one function into another.
    """

    def __init__(self) -> None:
        self.under: dict[str, set[str]] = {}

    def note(self, key: str) -> None:
        at = key.find(".")
        while at > 0:
            found = self.under.get(key[:at])
            if found is None:
                self.under[key[:at]] = {key}
            else:
                found.add(key)
            at = key.find(".", at + 1)

    def forget(self, name: str, env: Env) -> None:
        """Remove every ``name.*`` key from ``env``."""
        for key in self.under.get(name, ()):
            env.pop(key, None)


class Module:
    """What the analysis of every function in one file shares: models, names, tables."""

    def __init__(self, models: Models, src: SourceFile, module: str, package: str) -> None:
        self.models = models
        self.dotted = DottedKeys()
        self.qualname = src.qualname
        self.aliases = src.aliases
        self.module = module
        self.package = package  # what a relative import's single dot names
        self.segments = frozenset(module.split("."))  # a package of the tree is one of these
        # Module-level NAME = <expression>, for tables a call reads (s.translate(TABLE)).
        self.constants: dict[str, ast.expr] = {
            n.targets[0].id: n.value
            for n in src.tree.body
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
        }
        body = src.tree.body
        local_defs = {n.name for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
        classes = {n.name for n in body if isinstance(n, ast.ClassDef)}
        self.local_defs = local_defs  # top-level functions and classes of the file
        self.classes = classes
        self.sources: dict[tuple[int, int, str], int] = {}
        self.source_rows: list[tuple[str, str, int, int]] = []
        self.sinks: dict[tuple[int, int, str, str], int] = {}
        self.sink_rows: list[tuple[str, str, int, int, int, int]] = []
        self.calls: dict[tuple[int, int, str], int] = {}
        self.call_rows: list[tuple[str, int, int]] = []
        self.attr_tails = models.attr_tails
        self.instances: dict[str, str] = {}  # module-level names bound to a library call's result
        self.instances_by_function: dict[ast.AST | None, dict[str, str]] = {}
        self.fields = _fields(src, module)  # (class, attr) stored from something not constant
        # Every function of the file by qualified name: (node, owning class, enclosing scope).
        self.defs: dict[str, tuple[ast.FunctionDef | ast.AsyncFunctionDef, str | None, dict[str, str]]] = {}
        # Functions whose own body raises (a validator can only be one of these).
        function_of = src.index.function_of
        self.raising: set[ast.AST | None] = {function_of.get(n) for n in src.index.of_type(ast.Raise)}
        self.checks: dict[str, Any] = {}  # qualified name -> checks.Check, or None (made on first use)
        # Every class of the file (qualified) with its bases as resolved (filled with m.defs).
        self.class_bases: dict[str, tuple[str, ...]] = {}
        # Packages the file imports from (django for "from django.http import ..."), not relative ones.
        self.imported_roots = frozenset(v.partition(".")[0] for v in self.aliases.values() if v[:1] != ".")
        self._call_models: dict[tuple[str, str], CallModels] = models.call_memo
        if len(self._call_models) > 20_000:  # bounded: its hits are mostly names a file repeats
            self._call_models.clear()

    def call_models(self, name: str, method: str) -> CallModels:
        """The models of a call named ``name`` (may be '') with method ``method`` (may be '').

        Looked up once per pair for all files (the models' call_memo): files call the same
        few names again and again.
        """
        key = (name, method)
        found = self._call_models.get(key)
        if found is None:
            models = self.models
            found = self._call_models[key] = CallModels(
                tuple(models.sink_calls.get(name, ())) if name else (),
                _method_sinks(models, name, method) if method and name not in models.sink_calls else (),
                models.source_calls.get(name)
                or (models.source_methods.get(method) if method else None)
                or models.source_attrs.get(name),  # a resolved attribute called (flask.request.get_json)
                models.guard_calls.get(name) if name else None,
                models.sanitizer_calls.get(name) or (models.sanitizer_methods.get(method) if method else None),
                models.propagator_calls.get(name) or (models.propagator_methods.get(method) if method else None),
            )
        return found

    def local_class(self, name: str) -> str:
        """A top-level class of the file by its qualified name; any other name as it is."""
        return f"{self.module}.{name}" if name in self.classes else name

    def outside(self, name: str) -> bool:
        """Whether a qualified name is not the reviewed tree's: a package none of this file's
        own path segments names (textwrap, flask, requests)."""
        return name.partition(".")[0] not in self.segments

    def absolute(self, name: str) -> str:
        """A relative import's name made absolute from the file's own module path."""
        if not name.startswith("."):
            return name
        dots = len(name) - len(name.lstrip("."))
        base = self.package.split(".") if self.package else []
        base = base[: len(base) - (dots - 1)] if dots > 1 else base
        return ".".join([*base, name[dots:]]) if base else name[dots:]

    def source(self, kind: str, label: str, node: ast.AST) -> Origin:
        line, col = getattr(node, "lineno", 0), getattr(node, "col_offset", 0)
        key = (line, col, label)
        if key not in self.sources:
            self.sources[key] = len(self.source_rows)
            self.source_rows.append((kind, label, line, col))
        return ("s", self.sources[key])

    def sink(self, sink: Sink, name: str, node: ast.AST) -> int:
        line, col = getattr(node, "lineno", 0), getattr(node, "col_offset", 0)
        key = (line, col, sink.kind, name)
        if key not in self.sinks:
            self.sinks[key] = len(self.sink_rows)
            end = getattr(node, "end_lineno", None) or line
            self.sink_rows.append((sink.kind, name, line, col, end, getattr(node, "end_col_offset", 0) or 0))
        return self.sinks[key]

    def call(self, callee: str, node: ast.AST) -> int:
        line, col = getattr(node, "lineno", 0), getattr(node, "col_offset", 0)
        key = (line, col, callee)
        if key not in self.calls:
            self.calls[key] = len(self.call_rows)
            self.call_rows.append((callee, line, col))
        return self.calls[key]
