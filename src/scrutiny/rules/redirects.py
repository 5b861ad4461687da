"""Redirects built from the request's own path (93x, web frameworks).

Taint rule SCR507 follows request data into the redirect calls its models name (flask,
Django, FastAPI, aiohttp, webob, pecan); this rule covers the redirects no model names
(a handler's self.redirect, a redirect class passed in and raised) in slash-appending and
canonicalising code, where the path is the request's own and therefore looks harmless.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, call_tail, drop, note, string_value
from scrutiny.taint import models

# Attributes holding the path exactly as the client sent it (not an absolute URL, which
# carries the host, and not Django's get_full_path, which escapes leading slashes).
RAW_PATH_ATTRIBUTES = frozenset({"path", "raw_path", "path_info", "rel_url", "path_qs"})
REQUEST_NAMES = frozenset({"request", "req"})
# Ways to make sure a path cannot begin with '//': collapse, strip, test or vet it.
LEADING_SLASH_GUARD = re.compile(r"^\^?(?:/|\\/){2}|^/\+|^//")
VETTING_CALLS = frozenset({"url_has_allowed_host_and_scheme", "is_safe_url", "escape_leading_slashes"})


def _is_request(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in REQUEST_NAMES
    # self.request (tornado, class-based views)
    return isinstance(node, ast.Attribute) and node.attr == "request" and isinstance(node.value, ast.Name)


def _request_path(node: ast.AST) -> ast.Attribute | None:
    """The request-path attribute the expression is built from, if any."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Attribute) and inner.attr in RAW_PATH_ATTRIBUTES and _is_request(inner.value):
            return inner
    return None


def _is_redirect(call: ast.Call) -> bool:
    """redirect(), a ...Redirect response class, or a redirect class passed in; not helpers
    such as redirect_to_login(next=...), whose target is fixed."""
    tail = call_tail(call)
    return (
        tail.lower() == "redirect"
        or tail.endswith(("Redirect", "redirect_class"))
        or tail in ("HTTPFound", "HTTPMovedPermanently", "HTTPSeeOther")
    )


def _is_guard(node: ast.Call) -> bool:
    """A call that collapses, strips, rejects or vets a leading '//'."""
    tail = call_tail(node)
    if tail in VETTING_CALLS:
        return True
    first = string_value(node.args[0]) if node.args else None
    if first is None:
        return False
    if tail == "startswith":
        return first.startswith("//")
    if tail == "lstrip":
        return "/" in first
    return tail in ("sub", "subn", "match") and bool(LEADING_SLASH_GUARD.search(first))


def _statement_of(node: ast.AST, walk: Walk) -> ast.AST | None:
    while node is not None and not isinstance(node, ast.stmt):
        node = walk.parent(node)  # type: ignore[assignment]
    return node


def _dominates(guard: ast.Call, redirect: ast.Call, walk: Walk) -> bool:
    """The guard runs on every path to the redirect: its statement is the redirect's own,
    an ancestor of it, or an earlier sibling of one of its ancestors."""
    statement = _statement_of(guard, walk)
    if statement is None:
        return False
    ancestors: list[ast.AST] = []
    node: ast.AST | None = redirect
    while node is not None:
        ancestors.append(node)
        node = walk.parent(node)
    if statement in ancestors:
        return True
    parent = walk.parent(statement)
    for name in ("body", "orelse", "finalbody"):
        block = getattr(parent, name, None)
        if isinstance(block, list) and statement in block:
            later = block[block.index(statement) + 1 :]
            return any(s in ancestors for s in later)
    return False


def _guarded(redirect: ast.Call, function: ast.AST, walk: Walk) -> bool:
    return any(
        isinstance(node, ast.Call) and _is_guard(node) and _dominates(node, redirect, walk)
        for node in ast.walk(function)
    )


class RedirectToRequestPath(Rule):
    """Redirect to the request's own path without ruling out a leading '//'

    What: a redirect that no taint model names (a handler's self.redirect(), a redirect
    class passed in and raised or called; SCR507 covers the modelled ones) whose target
    is built from the request's raw path (request.path, raw_path, path_info, rel_url,
    path_qs), unless a step that collapses, strips or rejects a leading '//' (or vets the
    URL with url_has_allowed_host_and_scheme or the like) runs on every path to it: a
    guard on only some branches does not count.
    Why: a path such as //evil.example/x is a valid request path, but as a Location it is
    a protocol-relative URL: the browser goes to evil.example. Slash-appending and
    canonicalising redirects built from the path therefore become open redirects
    (CWE-601), useful for phishing and for stealing OAuth codes.
    Example:
        if not request.path.endswith("/"):
            return redirect(request.path + "/")
    Fix: collapse leading slashes first (path = "/" + path.lstrip("/") or
    re.sub("^//+", "/", path)), or reject paths starting with '//', or check the target
    with url_has_allowed_host_and_scheme before redirecting.
    """

    id = "SCR934"
    name = "redirect-to-request-path"
    category = Category.INPUT_VALIDATION
    cwe = 601
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Call,)
    call_filter = re.compile(
        r"^(?i:redirect)$|(?:Redirect|redirect_class)$|^(?:HTTPFound|HTTPMovedPermanently|HTTPSeeOther)$"
    )  # _is_redirect
    context = {
        FileKind.TEST: drop("tests build redirects from the paths they request"),
        FileKind.EXAMPLE: note("example code redirects without hardening"),
        FileKind.DOCS: note("documentation code redirects without hardening"),
    }

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        if not _is_redirect(node) or (walk.src.qualname(node.func) or "") in models.load().sink_calls:
            return  # a modelled redirect: SCR507 follows the data into it
        target = node.args[0] if node.args else next(
            (kw.value for kw in node.keywords if kw.arg in ("location", "url", "to", "redirect_to")), None)  # fmt: skip
        if target is None or (path := _request_path(target)) is None:
            return
        function = walk.function
        if function is None or _guarded(node, function, walk):
            return
        yield self.finding(
            node,
            f"redirect built from {ast.unparse(path)}: a path starting with '//' sends the browser to another site",
            walk.src,
            scope=walk.scope_name,
        )
