"""Incomplete comparisons (93x): matchers that accept a prefix of what they should match."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, call_tail, drop, keyword, name_parts, note, values_bound
from scrutiny.source import SourceFile

# Names that say the match decides access: a prefix match there lets another site, host
# or path through.
ACCESS_WORDS = frozenset(
    {"host", "hosts", "origin", "origins", "domain", "domains", "url", "path", "scope", "scopes", "role", "roles",
     "permission", "permissions", "perm", "allowed", "allow", "pattern", "whitelist", "allowlist"}
)  # fmt: skip


def _is_constant(node: ast.AST | None, value: bool) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def _len_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and call_tail(node) == "len" and len(node.args) == 1:
        return ast.unparse(node.args[0])
    return None


def _length_checks(function: ast.AST, sides: set[str], before: int) -> tuple[bool, ast.Compare | None]:
    """(lengths compared for equality, a one-sided length comparison) before line ``before``."""
    one_sided: ast.Compare | None = None
    for node in ast.walk(function):
        if not isinstance(node, ast.Compare) or len(node.ops) != 1 or node.lineno >= before:
            continue
        left, right = _len_of(node.left), _len_of(node.comparators[0])
        if {left, right} != sides:
            continue
        if isinstance(node.ops[0], ast.Eq | ast.NotEq):
            return True, None
        one_sided = one_sided or node
    return False, one_sided


class PrefixMatchThroughZip(Rule):
    """Element-wise match over zip() that accepts a shorter or longer sequence

    What: a function that compares two sequences part by part with zip() (returning False
    on a mismatch and True after the loop) without checking that both have the same
    length, or checking it only one way (len(a) > len(b)). zip() stops at the shorter
    sequence, so 'example.com' matches 'example.com.evil.net' split at the dots.
    Severity is medium when the names say the match decides access (host, origin, domain,
    path, scope, role, permission, allow-list) and low otherwise.
    Why: allow-list matchers for hosts, origins, paths and scopes built this way accept
    any value that starts (or ends) with an allowed one, which is how origin checks and
    host allow-lists are bypassed.
    Example:
        if len(pattern_parts) > len(host_parts):
            return False
        for h, p in zip(host_parts, pattern_parts):
            if h != p and p != "*":
                return False
        return True
    Fix: require equal lengths (if len(a) != len(b): return False) or use
    zip(a, b, strict=True) inside a try, or compare the whole values.
    """

    id = "SCR935"
    name = "prefix-match-through-zip"
    category = Category.INPUT_VALIDATION
    cwe = 1023
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.FunctionDef, ast.AsyncFunctionDef)
    context = {
        FileKind.TEST: drop("test helpers compare sequences they built themselves"),
        FileKind.EXAMPLE: note("example code matches without hardening"),
        FileKind.DOCS: note("documentation code matches without hardening"),
    }

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        index = walk.src.index
        # Cheap pre-filter from the per-function call index: most functions loop over no zip().
        if not any(
            call_tail(call) == "zip" and isinstance(index.parents.get(call), ast.For)
            for call in index.calls_by_function.get(node, ())
        ):
            return
        function_of = index.function_of
        returns_true = [
            n.lineno for n in ast.walk(node)
            if isinstance(n, ast.Return) and _is_constant(n.value, True) and function_of.get(n) is node
        ]  # fmt: skip
        if not returns_true:
            return
        for loop in ast.walk(node):
            if not isinstance(loop, ast.For) or function_of.get(loop) is not node:
                continue
            zipped = loop.iter
            if not (isinstance(zipped, ast.Call) and call_tail(zipped) == "zip" and len(zipped.args) == 2):
                continue
            if _is_constant(keyword(zipped, "strict"), True) or not any(
                line > (loop.end_lineno or loop.lineno) for line in returns_true
            ):
                continue
            if not self._rejects_mismatch(loop):
                continue
            sides = {ast.unparse(a) for a in zipped.args}
            equal, one_sided = _length_checks(node, sides, loop.lineno)
            if equal:
                continue
            words = set(name_parts(node.name)) | {p for a in node.args.args for p in name_parts(a.arg)}
            words |= {p for side in sides for p in name_parts(side)}
            severity = Severity.MEDIUM if words & ACCESS_WORDS else Severity.LOW
            where = one_sided or loop
            how = f"lengths compared only one way ({ast.unparse(one_sided)})" if one_sided else "lengths never compared"
            yield self.finding(
                where,
                f"zip({', '.join(ast.unparse(a) for a in zipped.args)}) stops at the shorter sequence and the {how}: "
                "a value that only starts with an allowed one matches",
                walk.src,
                scope=walk.scope_name,
                severity=severity,
            )

    @staticmethod
    def _rejects_mismatch(loop: ast.For) -> bool:
        """The loop compares the pair and returns False on a mismatch."""
        compares = any(isinstance(n, ast.Compare) for n in ast.walk(loop))
        rejects = any(isinstance(n, ast.Return) and _is_constant(n.value, False) for n in ast.walk(loop))
        return compares and rejects


# Abstract collection types a str is an instance of.
STR_SUPERTYPES = frozenset({"Sequence", "Iterable", "Collection", "Container", "Reversible"})
# The text type under other names: Python 2's, and the compatibility names six gives it.
STR_NAMES = frozenset({"str", "builtins.str", "basestring", "unicode"})
SIX_STR_NAMES = frozenset({"text_type", "string_types"})


def _tested_types(kinds: ast.expr, src: SourceFile) -> list[ast.expr]:
    """The classes isinstance's second argument names: a tuple's items, or those of a
    module-level name bound once to a tuple (TEXT = (str, bytes))."""
    if isinstance(kinds, ast.Name):
        bound = values_bound(kinds.id, src.tree.body)
        if len(bound) == 1 and isinstance(bound[0], ast.Tuple):
            kinds = bound[0]
    return list(kinds.elts) if isinstance(kinds, ast.Tuple) else [kinds]


def _is_str_type(kind: ast.expr, src: SourceFile, depth: int = 0) -> bool:
    """str itself, six's text_type/string_types (wherever six is vendored), or a
    module-level name bound once to one of those."""
    name = src.qualname(kind) or ""
    module, _, last = name.rpartition(".")
    if name in STR_NAMES or (last in SIX_STR_NAMES and module.rpartition(".")[2] == "six"):
        return True
    if isinstance(kind, ast.Name) and name == kind.id and depth < 4:
        bound = values_bound(kind.id, src.tree.body)
        alias = bound[0] if len(bound) == 1 else None
        return isinstance(alias, ast.Name | ast.Attribute) and _is_str_type(alias, src, depth + 1)
    return False


def _isinstance_parts(test: ast.expr) -> list[tuple[bool, ast.Call]]:
    """(negated, call) for each isinstance(name, kinds) joined by ``and`` in ``test``."""
    parts = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
    out = []
    for part in parts:
        negated = isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.Not)
        call = part.operand if isinstance(part, ast.UnaryOp) and negated else part
        if isinstance(call, ast.Call) and call_tail(call) == "isinstance" and len(call.args) == 2:
            out.append((negated, call))
    return out


def _tests_str(test: ast.expr, name: str, src: SourceFile) -> bool:
    """``test`` holds only where ``name`` is a str: isinstance(name, str) (alone or with and)."""
    return any(
        not negated
        and isinstance(call.args[0], ast.Name)
        and call.args[0].id == name
        and all(_is_str_type(k, src) for k in _tested_types(call.args[1], src))
        for negated, call in _isinstance_parts(test)
    )


def _collection_check(test: ast.expr, walk: Walk) -> str | None:
    """The name tested with isinstance(name, Sequence-like), unless str is ruled out in the
    same test: named among the classes (isinstance(x, (str, list))) or excluded by a negated
    isinstance (not isinstance(x, (bytes, str)))."""
    src = walk.src
    found: str | None = None
    for negated, call in _isinstance_parts(test):
        kinds = _tested_types(call.args[1], src)
        if any(_is_str_type(k, src) for k in kinds):
            return None  # str is named (ruled out or handled) in this test
        names = {(src.qualname(k) or "").rsplit(".", 1)[-1] for k in kinds}
        if not negated and names & STR_SUPERTYPES and isinstance(call.args[0], ast.Name):
            found = call.args[0].id
    return found


def _str_handled_before(node: ast.If, name: str, walk: Walk) -> bool:
    """A str ``name`` never reaches ``node``: it is the elif of an isinstance(name, str)
    branch, or an earlier statement of its block handles that case and leaves it
    (if isinstance(name, str): name = [name] / return / raise)."""
    parent = walk.parent(node)
    if isinstance(parent, ast.If) and parent.orelse == [node] and _tests_str(parent.test, name, walk.src):
        return True
    field, position = walk.src.index.slot(node)
    if field in ("body", "orelse", "finalbody"):
        for earlier in getattr(parent, field)[:position]:
            if isinstance(earlier, ast.If) and not earlier.orelse and _tests_str(earlier.test, name, walk.src):
                last = earlier.body[-1]
                if isinstance(last, ast.Return | ast.Raise | ast.Continue | ast.Break) or any(
                    isinstance(t, ast.Name) and t.id == name
                    for stmt in earlier.body
                    if isinstance(stmt, ast.Assign)
                    for t in stmt.targets
                ):
                    return True
    return False


class StrTreatedAsCollection(Rule):
    """Membership test on a value that may be a str, after isinstance(value, Sequence)

    What: code that branches on isinstance(value, Sequence) (or Iterable, Collection,
    Container) and then tests membership with `x in value` / `x not in value`, without
    ruling out str. A str is a Sequence, so a single allowed value written as a string
    turns the exact match into a substring match. str is ruled out when the same test
    names it (also as six's text_type/string_types or a module tuple of types), in
    particular by `not isinstance(value, (bytes, str))`, or when an earlier branch handles
    it: the elif of `isinstance(value, str)`, or a preceding `if isinstance(value, str):`
    that rebinds value or leaves.
    Why: when the allowed value is a string ("https://issuer.example"), any claim,
    origin or name that is a substring of it ("https://issuer", "") passes the check,
    which is how token issuer and audience checks have been bypassed.
    Example:
        if isinstance(issuer, Sequence):
            if payload["iss"] not in issuer:
                raise InvalidIssuerError()
    Fix: test for str first: if isinstance(issuer, str): compare with == / !=,
    otherwise use membership in the collection.
    """

    id = "SCR938"
    name = "str-treated-as-collection"
    category = Category.INPUT_VALIDATION
    cwe = 697
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.If,)
    context = {
        FileKind.TEST: drop("tests compare values they built themselves"),
        FileKind.EXAMPLE: note("example code skips the str case"),
        FileKind.DOCS: note("documentation code skips the str case"),
    }

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.If)
        name = _collection_check(node.test, walk)
        if name is None or _str_handled_before(node, name, walk):
            return
        for statement in node.body:
            for inner in ast.walk(statement):
                if (
                    isinstance(inner, ast.Compare)
                    and any(isinstance(op, ast.In | ast.NotIn) for op in inner.ops)
                    and any(isinstance(c, ast.Name) and c.id == name for c in inner.comparators)
                ):
                    yield self.finding(
                        node.test,
                        f"{ast.unparse(node.test)} is true for a str, so '{ast.unparse(inner)}' at line "
                        f"{inner.lineno} matches substrings when {name} is one string",
                        walk.src,
                        scope=walk.scope_name,
                    )
                    return
