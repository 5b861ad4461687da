"""Error-handling rules (6xx): checks that vanish and errors that are swallowed."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import DEFAULT_CONTEXT, Rule, Walk, drop, note

SECURITY_WORDS = re.compile(
    r"(auth|permission|allowed|is_admin|admin|role|owner|token|password|csrf|signature|verified|trusted|policy)",
    re.IGNORECASE,
)
# Parser vocabulary that contains a security word without being about security.
PARSER_WORDS = re.compile(
    r"\btokens?_(start|end|type|kind|pos|index|string|value|name|id)\b|\btokens\b|TAG_(START|END)", re.IGNORECASE
)
BROAD_EXCEPTIONS = {"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"}


def _is_type_narrowing(test: ast.expr) -> bool:
    """``assert isinstance(x, T)`` and ``assert x is not None`` serve type checkers."""
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id in ("isinstance", "issubclass"):
        return True
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is | ast.IsNot):
        return isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None
    return False


class AssertUsedAsCheck(Rule):
    """assert used to enforce a condition in production code

    What: an assert statement outside tests that checks a run-time condition.
    Why: python -O and PYTHONOPTIMIZE strip every assert, so the check silently
    disappears in optimised deployments; a security decision made by assert is skipped.
    Example:
        assert user.is_admin, "admins only"
    Fix: raise an explicit exception: if not user.is_admin: raise PermissionDenied().
    """

    id = "SCR601"
    name = "assert-used-as-check"
    category = Category.ERROR_HANDLING
    # No CWE names "check removed by the optimiser"; an unchecked condition is the effect.
    cwe = 754
    severity = Severity.LOW
    confidence = Confidence.HIGH
    node_types = (ast.Assert,)
    context = {
        **DEFAULT_CONTEXT,
        FileKind.TEST: drop("assert is how tests check; it is not a defect in test code"),
        FileKind.SCRIPT: note("an assert in a script run by hand is a convenience check"),
    }
    bandit = ("B101",)
    ruff = ("S101",)

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Assert)
        if _is_type_narrowing(node.test):
            return
        text = ast.unparse(node.test)
        if not _is_length_invariant(node.test) and SECURITY_WORDS.search(PARSER_WORDS.sub("", text)):
            yield self.finding(
                node,
                f"security-relevant condition `{text[:80]}` is enforced only by assert",
                walk.src,
                scope=walk.scope_name,
                severity=Severity.MEDIUM,
                cwe=285,
            )
        else:
            yield self.finding(
                node, f"assert `{text[:80]}` disappears under python -O", walk.src, scope=walk.scope_name
            )


def _is_length_invariant(test: ast.expr) -> bool:
    """``len(token) == TOKEN_LENGTH``: a size precondition, not an access decision (a value
    of the wrong size then fails the check that follows instead of passing it)."""
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return False
    sides = [test.left, *test.comparators]
    sized = [s for s in sides if isinstance(s, ast.Call) and isinstance(s.func, ast.Name) and s.func.id == "len"]
    return len(sized) == 1 and all(
        isinstance(s, ast.Constant | ast.Name | ast.Attribute) for s in sides if s is not sized[0]
    )


def _handler_swallows(handler: ast.ExceptHandler) -> str:
    """'pass' or 'continue' when the handler body does nothing else."""
    body = [stmt for stmt in handler.body if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))]
    if not body and handler.body:
        return "pass"
    if len(body) == 1 and isinstance(body[0], ast.Pass | ast.Continue):
        return "pass" if isinstance(body[0], ast.Pass) else "continue"
    return ""


class BroadExceptionSwallowed(Rule):
    """Broad exception caught and silently discarded

    What: except:, except Exception: or except BaseException: whose body is only pass,
    continue or a docstring.
    Why: every failure, including failed security checks, lost connections and
    corrupted state, is hidden; the code goes on as if the step had succeeded and
    nothing is left for operators to investigate.
    Example:
        try:
            verify_signature(blob)
        except Exception:
            pass
    Fix: catch the specific exceptions you expect, and log or re-raise the rest;
    contextlib.suppress(SpecificError) states a deliberate skip.
    """

    id = "SCR602"
    name = "broad-exception-swallowed"
    category = Category.ERROR_HANDLING
    cwe = 390
    severity = Severity.LOW
    confidence = Confidence.HIGH
    node_types = (ast.ExceptHandler,)
    context = {
        **DEFAULT_CONTEXT,
        FileKind.TEST: note("a swallowed exception in test code affects the test, not the product"),
    }
    bandit = ("B110", "B112")
    ruff = ("S110", "S112")

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.ExceptHandler)
        action = _handler_swallows(node)
        if not action:
            return
        caught = self._broad_name(node.type, walk)
        if caught is None:
            return
        clause = f"except {caught}:" if caught else "except:"
        yield self.finding(
            node,
            f"`{clause}` discards every error with `{action}`",
            walk.src,
            scope=walk.scope_name,
        )

    @staticmethod
    def _broad_name(node: ast.expr | None, walk: Walk) -> str | None:
        if node is None:
            return ""
        names = node.elts if isinstance(node, ast.Tuple) else [node]
        for name in names:
            dotted = walk.src.qualname(name)
            if dotted in BROAD_EXCEPTIONS:
                return dotted.rsplit(".", 1)[-1]
        return None
