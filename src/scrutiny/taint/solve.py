"""Linking summaries: calls resolved across functions and modules, to a bounded fixed point.

For every function the solver keeps which of its parameters (and which sources) reach its
return value, and which parameters reach a sink inside it or inside anything it calls.
A function is re-evaluated when something it calls changes, at most MAX_VISITS times, so
recursion ends. A source that reaches a sink of a kind it was not sanitized for is a finding.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from scrutiny.findings import Finding, TraceStep
from scrutiny.taint.engine import FunctionSummary, ModuleSummary
from scrutiny.taint.models import ALL
from scrutiny.taint.models import REQUIRED_MARKS
from scrutiny.taint.values import FIELD

MAX_VISITS = 8
MAX_STEPS = 24
GStep = tuple[str, int, int, str]
Base = tuple[object, ...]  # ("p", i) or ("s", path, j)


def _keep(
    table: dict[tuple[object, ...], tuple[GStep, ...]], key: tuple[object, ...], steps: tuple[GStep, ...]
) -> bool:
    steps = steps[:MAX_STEPS]
    known = table.get(key)
    if known is None:
        table[key] = steps
        return True
    if (len(steps), steps) < (len(known), known):
        table[key] = steps
    return False


class Resolver:
    """Qualified names as imports write them, matched to the functions of the reviewed tree."""

    def __init__(self, summaries: list[ModuleSummary]) -> None:
        self.functions: dict[str, tuple[ModuleSummary, FunctionSummary]] = {}
        self.bases: dict[str, tuple[str, ...]] = {}
        self.suffixes: dict[str, list[str]] = defaultdict(list)
        self.exports: dict[str, str] = {}
        for summary in summaries:
            for function in summary.functions:
                self.functions[function.name] = (summary, function)
                self._index(function.name)
            for name, bases in summary.classes:
                self.bases[name] = bases
                self._index(name)
            for name, target in summary.exports:
                self.exports[name] = target
                self._index(name)
        self.cache: dict[tuple[str, str], str | None] = {}
        # Every name looked up (as written, or as a class's method): a name a change adds or
        # removes alters a resolution only if it, or a dotted ending of it, is among them.
        self.probes: set[str] = set()
        self._classes: dict[tuple[str, str], list[str]] = {}  # classes_of, asked on every visit of a reader

    def _index(self, name: str) -> None:
        # Names keep every directory of their path, so indexing every dotted suffix costs
        # the square of their length; the last two parts narrow the search as well.
        tail = name.rsplit(".", 2)
        if len(tail) == 3:
            self.suffixes[f"{tail[1]}.{tail[2]}"].append(name)

    def _full(self, name: str, module: str, depth: int = 0) -> str | None:
        full = self._known(name, module)
        if full is not None and full in self.exports and depth < 4:
            return self._full(self.exports[full], module, depth + 1) or full
        return full

    def _known(self, name: str, module: str) -> str | None:
        self.probes.add(name)
        if name in self.functions or name in self.bases or name in self.exports:
            return name
        # Names that end with ``name`` at a dot, ``name`` being at least two parts.
        tail = name.rsplit(".", 2)
        if len(tail) < 2:
            return None
        ending = "." + name
        found = sorted({f for f in self.suffixes.get(f"{tail[-2]}.{tail[-1]}", ()) if f.endswith(ending)})
        if not found:
            return None
        # The closest in the tree to the caller: the longest shared leading path.
        return max(found, key=lambda f: (_shared(f, module), -len(f), f))

    def resolve(self, callee: str, module: str) -> str | None:
        if callee.endswith(FIELD):
            return callee  # a read of self.attr: its values are kept under this name
        key = (callee, module)
        if key not in self.cache:
            self.cache[key] = self._resolve(callee, module, 0)
        return self.cache[key]

    def _resolve(self, callee: str, module: str, depth: int) -> str | None:
        if depth > 6:
            return None
        full = self._full(callee, module)
        if full is not None and full in self.functions:
            return full
        if full is not None and full in self.bases:
            return self._method(full, "__init__", module, depth)
        owner, _, method = callee.rpartition(".")
        owner_full = self._full(owner, module) if owner else None
        if owner_full is not None and owner_full in self.bases:
            return self._method(owner_full, method, module, depth)
        return None

    def classes_of(self, cls: str, module: str) -> list[str]:
        """The class and its bases in the reviewed tree, nearest first."""
        key = (cls, module)
        known = self._classes.get(key)
        if known is not None:
            return known
        out: list[str] = []
        todo = [cls]
        while todo and len(out) < 8:
            current = todo.pop(0)
            if current in out:
                continue
            out.append(current)
            for base in self.bases.get(current, ()):
                full = self._full(base, module)
                if full is not None:
                    todo.append(full)
        self._classes[key] = out
        return out

    def _method(self, cls: str, method: str, module: str, depth: int) -> str | None:
        self.probes.add(f"{cls}.{method}")
        if f"{cls}.{method}" in self.functions:
            return f"{cls}.{method}"
        for base in self.bases.get(cls, ()):
            base_full = self._full(base, module)
            if base_full is not None and base_full in self.bases and depth < 6:
                found = self._method(base_full, method, module, depth + 1)
                if found:
                    return found
        return None


def _shared(name: str, module: str) -> int:
    count = 0
    for a, b in zip(name.split("."), module.split("."), strict=False):
        if a != b:
            break
        count += 1
    return count


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A function's facts in the solver's terms, made once (a function is evaluated up to MAX_VISITS times)."""

    summary: ModuleSummary
    callees: dict[int, str | None]  # call index -> function of the tree it resolves to
    args: dict[int, list[tuple[int, tuple[str, int], frozenset[str], tuple[GStep, ...]]]]  # (slot, origin, ...)
    call_steps: dict[int, GStep]  # the step "calls f()" of each resolved call
    facts: list[tuple[tuple[str, int], frozenset[str], tuple[object, ...], tuple[GStep, ...]]]  # ret, sink, field


class Solver:
    def __init__(self, summaries: list[ModuleSummary]) -> None:
        self.resolver = Resolver(summaries)
        self.ret: dict[str, dict[tuple[object, ...], tuple[GStep, ...]]] = defaultdict(dict)
        self.sinks: dict[str, dict[tuple[object, ...], tuple[GStep, ...]]] = defaultdict(dict)
        self.found: dict[tuple[object, ...], tuple[GStep, ...]] = {}
        # The same findings by the function that wrote them (found keeps the least of them):
        # what an incremental link reuses of the functions a change cannot reach.
        self.found_by: dict[str, dict[tuple[object, ...], tuple[GStep, ...]]] = defaultdict(dict)
        self._sink_changed: dict[str, bool] = {}
        self._fields_changed: set[str] = set()  # attribute names whose stored values grew
        self._callee_cache: dict[str, dict[int, str | None]] = {}
        self._prepared: dict[str, _Prepared] = {}
        self.sink_kinds: dict[tuple[object, ...], str] = {
            (s.path, i): row[0] for s in summaries for i, row in enumerate(s.sinks)
        }

    def run(self, only: set[str] | None = None) -> None:
        """Solve every function, or only those in ``only``, which must hold everything they read
        (the functions they call and the writers of the fields they read): such a part of the
        tree is visited in the order a whole run visits it, so it ends with the same tables."""
        functions = sorted(self.resolver.functions if only is None else only)
        dependents: dict[str, set[str]] = defaultdict(set)
        for name in functions:
            for callee in self._prepare(name).callees.values():
                if callee is not None:
                    dependents[callee].add(name)
        fields = sorted(f for f in dependents if f.endswith(FIELD))
        visits: dict[str, int] = defaultdict(int)
        queue = list(reversed(functions))
        queued = set(functions)
        while queue:
            name = queue.pop()
            queued.discard(name)
            visits[name] += 1
            changed = self._evaluate(name) and visits[name] < MAX_VISITS
            readers: set[str] = set()
            if self._fields_changed:
                attrs = {f.rsplit(".", 1)[-1] for f in self._fields_changed}
                self._fields_changed.clear()
                readers = {r for f in fields if f[: -len(FIELD)].rsplit(".", 1)[-1] in attrs for r in dependents[f]}
            if not readers and not changed:
                continue  # most visits wake nobody
            for caller in sorted((readers | dependents.get(name, set())) if changed else readers):
                if caller not in queued and visits[caller] < MAX_VISITS:
                    queue.insert(0, caller)
                    queued.add(caller)

    def _callees(self, summary: ModuleSummary, function: FunctionSummary) -> dict[int, str | None]:
        known = self._callee_cache.get(function.name)
        if known is not None:
            return known
        calls: dict[int, str | None] = {}
        self._callee_cache[function.name] = calls
        for origin, _, target, _ in function.facts:
            for index in ([origin[1]] if origin[0] == "c" else []) + ([target[1]] if target[0] == "arg" else []):
                assert isinstance(index, int)
                if index not in calls:
                    calls[index] = self.resolver.resolve(summary.calls[index][0], summary.module)
        return calls

    def _prepare(self, name: str) -> _Prepared:
        """What _evaluate needs of a function that does not change between its visits."""
        summary, function = self.resolver.functions[name]
        if not function.facts:  # a method kept only because it overrides its base's
            prepared = self._prepared[name] = _Prepared(summary, {}, {}, {}, [])
            return prepared
        path = summary.path
        callees = self._callees(summary, function)
        args: dict[int, list[tuple[int, tuple[str, int], frozenset[str], tuple[GStep, ...]]]] = defaultdict(list)
        for origin, cleared_arg, target, arg_steps in function.facts:
            if target[0] == "arg":
                index, position = target[1], target[2]
                assert isinstance(index, int)
                callee = callees.get(index)
                if callee is None:
                    continue
                params = self.resolver.functions[callee][1].params
                slot = position if isinstance(position, int) else (params.index(position) if position in params else -1)
                if isinstance(slot, int) and slot >= 0:
                    args[index].append((slot, origin, frozenset(cleared_arg), tuple((path, *s) for s in arg_steps)))
        call_steps: dict[int, GStep] = {}
        for index, callee in callees.items():
            if callee is not None:
                row = summary.calls[index]
                call_steps[index] = (path, row[1], row[2], f"calls {callee.rsplit('.', 1)[-1]}()")
        facts = [
            (origin, frozenset(cleared), target, tuple((path, *s) for s in steps))
            for origin, cleared, target, steps in function.facts
            if target[0] in ("ret", "sink", "field")
        ]
        prepared = _Prepared(summary, callees, dict(args), call_steps, facts)
        self._prepared[name] = prepared
        return prepared

    def _evaluate(self, name: str) -> bool:  # noqa: C901  (the transfer function in one place)
        prepared = self._prepared[name]  # made by run()
        if not prepared.facts and not prepared.args:
            return self._sink_changed.pop(name, False)
        summary, callees, args, call_steps = prepared.summary, prepared.callees, prepared.args, prepared.call_steps
        path = summary.path
        values: dict[int, dict[tuple[object, ...], tuple[GStep, ...]]] = defaultdict(dict)

        def expand(origin: tuple[str, int]) -> dict[tuple[object, ...], tuple[GStep, ...]]:
            if origin[0] == "p":
                return {(("p", origin[1]), frozenset()): ()}
            if origin[0] == "s":
                return {(("s", path, origin[1]), frozenset()): ()}
            return values.get(origin[1], {})

        for _ in range(4):
            changed = False
            for index, step in call_steps.items():
                callee = callees[index]
                assert callee is not None
                for (base, cleared_ret), steps_ret in self._returned(callee, summary.module):
                    assert isinstance(base, tuple) and isinstance(cleared_ret, frozenset)
                    if base[0] == "s":
                        changed |= _keep(values[index], (base, cleared_ret), steps_ret)
                        continue
                    for slot, origin, cleared0, steps0 in args.get(index, ()):
                        if slot != base[1]:
                            continue
                        for (b, cl), st in list(expand(origin).items()):
                            assert isinstance(cl, frozenset)
                            key = (b, cl | cleared0 | cleared_ret)
                            changed |= _keep(values[index], key, (*st, *steps0, step, *steps_ret))
            if not changed:
                break
        changed = False
        for origin, cleared, target, local in prepared.facts:
            if target[0] == "ret":
                for (b, cl), st in expand(origin).items():
                    assert isinstance(cl, frozenset)
                    changed |= _keep(self.ret[name], (b, cl | cleared), (*st, *local))
            elif target[0] in ("sink", "field"):
                where = (path, target[1]) if target[0] == "sink" else target
                for (b, cl), st in expand(origin).items():
                    assert isinstance(b, tuple) and isinstance(cl, frozenset)
                    self._sink(name, b, cl | cleared, where, (*st, *local))
        for index, entries in args.items():
            callee = callees[index]
            assert callee is not None
            call_step = call_steps[index]
            for (param, cleared_g, sink), steps_g in list(self.sinks.get(callee, {}).items()):
                for slot, origin, cleared0, steps0 in entries:
                    if slot != param:
                        continue
                    for (b, cl), st in expand(origin).items():
                        assert isinstance(cleared_g, frozenset) and isinstance(sink, tuple)
                        assert isinstance(b, tuple) and isinstance(cl, frozenset)
                        self._sink(name, b, cl | cleared0 | cleared_g, sink, (*st, *steps0, call_step, *steps_g))
        return changed or self._sink_changed.pop(name, False)

    def _returned(self, callee: str, module: str) -> list[tuple[tuple[object, ...], tuple[GStep, ...]]]:
        if not callee.endswith(FIELD):
            return list(self.ret.get(callee, {}).items())
        owner, _, attr = callee[: -len(FIELD)].rpartition(".")
        out: list[tuple[tuple[object, ...], tuple[GStep, ...]]] = []
        for cls in self.resolver.classes_of(owner, module):
            out.extend(self.ret.get(f"{cls}.{attr}{FIELD}", {}).items())
        return out

    def _sink(
        self, name: str, base: Base, cleared: frozenset[str], sink: tuple[object, ...], steps: tuple[GStep, ...]
    ) -> None:
        if self.sink_kinds.get(sink, "") in cleared:
            return
        if base[0] == "p":
            if _keep(self.sinks[name], (base[1], cleared, sink), steps):
                self._sink_changed[name] = True
        elif sink[0] == "field":
            assert isinstance(sink[1], str)
            if _keep(self.ret[sink[1] + FIELD], (base, cleared), steps):
                self._fields_changed.add(sink[1])
        else:
            needed = REQUIRED_MARKS.get(self.sink_kinds.get(sink, ""))
            if needed and needed not in cleared:
                return  # a plain string cannot reach this sink's operators
            key = (base, sink)
            _keep(self.found, key, steps)
            _keep(self.found_by[name], key, steps)


UNREAD_STEP = re.compile(r"^checked by (?P<callee>[\w.]+)\(\) as argument (?P<position>\d+), ")


class Predicates:
    """The predicates of every summarized file, to read a check another file makes."""

    def __init__(self, summaries: list[ModuleSummary], resolver: Resolver) -> None:
        self.resolver = resolver
        self.checks: dict[str, tuple[tuple[str, ...], ...]] = {}
        self.by_last: dict[str, list[str]] = defaultdict(list)
        for summary in summaries:
            for name, kinds in summary.checks:
                self.checks[name] = kinds
                self.by_last[name.rsplit(".", 1)[-1]].append(name)

    def clears(self, steps: tuple[GStep, ...], kind: str, modules: dict[str, str]) -> bool:
        """Whether a check on the path that its own file could not read clears ``kind``: the
        predicate resolves to a function of the tree (or is the only one of its name, for a
        method of an object of unknown type) whose body clears it where it returns true."""
        for path, _, _, message in steps:
            match = UNREAD_STEP.match(message)
            if match is None:
                continue
            callee, position = match["callee"], int(match["position"])
            found = self.resolver.resolve(callee, modules.get(path, ""))
            if found is None or found not in self.checks:
                named = self.by_last.get(callee.rsplit(".", 1)[-1], [])
                found = named[0] if len(named) == 1 else None
            kinds = self.checks.get(found or "", ())
            if position < len(kinds) and (ALL in kinds[position] or kind in kinds[position]):
                return True
        return False


SINK_STEP = re.compile(r"^sink: .* \((?P<kind>[\w-]+)\), missing sanitizer")


def settled_in_tree(findings: list[Finding], summaries: list[ModuleSummary]) -> list[Finding]:
    """The findings of one file's own analysis (source and sink in that file) whose path
    passes a check that file could not read, and that a predicate of another file of the
    tree, read now, clears: the linker drops such paths between files, and these are the
    same paths within one."""
    unread = [f for f in findings if f.trace and any(UNREAD_STEP.match(step.message) for step in f.trace)]
    if not unread or len(summaries) < 2:
        return []
    resolver = Resolver(summaries)
    predicates = Predicates(summaries, resolver)
    modules = {summary.path: summary.module for summary in summaries}
    out = []
    for finding in unread:
        sink = SINK_STEP.match(finding.trace[-1].message)
        steps = tuple((step.path, step.line, step.col, step.message) for step in finding.trace)
        if sink is not None and predicates.clears(steps, sink["kind"], modules):
            out.append(finding)
    return out


def solve(summaries: list[ModuleSummary], cross_module_only: bool, solver: Solver | None = None) -> list[Finding]:
    """Findings of ``summaries`` linked together (``solver``: the same summaries, already run)."""
    if solver is None:
        solver = Solver(summaries)
        solver.run()
    return findings_of(solver.found, summaries, solver.resolver, cross_module_only)


def findings_of(
    found: dict[tuple[object, ...], tuple[GStep, ...]],
    summaries: list[ModuleSummary],
    resolver: Resolver,
    cross_module_only: bool,
) -> list[Finding]:
    """The findings of a solved ``found`` table, in a fixed order."""
    from scrutiny.rules.taint import findings_for

    by_path = {s.path: s for s in summaries}
    modules = {s.path: s.module for s in summaries}
    predicates = Predicates(summaries, resolver)
    out: list[Finding] = []
    for (base, sink), steps in sorted(found.items(), key=repr):
        assert isinstance(base, tuple) and isinstance(sink, tuple)
        sink_path, sink_index = sink
        source_path, source_index = base[1], base[2]
        assert isinstance(sink_path, str) and isinstance(sink_index, int) and isinstance(source_path, str)
        assert isinstance(source_index, int)
        if cross_module_only and all(step[0] == sink_path for step in steps) and source_path == sink_path:
            continue
        sink_row = by_path[sink_path].sinks[sink_index]
        if predicates.clears(steps, sink_row[0], modules):
            continue  # a predicate in another file, read now, admits only safe values
        source_row = by_path[source_path].sources[source_index]
        trace = tuple(TraceStep(p, line, col, message) for p, line, col, message in steps)
        stored_only = sink_index in by_path[sink_path].stored_only
        out.extend(findings_for(sink_path, sink_row, source_path, source_row, trace, stored_only))
    return out
