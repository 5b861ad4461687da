"""Error-handling rules (6xx): checks that vanish and errors that are swallowed."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.authz import CHECK_CALLS, raises_forbidden
from scrutiny.rules.base import DEFAULT_CONTEXT, Rule, Walk, drop, note
from scrutiny.rules.handlers import handler_of, reads_request_field
from scrutiny.source import SourceFile

# Library calls and attributes that decide access: the authorization idioms the authz
# rules read, Django/Flask-Login user state, password and constant-time digest checks.
AUTH_CALLS = frozenset(CHECK_CALLS | {"check_password", "verify_password", "compare_digest", "check_password_hash"})
AUTH_ATTRIBUTES = frozenset({"is_authenticated", "is_anonymous", "is_staff", "is_superuser"})
# Calls whose result is a digest or signature: comparing with one is checking a token.
DIGEST_CALLS = frozenset({"hexdigest", "digest", "sign", "signature"})
DIGEST_MODULES = ("hmac.", "hashlib.")
# Library decorators and class bases that let a request through only for a logged-in user
# (their documented behaviour: redirect to the login page, or answer 401/403, otherwise).
LOGIN_DECORATORS = frozenset({
    "django.contrib.auth.decorators.login_required", "django.contrib.admin.views.decorators.staff_member_required",
    "flask_login.login_required", "flask_login.utils.login_required", "tornado.web.authenticated",
})  # fmt: skip
LOGIN_BASES = frozenset({"django.contrib.auth.mixins.LoginRequiredMixin", "rest_framework.permissions.IsAuthenticated"})
BROAD_EXCEPTIONS = {"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"}


def _is_type_narrowing(test: ast.expr) -> bool:
    """``assert isinstance(x, T)`` and ``assert x is not None`` serve type checkers."""
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id in ("isinstance", "issubclass"):
        return True
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is | ast.IsNot):
        return isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None
    return False


def _chain(node: ast.AST) -> str:
    """The dotted name of an attribute or a call's function, without a leading self/cls."""
    if isinstance(node, ast.Call):
        node = node.func
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id not in ("self", "cls"):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _ending(chain: str) -> str:
    """The last two parts of a chain (user.is_admin), what two spellings of one check share."""
    return ".".join(chain.split(".")[-2:])


def _chains(test: ast.expr) -> list[str]:
    """The whole attribute chains and called names in ``test`` (request.user.is_admin, not
    also request.user), by their last two parts."""
    inner = {id(n.value) for n in ast.walk(test) if isinstance(n, ast.Attribute)}
    inner |= {id(n.func) for n in ast.walk(test) if isinstance(n, ast.Call)}
    return [
        _ending(chain)
        for n in ast.walk(test)
        if isinstance(n, ast.Attribute | ast.Call) and id(n) not in inner and "." in (chain := _chain(n))
    ]


def access_guards(src: SourceFile) -> dict[str, int]:
    """What the file tests before denying access (if not user.is_admin: raise
    PermissionDenied; if token != expected: abort(403)), by chain ending, with the line."""
    if _GUARDS and _GUARDS[0][0] is src:  # asked for every assert of the file
        return _GUARDS[0][1]
    found: dict[str, int] = {}
    for node in src.index.of_type(ast.If):
        assert isinstance(node, ast.If)
        if not any(raises_forbidden(n) for stmt in node.body + node.orelse for n in ast.walk(stmt)):
            continue
        for ending in _chains(node.test):
            found.setdefault(ending, node.lineno)
    _GUARDS[:] = [(src, found)]
    return found


_GUARDS: list[tuple[SourceFile, dict[str, int]]] = []


def _digest(node: ast.AST, src: SourceFile) -> bool:
    """A digest or signature computed in sight and compared as it is (hmac.new(...).hexdigest(),
    hmac.digest(...)); not a fact about one (len(x) == sha1().digest_size)."""
    if not isinstance(node, ast.Call):
        return False
    name = src.qualname(node.func) or ""
    return name.startswith(DIGEST_MODULES) or (isinstance(node.func, ast.Attribute) and node.func.attr in DIGEST_CALLS)


def _on_self(node: ast.Attribute) -> bool:
    """self.is_anonymous: a flag of the object's own class (an anonymous AST node), not a
    user's state read from a request or a user object."""
    return isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")


def access_evidence(test: ast.expr, function: ast.AST | None, src: SourceFile) -> str:
    """Why an asserted condition decides access ('' when nothing shows it does): it calls an
    authorization or password check, reads a user's authentication state, compares with a
    digest or signature, tests what the file elsewhere denies access on, or reads request
    data in a request handler."""
    for node in ast.walk(test):
        if isinstance(node, ast.Call):
            tail = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if tail in AUTH_CALLS:
                return f"{tail}() is an authorization check"
        elif isinstance(node, ast.Attribute) and node.attr in AUTH_ATTRIBUTES and not _on_self(node):
            return f"{node.attr} is the user's authentication state"
        elif isinstance(node, ast.Compare) and any(_digest(side, src) for side in [node.left, *node.comparators]):
            return "it compares with a digest computed in sight"
    guards = access_guards(src)
    for ending in _chains(test):
        if ending in guards:
            return f"line {guards[ending]} denies access on {ending}"
    handler = handler_of(function, src) if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) else None
    if handler is not None and reads_request_field(test, handler):
        return f"request handler {handler.name} tests request data"
    return ""


def _authentication_only(test: ast.expr) -> bool:
    """``x.is_authenticated`` or ``not x.is_anonymous``: the test says only that someone is logged in."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = test.operand
        return isinstance(inner, ast.Attribute) and inner.attr == "is_anonymous" and not _on_self(inner)
    return isinstance(test, ast.Attribute) and test.attr == "is_authenticated" and not _on_self(test)


def _denies_anonymous(function: ast.AST) -> bool:
    """The function turns away a user who is not logged in before going on: an
    ``if not ...is_authenticated`` (or ``if ...is_anonymous``) whose body returns or raises."""
    for node in ast.walk(function):
        if not isinstance(node, ast.If) or not node.body or not isinstance(node.body[-1], ast.Return | ast.Raise):
            continue
        test = node.test
        negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        inner = test.operand if isinstance(test, ast.UnaryOp) and negated else test
        if isinstance(inner, ast.Attribute) and not _on_self(inner):
            if (negated and inner.attr == "is_authenticated") or (not negated and inner.attr == "is_anonymous"):
                return True
    return False


def _local_definitions(src: SourceFile) -> dict[str, ast.AST]:
    return {n.name: n for n in src.tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}


def _login_decorator(decorator: ast.expr, src: SourceFile, local: dict[str, ast.AST]) -> str:
    """How ``decorator`` (or the decorator method_decorator wraps) admits only logged-in
    users: a library login decorator, or one of this file whose wrapper turns the others away."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = src.qualname(target) or ""
    if name.rsplit(".", 1)[-1] == "method_decorator" and isinstance(decorator, ast.Call) and decorator.args:
        return _login_decorator(decorator.args[0], src, local)
    if name in LOGIN_DECORATORS:
        return f"@{name.rsplit('.', 1)[-1]}"
    defined = local.get(target.id) if isinstance(target, ast.Name) else None
    if isinstance(defined, ast.FunctionDef | ast.AsyncFunctionDef) and _denies_anonymous(defined):
        return f"@{defined.name}"
    return ""


def _applies_to(decorator: ast.expr, method: str) -> bool:
    """A class decorator method_decorator(d, name=...) wraps ``method`` or dispatch, which
    every request to the view passes through."""
    if not isinstance(decorator, ast.Call):
        return True
    named = next((kw.value for kw in decorator.keywords if kw.arg == "name"), None)
    if named is None:
        return True
    names = [named] if not isinstance(named, ast.List | ast.Tuple) else list(named.elts)
    return any(isinstance(n, ast.Constant) and n.value in ("dispatch", method) for n in names)


def authentication_enforced(node: ast.AST, src: SourceFile) -> str:
    """What already admits only logged-in users on every path to ``node``: a login decorator
    of an enclosing function, of its class (method_decorator(login_required, name="dispatch")),
    of the class's dispatch method, or a base class (LoginRequiredMixin, a class of this file
    whose dispatch turns away anonymous users); '' when nothing in sight does."""
    local = _local_definitions(src)
    parents = src.index.parents
    method = ""
    scope = parents.get(node)
    while scope is not None:
        if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            method = method or scope.name
            for decorator in scope.decorator_list:
                if shown := _login_decorator(decorator, src, local):
                    return f"{shown} on {scope.name}"
        elif isinstance(scope, ast.ClassDef):
            for decorator in scope.decorator_list:
                if (shown := _login_decorator(decorator, src, local)) and _applies_to(decorator, method):
                    return f"{shown} on {scope.name}"
            for item in scope.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == "dispatch":
                    for decorator in item.decorator_list:
                        if shown := _login_decorator(decorator, src, local):
                            return f"{shown} on {scope.name}.dispatch"
                if isinstance(item, ast.Assign) and any(getattr(t, "id", "") == "permission_classes" for t in item.targets):
                    if any(src.qualname(e) in LOGIN_BASES for e in ast.walk(item.value) if isinstance(e, ast.Name | ast.Attribute)):
                        return f"permission_classes of {scope.name}"
            for base in scope.bases:
                if src.qualname(base) in LOGIN_BASES:
                    return f"{ast.unparse(base)}, a base of {scope.name}"
                defined = local.get(base.id) if isinstance(base, ast.Name) else None
                if isinstance(defined, ast.ClassDef) and any(
                    isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == "dispatch"
                    and _denies_anonymous(item) for item in defined.body
                ):  # fmt: skip
                    return f"{defined.name}.dispatch, a base of {scope.name}"
        scope = parents.get(scope)
    return ""


class AssertUsedAsCheck(Rule):
    """assert used to enforce a condition in production code

    What: an assert statement outside tests that checks a run-time condition.
    Why: python -O and PYTHONOPTIMIZE strip every assert, so the check silently
    disappears in optimised deployments; a security decision made by assert is skipped.
    The finding is medium, as an authorization check, only when the code shows the
    condition decides access: it calls an authorization or password check (has_perm,
    check_password, compare_digest), reads a user's authentication state
    (is_authenticated, is_staff, not a flag of self), compares with a digest computed in
    sight (the digest itself, not its length or size), tests what the
    file elsewhere denies access on (the condition of a raise PermissionDenied or
    abort(403)), or tests request data in a request handler. Asserts on a setting being
    present, a type, a length or the object's state are the low, generic finding.
    An assert that only a user is logged in (is_authenticated, not is_anonymous) is low
    when a check in sight already admits only logged-in users on every path to it: a login
    decorator (login_required, flask_login's, or one of the file whose wrapper turns
    anonymous users away) on the function, on an enclosing function, on the class
    (method_decorator(login_required, name="dispatch")) or on its dispatch method, a
    LoginRequiredMixin or IsAuthenticated permission class, or a base class of the file whose
    dispatch turns anonymous users away. The message names the check.
    Example:
        assert request.user.has_perm("blog.delete_post")
    Fix: raise an explicit exception: if not request.user.has_perm(...): raise
    PermissionDenied().
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
        evidence = access_evidence(node.test, walk.function, walk.src)
        enforced = authentication_enforced(node, walk.src) if evidence and _authentication_only(node.test) else ""
        if enforced:
            yield self.finding(
                node,
                f"assert `{text[:80]}` restates the login check every request already passes ({enforced}); "
                "python -O removes only the restatement",
                walk.src,
                scope=walk.scope_name,
            )
        elif evidence:
            yield self.finding(
                node,
                f"access decision `{text[:80]}` is enforced only by assert ({evidence})",
                walk.src,
                scope=walk.scope_name,
                severity=Severity.MEDIUM,
                cwe=285,
            )
        else:
            yield self.finding(
                node, f"assert `{text[:80]}` disappears under python -O", walk.src, scope=walk.scope_name
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
