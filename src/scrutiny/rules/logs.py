"""Logging rules (7xx): secrets written to logs."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, call_tail, exactly, string_value, walk_function
from scrutiny.rules.resolve import module_value
from scrutiny.rules.secret_values import is_secret_name, secret_evidence, secret_name_strength
from scrutiny.source import SourceFile

LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log", "audit", "trace"}
LOGGER_NAME = re.compile(r"(^|_)(log|logger|logging|LOG|LOGGER|_log|_logger)$", re.IGNORECASE)
# Local names worth resolving as aliases of a logger method (log_method = logger.debug).
LOG_ALIAS = re.compile(r"log|warn|debug|info|error|critical", re.IGNORECASE)
# Methods of str: password.strip() is still the password, token.contents is a field of an object.
# What _is_log_call can accept, as a filter on the call's last name.
LOG_CALL_FILTER = re.compile(f"{exactly(LOG_METHODS).pattern}|{LOG_ALIAS.pattern}", re.IGNORECASE)
STR_METHODS = frozenset(name for name in dir(str) if not name.startswith("_"))
MASKING_CALL = re.compile(r"(mask|redact|sanitiz|scrub|hash|obfuscat|censor|hide|strip_password)", re.IGNORECASE)
PLACEHOLDER_AFTER_SECRET = re.compile(
    r"\b(password|passwd|token|secret|api[_ ]?key|private[_ ]?key)\b"
    r"(?:\s*(?:is|was|=|:)\s*|\W{0,3})(%[-#0-9.]*[sr]|\{[^}]*\})",
    re.IGNORECASE,
)


def _is_log_call(call: ast.Call, function: ast.AST | None = None, src: SourceFile | None = None) -> bool:
    """A logger method call, or a call of a local name bound to one (log = logger.warning)."""
    if isinstance(call.func, ast.Name) and function is not None and LOG_ALIAS.search(call.func.id):
        callee = call.func.id
        return any(
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == callee for t in node.targets)
            and isinstance(node.value, ast.Attribute)
            and _is_log_call(ast.Call(node.value, [], []))
            for node in walk_function(function)
        )
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in LOG_METHODS:
        return False
    receiver = func.value
    if isinstance(receiver, ast.Name) and LOGGER_NAME.search(receiver.id):
        return True
    if isinstance(receiver, ast.Attribute) and LOGGER_NAME.search(receiver.attr):
        return True
    return src is not None and _is_logger(receiver, src, function)


def _is_logger(node: ast.AST, src: SourceFile, function: ast.AST | None, depth: int = 0) -> bool:
    """Whether ``node`` is a logger by how it was made: the logging module or logging.root,
    logging.getLogger(...), a name bound to one (here or at module level), or a call of a
    function of the file that returns one (get_logger())."""
    if depth > 3:
        return False
    dotted = src.qualname(node) or ""
    if dotted == "logging" or dotted == "logging.root":
        return True
    if isinstance(node, ast.Call):
        made = src.qualname(node.func) or ""
        if made in ("logging.getLogger", "logging.getLoggerClass"):
            return True
        if isinstance(node.func, ast.Name):
            for definition in src.tree.body:
                if isinstance(definition, ast.FunctionDef) and definition.name == node.func.id:
                    returns = [r.value for r in ast.walk(definition) if isinstance(r, ast.Return) and r.value]
                    return bool(returns) and all(_is_logger(r, src, definition, depth + 1) for r in returns)
        return False
    if isinstance(node, ast.Name):
        scopes = [function] if function is not None else []
        for scope in [*scopes, src.tree]:
            body = walk_function(scope) if scope is function else scope.body  # type: ignore[union-attr]
            for statement in body:
                if (
                    isinstance(statement, ast.Assign)
                    and len(statement.targets) == 1
                    and isinstance(statement.targets[0], ast.Name)
                    and statement.targets[0].id == node.id
                    and statement.value is not node
                ):
                    return _is_logger(statement.value, src, None, depth + 1)
    return False


def secret_reference_nodes(node: ast.AST) -> list[tuple[str, ast.AST]]:
    """Names, attributes and string subscripts in ``node`` that hold secrets, as written
    and as nodes, skipping masked ones."""
    found: list[tuple[str, ast.AST]] = []
    stack: list[ast.AST] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Call):
            callee = ast.unparse(current.func)
            if MASKING_CALL.search(callee) or callee in ("len", "bool", "type"):
                continue
        if isinstance(current, ast.Name) and is_secret_name(current.id):
            found.append((current.id, current))
        elif isinstance(current, ast.Attribute) and is_secret_name(current.attr):
            found.append((ast.unparse(current), current))
            continue
        elif isinstance(current, ast.Attribute) and isinstance(current.value, ast.Name):
            if current.attr not in STR_METHODS:
                continue  # token.lineno: a field of a parsed token, not the secret itself
        elif isinstance(current, ast.Subscript):
            key = current.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and is_secret_name(key.value):
                found.append((ast.unparse(current), current))
                continue
        stack.extend(ast.iter_child_nodes(current))
    return found


def secret_references(node: ast.AST) -> list[str]:
    """Names, attributes and string subscripts in ``node`` that hold secrets, skipping masked ones."""
    return [text for text, _ in secret_reference_nodes(node)]


def _secret_name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return string_value(node.slice) or "" if isinstance(node, ast.Subscript) else ""


def weigh_secrets(references: list[tuple[str, ast.AST]], src: SourceFile) -> tuple[str, bool]:
    """What the finding adds about why the values are secrets, and whether that rests on
    their names alone. A name only secrets wear (password, api_key) is enough; a token,
    cookie or session id needs a credential source, a secret maker or an auth use."""
    if any(secret_name_strength(_secret_name(node)) == "strong" for _, node in references):
        return "", False
    for text, node in references:
        if (evidence := secret_evidence(node, src)) is not None:
            why, line = evidence
            return (f"; {text} is {why} (line {line})" if line else f"; the value is {why}"), False
    return ("; only the name suggests a secret: no credential source, secret maker or "
            "authentication use of the value is seen"), True  # fmt: skip


MASKING_NAME = re.compile(r"^_?(mask|redact|sanitiz|scrub|obfuscat|censor)", re.IGNORECASE)


def masking_helper(src: SourceFile) -> str:
    """A masking function the module already calls, imports or defines, as it is written there."""
    for call in src.index.of_type(ast.Call):
        assert isinstance(call, ast.Call)
        func = call.func
        tail = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if MASKING_NAME.search(tail):
            return ast.unparse(func)
    for local in src.aliases:
        if MASKING_NAME.search(local):
            return local
    for function in src.index.functions():
        if MASKING_NAME.search(function.name):
            return function.name
    if "oslo_utils.strutils" in src.aliases.values():
        local = next(k for k, v in src.aliases.items() if v == "oslo_utils.strutils")
        return f"{local}.mask_password"
    return ""


# Per function: names assigned a value built from secrets, with the secrets and the line.
Built = tuple[list[tuple[str, ast.AST]], int]
_BUILT: dict[ast.AST, dict[str, list[Built]]] = {}


def _built_with_secret(name: str, call: ast.Call, src: SourceFile) -> Built | None:
    """A command line or message assigned to ``name`` earlier in the function from a secret."""
    function = src.index.function_of.get(call)
    if function is None:
        return None
    built = _BUILT.get(function)
    if built is None:
        if len(_BUILT) > 256:
            _BUILT.clear()
        built = _BUILT[function] = _secret_assignments(function)
    return next(((secrets, line) for secrets, line in built.get(name, ()) if line < call.lineno), None)


def _secret_assignments(function: ast.AST) -> dict[str, list[Built]]:
    """Names assigned a list, f-string or concatenation that holds a secret, per name."""
    found: dict[str, list[Built]] = {}
    for node in walk_function(function):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.List | ast.Tuple | ast.JoinedStr | ast.BinOp):
            secrets = secret_reference_nodes(node.value)
            if secrets:
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found.setdefault(target.id, []).append((secrets, node.lineno))
    return found


def _logged_names(argument: ast.expr) -> list[str]:
    """Plain names logged as they are or joined: cmd, ' '.join(cmd)."""
    if isinstance(argument, ast.Name):
        return [argument.id]
    if isinstance(argument, ast.Call) and isinstance(argument.func, ast.Attribute) and argument.func.attr == "join":
        return [a.id for a in argument.args if isinstance(a, ast.Name)]
    return []


def _fix_with_helper(src: SourceFile) -> str | None:
    helper = masking_helper(src)
    return f"log a masked form with {helper}, which this module already uses, or leave it out" if helper else None


def _number_constant(node: ast.AST, walk: Walk) -> bool:
    """A name the file binds once to a number (SECRET_BYTES = 32): a size or a count of a
    secret, not the secret."""
    if not isinstance(node, ast.Name):
        return False
    value, constant = module_value(node, walk.src, walk.function)
    return bool(constant) and isinstance(value, ast.Constant) and type(value.value) in (int, float)


def _masked_shape(value: ast.AST, depth: int = 0) -> bool:
    """A value built only from constants and slices of other values (key[:4] + "****" +
    key[-4:]), through f-strings, + and conditional expressions: a masked form, which
    shows a few characters of a secret and never the whole of it."""
    if depth > 6:
        return False
    if isinstance(value, ast.Constant):
        return True
    if isinstance(value, ast.Subscript):
        return isinstance(value.slice, ast.Slice)
    if isinstance(value, ast.JoinedStr):
        return all(_masked_shape(part, depth + 1) for part in value.values)
    if isinstance(value, ast.FormattedValue):
        return _masked_shape(value.value, depth + 1)
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add | ast.Mult):
        return _masked_shape(value.left, depth + 1) and _masked_shape(value.right, depth + 1)
    if isinstance(value, ast.IfExp):
        return _masked_shape(value.body, depth + 1) and _masked_shape(value.orelse, depth + 1)
    return False


def _masked(node: ast.AST, walk: Walk) -> bool:
    """``node`` holds a masked form of a secret: a slice of it (key[-4:]), or a local name
    every assignment in the function gives a masked shape."""
    parent = walk.parent(node)
    if isinstance(parent, ast.Subscript) and parent.value is node and isinstance(parent.slice, ast.Slice):
        return True
    if not isinstance(node, ast.Name) or walk.function is None:
        return False
    values = [
        statement.value
        for statement in walk_function(walk.function)
        if isinstance(statement, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == node.id for t in statement.targets)
    ]
    return bool(values) and all(_masked_shape(value) for value in values)


class SecretInLog(Rule):
    """Secret written to a log

    What: a logging call whose message or arguments include a variable, attribute or
    key named like a secret (password, token, secret, api_key, private_key, cookie),
    or whose format string prints one ("password: %s").
    Why: logs are copied to aggregators, tickets and support bundles and are read by
    many more people than the secret was meant for; a logged token or password is a
    leaked one.
    Example:
        LOG.debug("login with %s/%s", user, password)
    Also a command line or message assigned earlier in the function from such a value
    (cmd = ["mysql", "-p" + password]) and then logged. Names only secrets wear (password,
    secret, api_key, private_key) are reported at medium severity. Tokens, cookies and
    session ids share their names with lexer tokens, cookie dictionaries and lock
    handles, so they are medium only with evidence, named in the message: the value is
    read from a credential header, the request cookies or a secret environment or
    configuration key, made by secrets.token_*/os.urandom or an authentication API, is
    a parameter of an authentication function, or is passed to an authentication,
    signing or encryption API (or as password=/auth=, or in an Authorization header)
    anywhere in the file; with the name as the only evidence, low severity and confidence.
    A name the file binds once to a number (SECRET_BYTES = 32, a size) is not a secret;
    nor is a masked form: a slice of the value (key[-4:]) or a local name every assignment
    in the function builds only from constants and slices (key[:4] + "****" + key[-4:]),
    and a method of the program's own objects is an authentication use by its own name
    (login, sign, encrypt), not by its receiver's (auth.next_url() is not one).
    Fix: leave the secret out, or log a masked form (oslo_utils.strutils.mask_password,
    a fingerprint, or the last four characters); the finding names the masking helper
    the module already uses, when it has one.
    """

    id = "SCR701"
    name = "secret-in-log"
    category = Category.LOGGING
    cwe = 532
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Call,)
    call_filter = LOG_CALL_FILTER
    bandit = ()
    ruff = ()

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        if not _is_log_call(node, walk.function, walk.src):
            return
        arguments: list[ast.expr] = [*node.args, *(kw.value for kw in node.keywords if kw.arg != "exc_info")]
        references = sorted({text: sub for a in arguments for text, sub in secret_reference_nodes(a)
                             if not _number_constant(sub, walk) and not _masked(sub, walk)}.items())  # fmt: skip
        if references:
            secrets = [text for text, _ in references]
            why, by_name_only = weigh_secrets(references, walk.src)
            yield self._graded(node, f"log call writes {', '.join(secrets[:3])} to the log{why}", by_name_only, walk)
            return
        for argument in arguments:
            for name in _logged_names(argument):
                if built := _built_with_secret(name, node, walk.src):
                    (first, _), line = built[0][0], built[1]
                    why, by_name_only = weigh_secrets(built[0], walk.src)
                    message = f"log call writes {name}, built with {first} at line {line}{why}"
                    yield self._graded(node, message, by_name_only, walk)
                    return
        for argument in arguments:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                match = PLACEHOLDER_AFTER_SECRET.search(argument.value)
                if match and len(node.args) > 1:
                    word = match.group(1)
                    # "token %s" alone is the weakest evidence there is: a word of the message.
                    weak = secret_name_strength(word) == "weak"
                    yield self.finding(
                        node,
                        f"log format prints a value after '{word}'"
                        + ("; only that word suggests a secret" if weak else ""),
                        walk.src,
                        scope=walk.scope_name,
                        severity=Severity.LOW if weak else None,
                        confidence=Confidence.LOW,
                    )
                    return

    def _graded(self, node: ast.Call, message: str, by_name_only: bool, walk: Walk) -> Finding:
        """The finding, at low severity and confidence when only a weak name says the value is a secret."""
        return self.finding(
            node,
            message,
            walk.src,
            scope=walk.scope_name,
            fix=_fix_with_helper(walk.src),
            severity=Severity.LOW if by_name_only else None,
            confidence=Confidence.LOW if by_name_only else None,
        )


# Request attributes that carry credentials: headers (Authorization, cookies), the WSGI
# environment, cookies and bodies (login forms, API payloads).
REQUEST_SECRET_PARTS = frozenset(
    {"headers", "META", "COOKIES", "cookies", "body", "POST", "form", "data", "json", "environ", "get_json"}
)
WEB_FRAMEWORKS = frozenset(
    {"webob", "flask", "django", "falcon", "pyramid", "aiohttp", "starlette", "fastapi", "tornado", "bottle", "quart"}
)


def _imports_web_framework(src: SourceFile) -> bool:
    # From the parsed imports, not a text search: a multi-line regex over the whole file
    # for every log call was most of a cold review's time on long modules.
    return any(module.split(".", 1)[0] in WEB_FRAMEWORKS for module in src.imported_modules)


def _request_parts(node: ast.AST, names: frozenset[str]) -> Iterator[tuple[ast.AST, str]]:
    """Whole request objects and their credential-carrying parts used in ``node``."""
    for current in ast.walk(node):
        if isinstance(current, ast.Attribute) and current.attr in REQUEST_SECRET_PARTS:
            base = current.value
            if isinstance(base, ast.Name) and base.id in names:
                yield current, "part"
        elif isinstance(current, ast.Name) and current.id in names:
            yield current, "whole"


class RequestInLog(Rule):
    """Request headers, cookies or body written to a log

    What: a logging call whose message or arguments include a web request's headers,
    META/environ, cookies or body (request.headers, request.META, request.COOKIES,
    request.body, request.POST, request.form, request.json...) as a whole (medium; one
    named header or field is left to SCR701, which judges it by its name), or the request
    object itself (low: what it prints depends on the framework; webob prints every
    header). `request` counts everywhere, `req` in modules that import a web framework.
    extra={"request": request}, which hands the request to handlers, is not reported.
    Why: headers carry Authorization tokens, session cookies and API keys, and bodies
    carry passwords from login forms; logs are read by far more people than those
    secrets were meant for.
    Example:
        LOG.debug("incoming request %s with headers %s", req.path, req.headers)
    Fix: log the fields needed for debugging (method, path, a request id, the user id)
    and never the header set, cookies or body; mask credentials if headers must be kept.
    """

    id = "SCR702"
    name = "request-in-log"
    category = Category.LOGGING
    cwe = 532
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Call,)
    call_filter = LOG_CALL_FILTER

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        if not _is_log_call(node, walk.function, walk.src):
            return
        names = frozenset({"request", "req"} if _imports_web_framework(walk.src) else {"request"})
        whole: list[str] = []
        for argument in node.args:
            for found, how in _request_parts(argument, names):
                if how == "part" and not isinstance(walk.parent(found), ast.Subscript | ast.Attribute):
                    yield self.finding(node, f"log call writes {ast.unparse(found)} (credentials travel there)",
                                       walk.src, scope=walk.scope_name)  # fmt: skip
                    return
                if how == "part":
                    continue  # one header or field, named: SCR701 judges it by its name
                parent = walk.parent(found)
                printed = parent is node or isinstance(parent, ast.FormattedValue | ast.Tuple)
                if printed or (isinstance(parent, ast.Call) and call_tail(parent) in ("str", "repr")):
                    whole.append(ast.unparse(found))
        if whole:
            yield self.finding(node, f"log call writes the whole request object {whole[0]}", walk.src,
                               scope=walk.scope_name, severity=Severity.LOW, confidence=Confidence.LOW)  # fmt: skip
