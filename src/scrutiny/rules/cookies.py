"""Cookie rules (9xx): cookies set without Secure, HttpOnly or SameSite.

Three rules, not one: each flag has its own CWE and its own legitimate exceptions (a
CSRF cookie must be readable by JavaScript, so HttpOnly is off on purpose while Secure
still matters), and a suppression names one rule, so a team can accept one missing flag
without hiding the others.

Flask/Werkzeug, Django, Starlette/FastAPI and aiohttp all spell the flags secure=,
httponly= and samesite=. http.cookies morsels are checked through the keys assigned in
the same function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import ClassVar

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, exactly, is_false, keyword, name_parts, note, string_value
from scrutiny.source import SourceFile

SET_COOKIE = frozenset({"set_cookie", "set_signed_cookie"})
# Receivers that are cookie jars or test clients, whose set_cookie stores a cookie locally.
CLIENT_WORDS = frozenset({"client", "jar", "cookiejar", "session", "browser", "cookies"})
SIMPLE_COOKIE = frozenset({"http.cookies.SimpleCookie", "Cookie.SimpleCookie", "http.cookies.BaseCookie"})
COOKIE_CONTEXT = {
    FileKind.TEST: note("cookies set by tests never reach a browser"),
    FileKind.EXAMPLE: note("example code leaves out cookie flags for brevity"),
    FileKind.DOCS: note("documentation code leaves out cookie flags for brevity"),
}


def _response_cookie(call: ast.Call) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in SET_COOKIE:
        return False
    receiver = func.value
    last = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
    if set(name_parts(last)) & CLIENT_WORDS:
        return False
    if any(kw.arg is None for kw in call.keywords) or len(call.args) > 5:
        return False  # **options or positional flags: the values are not visible here
    # CookieJar.set_cookie(cookie) takes one Cookie object.
    if len(call.args) == 1 and not call.keywords and string_value(call.args[0]) is None:
        return False
    # Expiring a cookie to delete it sends no value worth protecting.
    for name in ("max_age", "expires"):
        value = keyword(call, name)
        if isinstance(value, ast.Constant) and value.value == 0:
            return False
    return True


def _morsel_flags(scope: ast.AST) -> set[str]:
    """Flag names assigned on morsels (c[key]["secure"] = True, or in a dict) in ``scope``."""
    flags: set[str] = set()
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and (key := string_value(target.slice)):
                    if not is_false(node.value) and string_value(node.value) != "":
                        flags.add(key.lower())
        elif isinstance(node, ast.Dict):
            flags.update(k.lower() for k in map(string_value, node.keys) if k)
    return flags


def _simple_cookie_names(scope: ast.AST, src: SourceFile) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            if src.qualname(node.value.func) in SIMPLE_COOKIE:
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


class CookieFlagRule(Rule):
    """Shared check of the three cookie rules; subclasses name the flag."""

    flag: ClassVar[str] = ""
    morsel_flag: ClassVar[str] = ""
    consequence: ClassVar[str] = ""
    category = Category.CONFIGURATION
    confidence = Confidence.MEDIUM
    node_types = (ast.Call, ast.Assign)
    call_filter = exactly(SET_COOKIE)
    context = COOKIE_CONTEXT

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        if isinstance(node, ast.Call):
            if not _response_cookie(node):
                return
            value = keyword(node, self.flag)
            if value is None or is_false(value) or (self.flag == "samesite" and _is_none(value)):
                how = "without" if value is None else f"with {self.flag}={ast.unparse(value)}, i.e. without"
                yield self.finding(node, f"cookie set {how} {self.flag}: {self.consequence}", walk.src,
                                   scope=walk.scope_name)  # fmt: skip
            return
        assert isinstance(node, ast.Assign)
        yield from self._check_morsel(node, walk)

    def _check_morsel(self, node: ast.Assign, walk: Walk) -> Iterator[Finding]:
        """c["session"] = value on a SimpleCookie, with no c[...][flag] set in the function."""
        target = node.targets[0]
        if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)):
            return
        # Subscript assignments are everywhere; only files that import a cookie jar can
        # hold a morsel, so the scope is searched only there.
        if not any(name.split(".", 1)[0] in ("http", "Cookie") for name in walk.src.imported_modules):
            return
        scope = walk.function or walk.src.tree
        if target.value.id not in _simple_cookie_names(scope, walk.src):
            return
        if self.morsel_flag not in _morsel_flags(scope):
            yield self.finding(node, f"cookie morsel set without {self.morsel_flag}: {self.consequence}", walk.src,
                               scope=walk.scope_name)  # fmt: skip


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


class CookieWithoutSecure(CookieFlagRule):
    """Cookie set without the Secure flag

    What: set_cookie/set_signed_cookie on a Flask, Django, Starlette or aiohttp response
    without secure=True (or with secure=False), and http.cookies morsels with no
    "secure" attribute set in the same function. Deleting a cookie (max_age=0) and
    flags passed through **options are not reported.
    Why: without Secure the browser also sends the cookie over plain HTTP, where anyone
    on the network path can read it and take over the session.
    Example:
        resp.set_cookie("session", token, httponly=True, samesite="Lax")
    Fix: resp.set_cookie("session", token, secure=True, httponly=True, samesite="Lax");
    serve the site over HTTPS only.
    """

    id = "SCR905"
    name = "cookie-without-secure"
    cwe = 614
    severity = Severity.MEDIUM
    flag = "secure"
    morsel_flag = "secure"
    consequence = "the browser also sends it over plain HTTP"


class CookieWithoutHttpOnly(CookieFlagRule):
    """Cookie set without the HttpOnly flag

    What: set_cookie/set_signed_cookie on a Flask, Django, Starlette or aiohttp response
    without httponly=True (or with httponly=False), and http.cookies morsels with no
    "httponly" attribute set in the same function.
    Why: a cookie without HttpOnly is readable by page scripts, so one cross-site
    scripting bug is enough to steal it.
    Example:
        resp.set_cookie("session", token, secure=True, samesite="Lax")
    Fix: add httponly=True for every cookie scripts do not need (sessions, auth
    tokens); suppress this rule with a reason for cookies JavaScript must read, such
    as a CSRF token cookie.
    """

    id = "SCR906"
    name = "cookie-without-httponly"
    cwe = 1004
    severity = Severity.LOW
    flag = "httponly"
    morsel_flag = "httponly"
    consequence = "page scripts can read it"


class CookieWithoutSameSite(CookieFlagRule):
    """Cookie set without a SameSite policy

    What: set_cookie/set_signed_cookie on a Flask, Django, Starlette or aiohttp
    response without samesite= (or with samesite=None), and http.cookies morsels with
    no "samesite" attribute set in the same function. Starlette's set_cookie defaults to "lax", but the
    call does not show which framework the response is from, so it is reported too.
    Why: without SameSite, browsers that do not default to Lax attach the cookie to
    requests other sites trigger, which enables cross-site request forgery and leaks.
    Example:
        resp.set_cookie("session", token, secure=True, httponly=True)
    Fix: samesite="Lax" (or "Strict" for cookies never needed on cross-site links).
    """

    id = "SCR907"
    name = "cookie-without-samesite"
    cwe = 1275
    severity = Severity.LOW
    flag = "samesite"
    morsel_flag = "samesite"
    consequence = "it is sent with cross-site requests"
