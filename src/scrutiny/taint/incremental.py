"""The cross-module link kept between runs and redone only where a change reaches.

A ``LinkState`` is what one link established: its findings, the functions each function
calls (as resolved), the fields each writes, and the findings each function wrote. Given
the state of the tree before a change and the summaries after it, ``update`` solves again
only the functions whose tables the change can alter (the changed modules' functions, all
that call them, and the readers of fields they may write), with everything those read,
and takes the other functions' findings from the state. The solver visits such a closed
part of the tree in the same order as a whole run, so the findings are the same as a
whole link's; where that argument does not hold (a change adds, removes or renames a
function, class or re-export under a name some call was resolved against, or two
modules define the same name) ``update`` returns None and the caller links in full.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from scrutiny.findings import Finding
from scrutiny.taint.engine import ModuleSummary
from scrutiny.taint.solve import GStep, Solver, _keep, findings_of
from scrutiny.taint.values import FIELD

Found = dict[tuple[object, ...], tuple[GStep, ...]]


@dataclass(frozen=True, slots=True)
class LinkState:
    findings: list[Finding]  # the cross-module findings, as taint.link returns them
    defined: dict[str, frozenset[tuple[str, str, object]]]  # path -> what calls resolve to in it
    probes: frozenset[str]  # every name the resolver looked up
    unique: bool  # no two modules define the same function, class or export name
    callees: dict[str, tuple[str, ...]]  # function -> the functions and fields it reads
    field_writes: dict[str, tuple[str, ...]]  # function -> attributes it stores into directly
    writes: dict[str, Found]  # function -> the findings it wrote


def _defined(summary: ModuleSummary) -> frozenset[tuple[str, str, object]]:
    """What other modules' calls resolve against, of one module."""
    return frozenset(
        [("function", f.name, None) for f in summary.functions]
        + [("class", name, bases) for name, bases in summary.classes]
        + [("export", name, target) for name, target in summary.exports]
    )


def _endings(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[n:]) for n in range(len(parts))]


def _unique(summaries: list[ModuleSummary]) -> bool:
    """Whether no name is defined in two files (then the order of the files does not matter)."""
    where: dict[str, str] = {}
    for summary in summaries:
        named = [f.name for f in summary.functions]
        named += [name for name, _ in summary.classes]
        named += [name for name, _ in summary.exports]
        for name in named:
            if where.setdefault(name, summary.path) != summary.path:
                return False
    return True


def _graph_of(solver: Solver, names: Iterable[str]) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    callees: dict[str, tuple[str, ...]] = {}
    writes: dict[str, tuple[str, ...]] = {}
    for name in names:
        prepared = solver._prepare(name)
        callees[name] = tuple(sorted({c for c in prepared.callees.values() if c is not None}))
        attrs = sorted({_attr(str(target[1])) for _, _, target, _ in prepared.facts if target[0] == "field"})
        if attrs:
            writes[name] = tuple(attrs)
    return callees, writes


def _attr(field: str) -> str:
    return field.removesuffix(FIELD).rsplit(".", 1)[-1]


def full(summaries: list[ModuleSummary]) -> LinkState:
    """Link every summary (what ``taint.link`` does), keeping what ``update`` needs."""
    solver = Solver(summaries)
    solver.run()
    findings = findings_of(solver.found, summaries, solver.resolver, cross_module_only=True)
    callees, field_writes = _graph_of(solver, solver.resolver.functions)
    return LinkState(
        findings,
        {s.path: _defined(s) for s in summaries},
        frozenset(solver.resolver.probes),
        _unique(summaries),
        callees,
        field_writes,
        {name: dict(found) for name, found in solver.found_by.items()},
    )


def update(state: LinkState, summaries: list[ModuleSummary], changed: set[str]) -> LinkState | None:
    """The link of ``summaries``, which differ from the state's only in the modules at
    ``changed`` paths; None when the state cannot be reused (then link in full)."""
    by_path = {s.path: s for s in summaries}
    if not state.unique or set(by_path) != set(state.defined):
        return None
    defined = {**state.defined, **{path: _defined(by_path[path]) for path in changed if path in by_path}}
    differ = {
        entry[1] for path in changed for entry in defined.get(path, frozenset()) ^ state.defined.get(path, frozenset())
    }
    if any(ending in state.probes for name in differ for ending in _endings(name)) or not _unique(summaries):
        return None
    solver = Solver(summaries)
    touched = {f.name for path in changed if path in by_path for f in by_path[path].functions}
    fresh_callees, fresh_writes = _graph_of(solver, touched)
    callees = {**state.callees, **fresh_callees}
    field_writes = {name: w for name, w in state.field_writes.items() if name not in touched}
    field_writes.update(fresh_writes)
    # Edges of both versions: a reader of a field the old version wrote depends on the change too.
    union_callees = dict(callees)
    union_writes = dict(field_writes)
    for name in touched:
        union_callees[name] = tuple(sorted({*callees.get(name, ()), *state.callees.get(name, ())}))
        union_writes[name] = tuple(sorted({*field_writes.get(name, ()), *state.field_writes.get(name, ())}))
    reached, needed = _closures(touched, union_callees, union_writes)
    solver.run(only=needed)
    writes = {name: found for name, found in state.writes.items() if name not in reached}
    writes.update({name: dict(found) for name, found in solver.found_by.items() if name in reached})
    merged: Found = {}
    for name in sorted(writes):
        for key, steps in writes[name].items():
            _keep(merged, key, steps)
    findings = findings_of(merged, summaries, solver.resolver, cross_module_only=True)
    probes = state.probes | solver.resolver.probes
    return LinkState(findings, defined, probes, True, callees, field_writes, writes)


def _closures(
    seeds: set[str], callees: dict[str, tuple[str, ...]], field_writes: dict[str, tuple[str, ...]]
) -> tuple[set[str], set[str]]:
    """(the functions whose tables ``seeds`` can alter, those plus everything they read)."""
    callers: dict[str, set[str]] = defaultdict(set)
    readers: dict[str, set[str]] = defaultdict(set)
    for name, called in callees.items():
        for callee in called:
            if callee.endswith(FIELD):
                readers[_attr(callee)].add(name)
            else:
                callers[callee].add(name)
    # A function may store into a field itself or through a function it calls.
    writers: dict[str, set[str]] = {}
    for name, attrs in field_writes.items():
        for attr in attrs:
            if attr in readers:
                writers.setdefault(attr, set()).add(name)
    for direct in writers.values():
        todo = list(direct)
        while todo:
            for caller in callers.get(todo.pop(), ()):
                if caller not in direct:
                    direct.add(caller)
                    todo.append(caller)
    writes_of: dict[str, set[str]] = defaultdict(set)
    for attr, found in writers.items():
        for name in found:
            writes_of[name].add(attr)
    reached = set(seeds)
    todo = list(seeds)
    while todo:
        name = todo.pop()
        nexts = set(callers.get(name, ()))
        for attr in writes_of.get(name, ()):
            nexts |= readers[attr]
        for following in nexts - reached:
            reached.add(following)
            todo.append(following)
    needed = set(reached)
    todo = list(reached)
    while todo:
        name = todo.pop()
        nexts = set()
        for callee in callees.get(name, ()):
            if callee.endswith(FIELD):
                nexts |= writers.get(_attr(callee), set())
            else:
                nexts.add(callee)
        for following in nexts - needed:
            needed.add(following)
            todo.append(following)
    return reached, needed
