"""Logging rules (7xx): secrets written to logs."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, parameters

LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log", "audit", "trace"}
LOGGER_NAME = re.compile(r"(^|_)(log|logger|logging|LOG|LOGGER|_log|_logger)$", re.IGNORECASE)
SECRET_WORDS = {
    "password",
    "passwd",
    "pwd",
    "token",
    "secret",
    "apikey",
    "credential",
    "credentials",
    "passphrase",
    "cookie",
}
SECRET_PAIRS = {
    ("api", "key"),
    ("private", "key"),
    ("access", "key"),
    ("secret", "key"),
    ("auth", "header"),
    ("session", "id"),
    ("auth", "token"),
}
# Names that describe a secret rather than hold one.
NOT_SECRET_SUFFIXES = {
    "name",
    "type",
    "url",
    "uri",
    "path",
    "file",
    "len",
    "length",
    "count",
    "expires",
    "expiry",
    "expiration",
    "ttl",
    "policy",
    "field",
    "header",
    "required",
    "enabled",
    "format",
    "prefix",
    "valid",
    "validity",
    "age",
    # References to a secret kept elsewhere (a key manager's UUID, a libvirt usage id).
    "uuid",
    "ref",
    "href",
    "usage",
    "location",
    "manager",
    "store",
    "backend",
}
# Local names worth resolving as aliases of a logger method (log_method = logger.debug).
LOG_ALIAS = re.compile(r"log|warn|debug|info|error|critical", re.IGNORECASE)
# Attributes of a request that hold every header or cookie at once, Authorization included.
REQUEST_DATA = {"headers", "META", "environ", "cookies", "COOKIES"}
REQUEST_NAME = re.compile(r"(^|_)(request|req|http_request|rq)$", re.IGNORECASE)
MASKING_CALL = re.compile(r"(mask|redact|sanitiz|scrub|hash|obfuscat|censor|hide|strip_password)", re.IGNORECASE)
PLACEHOLDER_AFTER_SECRET = re.compile(
    r"\b(password|passwd|token|secret|api[_ ]?key|private[_ ]?key)\b"
    r"(?:\s*(?:is|was|=|:)\s*|\W{0,3})(%[-#0-9.]*[sr]|\{[^}]*\})",
    re.IGNORECASE,
)


def is_secret_name(name: str) -> bool:
    parts = [p for p in re.split(r"[_\W]+|(?<=[a-z])(?=[A-Z])", name) if p]
    lowered = [p.lower() for p in parts]
    if not lowered or lowered[-1] in NOT_SECRET_SUFFIXES:
        return False
    if any(p in SECRET_WORDS for p in lowered):
        return True
    return any(pair in SECRET_PAIRS for pair in zip(lowered, lowered[1:], strict=False))


def _is_logger_method(func: ast.expr) -> bool:
    if not isinstance(func, ast.Attribute) or func.attr not in LOG_METHODS:
        return False
    receiver = func.value
    if isinstance(receiver, ast.Name):
        return bool(LOGGER_NAME.search(receiver.id))
    if isinstance(receiver, ast.Attribute):
        return bool(LOGGER_NAME.search(receiver.attr))
    return False


def _is_log_call(call: ast.Call, function: ast.AST | None) -> bool:
    """A logger method call, or a call of a local name bound to one (log = logger.warning)."""
    if _is_logger_method(call.func):
        return True
    if not isinstance(call.func, ast.Name) or function is None:
        return False
    callee = call.func.id
    if not LOG_ALIAS.search(callee):
        return False
    return any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == callee for t in node.targets)
        and _is_logger_method(node.value)
        for node in ast.walk(function)
    )


def _whole_request_data(node: ast.AST, wsgi: bool) -> list[str]:
    """Whole header mappings, WSGI environs or cookie jars of a request used as one value.

    ``wsgi``: the function is a WSGI callable, so a bare ``environ`` is the request's."""
    found: list[str] = []
    stack: list[tuple[ast.AST, ast.AST | None]] = [(node, None)]
    while stack:
        current, parent = stack.pop()
        if isinstance(current, ast.Call) and MASKING_CALL.search(ast.unparse(current.func)):
            continue
        # request.headers["X"], request.headers.get("X") and len(request.headers) read a part.
        whole = not isinstance(parent, ast.Attribute | ast.Subscript) and not (
            isinstance(parent, ast.Call) and ast.unparse(parent.func) in ("len", "bool", "type")
        )
        if whole and _is_request_data(current, wsgi):
            found.append(ast.unparse(current))
            continue
        stack.extend((child, current) for child in ast.iter_child_nodes(current))
    return found


def _is_request_data(node: ast.AST, wsgi: bool) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "wsgi_environ" or (wsgi and node.id == "environ")
    if not isinstance(node, ast.Attribute):
        return False
    if node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os":
        return True
    if node.attr not in REQUEST_DATA:
        return False
    receiver = node.value
    owner = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
    return bool(REQUEST_NAME.search(owner))


def _secret_references(node: ast.AST) -> list[str]:
    """Names, attributes and string subscripts in ``node`` that hold secrets, skipping masked ones."""
    found: list[str] = []
    stack: list[ast.AST] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Call):
            callee = ast.unparse(current.func)
            if MASKING_CALL.search(callee) or callee in ("len", "bool", "type"):
                continue
        if isinstance(current, ast.Name) and is_secret_name(current.id):
            found.append(current.id)
        elif isinstance(current, ast.Attribute) and is_secret_name(current.attr):
            found.append(ast.unparse(current))
            continue
        elif isinstance(current, ast.Subscript):
            key = current.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and is_secret_name(key.value):
                found.append(ast.unparse(current))
                continue
        stack.extend(ast.iter_child_nodes(current))
    return found


class SecretInLog(Rule):
    """Secret written to a log

    What: a logging call whose message or arguments include a variable, attribute or
    key named like a secret (password, token, secret, api_key, private_key, cookie),
    or whose format string prints one ("password: %s"); also a whole request header
    mapping, cookie jar, Django request.META, os.environ or a WSGI callable's environ
    passed to a log call
    (request.headers, dict(self.request.headers), f"{environ}"), including through a
    local name bound to a logger method (log = logger.error).
    Why: logs are copied to aggregators, tickets and support bundles and are read by
    many more people than the secret was meant for; a logged token or password is a
    leaked one.
    Example:
        LOG.debug("login with %s/%s", user, password)
    Fix: leave the secret out, or log a masked form (oslo_utils.strutils.mask_password,
    a fingerprint, or the last four characters); for headers log an allowlist of the
    ones needed (User-Agent, Referer), never the whole mapping.
    """

    id = "SCR701"
    name = "secret-in-log"
    category = Category.LOGGING
    cwe = 532
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Call,)
    bandit = ()
    ruff = ()

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        if not _is_log_call(node, walk.function):
            return
        arguments: list[ast.expr] = [*node.args, *(kw.value for kw in node.keywords if kw.arg != "exc_info")]
        secrets = sorted({name for argument in arguments for name in _secret_references(argument)})
        if secrets:
            yield self.finding(
                node,
                f"log call writes {', '.join(secrets[:3])} to the log",
                walk.src,
                scope=walk.scope_name,
            )
            return
        wsgi = "start_response" in parameters(walk.function)
        wholes = sorted({text for argument in arguments for text in _whole_request_data(argument, wsgi)})
        if wholes:
            yield self.finding(
                node,
                f"log call writes all of {', '.join(wholes[:3])}, which carries Authorization and Cookie values",
                walk.src,
                scope=walk.scope_name,
            )
            return
        for argument in arguments:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                match = PLACEHOLDER_AFTER_SECRET.search(argument.value)
                if match and len(node.args) > 1:
                    yield self.finding(
                        node,
                        f"log format prints a value after '{match.group(1)}'",
                        walk.src,
                        scope=walk.scope_name,
                        confidence=Confidence.LOW,
                    )
                    return
