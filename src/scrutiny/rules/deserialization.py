"""Deserialization rules (2xx): formats whose readers can build objects or run code."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import (
    CallRule,
    Walk,
    argument,
    is_constant_string,
    is_self_attr,
    keyword,
    parameters,
    string_value,
    values_bound,
    walk_function,
)
from scrutiny.rules.yaml_loaders import loader_verdict
from scrutiny.source import SourceFile

PICKLE_MODULES = ("pickle", "cPickle", "_pickle", "dill", "cloudpickle")
PICKLE_CALLS = (
    *(f"{module}.{function}" for module in PICKLE_MODULES for function in ("load", "loads", "Unpickler")),
    "shelve.open",
    "shelve.DbfilenameShelf",
    "jsonpickle.decode",
    "jsonpickle.unpickler.decode",
    "jsonpickle.unpickler.Unpickler",
    "pandas.read_pickle",
)


def _fixed_payload(call: ast.Call, name: str) -> bool:
    """True when a loads-style call reads a literal, which the author wrote, not an attacker."""
    return name.endswith("loads") and is_constant_string(argument(call, "data", 0))


class PickleLoad(CallRule):
    """Data read with pickle or a pickle-based loader

    What: load, loads and Unpickler from pickle, cPickle, _pickle, dill and cloudpickle,
    and the readers built on them: shelve.open, jsonpickle.decode and pandas.read_pickle.
    Why: a pickle stream is a small program; unpickling it can call any importable
    function (os.system, for one) through __reduce__, so bytes from a file, socket, cache
    or upload that an attacker can write give code execution.
    Example:
        session = pickle.loads(base64.b64decode(cookie))
    Fix: store data as JSON (json.loads) or another data-only format; if pickle must stay,
    read it only from storage the attacker cannot write and sign it with hmac, checking the
    signature before loading.
    Where the taint analysis traces untrusted input (a request, a socket) to the call, the
    defect is SCR505's and this finding corroborates it; where it traces none (a file the
    operator names, a model the caller passes), the finding is a low-severity hint: a
    defect only if whoever can write those bytes is not trusted.
    Bytes a class pickles into a dict it keeps in memory (an in-process cache) and reads
    back from it never come from outside: that round trip is an info note. A class (or an
    enclosing function) that also writes what it reads with pickle.dump/dumps keeps its
    own store (a cache, a queue, a state file, a worker's reply): the load is low, and the finding says
    that whoever can write that store runs code in the process. The same holds for a shelf
    the class or function also opens to store items into (state[key] = value): it reads back its
    own state file. shelve.open(path, flag="n") creates a new, empty shelf and unpickles
    nothing it did not store: an info note.
    """

    id = "SCR201"
    traced_by = "SCR505"
    name = "pickle-load"
    category = Category.DESERIALIZATION
    cwe = 502
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    calls = PICKLE_CALLS
    bandit = ("B301",)
    ruff = ("S301",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if _fixed_payload(call, name):
            yield self.finding(
                call,
                f"{name} unpickles a literal in the code",
                walk.src,
                scope=walk.scope_name,
                severity=Severity.LOW,
            )
            return
        if name.endswith("loads") and (store := in_memory_store(call, walk)):
            yield self.finding(
                call,
                f"{name} reads back bytes this class pickled into {store}, a dict held in memory; "
                "they never leave the process",
                walk.src,
                scope=walk.scope_name,
                severity=Severity.INFO,
            )
            return
        what = "opens a pickle-backed shelf" if name.startswith("shelve.") else "deserializes pickle data"
        if name == "shelve.open" and string_value(argument(call, "flag", 1)) == "n":
            yield self.finding(call, "shelve.open(flag='n') creates a new, empty shelf: nothing is unpickled but "
                               "what this code stores in it", walk.src, scope=walk.scope_name,
                               severity=Severity.INFO)  # fmt: skip
            return
        if writes := pickle_writes(walk):
            writer, dump = writes
            yield self.finding(
                call,
                f"{name} reads back what {writer} writes with pickle at line {dump.lineno} (a store of its own); "
                "whoever can write that store runs code in this process",
                walk.src,
                scope=walk.scope_name,
                severity=Severity.LOW,
            )
            return
        yield self.finding(
            call,
            f"{name} {what}, which can run code if the data is not trusted",
            walk.src,
            scope=walk.scope_name,
        )


def _literal_document(call: ast.Call, walk: Walk) -> int:
    """The line of the string literal a yaml load parses, or 0: the stream argument is a
    literal, or a name that is not a parameter and that every plain assignment of the
    function (or, where the function binds it nowhere, of the module) binds to a literal."""
    stream = argument(call, "stream", 0)
    if is_constant_string(stream):
        return call.lineno
    if not isinstance(stream, ast.Name):
        return 0
    function = walk.function
    if function is not None and stream.id in parameters(function):
        return 0
    statements = walk_function(function) if function is not None else walk.src.tree.body
    bound = values_bound(stream.id, statements)
    if not bound and function is not None:  # a module constant the function reads
        statements = walk.src.tree.body
        bound = values_bound(stream.id, statements)
    others = [n for n in statements if isinstance(n, ast.AugAssign | ast.AnnAssign | ast.For | ast.With | ast.NamedExpr)
              and any(isinstance(t, ast.Name) and t.id == stream.id for t in ast.walk(n) if isinstance(t, ast.Name)
                      and isinstance(t.ctx, ast.Store))]  # fmt: skip
    if bound and not others and all(is_constant_string(v) for v in bound):
        return bound[0].lineno
    return 0


def _receiver_object(call: ast.Call, walk: Walk) -> ast.expr | None:
    """What the receiver of ``yaml.load(...)`` is bound to when it is a variable of the file
    (yaml = YAML(typ="safe")), not the imported yaml module; None when it is the module."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return None
    root = func.value
    imported = walk.src.names.get(root.id)
    function = walk.function
    local = values_bound(root.id, walk_function(function)) if function is not None else []
    if imported is not None and not local:
        return None
    found = local or values_bound(root.id, walk.src.tree.body)
    return found[-1] if found else None


PICKLE_WRITERS = frozenset(f"{module}.{function}" for module in PICKLE_MODULES for function in ("dump", "dumps"))


def pickle_writes(walk: Walk) -> tuple[str, ast.Call] | None:
    """The innermost enclosing class or function that also pickles (dump/dumps), with its
    first such call: the data read back is what that code wrote (a cache, a queue, a
    worker's reply)."""
    for owner in reversed(walk.scope):
        if not isinstance(owner, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        kind = "class" if isinstance(owner, ast.ClassDef) else "function"
        for node in ast.walk(owner):
            if isinstance(node, ast.Call) and walk.src.qualname(node.func) in PICKLE_WRITERS:
                return f"{kind} {owner.name}", node
        if (shelf := _shelf_written(owner, walk.src)) is not None:
            return f"{kind} {owner.name}", shelf
    return None


def _shelf_written(owner: ast.AST, src: SourceFile) -> ast.Call | None:
    """A shelve.open in ``owner`` whose shelf it stores items into (with shelve.open(p) as s:
    s[k] = v, or s = shelve.open(p); s[k] = v): the values are pickled by this code."""
    opened: dict[str, list[ast.Call]] = {}
    for node in ast.walk(owner):
        if isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
            bound, value = node.optional_vars.id, node.context_expr
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            bound, value = node.targets[0].id, node.value
        else:
            continue
        if isinstance(value, ast.Call) and src.qualname(value.func) == "shelve.open":
            opened.setdefault(bound, []).append(value)
    for node in ast.walk(owner):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    before = [c for c in opened.get(target.value.id, ()) if c.lineno <= node.lineno]
                    if before:
                        return max(before, key=lambda c: c.lineno)  # the shelf open where it stores
    return None


def in_memory_store(call: ast.Call, walk: Walk) -> str:
    """``self.NAME`` when the unpickled bytes come from ``self.NAME[key]`` and the class fills
    that attribute only with dicts made in memory (and pickles into it); else ''."""
    function = walk.function
    owner = walk.parent(function) if function is not None else None
    if function is None or not isinstance(owner, ast.ClassDef):
        return ""
    data = argument(call, "data", 0)
    reads = values_bound(data.id, walk_function(function)) if isinstance(data, ast.Name) else [data]
    # The name may also hold bytes the function pickled itself (incr: load, add, dump again).
    own = [r for r in reads if isinstance(r, ast.Call) and (walk.src.qualname(r.func) or "").endswith("pickle.dumps")]
    attrs = {_self_item(read) for read in reads if read not in own}
    if len(attrs) != 1 or not (attr := attrs.pop()):
        return ""
    class_nodes = [node for node in ast.walk(owner)]
    bindings = [
        node.value
        for node in class_nodes
        if isinstance(node, ast.Assign) and any(is_self_attr(target, attr) for target in node.targets)
    ]
    module_dicts = _module_dicts(walk.src.tree)
    if not bindings or not all(_made_in_memory(value, module_dicts) for value in bindings):
        return ""
    pickles = any(
        isinstance(node, ast.Call) and (walk.src.qualname(node.func) or "").endswith("pickle.dumps")
        for node in class_nodes
    )
    return f"self.{attr}" if pickles else ""


def _self_item(node: ast.AST | None) -> str:
    """NAME for ``self.NAME[key]`` or ``self.NAME.get(key)``; '' for anything else."""
    if isinstance(node, ast.Subscript):
        base = node.value
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        base = node.func.value
    else:
        return ""
    if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id == "self":
        return base.attr
    return ""


IN_MEMORY_MAPPINGS = frozenset({"dict", "OrderedDict", "defaultdict", "collections.OrderedDict"})


def _module_dicts(tree: ast.Module) -> set[str]:
    """Module-level names bound to an empty or literal dict."""
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and _made_in_memory(node.value, set())
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _made_in_memory(value: ast.AST, module_dicts: set[str]) -> bool:
    """A dict literal, dict()/OrderedDict(), or a module dict's setdefault(key, such a dict)."""
    if isinstance(value, ast.Dict):
        return True
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if name in IN_MEMORY_MAPPINGS and not value.args:
        return True
    if (
        isinstance(func, ast.Attribute)
        and func.attr == "setdefault"
        and isinstance(func.value, ast.Name)
        and func.value.id in module_dicts
        and len(value.args) == 2
    ):
        return _made_in_memory(value.args[1], module_dicts)
    return False


class MarshalLoad(CallRule):
    """Data read with marshal

    What: marshal.load or marshal.loads.
    Why: marshal is meant for Python's own .pyc files; its reader is not hardened against
    crafted input (the docs say it is not secure) and it can produce code objects that a
    later exec or function call runs.
    Example:
        code = marshal.loads(response.content)
    Fix: exchange data as JSON or another data-only format; load marshal data only from
    files your own build wrote.
    As for pickle (SCR201), where the taint analysis traces untrusted input to the call the
    defect is SCR505's and this finding corroborates it; where it traces none (a .pyc or
    cache file read from the program's own directories) the finding is a low-severity
    hint: a defect only if whoever can write those bytes is not trusted.
    """

    id = "SCR202"
    traced_by = "SCR505"
    name = "marshal-load"
    category = Category.DESERIALIZATION
    cwe = 502
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    calls = ("marshal.load", "marshal.loads")
    bandit = ("B302",)
    ruff = ("S302",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if _fixed_payload(call, name):
            yield self.finding(
                call, f"{name} reads a literal in the code", walk.src, scope=walk.scope_name, severity=Severity.LOW
            )
            return
        yield self.finding(call, f"{name} deserializes data that may not be trusted", walk.src, scope=walk.scope_name)


# Parts that, from PyYAML 5.4 on, refuse the python/object/apply tags but still build objects.
YAML_FULL_PARTS = frozenset({"FullLoader", "CFullLoader", "FullConstructor"})
YAML_ALWAYS_UNSAFE = {
    "yaml.unsafe_load": "UnsafeLoader",
    "yaml.unsafe_load_all": "UnsafeLoader",
    "yaml.full_load": "FullLoader",
    "yaml.full_load_all": "FullLoader",
}


class YamlUnsafeLoad(CallRule):
    """YAML parsed with a loader that can build Python objects

    What: yaml.load or yaml.load_all without a safe Loader (SafeLoader, CSafeLoader,
    BaseLoader), with Loader, UnsafeLoader or FullLoader, and yaml.unsafe_load,
    yaml.full_load and their _all forms. A loader class of the file is judged by its
    bases, followed through the file's classes: one assembled from parser and resolver
    parts and a SafeConstructor (directly or through a class of its own) is safe; one that
    registers an unsafe constructor's method is not. A loader that cannot be resolved (a
    parameter, a class of another module or with such a base) is reported with low
    confidence, and the message says why.
    Why: the full and unsafe loaders turn tags such as !!python/object/apply into calls of
    arbitrary Python functions, so a crafted document runs code when it is parsed.
    FullLoader blocks the worst tags only from PyYAML 5.4 on and still builds Python
    objects; older PyYAML makes a bare yaml.load use the unsafe loader.
    Example:
        config = yaml.load(request.data, Loader=yaml.Loader)
    Fix: config = yaml.safe_load(request.data), or yaml.load(data, Loader=yaml.SafeLoader)
    (yaml.CSafeLoader for speed).
    A yaml.load whose receiver is a variable of the file rather than the imported PyYAML
    module is that object's method: ruamel.yaml's YAML(typ=...).load builds Python objects
    only with typ="unsafe" (reported, high); its round-trip, safe and base loaders (the
    default is round-trip) are not reported, nor is the load method of any other object.
    Where the taint analysis traces untrusted input (a request, a socket) to the call, the
    defect is SCR505's and this finding corroborates it; where it traces none (a file the
    operator names, the application's own configuration), the finding is a low-severity
    hint, as for pickle (SCR201): a defect only if whoever writes that document is not trusted.
    A document the code holds as a string literal (given directly, or through a local name
    bound only to literals in the function) is what its author wrote, not an attacker: the
    finding is low and says so.
    """

    id = "SCR203"
    traced_by = "SCR505"
    name = "yaml-unsafe-load"
    category = Category.DESERIALIZATION
    cwe = 502
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    calls = ("yaml.load", "yaml.load_all", *YAML_ALWAYS_UNSAFE)
    bandit = ("B506",)
    ruff = ("S506",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        line = _literal_document(call, walk)
        for found in self._check(call, name, walk):
            if line:
                where = "" if line == call.lineno else f" (line {line})"
                found = dataclasses.replace(
                    found,
                    severity=min(found.severity, Severity.LOW),
                    message=f"{found.message}; the document is a string literal in the code{where}, "
                    "which its author wrote, not an attacker",
                )
            yield found

    def _check(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        made = _receiver_object(call, walk)
        if made is not None:
            typ = string_value(keyword(made, "typ")) if isinstance(made, ast.Call) else None
            maker = walk.src.qualname(made.func) if isinstance(made, ast.Call) else None
            if (maker or "").startswith("ruamel.yaml") and typ == "unsafe":
                yield self.finding(call, f"{ast.unparse(call.func)} parses YAML with ruamel.yaml's unsafe loader "
                                   f"(YAML(typ='unsafe') at line {made.lineno}), which can build Python objects",
                                   walk.src, scope=walk.scope_name)  # fmt: skip
            return  # ruamel's rt/safe/base loaders, or another object's load method: not PyYAML's
        if name in YAML_ALWAYS_UNSAFE:
            loader_name = YAML_ALWAYS_UNSAFE[name]
            severity = Severity.MEDIUM if loader_name == "FullLoader" else Severity.HIGH
            yield self.finding(
                call,
                f"{name} parses YAML with the {loader_name}, which can build Python objects",
                walk.src,
                scope=walk.scope_name,
                severity=severity,
            )
            return
        if any(kw.arg is None for kw in call.keywords):
            return  # **options may carry the Loader
        loader = argument(call, "Loader", 1)
        if loader is None:
            yield self.finding(
                call, f"{name} called without a Loader (unsafe in older PyYAML)", walk.src, scope=walk.scope_name
            )
            return
        function = walk.function
        scope = walk_function(function) if function is not None else walk.src.tree.body
        verdict = loader_verdict(loader, walk.src, scope)
        if verdict.safe:
            return
        shown = walk.src.qualname(loader) or ast.unparse(loader)
        if verdict.safe is None:
            yield self.finding(
                call,
                f"{name} called with Loader {shown}, which could not be resolved to a safe loader ({verdict.because})",
                walk.src,
                scope=walk.scope_name,
                confidence=Confidence.LOW,
            )
            return
        full = verdict.part.rpartition(".")[2] in YAML_FULL_PARTS
        why = "" if verdict.part == shown else f" ({verdict.because})"
        yield self.finding(
            call,
            f"{name} called with {shown}, which can build Python objects from tags{why}",
            walk.src,
            scope=walk.scope_name,
            severity=Severity.MEDIUM if full else Severity.HIGH,
        )
