"""Django and Flask rules (9xx, and 4xx for settings): escaping, CSRF, paths and templates.

Hard-coded SECRET_KEY / app.secret_key / app.config["SECRET_KEY"] are SCR401 and
debug mode is SCR405; they are not repeated here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import (
    CallRule,
    Rule,
    Walk,
    argument,
    exactly,
    is_built_string,
    is_constant_string,
    note,
    parameters,
    tails,
    walk_function,
)
from scrutiny.rules.authz import DENIAL_STATUSES, raises_forbidden
from scrutiny.rules.config import development_settings
from scrutiny.rules.handlers import REQUEST_FIELDS
from scrutiny.rules.reaching import reaching_values
from scrutiny.source import SourceFile
from scrutiny.taint.models import load

# Calls whose result is already escaped HTML; marking it safe is what they are for.
ESCAPING_CALLS = frozenset(
    {
        "escape", "conditional_escape", "format_html", "format_html_join", "render_to_string", "json_script",
        "strip_tags", "linebreaks", "linebreaksbr", "urlize", "escapejs", "mark_safe", "render", "to_html",
        "as_html", "as_p", "as_table", "as_ul", "as_div", "flatatt", "smart_urlquote",
    }
)  # fmt: skip
MARK_SAFE = ("django.utils.safestring.mark_safe", "django.utils.safestring.SafeString",
             "django.utils.safestring.SafeText", "django.utils.safestring.SafeData",
             "django.utils.safestring.SafeUnicode", "django.utils.safestring.SafeBytes")  # fmt: skip
FORMAT_HTML = ("django.utils.html.format_html",)


def _call_tail(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return ""


# Translation calls: given a literal, they return the literal's translation, which the
# project's translators wrote, not a user.
TRANSLATION_CALLS = frozenset(
    {"_", "gettext", "gettext_lazy", "ugettext", "ugettext_lazy", "pgettext", "pgettext_lazy", "_lazy"}
)


def _is_translated_literal(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and _call_tail(node) in TRANSLATION_CALLS
        and bool(node.args)
        and all(is_constant_string(a) for a in node.args)
    )


def _constant_names(function: ast.AST | None) -> set[str]:
    """Local names whose every assignment in the function is a literal or a translated literal."""
    if function is None:
        return set()
    constant: set[str] = set()
    other: set[str] = set()
    for node in walk_function(function):
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            fixed = value is not None and not isinstance(node, ast.AugAssign) and (
                is_constant_string(value) or _is_translated_literal(value))  # fmt: skip
            for target in targets:
                if isinstance(target, ast.Name):
                    (constant if fixed else other).add(target.id)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            other |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            other |= {n.id for n in ast.walk(node.optional_vars) if isinstance(n, ast.Name)}
    return constant - other - set(parameters(function))  # type: ignore[arg-type]


def _pasted(node: ast.AST) -> list[ast.expr]:
    """The values a built string pastes in: f-string fields, % operands, format arguments."""
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        right = node.right
        return list(right.elts) if isinstance(right, ast.Tuple) else [right]
    if isinstance(node, ast.Call):
        return list(node.args) + [kw.value for kw in node.keywords]
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    return []


def _only_escaped_values(node: ast.AST, constants: frozenset[str] | set[str] = frozenset()) -> bool:
    """A built string whose every pasted value is an escaping call, a translated literal
    or a local name that only ever holds one of those."""
    values = _pasted(node)
    return bool(values) and all(
        is_constant_string(v)
        or _call_tail(v) in ESCAPING_CALLS
        or _is_translated_literal(v)
        or (isinstance(v, ast.Name) and v.id in constants)
        for v in values
    )


class DjangoMarkSafe(CallRule):
    """HTML from run-time values marked safe, bypassing Django's escaping

    What: mark_safe, SafeString or SafeText (SafeUnicode and SafeBytes in old Django
    versions) given a string built with an f-string, %,
    .format or + (medium) or any other value that is not a literal or an escaping call
    (low), and format_html given a format string that was already formatted. Pasted values
    that are literals, translations of a literal (gettext("...")) or local names only ever
    assigned those are not run-time input and are not reported.
    Why: text marked safe is inserted into the page as markup; if any part of it comes
    from a user, they can add script to the page (cross-site scripting).
    Example:
        return mark_safe(f"<b>{user.display_name}</b>")
    Fix: let format_html build the markup, which escapes every argument:
    format_html("<b>{}</b>", user.display_name); keep the format string constant.
    """

    id = "SCR901"
    traced_by = "SCR508"
    name = "django-mark-safe"
    category = Category.INJECTION
    cwe = 79
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    calls = MARK_SAFE + FORMAT_HTML
    bandit = ("B308", "B703")
    ruff = ("S308",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        value = argument(call, "s", 0)
        short = name.rsplit(".", 1)[-1]
        if value is None or is_constant_string(value):
            return
        constants = _constant_names(walk.function) if is_built_string(value) else set()
        if name in FORMAT_HTML:
            if is_built_string(value) and not _only_escaped_values(value, constants):
                yield self.finding(call, "format_html gets a format string that was formatted before escaping",
                                   walk.src, scope=walk.scope_name)  # fmt: skip
            return
        if is_built_string(value):
            if not _only_escaped_values(value, constants):
                yield self.finding(call, f"{short} on HTML built from run-time values", walk.src,
                                   scope=walk.scope_name)  # fmt: skip
        elif _call_tail(value) not in ESCAPING_CALLS:
            yield self.finding(call, f"{short} on a value not known to be escaped", walk.src, scope=walk.scope_name,
                               severity=Severity.LOW, confidence=Confidence.LOW)  # fmt: skip


MARKUP = ("markupsafe.Markup", "flask.Markup", "jinja2.Markup", "jinja2.utils.Markup")
# URL builders that percent-encode what they paste: their result holds no quote or angle bracket.
URL_BUILDERS = frozenset({"flask.url_for", "flask.helpers.url_for"})
# HTML sanitizers whose output is meant to be wrapped in Markup.
SANITIZING_CALLS = ESCAPING_CALLS | {"clean", "sanitize", "linkify"}


class MarkupFromValues(CallRule):
    """HTML from run-time values wrapped in markupsafe.Markup, bypassing autoescaping

    What: markupsafe.Markup (also flask.Markup, jinja2.Markup) given a string built with
    an f-string, %, .format or + (medium) or any other value that is not a literal, an
    escaping call or an HTML sanitizer such as bleach.clean (low). Markup("<b>{}</b>")
    .format(value) is not reported: Markup's own format escapes its arguments. Neither is
    a local name that holds an escaped value on every path to the call (title =
    escape(title) above it, in every branch that reaches it), nor flask.url_for's result,
    which is percent-encoded. A value that comes from a function of another module of the
    tree, which scrutiny cannot read, is reported with low confidence and named.
    Why: Jinja2 and Flask insert Markup objects into pages without escaping them; if any
    part of the text comes from a user, they can add script to the page (cross-site
    scripting).
    Example:
        return Markup(f"<a href='{url}'>{title}</a>")
    Fix: keep the markup a literal and let Markup escape the values:
    Markup("<a href='{}'>{}</a>").format(url, title), or markupsafe.escape(value).
    """

    id = "SCR908"
    name = "markup-from-values"
    category = Category.INJECTION
    cwe = 79
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    calls = MARKUP
    bandit = ("B704",)
    ruff = ("S704",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        value = argument(call, "object", 0)
        src = walk.src
        if value is None or is_constant_string(value) or _escapes(value, src):
            return
        if isinstance(value, ast.Constant) and isinstance(value.value, bytes):
            return
        if not is_built_string(value):
            if not (isinstance(value, ast.Name) and _escaped_on_every_path(value.id, call, src)):
                yield self.finding(call, "Markup on a value not known to be escaped", src, scope=walk.scope_name,
                                   severity=Severity.LOW, confidence=Confidence.LOW)  # fmt: skip
            return
        names = {v.id for v in _pasted(value) if isinstance(v, ast.Name)}
        escaped = {n for n in names if _escaped_on_every_path(n, call, src)}
        if all(_pasted_safely(v, escaped, src) for v in _pasted(value)):
            return
        unread = [
            (n, helper)
            for n in sorted(names - escaped)
            if (helper := _from_tree_helper(n, call, src))
        ]
        raw = [v for v in _pasted(value) if not _pasted_safely(v, escaped | {n for n, _ in unread}, src)]
        if unread and not raw:
            # Each unescaped value comes out of a function of another module: it may escape.
            shown = ", ".join(f"{n} from {helper}()" for n, helper in unread)
            yield self.finding(call, f"Markup on HTML built from run-time values ({shown}, in another module that "
                               "scrutiny cannot read)", src, scope=walk.scope_name,
                               confidence=Confidence.LOW)  # fmt: skip
            return
        yield self.finding(call, "Markup on HTML built from run-time values", src, scope=walk.scope_name)


def _escapes(value: ast.AST, src: SourceFile) -> bool:
    """An escaping call (html.escape, markupsafe.escape, an HTML sanitizer), also inside str()."""
    if isinstance(value, ast.Call) and _call_tail(value) == "str" and len(value.args) == 1:
        value = value.args[0]
    if not isinstance(value, ast.Call):
        return False
    sanitizer = load().sanitizer_calls.get(src.qualname(value.func) or "")
    return _call_tail(value) in SANITIZING_CALLS or (sanitizer is not None and "xss" in sanitizer.clears)


def _pasted_safely(value: ast.expr, names: set[str], src: SourceFile) -> bool:
    return (
        is_constant_string(value)
        or _call_tail(value) in ESCAPING_CALLS
        or _is_translated_literal(value)
        or (isinstance(value, ast.Name) and value.id in names)
        or (isinstance(value, ast.Call) and src.qualname(value.func) in URL_BUILDERS)
    )


def _escaped_on_every_path(name: str, node: ast.AST, src: SourceFile) -> bool:
    """``name`` holds an escaped value wherever ``node`` reads it: every assignment that can
    reach it is an escaping call or a string built only from escaped values."""
    values = reaching_values(name, node, src)
    return bool(values) and all(
        _escapes(v, src) or is_constant_string(v) or (is_built_string(v) and _only_escaped_values(v))
        for v in values  # type: ignore[union-attr]
    )


def _from_tree_helper(name: str, node: ast.AST, src: SourceFile) -> str:
    """The function of another module of the reviewed tree whose result ``name`` holds at
    ``node`` on every path ('' otherwise): imported relatively, or from the package the
    file itself sits in."""
    values = reaching_values(name, node, src)
    if not values or len(values) != 1 or not isinstance(values[0], ast.Call):
        return ""
    callee = src.qualname(values[0].func) or ""
    root = callee.split(".", 1)[0]
    directories = src.path.replace("\\", "/").split("/")[:-1]
    tree = callee.startswith(".") or (root in directories and "." in callee)
    return ast.unparse(values[0].func) if tree else ""


CSRF_EXEMPT = frozenset({"django.views.decorators.csrf.csrf_exempt"})


class CsrfExempt(Rule):
    """View exempted from CSRF protection

    What: Django's @csrf_exempt on a view or csrf_exempt(view) in a URL table, and
    Flask-WTF's @<protector>.exempt, where the module builds the protector with
    CSRFProtect(...) (under any name) or imports it from the module that does
    (from .extensions import csrf).
    Why: an exempt view accepts state-changing requests that another site makes the
    user's browser send with their cookies (cross-site request forgery), unless the view
    authenticates every request by other means (a token header, a signature).
    The finding is low when the exempted view (the function with the decorators this file
    defines for it, or the methods of the class whose as_view() is exempted) refuses a
    request on a comparison of a value the request sent (a double-submit cookie compared
    with the form field, a signature or an Authorization header token compared with the
    expected one): it checks a token of each request itself. A refusal is a forbidden
    error raised, abort(401/403), or a response returned with status 401 or 403.
    Example:
        @csrf_exempt
        def update_profile(request): ...
    Fix: remove the exemption and send the CSRF token from the client; for API or
    webhook endpoints authenticate each request (token header, HMAC signature) and
    document why the exemption is safe.
    """

    id = "SCR902"
    name = "csrf-exempt"
    category = Category.CONFIGURATION
    cwe = 352
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Call)
    call_filter = exactly(tails(CSRF_EXEMPT), "exempt")
    context = {
        FileKind.TEST: note("test views are exempted to post without a token"),
        FileKind.EXAMPLE: note("example views are exempted for brevity"),
        FileKind.DOCS: note("documentation views are exempted for brevity"),
    }

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        src = walk.src
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                if _is_csrf_exempt(decorator, src):
                    yield self._exempt(decorator, node.name, [node, *_local_wrappers(node, src)], walk)
            return
        assert isinstance(node, ast.Call)
        parent = walk.parent(node)
        if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node in parent.decorator_list:
            return
        if _is_csrf_exempt(node.func, src) and node.args:
            view = ast.unparse(node.args[0])
            yield self._exempt(node, view, _view_functions(node.args[0], src), walk)

    def _exempt(self, node: ast.AST, view: str, functions: list[ast.AST], walk: Walk) -> Finding:
        line = _token_check(functions, walk.src)
        if line:
            return self.finding(
                node,
                f"view {view} is exempt from CSRF protection, and checks a token of each request itself: line "
                f"{line} refuses the request when a value it sent does not match",
                walk.src,
                scope=walk.scope_name,
                severity=Severity.LOW,
            )
        return self.finding(node, f"view {view} is exempt from CSRF protection", walk.src, scope=walk.scope_name)


def _view_functions(view: ast.expr, src: SourceFile) -> list[ast.AST]:
    """The functions of this file that make up an exempted view: the function csrf_exempt
    wraps, or every method of the class whose as_view() (or other factory) it wraps."""
    if isinstance(view, ast.Call) and isinstance(view.func, ast.Attribute):
        view = view.func.value
    if not isinstance(view, ast.Name):
        return []
    for node in src.tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == view.id:
            return [node]
        if isinstance(node, ast.ClassDef) and node.name == view.id:
            return [item for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)]
    return []


def _local_wrappers(function: ast.FunctionDef | ast.AsyncFunctionDef, src: SourceFile) -> list[ast.AST]:
    """The decorators of ``function`` that this file defines: their code runs on each
    request before the view's body, so a token check there checks the view's requests."""
    names = {d.id for d in function.decorator_list if isinstance(d, ast.Name)}
    return [
        node for node in src.tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names and node is not function
    ]  # fmt: skip


def _refuses(node: ast.AST) -> bool:
    """A refusal: a raise of a forbidden error, abort(401/403), or a return of a response
    made with status=401 or 403 (or an HttpResponseForbidden)."""
    if raises_forbidden(node):
        return True
    if not (isinstance(node, ast.Return) and isinstance(node.value, ast.Call)):
        return False
    if _call_tail(node.value) == "HttpResponseForbidden":
        return True
    return any(
        kw.arg == "status" and isinstance(kw.value, ast.Constant) and kw.value.value in DENIAL_STATUSES
        for kw in node.value.keywords
    )


# Where a request carries a token: its data containers, and Django's cookies and headers.
TOKEN_FIELDS = frozenset(REQUEST_FIELDS | {"COOKIES", "META"})


def _reads_request(node: ast.AST, names: set[str]) -> bool:
    """``node`` reads request data (request.X, self.request.X) or a name assigned from it."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in names:
            return True
        if isinstance(sub, ast.Attribute) and sub.attr in TOKEN_FIELDS:
            root = sub.value.attr if isinstance(sub.value, ast.Attribute) else getattr(sub.value, "id", "")
            if root in ("request", "req"):
                return True
    return False


def _token_check(functions: list[ast.AST], src: SourceFile) -> int:
    """The line where the view refuses a request whose token does not match: an if that
    raises a forbidden error (or aborts 401/403) on a comparison, or a check call of two
    values, one of them read from the request; 0 when there is none."""
    for function in functions:
        names: set[str] = set()
        for node in sorted((n for n in ast.walk(function) if isinstance(n, ast.Assign)), key=lambda n: n.lineno):
            if _reads_request(node.value, names):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        for node in ast.walk(function):
            if not isinstance(node, ast.If) or not any(_refuses(n) for s in node.body for n in ast.walk(s)):
                continue
            for test in ast.walk(node.test):
                compared = (
                    [test.left, *test.comparators] if isinstance(test, ast.Compare)
                    else list(test.args) if isinstance(test, ast.Call) and len(test.args) >= 2 else []
                )  # fmt: skip
                if isinstance(test, ast.Compare) and all(isinstance(op, ast.Is | ast.IsNot) for op in test.ops):
                    continue  # ``token is None``: whether a value was sent, not whether it matches
                if compared and any(_reads_request(c, names) for c in compared):
                    return node.lineno
    return 0


def _is_csrf_exempt(node: ast.AST, src: SourceFile) -> bool:
    if src.qualname(node) in CSRF_EXEMPT:
        return True
    if not (isinstance(node, ast.Attribute) and node.attr == "exempt" and isinstance(node.value, ast.Name)):
        return False
    # Flask-WTF: csrf = CSRFProtect(app) in this module, then @csrf.exempt ...
    name = node.value.id
    for statement in src.tree.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
            if any(isinstance(t, ast.Name) and t.id == name for t in statement.targets):
                return (src.qualname(statement.value.func) or "").endswith("CSRFProtect")
    # ... or the protector imported from the module that builds it (from .extensions import csrf).
    imported = src.aliases.get(name)
    return imported is not None and "csrf" in imported.rsplit(".", 1)[-1].lower()


# Request-derived values ------------------------------------------------------------

REQUEST_NAMES = frozenset({"request", "flask.request", "quart.request", "django.http.HttpRequest"})


def _mentions_request(node: ast.AST, src: SourceFile) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
            if sub.value.id == "request" or src.aliases.get(sub.value.id) in REQUEST_NAMES:
                return True
    return False


def _request_derived(node: ast.AST, call: ast.Call, src: SourceFile) -> bool:
    """The value reads request.* directly or through a name assigned earlier in the function."""
    if _mentions_request(node, src):
        return True
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    function = src.index.function_of.get(call)
    if not names or function is None:
        return False
    for stmt in ast.walk(function):
        if isinstance(stmt, ast.Assign) and stmt.lineno < call.lineno:
            if any(isinstance(t, ast.Name) and t.id in names for t in stmt.targets):
                if _mentions_request(stmt.value, src):
                    return True
    return False


class FlaskSendFileFromRequest(CallRule):
    """File sent to the client from a path taken from the request

    What: flask.send_file with a path, or send_from_directory with a directory, that
    reads request.* (args, form, values, json, files, headers, cookies) in the same
    expression or through a variable assigned from it in the same function.
    send_from_directory's file name argument is not reported: Flask joins it safely.
    Why: the client chooses which file the server reads: "../../etc/passwd" or an
    absolute path returns any file the process can read (path traversal).
    Example:
        return send_file(os.path.join(UPLOADS, request.args["name"]))
    Fix: use send_from_directory(UPLOADS, name), which refuses paths outside the
    directory, or look the file up by an id in a table of allowed files.
    """

    id = "SCR903"
    name = "flask-send-file-from-request"
    category = Category.FILESYSTEM
    cwe = 22
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    calls = ("flask.send_file", "flask.send_from_directory", "flask.helpers.send_file",
             "flask.helpers.send_from_directory", "quart.send_file")  # fmt: skip

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        short = name.rsplit(".", 1)[-1]
        if short == "send_from_directory":
            path = argument(call, "directory", 0)
        else:
            path = argument(call, "path_or_file", 0) or argument(call, "filename_or_fp", None)
        if path is not None and _request_derived(path, call, walk.src):
            yield self.finding(call, f"{short} reads a path that comes from the request", walk.src,
                               scope=walk.scope_name)  # fmt: skip


class TemplateFromString(CallRule):
    """Template source built at run time and rendered

    What: flask.render_template_string (or Quart's) given a template source that is not
    a literal: built with an f-string, %, .format or + or taken from the request (high),
    or any other variable (low).
    Why: the string is compiled as a Jinja2 template, so text a user controls inside it
    is template code: {{ ... }} expressions reach the application's objects and can run
    commands on the server (server-side template injection).
    Example:
        return render_template_string(f"<h1>Hello {request.args['name']}</h1>")
    Fix: keep the template constant (a file or a literal) and pass values as context:
    render_template_string("<h1>Hello {{ name }}</h1>", name=request.args["name"]).
    """

    id = "SCR904"
    name = "template-from-string"
    category = Category.INJECTION
    cwe = 1336
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    calls = ("flask.render_template_string", "flask.templating.render_template_string",
             "quart.render_template_string")  # fmt: skip

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        source = argument(call, "source", 0)
        if source is None or is_constant_string(source):
            return
        short = name.rsplit(".", 1)[-1]
        if is_built_string(source) or _request_derived(source, call, walk.src):
            yield self.finding(call, f"{short} compiles a template built from run-time values", walk.src,
                               scope=walk.scope_name)  # fmt: skip
        else:
            yield self.finding(call, f"{short} compiles a template that is not a literal", walk.src,
                               scope=walk.scope_name, severity=Severity.LOW, confidence=Confidence.LOW)  # fmt: skip


# SCR454 ---------------------------------------------------------------------------


class DjangoAllowedHostsWildcard(Rule):
    """Django accepts requests for any Host header

    What: ALLOWED_HOSTS (at module level or as settings.ALLOWED_HOSTS) assigned a list
    or tuple containing "*".
    Why: Django builds absolute URLs (password reset links, redirects, cache keys) from
    the Host header; accepting any host lets an attacker make the site send users links
    to a server they control (host header poisoning).
    Example:
        ALLOWED_HOSTS = ["*"]
    Fix: list the site's real names, read from the environment:
    ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",").
    In the development layer of a split settings package (a module named dev, development
    or devel that takes the shared settings with from .base import *) it is low: that
    layer serves a developer's machine; the production layer is reported. It is low, too,
    in settings that draw SECRET_KEY afresh at each import (get_random_secret_key(),
    secrets.token_hex(...), with no environment or file read): no deployment can run on
    a key that changes with every restart and worker process.
    """

    id = "SCR454"
    name = "django-allowed-hosts-wildcard"
    category = Category.CONFIGURATION
    cwe = 183
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    node_types = (ast.Assign,)
    context = {
        FileKind.TEST: note("test settings accept any host on purpose"),
        FileKind.EXAMPLE: note("example settings accept any host for convenience"),
        FileKind.DOCS: note("documentation settings accept any host for convenience"),
    }

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Assign)
        if not isinstance(node.value, ast.List | ast.Tuple):
            return
        if not any(isinstance(e, ast.Constant) and e.value == "*" for e in node.value.elts):
            return
        for target in node.targets:
            at_module = isinstance(target, ast.Name) and walk.function is None
            on_settings = isinstance(target, ast.Attribute) and ast.unparse(target.value).endswith("settings")
            name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
            if name == "ALLOWED_HOSTS" and (at_module or on_settings):
                layer = development_settings(walk.src) if at_module else ""
                yield self.finding(node, "ALLOWED_HOSTS contains '*': any Host header is accepted"
                                   + (f"; {layer}" if layer else ""), walk.src, scope=walk.scope_name,
                                   severity=Severity.LOW if layer else None)  # fmt: skip
