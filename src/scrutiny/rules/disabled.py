"""Disabled-check rules (6xx): checks commented out, often because of a known bug."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Location, Severity
from scrutiny.rules.base import DEFAULT_CONTEXT, Rule, note
from scrutiny.source import SourceFile

# A FIXME naming a bug counts as the reason for disabled code this many lines below it.
NEAR_LINES = 12


def _moved(code: str, src: SourceFile) -> bool:
    """The commented code is ``target = x.method(...)`` and the file's code still assigns
    ``target`` from a call of ``method``: the call was moved (into a lazy getter, say)."""
    try:
        statement = ast.parse(code.strip()).body
    except (SyntaxError, ValueError):
        return False
    if len(statement) != 1 or not isinstance(statement[0], ast.Assign) or not isinstance(statement[0].value, ast.Call):
        return False
    wanted = {(ast.unparse(t), _method(statement[0].value)) for t in statement[0].targets}
    for node in src.index.of_type(ast.Assign):
        assert isinstance(node, ast.Assign)
        if isinstance(node.value, ast.Call) and any((ast.unparse(t), _method(node.value)) in wanted for t in node.targets):
            return True
    return False


def _defines(code: str) -> bool:
    """The commented code defines a function or class (an override kept for reference):
    its body's calls are not calls the program skips where the comment stands."""
    try:
        statements = ast.parse(code.strip()).body
    except (SyntaxError, ValueError):
        return False
    return bool(statements) and isinstance(statements[0], ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)


def _unwrapped(code: str, calls: tuple[str, ...]) -> str:
    """The commented statement with each call of a security function replaced by its only
    argument (``check(x)`` becomes ``x``), dumped for comparison; '' when it does not parse."""
    try:
        statements = ast.parse(code.strip()).body
    except (SyntaxError, ValueError):
        return ""
    if len(statements) != 1:
        return ""
    wanted = {call.rsplit(".", 1)[-1] for call in calls}

    class Unwrap(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> ast.AST:
            self.generic_visit(node)
            if _method(node).rsplit(".", 1)[-1] in wanted and len(node.args) == 1 and not node.keywords:
                return node.args[0]
            return node

    return ast.dump(Unwrap().visit(statements[0]))


def _superseded(code: str, calls: tuple[str, ...], end: int, src: SourceFile) -> int:
    """The line of the live statement right below the comment that is the commented
    statement without the security call (``# y = check(x)`` over ``y = x``): the call was
    removed on purpose and the line rewritten, not switched off. 0 when there is none."""
    wanted = _unwrapped(code, calls)
    if not wanted:
        return 0
    line = end + 1
    while line <= src.line_count and not src.line_text(line).strip():
        line += 1
    for node in ast.walk(src.tree):
        if isinstance(node, ast.stmt) and node.lineno == line:
            return line if ast.dump(node) == wanted else 0
    return 0


def _method(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else ast.unparse(func)


class CommentedOutCheck(Rule):
    """Assertion or security call commented out

    What: a commented-out assert, assertion method (assertEqual, assertFlavorMatches...)
    or security call (authorize, enforce, verify, validate, escape, policy checks;
    not a call that gives a permission, such as add_permission, whose removal takes
    access away),
    reported with the FIXME/TODO and bug number that explain it when one is near. An
    assignment from a security call whose target the file's code still assigns from the
    same method (moved into a lazy getter) was moved, not disabled, and is not reported;
    nor is a commented-out function or class definition (an override kept for reference).
    A commented-out statement with a security call directly over a live statement that is
    the same statement without the call (``# y = escape(x)`` over ``y = x``) is low: the
    call was removed on purpose and the line rewritten, a decision rather than a check
    switched off.
    Why: a disabled check is invisible to tests and reviewers: the code runs as if the
    check passed. In production code that can remove an authorization or validation
    step; in a test it lets the behaviour it guarded regress without a failure.
    Example:
        # FIXME: bug 1825537, re-enable when fixed
        # self.assertFlavorMatchesAllocation(flavor, server_id, rp_uuid)
    Fix: restore the check once the bug is fixed; until then keep it running as an
    expected failure (unittest.expectedFailure, pytest.mark.xfail(strict=True)) that
    names the bug, so the fix is noticed.
    """

    id = "SCR603"
    name = "commented-out-check"
    category = Category.DISABLED_CHECKS
    cwe = 1164
    severity = Severity.LOW
    confidence = Confidence.MEDIUM
    context = {
        **DEFAULT_CONTEXT,
        FileKind.TEST: note("a disabled assertion in a test weakens the test, not the product, so it is a test-quality note"),
    }

    def check_file(self, src: SourceFile) -> Iterator[Finding]:
        for code in src.commented_code:
            if not (code.is_assertion or code.security_calls):
                continue
            if not code.is_assertion and (_moved(code.code, src) or _defines(code.code)):
                continue
            what = "security call " + ", ".join(code.security_calls) if code.security_calls else "assertion"
            if code.is_assertion and code.calls:
                what = f"assertion {code.calls[0]}"
            elif code.is_assertion:
                what = "assert statement"
            reason = next(
                (n for n in src.bug_notes if n.start <= code.start and code.start - n.start <= NEAR_LINES), None
            )
            because = f"; the {reason.marker} at line {reason.start} names bug {reason.bug}" if reason else ""
            location = Location(src.path, code.start, 0, code.end, len(src.line_text(code.end)))
            severity = Severity.MEDIUM if code.security_calls else Severity.LOW
            rewritten = _superseded(code.code, code.security_calls, code.end, src) if code.security_calls else 0
            if rewritten:
                severity = Severity.LOW
                because += (
                    f"; line {rewritten} below is the same statement without the call, so the call was "
                    f"removed on purpose and the line rewritten (a decision to review, not a switched-off check)"
                )
            yield self.finding(
                location,
                f"{what} is commented out{because}",
                src,
                severity=severity,
                cwe=693 if code.security_calls else None,
            )
