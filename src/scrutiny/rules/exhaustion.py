"""Resource-exhaustion rules (87x): work and memory sized by the request, with no upper bound.

The check is local to one function: a value read from the request object (query string,
form, JSON body, path parameters) and every name assigned from it, up to the call that
spends resources in proportion to it. Patterns compiled from the request are SCR511's.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import PurePath

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, call_tail, keyword, names_in, note
from scrutiny.source import SourceFile

# Request data a client chooses freely. Headers are left out: Content-Length read(n) is how
# WSGI bodies are read, and the server bounds it.
FIELDS = (
    r"(?:args|form|values|GET|POST|params|query_params|query|json|get_json|data|"
    r"match_info|path_params|rel_url|get_param\w*)"
)
REQUEST_DATA = re.compile(rf"\b(?:self\.)?(?:request|req)\.{FIELDS}\b")
REQUEST_FIELDS = re.compile(rf"^{FIELDS}$")
# Calls whose result is bounded however large their input (min(n, MAX), len(...)).
BOUNDING_CALLS = frozenset({"min", "len", "bool", "clamp", "bounded"})
ORDER_OPS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
# Sinks: (call, positions) by qualified name, and what is spent.
SIZED_CALLS = {
    "range": ((0, 1), "a loop", 606),
    "bytearray": ((0,), "an allocation", 770),
    "os.urandom": ((0,), "an allocation", 770),
    "secrets.token_bytes": ((0,), "an allocation", 770),
    "secrets.token_hex": ((0,), "an allocation", 770),
    "itertools.repeat": ((1,), "a loop", 606),
    "time.sleep": ((0,), "a wait", 400),
    "asyncio.sleep": ((0,), "a wait", 400),
}
SIZED_METHODS = {"read": "a read", "recv": "a read", "readline": "a read", "limit": "a page size"}
PAGE_KEYWORDS = frozenset({"limit", "per_page", "page_size", "max_results"})

EXHAUSTION_CONTEXT = {
    FileKind.TEST: note("test code sizes its own inputs"),
    FileKind.EXAMPLE: note("example code leaves out input limits for brevity"),
    FileKind.DOCS: note("documentation code leaves out input limits for brevity"),
}


def _from_request(node: ast.AST, tainted: set[str]) -> bool:
    if isinstance(node, ast.Call) and call_tail(node) in BOUNDING_CALLS:
        return False
    if names_in(node) & tainted:
        return True
    return bool(REQUEST_DATA.search(ast.unparse(node)))


def _names_assigned_from(function: ast.AST, holds: Callable[[ast.AST, set[str]], bool]) -> set[str]:
    """Names ``function`` assigns from a value of which ``holds(value, names so far)`` is
    true, repeated until no name is added (a = f(request); b = a + 1: both)."""
    assigns = [n for n in ast.walk(function) if isinstance(n, ast.Assign | ast.AnnAssign) and n.value is not None]
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for node in assigns:
            assert node.value is not None
            if not holds(node.value, found):
                continue
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name) and target.id not in found:
                    found.add(target.id)
                    changed = True
    return found


def request_sized_names(function: ast.AST) -> set[str]:
    """Names holding request data in ``function`` that no comparison or min() bounds."""
    tainted = _names_assigned_from(function, _from_request)
    bounded = {
        name
        for node in ast.walk(function)
        if isinstance(node, ast.Compare) and any(isinstance(op, ORDER_OPS) for op in node.ops)
        for name in names_in(node)
    }
    return tainted - bounded


# Calls that turn request text into a number. Query strings, forms, headers and paths
# are text, and range(), bytearray(), sleep(), read() and a repetition reject text, so a
# size is only a number where the code converts it or reads a JSON body.
NUMBER_CALLS = frozenset({"int", "float", "Decimal"})
JSON_READS = re.compile(r"\bjson\b|get_json\(|\.json\(")


def _numeric_evidence(node: ast.AST, numbers: set[str]) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            if call_tail(inner) in NUMBER_CALLS or any(
                kw.arg == "type" and isinstance(kw.value, ast.Name) and kw.value.id in NUMBER_CALLS
                for kw in inner.keywords
            ):
                return True
        elif isinstance(inner, ast.Name) and inner.id in numbers:
            return True
    return bool(JSON_READS.search(ast.unparse(node)))


def numeric_names(function: ast.AST) -> set[str]:
    """Names the function shows to hold a number: assigned from int()/float(), a
    .get(..., type=int), a JSON body, or another such name."""
    return _names_assigned_from(function, _numeric_evidence)


class RequestSizedWork(Rule):
    """Loop, allocation, read, wait or page size chosen by the request with no upper bound

    What: in one function, a number read from the request (query string, form, JSON
    body, path parameters), directly or through assignments and int(), used as the
    bound of range(), the size of bytearray/os.urandom/a repeated string or list, the
    size of read()/recv(), the length of time.sleep(), or a query's limit (.limit(n),
    limit=/per_page=/page_size=), when the function never compares it with a maximum
    or passes it through min(). Outside page sizes the code must show a number (int(),
    float(), type=int, or a JSON body on the way): text from a query string, form or
    header makes range(), read() and the others raise, not spend. A page size passed to
    a function of the same file that only slices a sequence it holds or compares the
    size is not reported: the page can never outgrow the sequence. Passed to this project's own code in another file (a relative
    import, or a package on the file's path), whose use is not visible, it is low.
    Why: one request with n=10**9 makes the server loop, allocate or wait until memory
    or workers run out, and a page size without a cap lets a client dump a whole table
    in one query (CWE-770, CWE-606, CWE-400).
    Example:
        count = int(request.args.get("count", 10))
        return [make_item(i) for i in range(count)]
    Fix: clamp the value before use (count = min(int(...), MAX_COUNT)) or reject it
    (if count > MAX_COUNT: abort(400)); validate page sizes with a schema maximum.
    """

    id = "SCR870"
    name = "request-sized-work"
    category = Category.INPUT_VALIDATION
    cwe = 770
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.FunctionDef, ast.AsyncFunctionDef)
    context = EXHAUSTION_CONTEXT

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        src = walk.src
        if node not in _reading_functions(src):
            return
        tainted = request_sized_names(node)
        numbers: set[str] | None = None
        scope = ".".join(filter(None, (walk.scope_name, getattr(node, "name", ""))))
        for inner in _own_nodes(node):
            for sized, what, cwe in self._sinks(inner, src):
                if sized is None or not self._unbounded(sized, tainted):
                    continue
                if what != "a page size":
                    # Text from the request makes these raise, not loop or allocate.
                    numbers = numeric_names(node) if numbers is None else numbers
                    if not _numeric_evidence(sized, numbers):
                        continue
                message = f"{what} sized by request data ({ast.unparse(sized)[:40]}) with no upper bound"
                severity = confidence = None
                if isinstance(inner, ast.Call) and (parameter := _page_keyword(inner, sized)) is not None:
                    use = page_size_use(inner, parameter, src, node)
                    if use == SLICED:
                        continue  # the callee only slices a sequence it holds: bounded by that sequence
                    if use is not None:
                        message, severity, confidence = f"{message}; {use}", Severity.LOW, Confidence.LOW
                yield self.finding(inner, message, src, scope=scope, cwe=cwe, severity=severity, confidence=confidence)

    @staticmethod
    def _unbounded(node: ast.AST, tainted: set[str]) -> bool:
        if isinstance(node, ast.Call) and call_tail(node) in BOUNDING_CALLS:
            return False
        if isinstance(node, ast.Name):
            return node.id in tainted
        if isinstance(node, ast.Call) and call_tail(node) in ("int", "float") and node.args:
            return RequestSizedWork._unbounded(node.args[0], tainted)
        return bool(REQUEST_DATA.search(ast.unparse(node))) and not names_in(node) - tainted - {
            "request",
            "req",
            "self",
        }

    @staticmethod
    def _sinks(node: ast.AST, src: SourceFile) -> Iterator[tuple[ast.AST | None, str, int]]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            for sequence, count in ((node.left, node.right), (node.right, node.left)):
                if isinstance(sequence, ast.List | ast.Tuple) or (
                    isinstance(sequence, ast.Constant) and isinstance(sequence.value, str | bytes)
                ):
                    yield count, "a repeated sequence", 770
            return
        if not isinstance(node, ast.Call):
            return
        tail = call_tail(node)
        if tail in ("range", "bytearray", "urandom", "token_bytes", "token_hex", "repeat", "sleep"):
            name = src.qualname(node.func) or tail
            if name in SIZED_CALLS:
                positions, what, cwe = SIZED_CALLS[name]
                for position in positions:
                    if position < len(node.args):
                        yield node.args[position], what, cwe
        if isinstance(node.func, ast.Attribute) and tail in SIZED_METHODS and len(node.args) == 1:
            yield node.args[0], SIZED_METHODS[tail], 770
        for word in PAGE_KEYWORDS:
            if (value := keyword(node, word)) is not None:
                yield value, "a page size", 770


def _page_keyword(call: ast.Call, sized: ast.AST) -> str | None:
    """The page-size keyword (limit=, per_page= ...) that passes ``sized`` to ``call``."""
    return next((kw.arg for kw in call.keywords if kw.value is sized and kw.arg in PAGE_KEYWORDS), None)


# Calls a bounded page size passes through and stays bounded: int(limit), min(limit, n).
KEEPING_BOUNDS = BOUNDING_CALLS | {"int"}
# page_size_use's answer when the callee only slices or compares the page size.
SLICED = "sliced"
# Uses of a parameter that bound what it can cost: a slice of a sequence already held, or
# a comparison (limit is None, limit > total).
_BOUNDING_PARENTS = (ast.Slice, ast.Compare)


def page_size_use(call: ast.Call, parameter: str, src: SourceFile, caller: ast.AST) -> str | None:
    """How the callee spends a page size: SLICED when it is a function of this file that
    only slices or compares it, a note when it is the reviewed project's own code defined
    in another file (what it does is not visible), None when it is a library or an unknown
    object (a query or an external call is assumed)."""
    callee = _local_callee(call, src, caller)
    if callee is not None:
        return SLICED if _only_bounds(callee, parameter, src) else None
    module = _imported_from(call.func, src, caller)
    if module is not None and _own_project(module, src.path):
        name = ast.unparse(call.func).rsplit(".", 1)[-1]
        return (f"{name}() is this project's code from {module.lstrip('.') or 'a sibling module'}, not in this "
                "file: whether it sizes a query or slices a list it holds is not visible here")  # fmt: skip
    return None


def _local_callee(call: ast.Call, src: SourceFile, caller: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The function of this file that ``call`` runs: a module function by name, or a method
    of the enclosing class (self.method) or of a class of this file the receiver was made from."""
    func = call.func
    defined = src.index.functions()
    if isinstance(func, ast.Name):
        return next((f for f in defined if f.name == func.id and src.index.function_of.get(f) is None
                     and isinstance(src.index.parents.get(f), ast.Module)), None)  # fmt: skip
    if not isinstance(func, ast.Attribute):
        return None
    owner: ast.ClassDef | None = None
    receiver = func.value
    if isinstance(receiver, ast.Name) and receiver.id in ("self", "cls"):
        parent = src.index.parents.get(caller)
        owner = parent if isinstance(parent, ast.ClassDef) else None
    elif isinstance(receiver, ast.Name):
        made = _made_by(receiver.id, src, caller)
        if isinstance(made, ast.Name):
            classes = [c for c in src.index.of_type(ast.ClassDef) if isinstance(c, ast.ClassDef)]
            owner = next((c for c in classes if c.name == made.id), None)
    if owner is None:
        return None
    methods = [f for f in owner.body if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)]
    return next((f for f in methods if f.name == func.attr), None)


def _made_by(name: str, src: SourceFile, caller: ast.AST) -> ast.expr | None:
    """What a plain name was made by, when the caller or the module binds it once to a call."""
    for scope in (caller, src.tree):
        body = ast.walk(scope) if scope is caller else iter(src.tree.body)
        values = [n.value for n in body if isinstance(n, ast.Assign)
                  and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)]  # fmt: skip
        if len(values) == 1 and isinstance(values[0], ast.Call):
            return values[0].func
        if values:
            return None
    return None


def _imported_from(func: ast.expr, src: SourceFile, caller: ast.AST, depth: int = 0) -> str | None:
    """The module the callee comes from: its root name's import, or the import of the
    class the receiver was made from (queue = JobQueue(); queue.page(limit=n))."""
    if depth > 3:
        return None
    root: ast.expr = func
    while isinstance(root, ast.Attribute | ast.Call):
        root = root.value if isinstance(root, ast.Attribute) else root.func
    if not isinstance(root, ast.Name):
        return None
    if root.id not in src.aliases:
        made = _made_by(root.id, src, caller)
        return None if made is None else _imported_from(made, src, caller, depth + 1)
    qualified = src.aliases[root.id]
    return qualified.rsplit(".", 1)[0] if "." in qualified.lstrip(".") else qualified


def _own_project(module: str, path: str) -> bool:
    """A relative import, or one whose top-level package is a folder on the reviewed file's path."""
    if module.startswith("."):
        return True
    return module.split(".", 1)[0] in PurePath(path).parts[:-1]


def _only_bounds(function: ast.FunctionDef | ast.AsyncFunctionDef, parameter: str, src: SourceFile) -> bool:
    """Every read of ``parameter`` in ``function`` is a slice bound, a comparison or a test."""
    parents = src.index.parents
    reads = [n for n in ast.walk(function) if isinstance(n, ast.Name) and n.id == parameter]
    reads = [n for n in reads if isinstance(n.ctx, ast.Load)]
    for read in reads:
        node: ast.AST = read
        while (parent := parents.get(node)) is not None and (
            isinstance(parent, ast.BinOp) or (isinstance(parent, ast.Call) and call_tail(parent) in KEEPING_BOUNDS)
        ):
            node = parent  # offset + limit, int(limit), min(limit, n)
        while isinstance(parent, ast.BoolOp) or (isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)):
            node, parent = parent, parents.get(parent)  # if not limit: / if limit and ...:
        tested = isinstance(parent, ast.If | ast.IfExp | ast.While) and parent.test is node
        if not (tested or isinstance(parent, _BOUNDING_PARENTS)):
            return False
    return bool(reads)


_last_file: list[tuple[SourceFile, set[ast.AST]]] = []


def _reading_functions(src: SourceFile) -> set[ast.AST]:
    """Functions of ``src`` that read a request field (request.args, req.GET ...), nested or not.

    Found once per file from the index, so functions that never touch a request cost nothing.
    """
    if _last_file and _last_file[0][0] is src:
        return _last_file[0][1]
    found: set[ast.AST] = set()
    function_of = src.index.function_of
    for node in src.index.by_type.get(ast.Attribute, ()):
        assert isinstance(node, ast.Attribute)
        owner = node.value
        owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if owner_name not in ("request", "req") or not REQUEST_FIELDS.match(node.attr):
            continue
        # The enclosing functions, innermost first (the index's function_of chain is the
        # chain of def ancestors); one already found has all its enclosing ones found too.
        function = function_of.get(node)
        while function is not None and function not in found:
            found.add(function)
            function = function_of.get(function)
    _last_file[:] = [(src, found)]
    return found


def _own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """Nodes of ``function`` outside nested functions, which are checked on their own."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))
