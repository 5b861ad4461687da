"""The taint engine's two phases: ``summarize`` one file, ``link`` every file's summary.

A summary holds, per function, which origins (parameters, sources, results of calls into
the reviewed tree) reach its return value, a sink, or an argument of such a call. It is
made of tuples of strings and numbers, so it pickles small and compares equal across runs.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from scrutiny.context import FileContext
from scrutiny.findings import Finding
from scrutiny.pickling import quick_state
from scrutiny.source import SourceFile, defined_in
from scrutiny.taint import DISABLE_VARIABLE, enabled, flow  # noqa: F401  (the switch lives in the package)
from scrutiny.taint.models import ALL, load
from scrutiny.taint.guards import TYPE_TESTS
from scrutiny.taint.values import clear, instances_in, parameters

if TYPE_CHECKING:
    from scrutiny.taint.solve import Solver

# (origin kind, index), cleared kinds, target, steps (line, col, message)
FactRow = tuple[tuple[str, int], tuple[str, ...], tuple[object, ...], tuple[flow.Step, ...]]
LOCAL_ENTRY_KINDS = {"cli-main": "local"}
TYPED_PARAMS = {
    "int", "float", "bool", "uuid.UUID", "datetime.date", "datetime.datetime", "datetime.time", "decimal.Decimal",
    "pydantic.UUID1", "pydantic.UUID3", "pydantic.UUID4", "pydantic.UUID5", "pydantic.PositiveInt",
    "pydantic.NegativeInt", "pydantic.NonNegativeInt", "pydantic.StrictInt", "pydantic.StrictBool",
}  # fmt: skip
CONVERTED = re.compile(r"<(?:int|float|uuid):(\w+)>")
FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef)
REMOTE_ENTRY_KINDS = {"route", "view", "api-controller", "http-handler"}


@quick_state
@dataclass(frozen=True, slots=True)
class FunctionSummary:
    name: str  # module.Class.function
    params: tuple[str, ...]  # without self/cls
    line: int
    facts: tuple[FactRow, ...]


@quick_state
@dataclass(frozen=True, slots=True)
class ModuleSummary:
    """What other modules need to know about one module's data flow."""

    path: str
    module: str
    sources: tuple[tuple[str, str, int, int], ...] = ()  # kind, label, line, col
    sinks: tuple[tuple[str, str, int, int, int, int, str], ...] = ()  # kind, callee, line, col, end, end col, code
    calls: tuple[tuple[str, int, int], ...] = ()  # callee, line, col
    functions: tuple[FunctionSummary, ...] = ()
    classes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # qualified class, qualified bases
    exports: tuple[tuple[str, str], ...] = ()  # a package's re-exported name, the name it imports
    # Predicates of the file and what each clears of each parameter where it returns true,
    # for checks other files make with them: (function, ((kind, ...) per parameter)).
    checks: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = ()
    # Session stores (indexes into sinks) whose key no code of the file decides anything on.
    stored_only: tuple[int, ...] = ()


def module_name(path: str) -> tuple[str, str]:
    """(module, package) from a file path: 'a/b/c.py' -> ('a.b.c', 'a.b'); __init__ names the package.

    The root of the tree is not known here, so names keep every directory; the linker
    matches imported names against their trailing parts.
    """
    parts = [p for p in PurePosixPath(path.replace("\\", "/")).with_suffix("").parts if p not in ("", "/", ".", "..")]
    parts = [p.replace("-", "_") for p in parts]
    if parts and parts[-1] == "__init__":
        parts.pop()
        return ".".join(parts), ".".join(parts)
    return ".".join(parts), ".".join(parts[:-1])


def _validated(
    src: SourceFile, function: ast.FunctionDef | ast.AsyncFunctionDef, entry: bool
) -> dict[str, frozenset[str]]:
    """Parameters the framework or a decorator has validated, with the kinds that clears.

    A route parameter converted to a number or UUID (Flask's <int:id>, an annotation ``id: int``
    in FastAPI) cannot carry text; a JSON-schema decorator checks the body. Annotations count
    only on entry points, where the framework converts the value; elsewhere they are not enforced.
    """
    decorators = load().sanitizer_decorators
    out: dict[str, frozenset[str]] = {}
    for arg in [*function.args.args, *function.args.kwonlyargs] if entry else []:
        if arg.annotation is not None and _converted(src, arg.annotation):
            out[arg.arg] = frozenset({ALL})
    for decorator in function.decorator_list:
        if entry and isinstance(decorator, ast.Call) and decorator.args and isinstance(decorator.args[0], ast.Constant):
            for name in CONVERTED.findall(str(decorator.args[0].value)):
                out[name] = frozenset({ALL})
        dotted = src.qualname(decorator.func if isinstance(decorator, ast.Call) else decorator) or ""
        for name, sanitizer in decorators.items():
            if dotted == name or dotted.endswith("." + name):
                for param in sanitizer.params:
                    out[param] = out.get(param, frozenset()) | sanitizer.clears
    return out


def _converted(src: SourceFile, annotation: ast.expr) -> bool:
    """Whether a framework converts a parameter so annotated to a value that cannot carry text:
    int, UUID, a date, an Enum of the file; also inside Annotated[...], Optional[...] and X | None."""
    if isinstance(annotation, ast.Constant):
        return annotation.value is None
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return _converted(src, annotation.left) and _converted(src, annotation.right)
    if isinstance(annotation, ast.Subscript):
        wrapper = (src.qualname(annotation.value) or "").rsplit(".", 1)[-1]
        inner = annotation.slice
        if wrapper == "Annotated" and isinstance(inner, ast.Tuple) and inner.elts:
            return _converted(src, inner.elts[0])
        if wrapper == "Optional":
            return _converted(src, inner)
        return False
    name = src.qualname(annotation) or ""
    return name in TYPED_PARAMS or name in _enums(src)


def _enums(src: SourceFile) -> frozenset[str]:
    """Classes of the file that derive from an enum type (their values are a fixed set)."""
    return frozenset(
        node.name
        for node in src.tree.body
        if isinstance(node, ast.ClassDef) and any((src.qualname(b) or "").startswith("enum.") for b in node.bases)
    )


def analyse(src: SourceFile, context: FileContext) -> ModuleSummary:
    """Every function of the file (and its top-level code) as facts."""
    module, package = module_name(src.path)
    m = flow.Module(load(), src, module, package)
    m.instances_by_function = instances_in(m, src)
    m.instances = m.instances_by_function.get(None, {})
    entries = {e.line: e for e in context.entry_points}
    functions: list[FunctionSummary] = []
    classes: list[tuple[str, tuple[str, ...]]] = []

    closures: dict[ast.AST, flow.Env] = {}  # a nested function -> the source taint its free names see

    def run(
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Module,
        name: str,
        owner: str | None,
        scope: dict[str, str],
    ) -> None:
        entry = entries.get(node.lineno) if not isinstance(node, ast.Module) else None
        function = flow.Function(m, owner, entry.kind if entry else "")
        if entry is not None:
            function.entry_name, function.entry_params = entry.name, entry.params
        function.node = node if not isinstance(node, ast.Module) else None
        function.scope = scope
        function.closures = closures
        if not isinstance(node, ast.Module):
            function.note_instances(node)
        env: flow.Env = dict(closures.get(node, {}))
        params: list[str] = []
        if not isinstance(node, ast.Module):
            validated = _validated(src, node, entry is not None)
            params = parameters(node, owner is not None)
            for param in params:
                env.pop(param, None)  # a parameter shadows the enclosing function's name
            for index, param in enumerate(params):
                taint: flow.Taint = {(("p", index), frozenset()): ()}
                # A Django view's request object is not client data as a whole: what the client
                # sends is read from its attributes (the models' sources), and the object also
                # carries what the server set on it (request.user, a middleware's request.event).
                if (
                    entry
                    and param in entry.params
                    and (entry.kind in REMOTE_ENTRY_KINDS or entry.kind in LOCAL_ENTRY_KINDS)
                    and not (entry.kind == "view" and param == "request" and param == entry.params[0])
                ):
                    kind = LOCAL_ENTRY_KINDS.get(entry.kind, "remote")
                    label = f"parameter {param} of {entry.kind} {entry.name}"
                    origin = m.source(kind, label, node)
                    taint[(origin, frozenset())] = ((node.lineno, node.col_offset, label),)
                env[param] = clear(taint, validated[param]) if param in validated else taint
        if isinstance(node, ast.Module):
            body = [s for s in node.body if not isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
            if body:
                function.block(body, env)
        else:
            function.block(node.body, env)
        if function.facts or owner is not None:  # a method without facts still overrides its base's
            rows = [
                (origin, tuple(sorted(cleared)) if cleared else (), target, steps)
                for (origin, cleared, target), steps in function.facts.items()
            ]
            facts = tuple(sorted(rows, key=repr) if len(rows) > 1 else rows)
            functions.append(FunctionSummary(name, tuple(params), getattr(node, "lineno", 0), facts))

    _collect(m, src, defined_in(src.tree.body), module, {}, classes)
    run(src.tree, f"{module}.<module>", None, {})
    # m.defs lists each function before those defined in it, whose closures its run fills.
    for name, (node, owner, scope) in list(m.defs.items()):
        run(node, name, owner, scope)
    sinks = tuple((*row, src.line_text(row[2]).strip()) for row in m.sink_rows)
    return ModuleSummary(
        src.path,
        module,
        tuple(m.source_rows),
        sinks,
        tuple(m.call_rows),
        tuple(functions),
        tuple(classes),
        _exports(src, m) if src.path.replace("\\", "/").endswith("__init__.py") else (),
        _predicates(m, src),
        _stored_only(src, m.sink_rows),
    )


def _session_of(node: ast.AST) -> bool:
    """``x.session`` or a bare ``session`` (Flask's): a session store."""
    return (isinstance(node, ast.Attribute) and node.attr == "session") or (
        isinstance(node, ast.Name) and node.id == "session"
    )


def _session_read(node: ast.AST) -> str | None:
    """The key text of a session read (session[KEY], session.get(KEY)), or None."""
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _session_of(node.value):
        return ast.unparse(node.slice)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("get", "pop")
        and _session_of(node.func.value)
        and node.args
    ):
        return ast.unparse(node.args[0])
    return None


def _in_decision(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """``node`` is part of a comparison or of the test of an if, while, assert or conditional
    (not only as what a type test such as isinstance looks at)."""
    child, parent = node, parents.get(node)
    while parent is not None and not isinstance(parent, ast.stmt | ast.IfExp):
        if isinstance(parent, ast.Compare):
            return True
        if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id in TYPE_TESTS:
            return False
        child, parent = parent, parents.get(parent)
    if isinstance(parent, ast.If | ast.While | ast.IfExp | ast.Assert):
        return child is parent.test
    return False


def _decided_keys(src: SourceFile) -> set[str]:
    """Session keys the file decides something on: a read compared or tested, directly or
    through the local name it is assigned to."""
    parents = src.index.parents
    decided: set[str] = set()
    for node in src.index.of_type(ast.Subscript, ast.Call):
        key = _session_read(node)
        if key is None or key in decided:
            continue
        if _in_decision(node, parents):
            decided.add(key)
            continue
        statement = parents.get(node)
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            continue
        target = statement.targets[0]
        scope = src.index.function_of.get(statement) or src.tree
        if isinstance(target, ast.Name) and any(
            isinstance(use, ast.Name) and use.id == target.id and isinstance(use.ctx, ast.Load) and _in_decision(use, parents)
            for use in ast.walk(scope)
        ):  # fmt: skip
            decided.add(key)
    return decided


def _stored_only(src: SourceFile, rows: list[tuple[str, str, int, int, int, int]]) -> tuple[int, ...]:
    """The session stores (trust sinks written as session[KEY] = value) whose key no code of
    this file compares or tests: the session only carries the value."""
    stores = {
        (n.lineno, n.col_offset): n
        for n in src.index.of_type(ast.Subscript)
        if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store) and _session_of(n.value)
    }
    if not stores:
        return ()
    decided = _decided_keys(src)
    out = []
    for index, row in enumerate(rows):
        store = stores.get((row[2], row[3])) if row[0] == "trust" else None
        if store is not None and ast.unparse(store.slice) not in decided:
            out.append(index)
    return tuple(out)


def _collect(
    m: flow.Module,
    src: SourceFile,
    items: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef],
    prefix: str,
    scope: dict[str, str],
    classes: list[tuple[str, tuple[str, ...]]],
) -> None:
    """Every function at any depth into ``m.defs`` (before those defined in it), with the names
    its body sees of functions and classes defined around it; every class with its bases."""
    for item in items:
        qualified = f"{prefix}.{item.name}"
        if isinstance(item, ast.ClassDef):
            bases = []
            for base in item.bases:
                dotted = src.qualname(base)
                if dotted in scope:
                    bases.append(scope[dotted])
                elif dotted:
                    bases.append(f"{m.module}.{dotted}" if dotted in m.classes else m.absolute(dotted))
            classes.append((qualified, tuple(bases)))
            m.class_bases[qualified] = tuple(bases)
            members = [(f"{qualified}.{f.name}", f, qualified) for f in item.body if isinstance(f, FUNCTION_NODES)]
        else:
            members = [(qualified, item, None)]
        for name, function, owner in members:
            nested = defined_in(function.body)
            # A call to a function or class defined here or around is a call into the tree.
            own = {**scope, **{n.name: f"{name}.{n.name}" for n in nested}}
            m.defs[name] = (function, owner, own)
            _collect(m, src, nested, name, own, classes)


def _predicates(m: flow.Module, src: SourceFile) -> tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]:
    """What each predicate of the file checks, read from its body (only functions that return
    a test: a comparison, a boolean operation, not, bool(...), a True/False constant, or the
    result of a library check with a guard model, as a wrapper of url_has_allowed_host_and_scheme
    that first widens the allowed hosts)."""
    index = src.index
    function_of = index.function_of
    testing = {
        function_of.get(node)
        for node in index.of_type(ast.Return)
        if node.value is not None and (_is_test(node.value) or _is_guard_call(node.value, m))  # type: ignore[attr-defined]
    }
    if not testing - {None}:
        return ()
    reader = flow.Function(m, None, "")
    out = []
    for name, (node, _, _) in sorted(m.defs.items()):
        if node not in testing:
            continue
        check = reader.tree_check(name)
        if check is not None and any(check.when_true):
            out.append((name, tuple(tuple(sorted(kinds)) for kinds in check.when_true)))
    return tuple(out)


def _is_guard_call(value: ast.expr, m: flow.Module) -> bool:
    """A call of a library check the models know as a guard (it returns whether its argument passed)."""
    return isinstance(value, ast.Call) and str(m.qualname(value.func)) in m.models.guard_calls


def _is_test(value: ast.expr) -> bool:
    if isinstance(value, ast.Compare | ast.BoolOp):
        return True
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not):
        return True
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        return True
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "bool"


def _exports(src: SourceFile, m: flow.Module) -> tuple[tuple[str, str], ...]:
    """Names a package's __init__ imports from its modules, so ``from pkg import f`` finds pkg.mod.f."""
    out = []
    for node in src.tree.body:
        if isinstance(node, ast.ImportFrom):
            base = m.absolute("." * node.level + (node.module or ""))
            for alias in node.names:
                if alias.name != "*":
                    out.append((f"{m.module}.{alias.asname or alias.name}", f"{base}.{alias.name}"))
    return tuple(out)


_LAST: tuple[SourceFile, ModuleSummary] | None = None


def summary_of(src: SourceFile, context: FileContext) -> ModuleSummary:
    """The summary of ``src``; the last one made is reused (observe reads it after summarize)."""
    global _LAST
    if _LAST is not None and _LAST[0] is src:
        return _LAST[1]
    summary = analyse(src, context)
    _LAST = (src, summary)
    return summary


_SOLVED: tuple[ModuleSummary, Solver] | None = None


def _solved(summary: ModuleSummary) -> Solver:
    """The file's own solver, run once for both its findings and the review's prose."""
    from scrutiny.taint.solve import Solver

    global _SOLVED
    if _SOLVED is None or _SOLVED[0] is not summary:
        solver = Solver([summary])
        # What is read of a file's own solver (findings, and parameters reaching the file's
        # sinks) all ends at one of its sinks: without one, running it would find nothing.
        if summary.sinks:
            solver.run()
        _SOLVED = (summary, solver)
    return _SOLVED[1]


def summarize(src: SourceFile, context: FileContext) -> tuple[ModuleSummary | None, list[Finding]]:
    from scrutiny.taint.solve import solve

    if not enabled():
        return None, []
    summary = summary_of(src, context)
    if not summary.functions and not summary.classes and not summary.exports:
        return None, []
    return summary, solve([summary], cross_module_only=False, solver=_solved(summary))


def link(summaries: list[ModuleSummary]) -> list[Finding]:
    from scrutiny.taint.solve import solve

    if len(summaries) < 2 or not enabled():
        return []
    return solve(summaries, cross_module_only=True)


@dataclass(frozen=True, slots=True)
class FunctionFlow:
    """What the engine established about one function's parameters, for the review's prose."""

    params: tuple[str, ...]
    to_sinks: tuple[tuple[str, str, int], ...]  # (parameter, sink kind, sink line), within this file
    untrusted: tuple[str, ...]  # parameters an untrusted source of this file reaches


@dataclass(frozen=True, slots=True)
class FileFlow:
    sources: tuple[tuple[str, str, int], ...]  # (kind, label, line)
    sink_calls: int
    functions: dict[str, FunctionFlow]  # by the function's name in the file (Class.method)


def describe(src: SourceFile, context: FileContext) -> FileFlow:
    """The engine's facts about ``src`` alone, for the input-validation aspect."""
    if not enabled():
        return FileFlow((), 0, {})
    summary = summary_of(src, context)
    solver = _solved(summary)
    prefix = summary.module + "."
    untrusted: dict[str, set[int]] = {}
    calls = {index: row[0] for index, row in enumerate(summary.calls)}
    for function in summary.functions:
        for origin, _, target, _ in function.facts:
            if origin[0] == "s" and target[0] == "arg" and isinstance(target[1], int) and isinstance(target[2], int):
                untrusted.setdefault(calls[target[1]], set()).add(target[2])
    functions: dict[str, FunctionFlow] = {}
    for function in summary.functions:
        local = function.name.removeprefix(prefix)
        reached = sorted(
            {
                (function.params[key[0]], summary.sinks[key[2][1]][0], summary.sinks[key[2][1]][2])  # type: ignore[index]
                for key in solver.sinks.get(function.name, {})
                if isinstance(key[0], int) and key[0] < len(function.params) and key[2][0] == summary.path  # type: ignore[index]
            }
        )
        tainted = tuple(
            function.params[i] for i in sorted(untrusted.get(function.name, ())) if i < len(function.params)
        )
        for entry in context.entry_points:
            if entry.line == function.line:
                tainted = tuple(p for p in function.params if p in entry.params)
        functions[local] = FunctionFlow(function.params, tuple(reached), tainted)
    sources = tuple((kind, label, line) for kind, label, line, _ in summary.sources)
    return FileFlow(sources, len(summary.sinks), functions)
