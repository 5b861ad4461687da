"""Cookie rules (9xx): cookies set without Secure, HttpOnly or SameSite.

Three rules, not one: each flag has its own CWE and its own legitimate exceptions (a
CSRF cookie must be readable by JavaScript, so HttpOnly is off on purpose while Secure
still matters), and a suppression names one rule, so a team can accept one missing flag
without hiding the others.

Flask/Werkzeug, Django, Starlette/FastAPI and aiohttp all spell the flags secure=,
httponly= and samesite=. http.cookies morsels are checked through the keys assigned in
the same function.

The flags protect what a cookie carries. A value the code shows to be a literal, a number
or request data echoed back (a sort order from the query string) is a preference the
client already chose: the missing flag is reported at low severity, unless the module
reads that cookie back into a condition, where the server trusts it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import ClassVar

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import (
    Rule,
    Walk,
    argument,
    call_tail,
    exactly,
    is_false,
    keyword,
    name_parts,
    note,
    parameters,
    string_value,
    values_bound,
    walk_function,
)
from scrutiny.source import SourceFile

SET_COOKIE = frozenset({"set_cookie", "set_signed_cookie"})
# Any framework's cookie setters, Tornado's signed ones included, as a wrapper may call them.
COOKIE_SETTERS = SET_COOKIE | {"set_secure_cookie"}
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


def _calls_own_helper(call: ast.Call, src: SourceFile, flag: str) -> bool:
    """The call goes to a cookie helper this file defines, not to a framework's response.

    A method of the same name defined here, taking as many positional arguments as the
    call passes, whose own cookie call sets the flag or passes options that may, is the
    project's wrapper: the flag is decided there, not at this call.
    """
    assert isinstance(call.func, ast.Attribute)
    receiver = call.func.value
    if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) and receiver.func.id == "super":
        return False  # the wrapper reaching the framework's own method
    if call.args and (string_value(call.args[0]) is not None or isinstance(call.args[0], ast.JoinedStr)):
        return False  # a cookie named here, as a framework's set_cookie takes it
    for function in src.index.of_type(ast.FunctionDef, ast.AsyncFunctionDef):
        if function.name != call.func.attr or not function.args.args:
            continue
        positional = [a.arg for a in function.args.args][1:]  # after self
        if len(call.args) > len(positional) and function.args.vararg is None:
            continue
        for inner in ast.walk(function):
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr in COOKIE_SETTERS:
                if any(kw.arg is None or kw.arg == flag for kw in inner.keywords):
                    return True  # the helper decides the flag (or passes options that may)
    return False


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


# Request fields a client fills in freely (query string, form, JSON body, path values).
# Headers, cookies and credentials are left out: echoing a session cookie or an
# Authorization header back into a cookie does carry a secret.
ECHOED_FIELDS = frozenset(
    {"args", "form", "values", "json", "get_json", "GET", "POST", "query_params", "query", "view_args",
     "path_params", "match_info", "rel_url"}
)  # fmt: skip
ECHOED = "request data echoed back"
# Conversions that keep a preference a preference: str(n), int(v), v.lower().
KEEPING_CALLS = frozenset({"str", "int", "float", "bool", "round", "lower", "upper", "strip", "title"})
NUMBER_CALLS = frozenset({"int", "float", "len", "round"})
COOKIE_READS = frozenset({"cookies", "COOKIES"})


def _echoed_request_field(node: ast.AST) -> bool:
    """request.args.get("sort"), request.form["order"], request.GET.get(...),
    form.cleaned_data["theme"]: a value the client sent."""
    while isinstance(node, ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
        if isinstance(node, ast.Attribute) and node.attr == "get":
            node = node.value
    if isinstance(node, ast.Attribute) and node.attr == "cleaned_data":
        return True  # a Django form's validated copy of what the client posted
    if not (isinstance(node, ast.Attribute) and node.attr in ECHOED_FIELDS):
        return False
    owner = node.value
    if isinstance(owner, ast.Attribute) and owner.attr == "request":
        return True  # self.request
    return isinstance(owner, ast.Name) and owner.id in ("request", "req")


def preference_kind(value: ast.AST, function: ast.AST | None, depth: int = 0, src: SourceFile | None = None,
                    sources: set[ast.AST] | None = None) -> str | None:
    """What the cookie value is shown to be when it carries no secret: "a literal",
    "a number", "a boolean" or "request data echoed back"; None when it may carry a session
    or credential. With ``src``, a value held in an attribute of ``self`` is followed to the
    class's assignments of it, and a call of a function the module defines to its returns;
    the functions so followed are added to ``sources``."""
    if depth > 3:
        return None
    if isinstance(value, ast.Constant):
        if isinstance(value.value, bool):
            return "a boolean"
        return "a number" if isinstance(value.value, int | float) else "a literal"
    if isinstance(value, ast.Compare) or (isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not)):
        return "a boolean"  # a comparison or a negation is True or False, whatever it reads
    if isinstance(value, ast.JoinedStr | ast.BinOp):
        parts = [p.value for p in value.values if isinstance(p, ast.FormattedValue)] if isinstance(
            value, ast.JoinedStr) else [value.left, value.right]  # fmt: skip
        return _combined({preference_kind(p, function, depth + 1, src, sources) for p in parts})
    if _echoed_request_field(value):
        return ECHOED
    if isinstance(value, ast.Call):
        tail = call_tail(value)
        if tail == "bool" and isinstance(value.func, ast.Name):
            return "a boolean"
        if tail in NUMBER_CALLS and isinstance(value.func, ast.Name):
            return "a number"
        if tail in KEEPING_CALLS:
            inner = value.func.value if isinstance(value.func, ast.Attribute) else next(iter(value.args), None)
            return preference_kind(inner, function, depth + 1, src, sources) if inner is not None else None
        if src is not None and isinstance(value.func, ast.Name):
            return _returned_kind(value.func.id, depth, src, sources)
        return None
    if isinstance(value, ast.Name) and function is not None:
        # Every value the function assigns the name must be a preference; a parameter is unknown.
        bound = values_bound(value.id, walk_function(function))
        if not bound:
            return None
        return _combined({preference_kind(b, function, depth + 1, src, sources) for b in bound})
    if (src is not None and function is not None and isinstance(value, ast.Attribute)
            and isinstance(value.value, ast.Name) and value.value.id == "self"):  # fmt: skip
        return _attribute_kind(value.attr, function, depth, src, sources)
    return None


def _returned_kind(name: str, depth: int, src: SourceFile, sources: set[ast.AST] | None) -> str | None:
    """The kind of every value a module-level function ``name`` of this file returns."""
    defined = [f for f in src.tree.body if isinstance(f, ast.FunctionDef) and f.name == name]
    if len(defined) != 1:
        return None
    returns = [n.value for n in walk_function(defined[0]) if isinstance(n, ast.Return)]
    if not returns or any(r is None for r in returns):
        return None
    if sources is not None:
        sources.add(defined[0])
    return _combined({preference_kind(r, defined[0], depth + 1, src, sources) for r in returns if r is not None})


def _attribute_kind(attr: str, function: ast.AST, depth: int, src: SourceFile,
                    sources: set[ast.AST] | None) -> str | None:
    """The kind of every value the enclosing class assigns ``self.<attr>`` (None: any is unknown)."""
    owner = src.index.parents.get(function)
    if not isinstance(owner, ast.ClassDef):
        return None
    kinds: set[str | None] = set()
    for method in owner.body:
        if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in walk_function(method):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, ast.AugAssign | ast.AnnAssign) else []  # fmt: skip
            for target in targets:
                if (isinstance(target, ast.Attribute) and target.attr == attr and isinstance(target.value, ast.Name)
                        and target.value.id == "self"):  # fmt: skip
                    value = node.value if not isinstance(node, ast.AugAssign) else None
                    kinds.add(preference_kind(value, method, depth + 1, src, sources) if value is not None else None)
    return _combined(kinds)


def _combined(kinds: set[str | None]) -> str | None:
    """The kind of a value made of parts, or bound one of several ways: the least plain one."""
    if None in kinds or not kinds:
        return None
    return next(kind for kind in (ECHOED, "a literal", "a number", "a boolean") if kind in kinds)


def _read_into_condition(name: str, src: SourceFile, sources: set[ast.AST] | None = None) -> int:
    """The line where the module reads cookie ``name`` back (request.cookies.get(name),
    COOKIES[name]) and tests it, directly or through a local name (0: nowhere); the server
    then trusts its value. A read inside one of ``sources``, the functions the written value
    is computed by, is the preference carried over to the next response, not a trust."""
    for node in src.index.of_type(ast.Subscript, ast.Call):
        if sources and src.index.function_of.get(node) in sources:
            continue
        container: ast.AST | None = None
        if isinstance(node, ast.Subscript) and string_value(node.slice) == name:
            container = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            if node.args and string_value(node.args[0]) == name:
                container = node.func.value
        if not (isinstance(container, ast.Attribute) and container.attr in COOKIE_READS):
            continue
        if _in_condition(node, src):
            return node.lineno  # type: ignore[attr-defined,no-any-return]
        parent = src.index.parents.get(node)
        function = src.index.function_of.get(node)
        if isinstance(parent, ast.Assign) and function is not None:
            held = {t.id for t in parent.targets if isinstance(t, ast.Name)}
            for use in walk_function(function):
                if isinstance(use, ast.Name) and use.id in held and isinstance(use.ctx, ast.Load):
                    if _in_condition(use, src):
                        return use.lineno
    return 0


def _in_condition(node: ast.AST, src: SourceFile) -> bool:
    """``node`` is compared, or is part of the test of an if, while, assert or conditional expression."""
    parents = src.index.parents
    child, parent = node, parents.get(node)
    while parent is not None and not isinstance(parent, ast.stmt | ast.IfExp):
        if isinstance(parent, ast.Compare):
            return True
        child, parent = parent, parents.get(parent)
    if isinstance(parent, ast.If | ast.While | ast.IfExp | ast.Assert):
        return child is parent.test
    return False


def _cookie_name(call: ast.Call) -> str | None:
    # key= in Flask, Django and Starlette; name= in aiohttp.
    return string_value(argument(call, "key", 0) or keyword(call, "name"))


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
            if not _response_cookie(node) or _calls_own_helper(node, walk.src, self.flag):
                return
            value = keyword(node, self.flag)
            if value is None or is_false(value) or (self.flag == "samesite" and _is_none(value)):
                how = "without" if value is None else f"with {self.flag}={ast.unparse(value)}, i.e. without"
                message, severity = self._graded(f"cookie set {how} {self.flag}: {self.consequence}",
                                                 argument(node, "value", 1), _cookie_name(node), walk)  # fmt: skip
                yield self.finding(node, message, walk.src, scope=walk.scope_name, severity=severity)
            return
        assert isinstance(node, ast.Assign)
        yield from self._check_morsel(node, walk)

    def _graded(self, message: str, value: ast.AST | None, name: str | None, walk: Walk) -> tuple[str, Severity | None]:
        """The message and severity once the cookie's value is weighed (None: the rule's own)."""
        if self.severity <= Severity.LOW:
            return message, None
        note_text, preference = self._value_note(value, name, walk)
        return message + note_text, Severity.LOW if preference else None

    @staticmethod
    def _value_note(value: ast.AST | None, name: str | None, walk: Walk) -> tuple[str, bool]:
        """What the message adds about the cookie's value, and whether the value is a preference."""
        sources: set[ast.AST] = set()
        kind = preference_kind(value, walk.function, src=walk.src, sources=sources) if value is not None else None
        if kind is None:
            return "", False
        # A cookie read back into a condition is trusted by the server whatever it holds
        # (a cookie named at run time cannot be matched to a read: its value decides).
        if name is not None and (line := _read_into_condition(name, walk.src, sources)):
            return f"; its value is {kind}, but the module tests the cookie it reads back (line {line})", False
        carried = ""
        if name is not None and sources and (line := _read_into_condition(name, walk.src)):
            carried = (f" (the module tests the cookie it reads back only at line {line}, to compute the value "
                       "it writes again)")
        return f"; its value is {kind}{carried}, a preference rather than a session or credential", True

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
        if _not_sent_to_a_browser(target.value.id, scope, walk.parents):
            return
        if _flag_from_caller(self.morsel_flag, walk.function):
            return
        if self.morsel_flag not in _morsel_flags(scope):
            message, severity = self._graded(f"cookie morsel set without {self.morsel_flag}: {self.consequence}",
                                             node.value, string_value(target.slice), walk)  # fmt: skip
            yield self.finding(node, message, walk.src, scope=walk.scope_name, severity=severity)


def _flag_from_caller(flag: str, function: ast.AST | None) -> bool:
    """The function building the morsel takes the flag as a parameter and reads it: a
    set_cookie helper whose caller decides the flag, reported (if at all) at that call."""
    if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) or flag not in parameters(function):
        return False
    return any(isinstance(n, ast.Name) and n.id == flag and isinstance(n.ctx, ast.Load)
               for n in walk_function(function))


def _not_sent_to_a_browser(jar: str, scope: ast.AST, parents: Mapping[ast.AST, ast.AST]) -> bool:
    """The SimpleCookie is used on the client side: written out as a request's Cookie
    header (jar.output(header="")), or only read back (morsel = jar[name], a value turned
    into a Morsel); a cookie for a browser is output as Set-Cookie, passed on or returned."""
    uses = [n for n in walk_function(scope) if isinstance(n, ast.Name) and n.id == jar and isinstance(n.ctx, ast.Load)]
    outputs, reads = [], 0
    for use in uses:
        parent = parents.get(use)
        if isinstance(parent, ast.Attribute) and isinstance(parents.get(parent), ast.Call):
            call = parents[parent]
            assert isinstance(call, ast.Call)
            if parent.attr == "output":
                outputs.append(_into_request_header(call, parents))
                continue
            if parent.attr == "load":
                continue  # cookies parsed in from a header: says nothing of where they go
            return False  # OutputString(), js_output(): a cookie handled as a whole
        if isinstance(parent, ast.Subscript) and parent.value is use:
            reads += 1  # jar[name] = ... (the assignment itself) or morsel = jar[name]
            continue
        return False  # passed to a call, returned or stored: it may be sent anywhere
    return all(outputs) if outputs else reads > 0 and not _stores_flags(jar, scope)


def _into_request_header(output: ast.Call, parents: Mapping[ast.AST, ast.AST]) -> bool:
    """jar.output(header="") stored as the Cookie header of a request (headers["Cookie"],
    headers[hdrs.COOKIE]); a statement naming Set-Cookie, or anything else, is not."""
    header = keyword(output, "header")
    if header is None or "set-cookie" in (string_value(header) or "?").lower():
        return False
    statement: ast.AST = output
    while statement in parents and not isinstance(statement, ast.stmt):
        statement = parents[statement]
    if any(string_value(n) and "set-cookie" in (string_value(n) or "").lower() for n in ast.walk(statement)):
        return False
    if isinstance(statement, ast.Assign):
        for target in statement.targets:
            if isinstance(target, ast.Subscript):
                key = target.slice
                spelled = string_value(key) or (key.attr if isinstance(key, ast.Attribute) else "")
                if spelled.lower() == "cookie":
                    return True
    return False


def _stores_flags(jar: str, scope: ast.AST) -> bool:
    """jar[name]["path"] = ...: the morsel's attributes are set, as for a cookie being sent."""
    for node in walk_function(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Subscript)
                        and isinstance(target.value.value, ast.Name) and target.value.value.id == jar):  # fmt: skip
                    return True
    return False


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


class CookieWithoutSecure(CookieFlagRule):
    """Cookie set without the Secure flag

    What: set_cookie/set_signed_cookie on a Flask, Django, Starlette or aiohttp response
    without secure=True (or with secure=False), and http.cookies morsels with no
    "secure" attribute set in the same function (not a client's: a SimpleCookie written
    out as a request's Cookie header, or only used to turn a value into a morsel that
    is read back). Deleting a cookie (max_age=0) and flags passed through **options are
    not reported, nor is a call to a cookie helper the file defines whose own cookie call
    sets the flag or passes **options (the flag is decided there), nor a morsel built by
    a helper that takes the flag as a parameter and reads it (its caller decides the
    flag, and is reported there). A cookie whose value the code shows to be a literal, a
    number, a boolean (a comparison, or an attribute of self every assignment of which,
    through the module's own functions, is one) or request data echoed back
    (resp.set_cookie("sort", request.args["sort"]), a Django form's cleaned_data) holds a
    preference, not a session: it
    is reported at low severity, with the reason, unless the module reads that cookie
    back into a condition (if request.cookies.get("role") == "admin"), where the server
    trusts what it holds; a read inside the function that computes the value written is
    the preference carried over, not such a trust.
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
