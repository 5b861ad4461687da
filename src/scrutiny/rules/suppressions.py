"""Disabled-check rules (6xx): unexplained scanner suppressions, skipped security tests,
checks under a condition that is never true."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Location, Severity
from scrutiny.rules.base import DEFAULT_CONTEXT, Rule, Walk, name_parts, note
from scrutiny.source import SUPPRESSION, SourceFile

NOSEC = re.compile(r"#\s*nosec\b(.*)$", re.IGNORECASE)
NOQA = re.compile(r"#\s*noqa\s*:\s*([A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)(.*)$", re.IGNORECASE)
SCANNER_CODE = re.compile(r"^S\d{3}$")
CODES = re.compile(r"\b(?:[A-Z]{1,4}\d{2,4}|[a-z]+(?:_[a-z]+)+)\b")
# Words of other tool pragmas sharing the comment; they are not a reason.
PRAGMA_WORDS = frozenset({"noqa", "nosec", "type", "ignore", "pragma", "no", "cover", "fmt", "skip", "off", "on"})
WORD = re.compile(r"[A-Za-z]{3,}")


# Another tool's directive in the same comment ("# type: ignore", "# pylint: disable=x").
DIRECTIVE = re.compile(r"^[A-Za-z][\w-]*\s*:\s*[\w=,\[\]-]+$")


def _has_reason(text: str) -> bool:
    words = [w.lower() for w in WORD.findall(CODES.sub(" ", text))]
    return any(w not in PRAGMA_WORDS for w in words)


def _other_parts(text: str, marker: re.Pattern[str]) -> str:
    """The parts of a comment beside the suppression that are not other tools' directives."""
    parts = [part.strip() for part in text.split("#")]
    return " ".join(p for p in parts if p and not marker.search("#" + p) and not DIRECTIVE.match(p))


class SuppressionWithoutReason(Rule):
    """Security scanner finding suppressed without a reason

    What: a "# nosec" comment (with or without Bandit test ids) or a
    "# noqa: S..." comment naming Ruff's security rules, and a
    "# scrutiny: ignore[...]" comment, with no words saying why.
    Why: a suppression is a security decision; without its reason, reviewers cannot
    tell a checked false positive from a silenced real problem, and nobody revisits it
    when the code around it changes. A bare # nosec also hides every other check on the
    line, including ones added later.
    Example:
        subprocess.run(cmd, shell=True)  # nosec
    Fix: use scrutiny's own suppression, which names the rule, and say why it does not apply:
    subprocess.run(cmd, shell=True)  # scrutiny: ignore[SCR101] cmd comes from the fixed table COMMANDS.
    A # nosec or # noqa: S... kept for another scanner needs its reason too.
    """

    id = "SCR651"
    name = "suppression-without-reason"
    category = Category.DISABLED_CHECKS
    cwe = 1059
    severity = Severity.LOW
    confidence = Confidence.HIGH
    context = {
        **DEFAULT_CONTEXT,
        FileKind.TEST: note("suppressions in tests silence checks on code that does not ship"),
    }

    def check_file(self, src: SourceFile) -> Iterator[Finding]:
        for comment in src.comments:
            what = self._unexplained(comment.text, src, comment.line)
            if what:
                location = Location(src.path, comment.line, comment.col, comment.line, comment.col + len(comment.text))
                yield self.finding(location, f"{what} without a reason", src)

    def _unexplained(self, text: str, src: SourceFile, line: int) -> str:
        if match := NOSEC.search(text):
            own = match.group(1).split("#", 1)[0]
            if not _has_reason(own + " " + _other_parts(text, NOSEC)):
                return "# nosec"
        if match := NOQA.search(text):
            codes = re.split(r"[\s,]+", match.group(1).strip())
            security = [c for c in codes if SCANNER_CODE.match(c.upper())]
            own = match.group(2).split("#", 1)[0]
            if security and not _has_reason(own + " " + _other_parts(text, NOQA)):
                return f"# noqa: {', '.join(security)}"
        suppression = src.suppressions.get(line)
        if suppression is not None and not _has_reason(_other_parts(suppression.reason, SUPPRESSION)):
            return f"scrutiny: ignore[{', '.join(sorted(suppression.rule_ids))}]"
        return ""


class UnusedSuppression(Rule):
    """Inline suppression that suppresses nothing

    What: a "# scrutiny: ignore[RULE-ID]" comment naming a rule that reported nothing
    on that line or the statement the comment belongs to, or naming no rule at all.
    Rules switched off for the file by configuration are not counted as unused.
    Why: a stale suppression is a blind spot waiting for code: when the line changes
    and the problem it once hid comes back, the comment hides it again, unseen. A
    misspelt rule id hides nothing and makes the author believe otherwise.
    Example:
        digest = hashlib.sha256(data).hexdigest()  # scrutiny: ignore[SCR301] checksum only
    Fix: delete the comment, or correct the rule id so it names the finding on the line.
    """

    id = "SCR605"
    name = "unused-suppression"
    category = Category.DISABLED_CHECKS
    cwe = 1164
    severity = Severity.LOW
    confidence = Confidence.HIGH
    context = {
        **DEFAULT_CONTEXT,
        FileKind.TEST: note("a stale suppression in a test hides nothing that ships"),
    }

    def report(self, src: SourceFile, line: int, rule_id: str, known: bool) -> Finding:
        comment = next((c for c in src.comments if c.line == line and SUPPRESSION.search(c.text)), None)
        col, end = (comment.col, comment.col + len(comment.text)) if comment else (0, 0)
        if known:
            message = f"ignore[{rule_id}] suppresses nothing: {rule_id} reports nothing here"
        else:
            message = f"ignore[{rule_id}] names no rule, so it suppresses nothing"
        return self.finding(Location(src.path, line, col, line, end), message, src)


SECURITY_WORDS = frozenset(
    {
        "auth", "authn", "authz", "csrf", "xsrf", "token", "tokens", "password", "passwords", "passwd", "security",
        "secure", "policy", "policies", "tls", "ssl", "cert", "certs", "certificate", "certificates", "rbac", "acl",
        "permission", "permissions", "perm", "perms", "privilege", "privileges", "login", "signature", "crypto",
        "xss", "injection", "sanitize", "secret", "secrets", "credential", "credentials", "oauth", "jwt", "saml",
    }
)  # fmt: skip
SECURITY_PREFIXES = ("auth", "unauth", "encrypt", "decrypt", "verif", "permi", "polic", "secur", "forbid")
SKIP_DECORATORS = frozenset({"unittest.skip", "pytest.mark.skip", "unittest.case.skip"})


def _security_name(name: str) -> str:
    """The security word in a test's name, or ''."""
    for part in name_parts(name):
        if part in SECURITY_WORDS or part.startswith(SECURITY_PREFIXES):
            return part
    return ""


def _skip_decorator(node: ast.AST, src: SourceFile) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return src.qualname(target) in SKIP_DECORATORS


def _skips_first(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """The test's first statement (after a docstring) is self.skipTest(...)."""
    body = [s for s in function.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if not body or not isinstance(body[0], ast.Expr) or not isinstance(body[0].value, ast.Call):
        return False
    func = body[0].value.func
    return isinstance(func, ast.Attribute) and func.attr == "skipTest"


class SecurityTestSkipped(Rule):
    """Security test switched off

    What: a test whose name mentions authentication, authorization, permissions,
    policy, CSRF, tokens, passwords, TLS/SSL or certificates, skipped without
    condition: @unittest.skip, @pytest.mark.skip, or self.skipTest() as its first
    statement. Reported as a note; conditional skips (skipIf, skipUnless) are not.
    Why: while the test is skipped, the check it covers can break without anyone
    noticing; skips added "for now" tend to stay.
    Example:
        @unittest.skip("flaky")
        def test_admin_policy_denies_member(self): ...
    Fix: fix the test and remove the skip; if it waits for a bug, use
    expectedFailure / pytest.mark.xfail(strict=True) naming the bug so the fix shows.
    """

    id = "SCR652"
    name = "security-test-skipped"
    category = Category.DISABLED_CHECKS
    cwe = 1164
    severity = Severity.INFO
    confidence = Confidence.MEDIUM
    node_types = (ast.FunctionDef, ast.AsyncFunctionDef)

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        if not node.name.startswith("test"):
            return
        word = _security_name(node.name)
        if not word:
            return
        decorator = next((d for d in node.decorator_list if _skip_decorator(d, walk.src)), None)
        if decorator is not None:
            yield self.finding(decorator, f"security test {node.name} ({word}) is skipped", walk.src,
                               scope=walk.scope_name)  # fmt: skip
        elif _skips_first(node):
            yield self.finding(node, f"security test {node.name} ({word}) skips itself", walk.src,
                               scope=walk.scope_name)  # fmt: skip


CHECK_CALL = re.compile(
    r"^(?:assert|check|verify|validate|authori[sz]e|authenticate|enforce|require|ensure|can$|can_|has_perm|"
    r"is_admin|is_authenticated|permission|policy)",
    re.IGNORECASE,
)


def _never_true(test: ast.expr) -> bool:
    if isinstance(test, ast.Constant):
        return not test.value
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return _never_true(test.values[0])
    return False


def _first_check(body: list[ast.stmt]) -> str:
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Assert):
                return "assert"
            if isinstance(node, ast.Raise):
                return "raise"
            if isinstance(node, ast.Call):
                func = node.func
                tail = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if CHECK_CALL.match(tail):
                    return f"{tail}()"
    return ""


class CheckInDeadBranch(Rule):
    """Check placed under a condition that is never true

    What: an if or while whose condition is the constant False, 0, None or "" (or
    starts "False and ...") and whose body asserts, raises, or calls a check (check_*,
    verify*, validate*, authorize, enforce, require*, permission/policy calls).
    Why: the check looks present to a reader and to grep, but never runs: the usual
    way a check is switched off "temporarily" and forgotten.
    Example:
        if False:
            context.can(servers_policies.SERVERS % "create")
    Fix: delete the condition so the check runs, or remove the dead code; if it waits
    for a bug fix, guard it with a named configuration flag and a TODO naming the bug.
    """

    id = "SCR653"
    name = "check-in-dead-branch"
    category = Category.DISABLED_CHECKS
    cwe = 561
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    node_types = (ast.If, ast.While)
    context = {
        **DEFAULT_CONTEXT,
        FileKind.TEST: note("a disabled assertion in a test weakens the test, not the product, so it is a test-quality note"),
    }

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.If | ast.While)
        if not _never_true(node.test):
            return
        found = _first_check(node.body)
        if found:
            keyword = "if" if isinstance(node, ast.If) else "while"
            shown = ast.unparse(node.test)
            yield self.finding(node.test, f"{found} under '{keyword} {shown}:' never runs", walk.src,
                               scope=walk.scope_name)  # fmt: skip
