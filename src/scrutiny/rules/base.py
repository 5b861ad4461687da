"""The Rule base class, the registry, and the one walk that feeds every rule.

A rule is a small class: metadata as class attributes, documentation in its docstring
(What / Why / Example / Fix), and a ``check`` that yields findings. Declaring a subclass
with an ``id`` registers it.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import sys
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Location, Severity
from scrutiny.source import SourceFile, walk_nodes

_REGISTRY: dict[str, type[Rule]] = {}
RULE_ID = re.compile(r"^SCR\d{3}$")
DOC_SECTIONS = ("What", "Why", "Example", "Fix")
_FIX_TEXTS: dict[tuple[type, str | None], str] = {}


@dataclass(frozen=True, slots=True)
class ContextPolicy:
    """How a rule's severity changes in one kind of file, and why.

    ``severity`` None drops the finding (it is counted, not shown); ``lower`` moves it
    down one step but never below LOW, so a real defect in a test still counts.
    """

    severity: Severity | None
    reason: str
    lower: bool = False

    def apply(self, severity: Severity) -> Severity | None:
        if self.lower:
            return Severity(max(Severity.LOW, severity - 1)) if severity > Severity.INFO else severity
        return self.severity


def keep_lower(reason: str) -> ContextPolicy:
    return ContextPolicy(None, reason, lower=True)


def note(reason: str) -> ContextPolicy:
    return ContextPolicy(Severity.INFO, reason)


def drop(reason: str) -> ContextPolicy:
    return ContextPolicy(None, reason)


# Test and example code does not run where attackers are, but a dangerous call there
# is still copied into production code, so by default it is lowered one step, not hidden.
DEFAULT_CONTEXT: Mapping[FileKind, ContextPolicy] = {
    FileKind.TEST: keep_lower("in test code, which does not run in production"),
    FileKind.EXAMPLE: keep_lower("in example code"),
    FileKind.DOCS: keep_lower("in documentation code"),
}

# Tests stand up their own servers with throwaway certificates and host keys; a test
# client that does not check them talks to its own fixture, not to anyone on a network.
PEER_CHECK_CONTEXT: Mapping[FileKind, ContextPolicy] = {
    **DEFAULT_CONTEXT,
    FileKind.TEST: ContextPolicy(Severity.LOW, "in test code, whose clients talk to the test's own servers"),
}


class Rule:
    """Base of every rule. Subclasses set the metadata and override ``check``."""

    id: ClassVar[str] = ""
    name: ClassVar[str] = ""
    category: ClassVar[Category]
    cwe: ClassVar[int]
    severity: ClassVar[Severity]
    confidence: ClassVar[Confidence]
    # Node types this rule wants from the walk; CallRule fills this in itself.
    node_types: ClassVar[tuple[type[ast.AST], ...]] = ()
    context: ClassVar[Mapping[FileKind, ContextPolicy]] = DEFAULT_CONTEXT
    # The taint rule that reports this rule's defect with its source (SCR501 for a shell
    # command): where it did, this finding is the same defect again; where the taint engine
    # traced no untrusted input to the line, this finding is a low-severity hint.
    traced_by: ClassVar[str] = ""
    # Cheap filters, as data, that the walk applies before offering a node (None: every
    # node). A Call is offered when ``call_filter`` finds its last name (as written or as
    # imported) or ``keyword_filter`` finds one of its keyword names; a Name or Attribute
    # when ``name_filter`` finds its name. A filter may let through more than check()
    # reports on, never less: most calls interest a handful of rules, and offering each
    # to every rule costs more than the rules' own work.
    call_filter: ClassVar[re.Pattern[str] | None] = None
    keyword_filter: ClassVar[re.Pattern[str] | None] = None
    name_filter: ClassVar[re.Pattern[str] | None] = None
    # A Constant is offered only when its value is an instance of one of these types (None:
    # any constant): rules about string literals need not see numbers, None and booleans.
    constant_values: ClassVar[tuple[type, ...] | None] = None
    # Further aspects this rule's findings may be filed under (a note on an import files
    # itself where the module's risk lies); the review lists the rule as checked in each.
    also_categories: ClassVar[tuple[Category, ...]] = ()
    # Equivalent checks in peer tools, for the rules table.
    bandit: ClassVar[tuple[str, ...]] = ()
    ruff: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.id:
            if not RULE_ID.match(cls.id):
                raise ValueError(f"{cls.__name__}: rule id {cls.id!r} is not SCR + 3 digits")
            if cls.id in _REGISTRY:
                raise ValueError(f"{cls.__name__}: rule id {cls.id} is already used by {_REGISTRY[cls.id].__name__}")
            _REGISTRY[cls.id] = cls

    @classmethod
    def context_policy(cls, finding: Finding, kind: FileKind) -> ContextPolicy | None:
        """How a kind of file weighs one of this rule's findings. By the kind alone, unless a
        rule knows more from what its finding found (a test's request to its own server)."""
        return cls.context.get(kind)

    # Documentation ----------------------------------------------------------------

    @classmethod
    def categories(cls) -> tuple[Category, ...]:
        return (cls.category, *cls.also_categories)

    @classmethod
    def title(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0].rstrip(".") if cls.__doc__ else cls.__name__

    @classmethod
    def doc_sections(cls) -> dict[str, str]:
        """The What / Why / Example / Fix sections of the docstring."""
        sections: dict[str, list[str]] = {}
        current: str | None = None
        # cleandoc: Python 3.13 dedents docstrings at compile time, older versions do not.
        for raw in inspect.cleandoc(cls.__doc__ or "").splitlines()[1:]:
            line = raw.strip()
            head, sep, rest = line.partition(":")
            if sep and head in DOC_SECTIONS:
                current = head
                sections[current] = [rest.strip()] if rest.strip() else []
            elif current is not None:
                sections[current].append(raw.strip() if current != "Example" else raw.rstrip())
        joined = {key: _dedent_join(value) for key, value in sections.items()}
        if "Example" in joined:
            joined["Example"] = textwrap.dedent(joined["Example"]).strip("\n")
        return joined

    @classmethod
    def fix_text(cls) -> str:
        # Read once per rule class (and docstring), not once per finding.
        key = (cls, cls.__doc__)
        text = _FIX_TEXTS.get(key)
        if text is None:
            text = _FIX_TEXTS[key] = cls.doc_sections().get("Fix", "")
        return text

    # Checking ----------------------------------------------------------------------

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        return iter(())

    def check_file(self, src: SourceFile) -> Iterator[Finding]:
        """For rules that read the file as a whole (comments, tokens)."""
        return iter(())

    def finding(
        self,
        node: ast.AST | Location,
        message: str,
        src: SourceFile,
        *,
        scope: str = "",
        severity: Severity | None = None,
        confidence: Confidence | None = None,
        fix: str | None = None,
        cwe: int | None = None,
    ) -> Finding:
        if isinstance(node, Location):
            location = node
        else:
            line = getattr(node, "lineno", 1)
            location = Location(
                src.path,
                line,
                getattr(node, "col_offset", 0),
                getattr(node, "end_lineno", None) or line,
                getattr(node, "end_col_offset", None) or 0,
            )
        return Finding(
            rule_id=self.id,
            rule_name=self.name,
            category=self.category,
            cwe=cwe or self.cwe,
            severity=severity if severity is not None else self.severity,
            confidence=confidence if confidence is not None else self.confidence,
            location=location,
            message=message,
            fix=fix if fix is not None else self.fix_text(),
            evidence=src.snippet(location.line, location.end_line),
            scope=scope,
        )


class CallRule(Rule):
    """A rule about calls to named functions, matched after import aliases resolve.

    ``calls`` are fully qualified names; ``methods`` are attribute names matched on any
    receiver (``cursor.execute``), for APIs reached through objects.
    """

    calls: ClassVar[tuple[str, ...]] = ()
    methods: ClassVar[tuple[str, ...]] = ()
    node_types = (ast.Call,)

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        return self.check_call(node, walk.qualname, walk)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        yield self.finding(call, f"call to {name}", walk.src, scope=walk.scope_name)


def exactly(*names: Iterable[str] | str) -> re.Pattern[str]:
    """A filter pattern that finds exactly the given names (strings or collections of them)."""
    words = sorted({n for group in names for n in ([group] if isinstance(group, str) else group)})
    return re.compile("^(?:" + "|".join(re.escape(word) for word in words) + ")$")


def tails(qualified: Iterable[str]) -> set[str]:
    """The last names of dotted names: what a call filter sees of ``django.db.models.RawSQL``."""
    return {name.rsplit(".", 1)[-1] for name in qualified}


def _dedent_join(lines: list[str]) -> str:
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines).strip("\n")


def registered() -> Mapping[str, type[Rule]]:
    """Every rule class by id, in id order (read-only: reports look rules up per finding)."""
    global _BY_ID
    if len(_BY_ID) != len(_REGISTRY):  # the registry only grows
        _BY_ID = MappingProxyType(dict(sorted(_REGISTRY.items())))
    return _BY_ID


_BY_ID: Mapping[str, type[Rule]] = MappingProxyType({})


# The walk -------------------------------------------------------------------------

SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


class Walk:
    """State of the one pass over a tree; rules read it while they check a node."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.node: ast.AST = src.tree
        self.parents = src.index.parents
        self.qualname = ""  # of the call being checked, for CallRule
        # Scope chains by the node whose scope they are (a node's own chain includes it
        # when it is a scope node): rules ask for the scope of most nodes they see, and
        # siblings share their parent's chain, so each ancestor is climbed once per file.
        self._chains: dict[ast.AST | None, tuple[ast.AST, ...]] = {None: ()}
        self._names: dict[ast.AST | None, str] = {}  # by the innermost scope node

    def _chain(self, node: ast.AST | None) -> tuple[ast.AST, ...]:
        """The scope nodes from the module down to ``node`` (itself included if it is one)."""
        chains, parents = self._chains, self.parents
        climbed: list[ast.AST] = []
        while node not in chains:
            assert node is not None
            climbed.append(node)
            node = parents.get(node)
        chain = chains[node]
        for step in reversed(climbed):
            if isinstance(step, SCOPE_NODES):
                chain = (*chain, step)
            chains[step] = chain
        return chain

    @property
    def scope(self) -> tuple[ast.AST, ...]:
        """Enclosing functions, classes and lambdas of the current node, outermost first."""
        return self._chain(self.parents.get(self.node))

    @property
    def function(self) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        return self.src.index.function_of.get(self.node)

    @property
    def scope_name(self) -> str:
        chain = self.scope
        innermost = chain[-1] if chain else None
        name = self._names.get(innermost)
        if name is None:
            name = self._names[innermost] = ".".join(getattr(node, "name", "<lambda>") for node in chain)
        return name

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(node)


class RuleSet:
    """Rules indexed by what they look at, so each node is offered only to its takers."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = list(rules)
        self.by_type: dict[type[ast.AST], list[Rule]] = {}
        self.by_call: dict[str, list[CallRule]] = {}
        self.by_method: dict[str, list[CallRule]] = {}
        for rule in self.rules:
            if isinstance(rule, CallRule):
                for call in rule.calls:
                    self.by_call.setdefault(call, []).append(rule)
                for method in rule.methods:
                    self.by_method.setdefault(method, []).append(rule)
            else:
                for node_type in rule.node_types:
                    self.by_type.setdefault(node_type, []).append(rule)
        # The last segment of every call name a rule takes, built once per rule set, not per file.
        self.call_tails = frozenset(tails(self.by_call))
        # The node-type rules' filters, decided once per node type and distinct name
        # (a name, or for a call of an imported name the pair of written and imported names).
        self._takers_by_name: dict[type[ast.AST], dict[str | tuple[str, str], tuple[Rule, ...]]] = {}
        self._takers_by_keyword: dict[str, frozenset[Rule]] = {}
        self._keyword_rules = [r for r in self.by_type.get(ast.Call, []) if r.keyword_filter is not None]
        self._call_cache = self._takers_by_name.setdefault(ast.Call, {})
        self._with_keywords: dict[tuple[tuple[Rule, ...], tuple[str | None, ...]], tuple[Rule, ...]] = {}

    def _takers(self, node_type: type[ast.AST], name: str, imported: str) -> tuple[Rule, ...]:
        """The rules of ``node_type`` whose name filter lets ``name`` (or ``imported``) through."""
        cache = self._takers_by_name.setdefault(node_type, {})
        key = name if imported == name else (name, imported)
        found = cache.get(key)
        if found is None:
            if len(cache) > 100_000:  # bounded over a long run
                cache.clear()
            found = cache[key] = tuple(
                rule for rule in self.by_type.get(node_type, []) if _lets_through(rule, node_type, name, imported)
            )
        return found

    def _keyword_takers(self, keyword: str) -> frozenset[Rule]:
        found = self._takers_by_keyword.get(keyword)
        if found is None:
            if len(self._takers_by_keyword) > 100_000:
                self._takers_by_keyword.clear()
            found = self._takers_by_keyword[keyword] = frozenset(
                rule for rule in self._keyword_rules if rule.keyword_filter and rule.keyword_filter.search(keyword)
            )
        return found

    def _call_takers(self, call: ast.Call, aliases: Mapping[str, str]) -> tuple[Rule, ...]:
        func = call.func
        if isinstance(func, ast.Attribute):
            found = self._call_cache.get(func.attr)
            takers = found if found is not None else self._takers(ast.Call, func.attr, func.attr)
        elif isinstance(func, ast.Name):
            takers = self._takers(ast.Call, func.id, aliases.get(func.id, func.id).rsplit(".", 1)[-1])
        else:
            takers = self._takers(ast.Call, "", "")
        if self._keyword_rules and call.keywords:
            # The merged takers depend only on the name's takers and the keyword names:
            # decided once per such pair (calls repeat their keywords).
            key = (takers, tuple([kw.arg for kw in call.keywords]))
            merged = self._with_keywords.get(key)
            if merged is None:
                if len(self._with_keywords) > 20_000:  # bounded over a long run
                    self._with_keywords.clear()
                merged = self._with_keywords[key] = self._merge_keyword_takers(takers, key[1])
            takers = merged
        return takers

    def _merge_keyword_takers(self, takers: tuple[Rule, ...], keywords: tuple[str | None, ...]) -> tuple[Rule, ...]:
        extra: set[Rule] = set()
        for keyword in keywords:
            if keyword is not None:
                extra.update(self._keyword_takers(keyword))
        if extra and not extra.issubset(takers):
            # Keep the rule set's order, so findings come out in the same order.
            extra.update(takers)
            takers = tuple(rule for rule in self.by_type[ast.Call] if rule in extra)
        return takers

    def run(self, src: SourceFile) -> list[Finding]:
        findings: list[Finding] = []
        for rule in self.rules:
            findings.extend(rule.check_file(src))
        walk = Walk(src)
        index = src.index
        aliases = src.names
        for node_type, rules in self.by_type.items():
            nodes = index.by_type.get(node_type, ())
            if node_type is ast.Call:
                for node in nodes:
                    assert isinstance(node, ast.Call)
                    offered = self._call_takers(node, aliases)
                    if offered:
                        walk.node = node
                        for rule in offered:
                            findings.extend(rule.check(node, walk))
                continue
            if node_type is ast.Name or node_type is ast.Attribute:
                field = "id" if node_type is ast.Name else "attr"
                known = self._takers_by_name.setdefault(node_type, {})
                for node in nodes:
                    name = getattr(node, field)
                    named = known.get(name)
                    if named is None:
                        named = self._takers(node_type, name, name)
                    if named:
                        walk.node = node
                        for rule in named:
                            findings.extend(rule.check(node, walk))
                continue
            if node_type is ast.Constant:
                by_class: dict[type, list[Rule]] = {}
                for node in nodes:
                    value_type = node.value.__class__  # type: ignore[attr-defined]
                    takers = by_class.get(value_type)
                    if takers is None:
                        takers = by_class[value_type] = [
                            r for r in rules if r.constant_values is None or issubclass(value_type, r.constant_values)
                        ]
                    if takers:
                        walk.node = node
                        for rule in takers:
                            findings.extend(rule.check(node, walk))
                continue
            for node in nodes:
                walk.node = node
                for rule in rules:
                    findings.extend(rule.check(node, walk))
        by_call, by_method = self.by_call, self.by_method
        # The last segment of a call's name is cheap to read; only calls whose last segment
        # some rule names get their full name resolved through the imports.
        tails = self.call_tails
        for call in index.by_type.get(ast.Call, ()):
            assert isinstance(call, ast.Call)
            func = call.func
            if isinstance(func, ast.Attribute):
                method = by_method.get(func.attr, ())
                if not method and func.attr not in tails:
                    continue
            elif isinstance(func, ast.Name):
                method = ()
                if aliases.get(func.id, func.id).rsplit(".", 1)[-1] not in tails:
                    continue
            else:
                continue
            name = src.qualname(func)
            if name is None:
                continue
            takers = by_call.get(name, [])
            if method:
                takers = takers + [r for r in method if r not in takers]
            if not takers:
                continue
            walk.node = call
            walk.qualname = name
            for call_rule in takers:
                findings.extend(call_rule.check_call(call, name, walk))
        return findings


def _lets_through(rule: Rule, node_type: type[ast.AST], name: str, imported: str) -> bool:
    if node_type is ast.Call:
        if rule.call_filter is None:
            return rule.keyword_filter is None  # keyword-only filters are applied per call
        return bool(rule.call_filter.search(name) or (imported != name and rule.call_filter.search(imported)))
    return rule.name_filter is None or bool(rule.name_filter.search(name))


# Small helpers rules share ----------------------------------------------------------


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def argument(call: ast.Call, name: str, position: int | None = None) -> ast.expr | None:
    """The argument passed as ``name=`` or at ``position``, if any."""
    value = keyword(call, name)
    if value is None and position is not None and position < len(call.args):
        candidate = call.args[position]
        if not isinstance(candidate, ast.Starred):
            value = candidate
    return value


def is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def is_false(node: ast.AST | None) -> bool:
    """Only the literal False: verify=None or check_hostname=0 mean something else."""
    return isinstance(node, ast.Constant) and node.value is False


NAME_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


_NAME_PARTS: dict[str, tuple[str, ...]] = {}


def name_parts(name: str) -> list[str]:
    """Lower-case words of an identifier split at _, -, ., spaces and camelCase boundaries."""
    # Memoised: rules split the same names (keywords, targets, keys) over and over.
    found = _NAME_PARTS.get(name)
    if found is None:
        if len(_NAME_PARTS) > 20_000:  # bounded over a long run
            _NAME_PARTS.clear()
        found = _NAME_PARTS[name] = tuple(part.lower() for part in NAME_PARTS.findall(name))
    return list(found)


def target_name(target: ast.AST) -> str | None:
    """The name a value is stored under: variable, attribute or string subscript key."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        return string_value(target.slice)
    return None


def default_pairs(args: ast.arguments) -> list[tuple[str, ast.expr]]:
    """(parameter name, default value) for every parameter that has a default."""
    positional = args.posonlyargs + args.args
    pairs = [(a.arg, d) for a, d in zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True)]
    pairs += [(a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
    return pairs


def call_tail(call: ast.Call) -> str:
    """The last name of the called function: 'run' for subprocess.run(...)."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def string_value(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def is_constant_string(node: ast.AST | None) -> bool:
    """A string known without running anything: literals and literal concatenations."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str | bytes)
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return all(is_constant_string(o) for o in _add_operands(node))
    return False


def _add_operands(node: ast.AST) -> list[ast.AST]:
    """The operands of a chain of +, left to right (iteratively: chains can be long)."""
    operands: list[ast.AST] = []
    stack: list[ast.AST] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.BinOp) and isinstance(current.op, ast.Add):
            stack.append(current.right)
            stack.append(current.left)
        else:
            operands.append(current)
    return operands


def is_built_string(node: ast.AST | None) -> bool:
    """A string assembled at run time: f-string with fields, %, .format, or a + chain
    that holds a literal and at least one value that is not a literal."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Mod):
            return string_value(node.left) is not None or isinstance(node.left, ast.JoinedStr)
        if isinstance(node.op, ast.Add):
            operands = _add_operands(node)
            has_literal = any(string_value(o) is not None or isinstance(o, ast.JoinedStr) for o in operands)
            return has_literal and not all(is_constant_string(o) for o in operands)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str)
    return False


def values_bound(name: str, statements: Iterable[ast.AST]) -> list[ast.expr]:
    """The values of the plain assignments ``name = value`` among ``statements``, in order."""
    return [
        s.value
        for s in statements
        if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in s.targets)
    ]


def names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def parameters(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | None) -> list[str]:
    if function is None:
        return []
    args = function.args
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    if args.vararg:
        names.append(args.vararg.arg)
    if args.kwarg:
        names.append(args.kwarg.arg)
    return [n for n in names if n not in ("self", "cls")]


_WALKED: dict[ast.AST, tuple[ast.AST, ...]] = {}


def walk_function(function: ast.AST) -> tuple[ast.AST, ...]:
    """``tuple(ast.walk(function))``, memoised: several rules walk the same handler or helper
    function again and again, and a stored tuple reads far faster than a fresh walk."""
    found = _WALKED.get(function)
    if found is None:
        if len(_WALKED) > 512:  # bounded: keeps only the functions of the file under review
            _WALKED.clear()
        found = _WALKED[function] = tuple(walk_nodes(function))
    return found



def is_self_attr(node: ast.AST, attr: str) -> bool:
    """Whether ``node`` is ``self.<attr>``."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr == attr
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def own_nodes(roots: list[ast.AST] | list[ast.stmt]) -> list[ast.AST]:
    """The nodes under ``roots`` in source order, each def, class or lambda included but not
    what is inside it (that code runs later, or in another scope)."""
    found: list[ast.AST] = []
    todo: list[ast.AST] = list(reversed(roots))
    while todo:
        node = todo.pop()
        found.append(node)
        if not isinstance(node, NESTED_SCOPES):
            todo.extend(reversed(list(ast.iter_child_nodes(node))))
    return found


def module_level_nodes(tree: ast.Module) -> tuple[ast.AST, ...]:
    """The nodes of a module outside its function, class and lambda bodies (and not those
    definitions themselves)."""
    return tuple(node for node in own_nodes(tree.body) if not isinstance(node, NESTED_SCOPES))


# Names whose test is about the request being served: a branch they choose is the client's.
REQUEST_ROOTS = frozenset({"request", "req"})
# Standard modules a branch may test that say what the platform or interpreter can do
# (sys.version_info, ssl.HAS_SNI, hasattr(ssl, ...)), not what anyone configured; of os,
# only the environment (os.environ, os.getenv) is configuration.
CONFIGURATION_STDLIB = ("os.environ", "os.getenv", "os.getenvb")


def chosen_at_run_time(node: ast.AST, walk: Walk) -> tuple[str, str] | None:
    """Who chooses the innermost enclosing ``if`` branch that decides whether ``node`` runs,
    with the branch's test as source text: ``("caller", test)`` when the test reads a
    parameter of the enclosing function (``if verify is False:``), ``("configuration", test)``
    when it reads a value settled at run time that is not request data: the object's state
    (``self.verify_mode``), an imported settings object (``settings.X``), the environment,
    or a local or module name bound from one of those. None when no such branch encloses
    ``node``, or when the nearest deciding test reads request data (``request.args``):
    then the client decides.

    A risky setting made only on such a branch is the caller's or the operator's choice: a
    library that turns certificate checks off when its caller passes verify=False, or a
    service that does so when its configuration says so, is doing what it was asked."""
    function = walk.src.index.function_of.get(node)
    params = set(parameters(function))
    child, parent = node, walk.parents.get(node)
    while parent is not None and parent is not function:
        if isinstance(parent, ast.If | ast.IfExp) and child is not parent.test:
            who = _test_chooser(parent.test, function, params, walk.src, 0)
            if who == "request":
                return None
            if who:
                test = ast.unparse(parent.test)
                orelse = parent.orelse if isinstance(parent, ast.If) else [parent.orelse]
                return who, f"the else of {test}" if child in orelse else test
        child, parent = parent, walk.parents.get(parent)
    return None


def caller_choice(findings: Iterator[Finding], node: ast.AST, walk: Walk) -> Iterator[Finding]:
    """Lower a check turned off only on a branch the function's caller chooses (if verify is
    False:) or the run-time configuration chooses (if self.verify_mode == "none":,
    if settings.X:); one turned off unconditionally, or on a branch request data chooses,
    keeps its severity."""
    chosen = None
    for finding in findings:
        if finding.severity in (Severity.HIGH, Severity.MEDIUM):
            chosen = chosen or chosen_at_run_time(node, walk)
            if chosen:
                who, test = chosen
                branch = (
                    "the branch the caller asks for"
                    if who == "caller"
                    else "a branch the run-time configuration chooses, not request data"
                )
                finding = dataclasses.replace(finding, severity=Severity.LOW,
                                              message=f"{finding.message}, only on {branch} ({test})")  # fmt: skip
        yield finding


def _test_chooser(
    test: ast.AST, function: ast.AST | None, params: set[str], src: SourceFile, depth: int
) -> str | None:
    """"request", "caller" or "configuration": the strongest source among the values
    ``test`` reads (request data first: a client's choice is never the operator's)."""
    found: set[str] = set()
    parents = src.index.parents
    for sub in ast.walk(test):
        if not isinstance(sub, ast.Name) or not isinstance(sub.ctx, ast.Load):
            continue
        # The whole attribute chain the name roots (settings.RUNNING_TEST, self.mode.value).
        top: ast.AST = sub
        while isinstance(parents.get(top), ast.Attribute):
            top = parents[top]
        text = ast.unparse(top)
        if sub.id in REQUEST_ROOTS or text == "self.request" or text.startswith("self.request."):
            found.add("request")
        elif sub.id in params:
            found.add("caller")
        elif sub.id in ("self", "cls"):
            if top is not sub:
                found.add("configuration")  # the object's state, set when it was made
        elif sub.id in src.aliases and not src._shadowed(sub):
            qualname = src.qualname(top) or text
            root = qualname.split(".", 1)[0]
            if (root not in sys.stdlib_module_names or qualname.startswith(CONFIGURATION_STDLIB)) and not (
                _is_type_argument(top, parents)
            ):
                found.add("configuration")  # settings.X, getattr(settings, ...), an imported flag
        elif depth < 3:
            local = function is not None and sub.id in src._function_locals.get(function, ())
            # A local; one bound other than by a plain assignment (a loop, a with) is not followed.
            # A global is followed to its module-level assignments, where no parameter is seen.
            statements = walk_function(function) if local and function is not None else module_level_nodes(src.tree)
            for value in values_bound(sub.id, statements):
                # A constant chooses nothing; a value a function derives (urlsplit(url)) is
                # what the test asks about, not a setting: only plain reads are followed.
                if _is_read(value, src) and not _is_literal(value) and (
                    who := _test_chooser(value, function if local else None, params if local else set(), src,
                                         depth + 1)  # fmt: skip
                ):
                    found.add(who)
    for who in ("request", "caller", "configuration"):
        if who in found:
            return who
    return None


def _is_type_argument(node: ast.AST, parents: Mapping[ast.AST, ast.AST]) -> bool:
    """``node`` is the class argument of isinstance() or issubclass(): a type, not a value."""
    call = parents.get(node)
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id in ("isinstance", "issubclass")
        and node in call.args[1:]
    )


# Builtins that read or convert a value without deriving anything new from it.
READING_BUILTINS = frozenset({"getattr", "bool", "int", "str"})


def _is_read(node: ast.AST, src: SourceFile) -> bool:
    """``node`` reads a setting (self.mode, settings.X, config["k"], cfg.get("k"),
    getattr(settings, "X", False), os.environ.get("K") == "1"), or combines such reads;
    a call of a plain or standard-library function (urlsplit(url), probe()) derives a
    value instead."""
    if isinstance(node, ast.Name | ast.Attribute | ast.Subscript | ast.Constant):
        return True
    if isinstance(node, ast.Compare):
        return all(_is_read(n, src) for n in (node.left, *node.comparators))
    if isinstance(node, ast.BoolOp):
        return all(_is_read(n, src) for n in node.values)
    if isinstance(node, ast.UnaryOp):
        return _is_read(node.operand, src)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id in READING_BUILTINS
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name | ast.Attribute | ast.Subscript)):
            return False
        qualname = src.qualname(func) or ""
        return qualname.split(".", 1)[0] not in sys.stdlib_module_names or qualname.startswith(CONFIGURATION_STDLIB)
    return False


def _is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True
