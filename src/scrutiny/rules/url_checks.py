"""URL checks by substring that a crafted URL passes (incomplete URL sanitization)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, call_tail, own_nodes

# A host name as a literal: labels of letters, digits and hyphens, ending in an alphabetic
# top-level label (example.com, api.example.co.uk), optionally after a scheme.
HOST = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(:\d+)?(/.*)?$", re.I
)
# Top-level domains common enough in host checks: a dotted literal ending in anything else
# is taken for a module path or a file name (django.contrib.sessions, disk.local, app.py).
TLDS = frozenset({
    "com", "org", "net", "edu", "gov", "mil", "int", "io", "co", "ai", "app", "dev", "cloud", "info", "biz", "me",
    "tv", "xyz", "online", "site", "tech", "example", "test", "invalid", "localhost", "internal", "corp",
    "uk", "de", "fr", "jp", "cn", "ru", "br", "in", "au", "ca", "us", "eu", "nl", "ch", "se", "no", "es", "it", "pl",
    "be", "at", "dk", "fi", "cz", "kr", "tw", "hk", "sg", "nz", "za", "mx", "ar", "ie", "il", "tr", "ua", "gr",
})  # fmt: skip


# Calls a branch may make without acting on the URL: logging and text helpers.
LOG_CALLS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "print"})
TEXT_CALLS = frozenset(name for name in dir(str) if not name.startswith("_")) | {"str", "len", "repr", "format"}
LEAVING = {ast.Return: "returns", ast.Raise: "raises", ast.Continue: "skips an item", ast.Break: "stops a loop"}


def _mentions(node: ast.AST, checked: str) -> bool:
    return any(isinstance(sub, ast.Name | ast.Attribute | ast.Subscript) and ast.unparse(sub) == checked
               for sub in ast.walk(node))  # fmt: skip


def _branch_acts(roots: list[ast.AST], checked: str, parents: dict[ast.AST, ast.AST]) -> str | None:
    """What a branch does that makes the check a decision: it leaves (return, raise,
    continue, break), sets a verdict (flag = True), passes the URL to a call, or calls
    something for its effect. None when it only rewrites or labels the value."""
    for node in own_nodes(roots):
        for kind, verb in LEAVING.items():
            if isinstance(node, kind):
                return verb
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            if (acts := _assignment_acts(node, checked)) is not None:
                return acts
        if not isinstance(node, ast.Call) or call_tail(node) in LOG_CALLS | TEXT_CALLS:
            continue
        statement = _statement_of(node, parents)
        if isinstance(statement, ast.Assign) and any(ast.unparse(t) == checked for t in statement.targets):
            continue  # url = normalize(url): the URL is rewritten, not acted on
        if any(_mentions(arg, checked) for arg in [*node.args, *(kw.value for kw in node.keywords)]):
            return f"passes it to {ast.unparse(node.func)}()"
        if isinstance(statement, ast.Expr):
            return f"calls {ast.unparse(node.func)}()"
    return None


def _assignment_acts(node: ast.Assign | ast.AnnAssign, checked: str) -> str | None:
    """An assignment that decides: a verdict (ok = True), the URL handed to another name
    (target = url), or the URL replaced by something else (url = DEFAULT). Rewriting the
    URL from itself (url = "git+" + url) and labels (kind = "github") decide nothing."""
    assert node.value is not None
    targets = [ast.unparse(t) for t in (node.targets if isinstance(node, ast.Assign) else [node.target])]
    uses_url = _mentions(node.value, checked)
    if checked in targets:
        return None if uses_url else "replaces it"
    if isinstance(node.value, ast.Constant) and isinstance(node.value.value, bool):
        return f"sets {targets[0]} = {node.value.value}"
    return f"hands it to {targets[0]}" if uses_url else None


def _statement_of(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST | None:
    current: ast.AST | None = node
    while current is not None and not isinstance(current, ast.stmt):
        current = parents.get(current)
    return current


def trust_decision(check: ast.AST, checked: ast.AST, walk: Walk) -> str | None:
    """Why the outcome of ``check`` on ``checked`` decides what the code trusts, or None when
    it only chooses how to rewrite or label the value (prefix "git+" to a GitHub URL)."""
    parents = walk.src.index.parents
    child, parent = check, parents.get(check)
    while isinstance(parent, ast.BoolOp) or (isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)):
        child, parent = parent, parents.get(parent)
    text = ast.unparse(checked)
    if isinstance(parent, ast.If) and child is parent.test:
        for branch, which in ((parent.body, "the branch it guards"), (parent.orelse, "its else branch")):
            if (acts := _branch_acts(list(branch), text, parents)) is not None:
                return f"{which} {acts}"
        return None
    if isinstance(parent, ast.IfExp) and child is parent.test:
        for chosen in (parent.body, parent.orelse):
            if (acts := _branch_acts([chosen], text, parents)) is not None and not acts.startswith("calls"):
                return f"the value it chooses {acts}"
        return None
    if isinstance(parent, ast.Return | ast.Lambda):
        return "the function returns it as a verdict"
    if isinstance(parent, ast.Assert):
        return "an assert stops on it"
    return "its result is kept as a verdict"


def _host_literal(node: ast.AST) -> tuple[str, str] | None:
    """(text, host) of a string literal that names a host, or None."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return None
    match = HOST.match(node.value)
    if match is None:
        return None
    host = match.group(1)
    if host.rsplit(".", 1)[-1].lower() not in TLDS:
        return None
    return node.value, host


def _no_path(text: str) -> bool:
    """A URL literal that stops at the host (or port), with no / after it."""
    match = HOST.match(text)
    return match is not None and match.group(3) is None


MAPPING_METHODS = frozenset({"get", "keys", "items", "values", "pop", "setdefault", "update"})
COLLECTION_MAKERS = frozenset({"dict", "set", "list", "frozenset", "tuple", "collections.OrderedDict",
                               "collections.defaultdict", "OrderedDict", "defaultdict"})  # fmt: skip


def used_as_mapping(checked: ast.AST, walk: Walk) -> str:
    """How the file shows ``checked`` is a collection rather than a string ('' if it does
    not): indexed by a string key or given a mapping method call elsewhere, bound to a
    collection, or a module dunder the file never binds (a loader-injected table such
    as __salt__)."""
    shown = ast.unparse(checked)
    for node in walk.src.index.of_type(ast.Subscript):
        assert isinstance(node, ast.Subscript)
        if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str) and ast.unparse(node.value) == shown:
            return f"{shown} is indexed by a string key on line {node.lineno}"
    for node in walk.src.index.of_type(ast.Call):
        assert isinstance(node, ast.Call)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in MAPPING_METHODS and ast.unparse(func.value) == shown:
            return f"{shown}.{func.attr}() is called on line {node.lineno}"
    if isinstance(checked, ast.Name):
        for node in walk.src.index.of_type(ast.Assign):
            assert isinstance(node, ast.Assign)
            if any(isinstance(t, ast.Name) and t.id == checked.id for t in node.targets):
                value = node.value
                if isinstance(value, ast.Dict | ast.Set | ast.List | ast.DictComp | ast.SetComp | ast.ListComp):
                    return f"{shown} is bound to a collection on line {node.lineno}"
                if isinstance(value, ast.Call) and ast.unparse(value.func) in COLLECTION_MAKERS:
                    return f"{shown} is bound to a collection on line {node.lineno}"
                return ""
        if checked.id.startswith("__") and checked.id.endswith("__") and checked.id not in ("__name__", "__file__"):
            return f"{shown} is a module dunder the file never binds"
    return ""


# Libraries whose calls take a URL: a tested value handed to one of them is a URL.
URL_LIBRARIES = ("requests.", "httpx.", "urllib.", "aiohttp.", "flask.", "django.", "starlette.", "fastapi.",
                 "werkzeug.", "tornado.", "http.client.", "webbrowser.")  # fmt: skip
URL_PARSERS = frozenset({"urllib.parse.urlparse", "urllib.parse.urlsplit", "urlparse.urlparse", "urlparse.urlsplit"})


def _shows_a_url(check: ast.AST, checked: ast.AST, walk: Walk) -> bool:
    """The tested value is a URL or a host by what the code does, not by its name: the
    literal is a URL itself (https://...), the value is read from a URL parser's result or
    handed to a library call that takes a URL, or the test is a verdict (the function
    returns True or False on it, or returns the test itself) as host validators give."""
    literal = next((n.value for n in ast.walk(check) if isinstance(n, ast.Constant) and isinstance(n.value, str)), "")
    if "://" in literal:
        return True
    node = checked
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        if isinstance(node, ast.Call) and (walk.src.qualname(node.func) or "") in URL_PARSERS:
            return True
        node = node.value if isinstance(node, ast.Attribute | ast.Subscript) else node.func
    shown = ast.unparse(checked)
    scope = walk.function or walk.src.tree
    for call in ast.walk(scope):
        if isinstance(call, ast.Call) and (walk.src.qualname(call.func) or "").startswith(URL_LIBRARIES):
            if any(ast.unparse(arg) == shown for arg in [*call.args, *(kw.value for kw in call.keywords)]):
                return True
    return _verdict(check, walk)


def _verdict(check: ast.AST, walk: Walk) -> bool:
    parents = walk.src.index.parents
    child, parent = check, parents.get(check)
    while isinstance(parent, ast.BoolOp) or (isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)):
        child, parent = parent, parents.get(parent)
    if isinstance(parent, ast.Return):
        return True
    if isinstance(parent, ast.If) and child is parent.test:
        return any(isinstance(s, ast.Return) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, bool)
                   for s in [*parent.body[:1], *parent.orelse[:1]])  # fmt: skip
    return False


class IncompleteUrlCheck(Rule):
    """URL checked by a substring a crafted URL also contains

    What: a string is tested against a host name literal in a way that other hosts also
    pass: "example.com" in url (any position: https://evil.test/?example.com), or
    url.endswith("example.com") (also evilexample.com), or url.startswith("https://example.com")
    with nothing after the host (https://example.com.evil.test/). Reported where the test
    decides something: a branch it controls returns, raises, skips, calls out, passes the
    URL on, sets a verdict or replaces the URL, or its result is returned or kept (a
    validator). A test whose branches only rewrite the URL from itself or set a label
    (prefix "git+" to a GitHub URL) trusts nothing and is not reported; nor is a key
    looked up in a collection the file shows to be one ("user.info" in __salt__, where
    the file also indexes __salt__["user.info"], or a name bound to a dict). Where nothing
    shows the tested text is a URL (the literal is no URL itself, the value is not read
    from a URL parser nor handed to a URL library call, and the test is no True/False
    verdict of a validator), it is low: it may be a key, an annotation or a label.
    Why: such tests are how redirects, callbacks and fetches are restricted to trusted
    hosts; an attacker picks a URL that contains the expected text and points elsewhere
    (open redirect, SSRF, token leak).
    Example:
        if "example.com" in target:
            return redirect(target)
    Fix: parse the URL (urllib.parse.urlsplit) and compare its hostname with an allow-list,
    or require a dot before a parent domain (host == "example.com" or
    host.endswith(".example.com")); a URL prefix must end with the "/" after the host.
    """

    id = "SCR983"
    name = "incomplete-url-substring-check"
    category = Category.INPUT_VALIDATION
    cwe = 20
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Compare, ast.Call)
    bandit = ()
    ruff = ()

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        for checked, message in self._weak_checks(node):
            if isinstance(node, ast.Compare) and used_as_mapping(checked, walk):
                continue  # "user.info" in __salt__: a key looked up in a mapping, not text in a URL
            decision = trust_decision(node, checked, walk)
            if decision is None:
                continue
            if _shows_a_url(node, checked, walk):
                yield self.finding(node, f"{message} ({decision})", walk.src, scope=walk.scope_name)
            else:
                yield self.finding(node, f"{message} ({decision}); nothing here shows the tested text is a URL "
                                   "(it may be a key, an annotation or a label)", walk.src, scope=walk.scope_name,
                                   severity=Severity.LOW, confidence=Confidence.LOW)  # fmt: skip

    @staticmethod
    def _weak_checks(node: ast.AST) -> Iterator[tuple[ast.AST, str]]:
        """The value tested and what is wrong with the test, for a substring test of a host."""
        if isinstance(node, ast.Compare):
            if len(node.ops) == 1 and isinstance(node.ops[0], ast.In | ast.NotIn):
                found = _host_literal(node.left)
                checked = node.comparators[0]
                literal_collection = isinstance(checked, ast.List | ast.Tuple | ast.Set | ast.Dict)
                if found is not None and "://" not in found[0] and not literal_collection:
                    text = found[0]
                    yield checked, (f'"{text}" in ... is true for any URL that has this text anywhere, '
                                    f"such as https://attacker.example/?{text}")  # fmt: skip
            return
        assert isinstance(node, ast.Call)
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr in ("endswith", "startswith") and len(node.args) == 1):
            return
        found = _host_literal(node.args[0])
        if found is None:
            return
        text, host = found
        if func.attr == "endswith" and not text.startswith((".", "/", "@")) and "://" not in text and "/" not in text:
            yield func.value, f'.endswith("{text}") is also true for another host ending in it, such as attacker{host}'
        elif func.attr == "startswith" and "://" in text and text.rstrip("/") == text and _no_path(text):
            yield func.value, (f'.startswith("{text}") is also true for {text}.attacker.example: '
                               "a URL prefix must end with the / after the host")  # fmt: skip
