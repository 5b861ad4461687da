"""Where a request's URL points, as far as the code shows: this machine, a server the same
function starts, or whatever a parameter (a test's fixture) supplies.

Read by rules whose risk depends on the network path: a certificate check turned off for
a request to 127.0.0.1 leaves no one on the path to impersonate the server.
"""

from __future__ import annotations

import ast
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from scrutiny.rules.base import Walk, parameters, walk_function

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
LOOKUPS = 6  # assignments followed back before giving up
# How a finding's message says its URL comes from the code around it; a test's own server
# shows in the message this way, where the composer can weigh it (see TEST_SERVER_MARKS).
STARTED = "which this function enters itself"
PARAMETER = "is built from the parameter"
TEST_SERVER_MARKS = (STARTED, PARAMETER)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL points: ``kind`` is "local" (a loopback host written in the code),
    "started" (what a with block of the same function yields: in a test, the server it
    starts), "parameter" (passed in by the caller: in a test, a fixture) or "" (not
    known); ``text`` says what shows it, after "its URL"."""

    kind: str
    text: str


UNKNOWN = Target("", "")


def url_target(url: ast.expr | None, walk: Walk) -> Target:
    if url is None:
        return UNKNOWN
    return _url(url, walk, LOOKUPS)


def _scope(walk: Walk) -> tuple[ast.AST, ...]:
    return walk_function(walk.function) if walk.function is not None else ()


def _bound(name: str, walk: Walk) -> ast.expr | None:
    """The one value ``name`` is assigned in the current function, if exactly one."""
    values = [
        node.value
        for node in _scope(walk)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    ]
    return values[0] if len(values) == 1 else None


def _url(node: ast.expr, walk: Walk, budget: int) -> Target:
    if budget <= 0:
        return UNKNOWN
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        host = _host_of(node.value)
        return Target("local", f"names this machine ({host})") if _is_local(host) else UNKNOWN
    if isinstance(node, ast.JoinedStr):
        return _built(node.values, walk, budget)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _built(_flatten(node), walk, budget)
    return _origin(node, walk, budget)


def _flatten(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [*_flatten(node.left), *_flatten(node.right)]
    return [node]


def _built(parts: list[ast.expr], walk: Walk, budget: int) -> Target:
    """A URL put together from pieces: the host is the literal after '://' or, when the
    literal stops there, the first value put in."""
    prefix = ""
    for part in parts:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            prefix += part.value
            continue
        value = part.value if isinstance(part, ast.FormattedValue) else part
        if "://" in prefix and _host_of(prefix):
            break  # the host is written out before the first value
        if prefix and not prefix.endswith("://"):
            return UNKNOWN
        return _host_origin(value, walk, budget - 1) if prefix else _url(value, walk, budget - 1)
    host = _host_of(prefix)
    return Target("local", f"names this machine ({host})") if _is_local(host) else UNKNOWN


def _host_origin(node: ast.expr, walk: Walk, budget: int) -> Target:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return Target("local", f"names this machine ({node.value})") if _is_local(node.value) else UNKNOWN
    return _origin(node, walk, budget)


def _origin(node: ast.expr, walk: Walk, budget: int) -> Target:
    """A URL or host that is a name, an attribute or a call: follow it to an assignment, a
    server the function starts (``with server as (host, port)``) or a parameter."""
    root = node
    while isinstance(root, ast.Attribute | ast.Call | ast.Subscript):
        root = root.func if isinstance(root, ast.Call) else root.value
    if not isinstance(root, ast.Name):
        return UNKNOWN
    function = walk.function
    if root is node and (value := _bound(root.id, walk)) is not None:
        return _url(value, walk, budget - 1)
    if function is not None and root.id in parameters(function):
        return Target("parameter", f"{PARAMETER} {root.id}")
    for item in _scope(walk):
        if isinstance(item, ast.withitem) and item.optional_vars is not None:
            bound = {n.id for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name)}
            if root.id in bound:
                started = ast.unparse(item.context_expr)
                line = getattr(item.context_expr, "lineno", 0)
                return Target("started", f"comes from the with block on {started} (line {line}), {STARTED}")
    return UNKNOWN


def _host_of(url: str) -> str:
    text = url if "://" in url else f"//{url}"
    try:
        return urlsplit(text).hostname or ""
    except ValueError:
        return ""


def _is_local(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified  # a client sent to 0.0.0.0 reaches this machine
