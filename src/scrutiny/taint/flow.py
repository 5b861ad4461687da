"""Flow-sensitive taint analysis of one function, written down as facts.

A value's taint maps (origin, cleared kinds) to the steps it took. Origins are the
function's parameters ("p", i), sources read in it ("s", i) and results of calls to code
of the reviewed tree ("c", i), whose meaning only the linker knows. The facts say which
origins reach the return value, a sink, or an argument of such a call.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Callable
from typing import Any

from scrutiny.taint import entries, objects, shapes
from scrutiny.taint.checks import Check, cleared, is_false, meet
from scrutiny.taint.models import REQUIRED_MARKS, Sink, Source
from scrutiny.taint.statements import Statements
from scrutiny.taint.values import (
    FIELD,
    FIXED_HOST,
    HEAD,
    MAX_STEPS,
    Env,
    Module,
    Origin,
    Step,
    Taint,
    _leading_text,
    better,
    clear,
    copy_env,
    key_of,
    read_key,
    parameters,
    union,
    with_step,
)

__all__ = ["Env", "Function", "Module", "Step", "Taint"]

# Text after one of these in a URL is its query or fragment.
QUERY_MARKS = ("?", "&", "#")
# A URL's literal start that fixes its host: a path with a first segment ("/web/": not
# "//" or "/\\", which browsers read as another host), or a scheme, host and separator.
HOST_FIXED = re.compile(r"/[^/\\]|[A-Za-z][A-Za-z0-9+.-]*://[^/?#\\]+[/?#]")
REDIRECT_ONLY = frozenset({"redirect"})
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([a-zA-Z%])")


def _formatted(node: ast.Call, args: list[Taint]) -> list[Taint]:
    """The taint of the arguments a %-format message prints as text: all of them when the
    message is not a literal, else those whose placeholder is %s or %a (not %r, %d ...)."""
    message = _text(node.args[0])
    extra = args[1 : len(node.args)]
    if message is None:
        return extra
    kinds = [m.group(1) for m in PLACEHOLDER.finditer(message) if m.group(1) != "%"]
    return [taint for taint, kind in zip(extra, kinds, strict=False) if kind in "sa"]


def _names_key(key: ast.AST, names: frozenset[str]) -> bool:
    """Whether a subscript's key is a literal naming one of ``names`` (any letter case)."""
    text = _text(key)
    return text is not None and text.lower() in {name.lower() for name in names}


def _text(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


BUILTINS = frozenset(name for name in dir(builtins) if not name[:1].isupper())


def _added(node: ast.BinOp) -> list[ast.expr]:
    """The operands of a left-leaning chain of +, in order (a + "?" + b: [a, "?", b])."""
    operands: list[ast.expr] = []
    current: ast.expr = node
    while isinstance(current, ast.BinOp) and isinstance(current.op, ast.Add):
        operands.append(current.right)
        current = current.left
    operands.append(current)
    return operands[::-1]


class Function(Statements):
    """Abstract interpretation of one function body over taint environments (expressions here)."""

    def __init__(self, module: Module, owner: str | None, entry_kind: str) -> None:
        self.m = module
        self.owner = owner  # qualified class name for methods
        self.entry_kind = entry_kind
        self.facts: dict[tuple[Origin, frozenset[str], tuple[object, ...]], tuple[Step, ...]] = {}
        self.loops: list[tuple[list[Env | None], list[Env | None]]] = []  # (continue states, break states)
        self.instances: dict[str, str] = dict(module.instances)  # name -> "pkg.Class()" it was made by
        # The entry point this function is (its name and the parameters a client fills), and
        # its definition (None: the module's top level): evidence for sources on bare names.
        self.entry_name = ""
        self.entry_params: tuple[str, ...] = ()
        self.node: ast.FunctionDef | ast.AsyncFunctionDef | None = None
        self.evidence: dict[tuple[str, str], objects.Evidence | None] = {}  # (name, object) -> why
        self.declared: dict[str, list[tuple[str, str]] | None] = {}  # name -> [(class, how it is said)]
        # Functions and classes defined in enclosing functions, by name -> qualified name.
        self.scope: dict[str, str] = {}
        # Nested function -> what its free names see of this function's sources (filled at its def).
        self.closures: dict[ast.AST, Env] = {}
        # Where the function returns (value, environment), collected only when reading a check.
        self.exits: list[tuple[ast.expr | None, Env]] | None = None
        # Names bound to a check's result (ok = is_safe(url)), so that `if ok:` refines like the check.
        self.held_tests: dict[str, ast.expr] = {}
        self.read_nodes: dict[str, ast.expr] = {}  # read keys a check named, for refine

    def tree_check(self, qualified: str) -> Check | None:
        """What the tree's function ``qualified`` checks about its arguments (None: not in this file)."""
        m = self.m
        if qualified in m.checks:
            return m.checks[qualified]  # type: ignore[no-any-return]
        found = m.defs.get(qualified)
        if found is None:
            return None
        node, owner, scope = found
        m.checks[qualified] = None  # a predicate that calls itself proves nothing about its argument
        probe = Function(m, owner, "")
        probe.scope = scope
        probe.exits = []
        params = parameters(node, owner is not None)
        env: Env = {p: {(("p", i), frozenset()): ()} for i, p in enumerate(params)}
        end = probe.block(node.body, env)
        exits = [*probe.exits, *([(None, end)] if end is not None else [])]
        when_true: list[frozenset[str]] = []
        on_return: list[frozenset[str]] = []
        for i, param in enumerate(params):
            truthy = [cleared(probe.refine(v, e)[0], param, i) for v, e in exits if not is_false(v)]
            when_true.append(meet(truthy))
            on_return.append(meet([cleared(e, param, i) for _, e in exits]))
        check = m.checks[qualified] = Check(tuple(params), tuple(when_true), tuple(on_return))
        return check

    def _validates(self, qualified: str) -> bool:
        """Whether a function of this file can raise: only then can returning prove a check passed."""
        m = self.m
        found = m.defs.get(qualified)
        return found is not None and found[0] in m.raising

    def note_instances(self, function: ast.AST) -> None:
        """Names bound to the result of a library call, so ``parser.parse_args`` resolves."""
        self.instances.update(self.m.instances_by_function.get(function, {}))

    def dotted(self, func: ast.expr) -> str:
        """The call's qualified name, a local instance replaced by the call that made it."""
        name = self.m.qualname(func)
        if not isinstance(name, str):
            return ""
        root, dot, rest = name.partition(".")
        made = self.instances.get(root) if dot else None
        return f"{made}.{rest}" if made else name

    # Facts ------------------------------------------------------------------------------

    def fact(self, taint: Taint, target: tuple[object, ...], step: Step | None = None) -> None:
        for (origin, cleared), steps in taint.items():
            if target[0] == "sink" and self._cleared_for(cleared, target):
                continue
            full = steps + (step,) if step and len(steps) < MAX_STEPS else steps
            key = (origin, cleared, target)
            known = self.facts.get(key)
            if known is None or better(full, known):
                self.facts[key] = full

    def _cleared_for(self, cleared: frozenset[str], target: tuple[object, ...]) -> bool:
        index = target[1]
        assert isinstance(index, int)
        return self.m.sink_rows[index][0] in cleared

    # Assignments ------------------------------------------------------------------------

    def assign(self, target: ast.AST, value: Taint, env: Env, origin: ast.AST | None, weak: bool = False) -> None:
        if isinstance(target, ast.Tuple | ast.List):
            parts = origin.elts if isinstance(origin, ast.Tuple | ast.List) else None
            if (
                parts is not None
                and len(parts) == len(target.elts)
                and not any(isinstance(p, ast.Starred) for p in parts)
            ):
                for sub, part in zip(target.elts, parts, strict=True):
                    self.assign(sub, self.expr(part, env), env, part)
            else:
                for sub in target.elts:
                    self.assign(sub.value if isinstance(sub, ast.Starred) else sub, value, env, None)
            return
        if isinstance(target, ast.Subscript):
            self._store_item(target, value, env, origin)
            return
        name = key_of(target)
        if name is None:
            return
        line, col = getattr(target, "lineno", 0), getattr(target, "col_offset", 0)
        stepped = with_step(value, (line, col, f"assigned to {name}")) if value else {}
        field = self.field(name)
        if field and value:
            self.fact(value, ("field", field), (line, col, f"stored in {name}"))
        if weak and name in env:
            stepped = union(env[name], stepped)
        dotted = self.m.dotted
        dotted.forget(name, env)
        if stepped:
            env[name] = stepped
            dotted.note(name)
        else:
            env.pop(name, None)
        if not weak and origin is not None and isinstance(origin, ast.List | ast.Tuple | ast.BinOp):
            env[name + HEAD] = self.head(origin, env)
            dotted.note(name + HEAD)
        if not weak and origin is not None:
            shapes.remember_names(self, name, origin, env)

    def _store_item(self, target: ast.Subscript, value: Taint, env: Env, origin: ast.AST | None = None) -> None:
        # response.headers[k] = v or headers[k] = v: what the instance was made by
        bare = target.value.id if isinstance(target.value, ast.Name) else ""
        dotted = self.instances.get(bare, "") if bare else ""
        dotted = dotted or self.dotted(target.value)
        key: Taint = {}
        if dotted:
            key = self.expr(target.slice, env)
            shown = self.m.qualname(target.value) or dotted
            for sink in self.m.models.sink_calls.get(dotted + ".__setitem__", ()):
                if sink.when_key == "key" and not _names_key(target.slice, sink.when_values):
                    continue  # headers["Location"] = ...: only that key's value is this sink
                if sink.fixed_host_safe and origin is not None and FIXED_HOST.match(_leading_text(origin)):
                    continue
                # args: 0 the key, 1 the value; none: both
                every = not sink.args
                stored = union(key if every or 0 in sink.args else {}, value if every or 1 in sink.args else {})
                if stored:
                    index = self.m.sink(sink, f"{shown}[...]", target)
                    self.fact(stored, ("sink", index), (target.lineno, target.col_offset, f"stored in {shown}[...]"))
        name = key_of(target.value)
        if name is not None and key:
            shapes.add_name(name, key, env)
        field = self.field(name) if name is not None else ""
        if field and value:
            self.fact(value, ("field", field), (target.lineno, target.col_offset, f"stored in {name}[...]"))
        if name is not None and value:
            env[name] = union(
                env.get(name, {}), with_step(value, (target.lineno, target.col_offset, f"stored in {name}"))
            )
            self.m.dotted.note(name)

    # Expressions --------------------------------------------------------------------------

    def expr(self, node: ast.AST, env: Env) -> Taint:
        # Dispatch on the exact node type: this runs about a million times on a large tree,
        # where a chain of isinstance tests cost more than the work behind it.
        handler = _EXPRESSIONS.get(type(node))
        return handler(self, node, env) if handler is not None else {}

    def _subscript(self, node: ast.Subscript, env: Env) -> Taint:
        if type(node.slice) is ast.Constant and (key := read_key(node)) is not None and key in env:
            return env[key]  # the read a check vouched for (guards.Branches.refine)
        base = self.expr(node.value, env)
        self.expr(node.slice, env)
        return {} if base and self._clean_key(node.value, node.slice) else base

    def _binop(self, node: ast.BinOp, env: Env) -> Taint:
        left = node.left
        if isinstance(node.op, ast.Mod) and isinstance(node.right, ast.Tuple) and _text(left) is not None:
            # "%s?%s" % (url, query): the format's literal text between its placeholders.
            text, pieces, position = str(_text(left)), [], 0
            values = iter(node.right.elts)
            for match in PLACEHOLDER.finditer(text):
                if match.group(1) == "%":
                    continue
                value = next(values, None)
                if value is None:
                    break
                pieces.extend([text[position : match.start()], value])
                position = match.end()
            pieces.extend(values)  # any the placeholders did not name (a * width) still count
            return self._in_url(pieces, env)
        if isinstance(node.op, ast.Add):
            # path + "?" + query: a chain of + with literal text reads like an f-string.
            operands = _added(node)
            if any(isinstance(o, ast.Constant) and isinstance(o.value, str) for o in operands):
                return self._in_url([o.value if isinstance(o, ast.Constant) and isinstance(o.value, str) else o
                                     for o in operands], env)  # fmt: skip
        return union(self.expr(node.left, env), self.expr(node.right, env))

    def _boolop(self, node: ast.BoolOp, env: Env) -> Taint:
        return union(*[self.expr(v, env) for v in node.values])

    def _sequence(self, node: ast.Tuple | ast.List | ast.Set, env: Env) -> Taint:
        return union(*[self.expr(v, env) for v in node.elts])

    def _wrapped(self, node: ast.FormattedValue | ast.Starred | ast.Await, env: Env) -> Taint:
        return self.expr(node.value, env)

    def _dict(self, node: ast.Dict, env: Env) -> Taint:
        return union(*[self.expr(v, env) for v in [*node.keys, *node.values] if v is not None])

    def _ifexp(self, node: ast.IfExp, env: Env) -> Taint:
        self.expr(node.test, env)
        yes, no = self.refine(node.test, env)  # x if x in ALLOWED else "en": each side under its guard
        return union(self.expr(node.body, yes), self.expr(node.orelse, no))

    def _named(self, node: ast.NamedExpr, env: Env) -> Taint:
        value = self.expr(node.value, env)
        self.assign(node.target, value, env, node.value)
        return value

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, env: Env) -> Taint:
        inner = copy_env(env)
        for generator in node.generators:
            self.assign(generator.target, self.expr(generator.iter, inner), inner, None)
            for condition in generator.ifs:
                self.expr(condition, inner)
                inner = self.refine(condition, inner)[0]
        if isinstance(node, ast.DictComp):
            return union(self.expr(node.key, inner), self.expr(node.value, inner))
        return self.expr(node.elt, inner)

    def _compare(self, node: ast.Compare, env: Env) -> Taint:
        self.expr(node.left, env)
        for part in node.comparators:
            self.expr(part, env)
        return {}

    def _unary(self, node: ast.UnaryOp, env: Env) -> Taint:
        value = self.expr(node.operand, env)
        return {} if isinstance(node.op, ast.Not) else value

    def _slice(self, node: ast.Slice, env: Env) -> Taint:
        for bound in (node.lower, node.upper, node.step):
            if bound is not None:
                self.expr(bound, env)
        return {}

    def _constant(self, node: ast.Constant, env: Env) -> Taint:
        return {}

    def field(self, name: str) -> str:
        """'pkg.mod.Class.attr' for self.attr or cls.attr inside a method of Class; '' otherwise."""
        if not self.owner:
            return ""
        root, dot, attr = name.partition(".")
        if not dot or "." in attr or root not in ("self", "cls"):
            return ""
        return f"{self.owner}.{attr}" if (self.owner, attr) in self.m.fields else ""

    def load(self, node: ast.Name | ast.Attribute, env: Env) -> Taint:
        bare = type(node) is ast.Name
        name = node.id if bare else key_of(node)  # type: ignore[union-attr]
        if name is not None and name in env:
            return env[name]
        tail = node.id if bare else node.attr  # type: ignore[union-attr]
        if tail in self.m.attr_tails:
            dotted = self.m.qualname(node)
            source = self.m.models.source_attrs.get(dotted) if isinstance(dotted, str) else None
            label = source.label if source is not None else ""
            if source is None and isinstance(dotted, str):
                source, label = self.on_object(dotted)
            if source is not None:
                origin = self.m.source(source.kind, label, node)
                return {(origin, source.marks): ((node.lineno, node.col_offset, f"{label} ({dotted})"),)}
        if bare:
            return {}  # a bare name is neither a field nor an attribute of something tainted
        assert isinstance(node, ast.Attribute)
        field = self.field(name) if name is not None else ""
        if field:
            index = self.m.call(field + FIELD, node)
            return {(("c", index), frozenset()): ((node.lineno, node.col_offset, f"read from {name}"),)}
        base = self.expr(node.value, env)
        if base and node.attr in self.m.models.sanitizer_attributes:
            sanitizer = self.m.models.sanitizer_attributes[node.attr]
            return clear(base, sanitizer.clears, requires=sanitizer.requires)
        return base

    def on_object(self, dotted: str) -> tuple[Source | None, str]:
        """The source a bare name's attribute reads (request.GET), with its label and the
        evidence that the name is that framework's object; (None, '') without evidence.

        A name annotated (or made) as a class reads that class's sources first, whatever the
        name (req: starlette.requests.Request makes req.url Request.url; r: HttpRequest makes
        r.GET Django's request.GET)."""
        root, _, rest = dotted.partition(".")
        for declared, how in self.declared_types(root) or ():
            typed = self.m.models.source_attrs.get(f"{declared}.{rest}") or objects.member(self.m, declared, rest)
            if typed is not None:
                return typed, f"{typed.label} ({root} is {how} {declared})"
        candidates = self.m.models.object_attrs.get(dotted)
        if not candidates:
            return None, ""
        best: tuple[objects.Evidence, Source] | None = None
        for source in candidates:
            key = (root, source.within)
            if key not in self.evidence:
                wanted = self.m.models.objects[source.within]
                self.evidence[key] = objects.evidence(self, root, wanted)
            found = self.evidence[key]
            if found is not None and (best is None or found[0] > best[0][0]):
                best = (found, source)
        if best is None:
            return None, ""
        (_, why), source = best
        return source, f"{source.label} ({why})"

    def declared_types(self, name: str) -> list[tuple[str, str]] | None:
        """What the name's annotation or constructor says it is (see objects.declared_types)."""
        if name not in self.declared:
            self.declared[name] = objects.declared_types(self, name)
        return self.declared[name]

    def call(self, node: ast.Call, env: Env) -> Taint:
        m = self.m
        func = node.func
        if env and type(func) is ast.Attribute and func.attr == "get" and (key := read_key(node)) is not None:
            if key in env:
                return env[key]  # the read a check vouched for (guards.Branches.refine)
        attribute = type(func) is ast.Attribute
        receiver: Taint = self.expr(func.value, env) if attribute else {}  # type: ignore[attr-defined]
        args = [self.expr(a, env) for a in node.args]
        keywords: dict[str | None, Taint] = {}
        if node.keywords:
            keywords = {kw.arg: self.expr(kw.value, env) for kw in node.keywords if kw.arg}
            for kw in node.keywords:
                if kw.arg is None:
                    args.append(self.expr(kw.value, env))
        method: str = func.attr if attribute else ""  # type: ignore[attr-defined]
        name = self.dotted(func)
        here = (node.lineno, node.col_offset)
        looked = m.call_models(name, method)
        if looked.sinks or looked.method_sinks:
            shown = m.qualname(func)
            shown = shown if isinstance(shown, str) else ""
            for sink in looked.sinks:  # an instance's method (conn.request) has a receiver too
                self._sink(sink, shown or name, node, args, keywords, env, receiver)
            for sink in looked.method_sinks:
                self._sink(sink, shown or f".{method}()", node, args, keywords, env, receiver)
        source, label = looked.source, looked.source.label if looked.source is not None else ""
        if source is None and name in m.models.object_attrs:
            source, label = self.on_object(name)  # request.post() in aiohttp, req.json() in webob
        if source is not None:
            origin = m.source(source.kind, label, node)
            return {(origin, source.marks): ((*here, f"{label} ({name or method})"),)}
        check = looked.guard
        if check is not None and check.raises and len(node.args) > check.arg:
            checked = key_of(node.args[check.arg])  # the call raises unless the value is valid
            if checked is not None and checked in env:
                env[checked] = clear(env[checked], check.clears, requires=check.requires)
        sanitizer = looked.sanitizer
        if sanitizer is not None and sanitizer.removes and not self._takes_out(node, sanitizer.removes):
            sanitizer = None
        if sanitizer is not None:
            value = union(receiver if sanitizer.method else {}, *args[:1], *keywords.values())
            return clear(value, sanitizer.clears, sanitizer.marks)
        propagator = looked.propagator
        if propagator is not None:
            chosen = self._pick(propagator.sources, receiver, args, keywords)
            if propagator.into == "receiver":
                target = key_of(func.value) if isinstance(func, ast.Attribute) else None
                if target is not None and chosen:
                    env[target] = union(env.get(target, {}), with_step(chosen, (*here, f"added to {target}")))
                    self.m.dotted.note(target)
                return {}
            return clear(chosen, frozenset(), propagator.marks) if propagator.marks and chosen else chosen
        callee = self._callee(func, name)
        if callee:
            index = m.call(callee, node)
            for position, value in enumerate(args[: len(node.args)]):
                if value and not isinstance(node.args[position], ast.Starred):
                    self.fact(value, ("arg", index, position))
            for keyword, value in keywords.items():
                if value:
                    self.fact(value, ("arg", index, keyword))
            if self._validates(callee):
                check = self.tree_check(callee)
                for argument, position in check.index(node) if check else ():
                    kinds, checked = check.on_return[position], key_of(argument)  # type: ignore[union-attr]
                    if kinds and checked is not None and checked in env:
                        env[checked] = clear(env[checked], kinds)  # it raised unless the value passed
            short_name = callee.rsplit(".", 1)[-1]
            result: Taint = {(("c", index), frozenset()): ((*here, f"returned by {short_name}()"),)}
            # A method of a tainted value keeps its taint even if the tree also defines the name.
            return union(result, receiver)
        if (
            method == "get"
            and receiver
            and node.args
            and isinstance(func, ast.Attribute)
            and self._clean_key(func.value, node.args[0])
        ):
            return union(*args[1:])  # only the default can carry taint
        if method and receiver:
            return receiver  # a method of a tainted value (str.strip, dict.get) returns tainted data
        models = m.models
        if method in models.lookup_methods or name in models.lookup_calls:
            return {}  # a value looked up by the argument (a constant table's .get), not made of it
        if looked.sinks or looked.method_sinks:
            # The sink reported the defect; what the operation returns (rows, a response, a
            # command's status) is its result, not the input passed on.
            return {}
        # The data is what is passed by position; keywords are options (source_path=, safe=),
        # unless nothing is passed by position.
        passed = union(*args) if node.args else union(*keywords.values())
        if not passed or not self._passes_through(func):
            return {}
        # A call nothing models is taken to pass its input on (textwrap.dedent, a helper of a
        # library): only a model of a conversion or a sanitizer clears taint.
        shown = name or method or "a call"
        return with_step(passed, (*here, f"passed through {shown}(), which has no model"))

    def _takes_out(self, node: ast.Call, text: str) -> bool:
        """Whether s.replace(old, new) or s.translate(table) surely removes ``text`` from s."""
        args = node.args
        method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if method == "replace" and len(args) >= 2:
            old, new = args[0], args[1]
            return _text(old) == text and isinstance(_text(new), str) and text not in str(_text(new))
        if method == "translate" and args:
            table = args[0]
            if isinstance(table, ast.Name):
                table = self.m.constants.get(table.id, table)
            if not isinstance(table, ast.Dict):
                return False
            for key, value in zip(table.keys, table.values, strict=False):
                char = _text(key)
                if isinstance(key, ast.Call) and isinstance(key.func, ast.Name) and key.func.id == "ord" and key.args:
                    char = _text(key.args[0])
                elif isinstance(key, ast.Constant) and isinstance(key.value, int):
                    char = chr(key.value) if 0 <= key.value < 0x110000 else None
                if char == text:
                    replacement = _text(value)
                    return (isinstance(value, ast.Constant) and value.value is None) or (
                        isinstance(replacement, str) and text not in replacement
                    )
        return False

    def _passes_through(self, func: ast.expr) -> bool:
        """Whether a call no model names is taken to pass its arguments' taint on: a function
        of an imported module or a builtin. A method of an object of unknown type, a callable
        held in a variable and a constructor (a CapWords name, by PEP 8) are not: what comes
        back is a new object or the result of code that cannot be read."""
        if isinstance(func, ast.Name):
            if func.id in self.m.aliases:
                return not func.id[:1].isupper()
            return func.id in BUILTINS and func.id not in self.m.local_defs
        if not isinstance(func, ast.Attribute) or func.attr[:1].isupper():
            return False
        root = func.value
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(root, ast.Name) and (root.id in self.m.aliases or root.id in self.instances)

    def _joined(self, node: ast.JoinedStr, env: Env) -> Taint:
        """An f-string's taint."""
        return self._in_url([str(v.value) if isinstance(v, ast.Constant) else v for v in node.values], env)

    def _in_url(self, pieces: list[str | ast.AST], env: Env) -> Taint:
        """The taint of a string built from literal text and values: what follows a literal ?,
        & or # is in a URL's query or fragment, where it cannot choose where a redirect goes."""
        parts: list[Taint] = []
        # A literal start that fixes the host ("/web/", "https://example.org/") leaves the
        # values after it in the path: they cannot pick where the redirect goes.
        fixed = bool(pieces) and isinstance(pieces[0], str) and bool(HOST_FIXED.match(pieces[0]))
        for piece in pieces:
            if isinstance(piece, str):
                fixed = fixed or any(mark in piece for mark in QUERY_MARKS)
                continue
            taint = self.expr(piece, env)
            parts.append(clear(taint, REDIRECT_ONLY) if fixed and taint else taint)
        return union(*parts)

    def _clean_key(self, mapping: ast.expr, key: ast.expr) -> bool:
        """Whether mapping[key] reads a literal key that the mapping's source model calls clean."""
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return False
        if not isinstance(mapping, ast.Name | ast.Attribute):
            return False
        dotted = self.m.qualname(mapping)
        if not isinstance(dotted, str):
            return False
        source = self.m.models.source_attrs.get(dotted) or self.on_object(dotted)[0]
        return source is not None and not source.reads_outside_data(key.value)

    def _pick(
        self, chosen: tuple[int | str, ...], receiver: Taint, args: list[Taint], keywords: dict[str | None, Taint]
    ) -> Taint:
        if not chosen:
            return union(receiver, *args, *keywords.values())
        parts: list[Taint] = []
        for item in chosen:
            if item == "receiver":
                parts.append(receiver)
            elif isinstance(item, int) and item < len(args):
                parts.append(args[item])
            elif isinstance(item, str) and item in keywords:
                parts.append(keywords[item])
        return union(*parts)

    def _sink(
        self,
        sink: Sink,
        name: str,
        node: ast.Call,
        args: list[Taint],
        keywords: dict[str | None, Taint],
        env: Env,
        receiver: Taint | None = None,
    ) -> None:
        if sink.requires_keyword:
            flag = next((k.value for k in node.keywords if k.arg == sink.requires_keyword), None)
            if not (isinstance(flag, ast.Constant) and flag.value is True):
                return
        if sink.safe_keyword:
            chosen = next((k.value for k in node.keywords if k.arg == sink.safe_keyword), None)
            if chosen is not None and self.m.qualname(chosen) in sink.safe_values:
                return
        if sink.when_key and not entries.call_passes(sink, node):
            return
        if sink.item:
            entries.report(self, sink, name, node, env)
            return
        values: list[Taint] = []
        if not sink.args:
            values = [*args, *keywords.values()]
        for position in sink.args:
            if isinstance(position, int) and position < len(node.args):
                argument = node.args[position]
                if sink.fixed_host_safe and FIXED_HOST.match(_leading_text(argument)):
                    continue
                if sink.list_first:
                    values.append(self.head(argument, env))
                elif sink.mapping_keys or sink.script_keys:
                    values.append(self._part(sink, argument, env))
                else:
                    values.append(args[position])
            elif position == "self" and receiver:
                values.append(receiver)  # the object the method is called on (path.read_text())
            elif isinstance(position, str) and position in keywords:
                if sink.mapping_keys or sink.script_keys:
                    argument = next(k.value for k in node.keywords if k.arg == position)
                    values.append(self._part(sink, argument, env))
                else:
                    values.append(keywords[position])
        if sink.format_args and len(node.args) > 1:
            values.extend(_formatted(node, args))
        taint = union(*values)
        if taint:
            index = self.m.sink(sink, name, node)
            self.fact(taint, ("sink", index), (node.lineno, node.col_offset, f"reaches {name}"))

    def _part(self, sink: Sink, argument: ast.AST, env: Env) -> Taint:
        if sink.mapping_keys:
            return shapes.names(self, argument, env)
        return shapes.scripted(self, argument, env, sink.script_keys, REQUIRED_MARKS[sink.kind])

    def head(self, node: ast.AST, env: Env) -> Taint:
        """The taint of a sequence's first item (the program of an argument list), if known."""
        if isinstance(node, ast.List | ast.Tuple):
            first = node.elts[0] if node.elts else None
            if first is None:
                return {}
            if isinstance(first, ast.Starred):
                return self.expr(node, env)
            return self.expr(first, env)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and isinstance(node.left, ast.List | ast.Tuple):
            return self.head(node.left, env) if node.left.elts else self.expr(node, env)
        name = key_of(node)
        if name is not None and name + HEAD in env:
            return env[name + HEAD]
        return self.expr(node, env)

    def _callee(self, func: ast.expr, name: str) -> str:
        """The qualified name a call to the reviewed tree would have, or ''."""
        callee = self._tree_name(func, name)
        relative = name.startswith(".")
        return "" if callee and not relative and self.m.outside(callee) else callee

    def _tree_name(self, func: ast.expr, name: str) -> str:
        m = self.m
        if isinstance(func, ast.Name):
            if func.id in self.scope:
                return self.scope[func.id]
            if func.id in m.local_defs:
                return f"{m.module}.{func.id}"
            return m.absolute(name) if func.id in m.aliases and "." in name else ""
        if isinstance(func, ast.Attribute):
            base = func.value
            if isinstance(base, ast.Name) and base.id in ("self", "cls") and self.owner:
                return f"{self.owner}.{func.attr}"
            if isinstance(base, ast.Name) and base.id in self.scope:
                return f"{self.scope[base.id]}.{func.attr}"
            if isinstance(base, ast.Name) and base.id in m.classes:
                return f"{m.module}.{base.id}.{func.attr}"
            if isinstance(base, ast.Call) and isinstance(base.func, ast.Name):
                made = base.func.id  # Class().method()
                if made in m.classes:
                    return f"{m.module}.{made}.{func.attr}"
                if made in m.aliases:
                    return f"{m.absolute(m.aliases[made])}.{func.attr}"
            made = self.instances.get(base.id, "") if isinstance(base, ast.Name) else ""
            if made:
                cls = made.removesuffix("()")
                if cls in m.classes:
                    return f"{m.module}.{cls}.{func.attr}"
                return f"{m.absolute(cls)}.{func.attr}"
            root = base
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in m.aliases and name and "()" not in name:
                return m.absolute(name)  # module.function through an import
        return ""


_EXPRESSIONS: dict[type[ast.AST], Callable[[Function, Any, Env], Taint]] = {
    ast.Name: Function.load,
    ast.Attribute: Function.load,
    ast.Constant: Function._constant,
    ast.Call: Function.call,
    ast.Subscript: Function._subscript,
    ast.BinOp: Function._binop,
    ast.JoinedStr: Function._joined,
    ast.BoolOp: Function._boolop,
    ast.Tuple: Function._sequence,
    ast.List: Function._sequence,
    ast.Set: Function._sequence,
    ast.FormattedValue: Function._wrapped,
    ast.Starred: Function._wrapped,
    ast.Await: Function._wrapped,
    ast.Dict: Function._dict,
    ast.IfExp: Function._ifexp,
    ast.NamedExpr: Function._named,
    ast.ListComp: Function._comprehension,
    ast.SetComp: Function._comprehension,
    ast.GeneratorExp: Function._comprehension,
    ast.DictComp: Function._comprehension,
    ast.Compare: Function._compare,
    ast.UnaryOp: Function._unary,
    ast.Slice: Function._slice,
}
