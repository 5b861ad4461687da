"""Incomplete comparisons (93x): matchers that accept a prefix of what they should match."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, call_tail, drop, keyword, name_parts, note

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


def _collection_check(test: ast.expr, walk: Walk) -> str | None:
    """The name tested with isinstance(name, Sequence-like), unless str is ruled out in the same test."""
    parts = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
    found: str | None = None
    for part in parts:
        negated = isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.Not)
        call = part.operand if negated and isinstance(part, ast.UnaryOp) else part
        if not (isinstance(call, ast.Call) and call_tail(call) == "isinstance" and len(call.args) == 2):
            continue
        kinds = call.args[1].elts if isinstance(call.args[1], ast.Tuple) else [call.args[1]]
        names = {(walk.src.qualname(k) or "").rsplit(".", 1)[-1] for k in kinds}
        if "str" in names:
            return None  # str is named (ruled out or handled) in this test
        if not negated and names & STR_SUPERTYPES and isinstance(call.args[0], ast.Name):
            found = call.args[0].id
    return found


class StrTreatedAsCollection(Rule):
    """Membership test on a value that may be a str, after isinstance(value, Sequence)

    What: code that branches on isinstance(value, Sequence) (or Iterable, Collection,
    Container) and then tests membership with `x in value` / `x not in value`, without
    ruling out str. A str is a Sequence, so a single allowed value written as a string
    turns the exact match into a substring match.
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
        if name is None:
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
