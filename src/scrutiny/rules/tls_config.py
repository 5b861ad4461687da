"""TLS configuration rules (3xx): broken protocol versions and weak cipher suites.

Unverified contexts and check_hostname = False are SCR304 (network.py).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import (
    CallRule,
    Rule,
    Walk,
    argument,
    exactly,
    is_true,
    own_nodes,
    string_value,
    tails,
    walk_function,
)
from scrutiny.source import SourceFile

# Protocol constants that select SSL 2/3 or TLS 1.0/1.1, all deprecated by RFC 8996.
OLD_PROTOCOLS = frozenset(
    {
        "ssl.PROTOCOL_SSLv2", "ssl.PROTOCOL_SSLv3", "ssl.PROTOCOL_TLSv1", "ssl.PROTOCOL_TLSv1_1",
        "ssl.TLSVersion.SSLv3", "ssl.TLSVersion.TLSv1", "ssl.TLSVersion.TLSv1_1",
        "OpenSSL.SSL.SSLv2_METHOD", "OpenSSL.SSL.SSLv3_METHOD", "OpenSSL.SSL.TLSv1_METHOD",
        "OpenSSL.SSL.TLSv1_1_METHOD",
    }
)  # fmt: skip
OLD_NAMES = frozenset(tails(OLD_PROTOCOLS))
# pyOpenSSL's method constants, also reached through other import paths to its SSL module.
OLD_METHODS = frozenset(name for name in OLD_NAMES if name.endswith("_METHOD"))


def _old_protocol(name: str) -> bool:
    if name in OLD_PROTOCOLS:
        return True
    module, _, tail = name.rpartition(".")
    return tail in OLD_METHODS and module.rsplit(".", 1)[-1] == "SSL"


class TlsOldProtocol(Rule):
    """TLS connection allowed to use SSL 2/3 or TLS 1.0/1.1

    What: ssl.PROTOCOL_SSLv2/SSLv3/TLSv1/TLSv1_1, pyOpenSSL SSLv2/SSLv3/TLSv1/TLSv1_1
    _METHOD, or ssl.TLSVersion.SSLv3/TLSv1/TLSv1_1 used to create a context, wrap a
    socket, as a parameter default or as a context's minimum_version/maximum_version.
    The method constants count under any module path ending in SSL. SSLv23_METHOD
    (negotiate the best version both sides support) is not reported.
    Comparisons with these constants are not reported; one passed to a class or function
    of the same file that makes no ssl or OpenSSL call (a test's fake context) is low.
    Why: SSL 3.0 and TLS 1.0/1.1 have known attacks (POODLE, BEAST, weak MACs) and are
    deprecated (RFC 8996); a peer or attacker in the middle can make the connection use
    them.
    Example:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLSv1)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    Fix: use ssl.create_default_context() (or PROTOCOL_TLS_CLIENT/SERVER) and set
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2 if a floor is needed.
    """

    id = "SCR352"
    name = "tls-old-protocol"
    category = Category.TLS_NETWORK
    cwe = 327
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    node_types = (ast.Attribute, ast.Name)
    name_filter = exactly(OLD_NAMES)
    bandit = ("B502", "B503")
    ruff = ("S502", "S503")

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        tail = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
        if tail not in OLD_NAMES or not isinstance(getattr(node, "ctx", None), ast.Load):
            return
        name = walk.src.qualname(node)
        if not name or not _old_protocol(name):
            return
        parent = walk.parent(node)
        if isinstance(parent, ast.Attribute):
            return  # part of a longer name, reported on the whole
        short = name.split(".", 1)[-1]
        if isinstance(parent, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr in ("minimum_version", "maximum_version") for t in parent.targets
        ):
            attr = next(t.attr for t in parent.targets if isinstance(t, ast.Attribute))
            yield self.finding(parent, f"{attr} = {short} lets the connection fall back to a broken protocol",
                               walk.src, scope=walk.scope_name, cwe=757)  # fmt: skip
        elif isinstance(parent, ast.Call | ast.keyword | ast.arguments):
            call = walk.parent(parent) if isinstance(parent, ast.keyword) else parent
            stand_in = _local_stand_in(call, walk.src) if isinstance(call, ast.Call) else None
            if stand_in is not None:
                yield self.finding(node, f"{short} is passed to {stand_in.name} (line {stand_in.lineno}), defined in "
                                   "this file, which makes no TLS context or connection", walk.src,
                                   scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
                return
            yield self.finding(node, f"{short} selects a deprecated protocol version", walk.src, scope=walk.scope_name)


def _local_stand_in(call: ast.Call, src: SourceFile) -> ast.ClassDef | ast.FunctionDef | None:
    """The class or function of this file that ``call`` calls by name, when nothing in it
    calls the ssl or OpenSSL modules (a fake or a record of the choice, not a context)."""
    if not isinstance(call.func, ast.Name):
        return None
    for definition in src.tree.body:
        if isinstance(definition, ast.ClassDef | ast.FunctionDef) and definition.name == call.func.id:
            for inner in ast.walk(definition):
                if isinstance(inner, ast.Call | ast.Attribute):
                    qualified = src.qualname(inner.func if isinstance(inner, ast.Call) else inner) or ""
                    if qualified.startswith(("ssl.", "OpenSSL.", "twisted.internet.ssl")):
                        return None
            return definition
    return None


# Cipher-string words (OpenSSL syntax) that enable broken or unauthenticated suites.
WEAK_CIPHER_WORDS = ("RC4", "DES", "3DES", "NULL", "EXPORT", "EXP", "ANULL", "ENULL", "MD5", "ADH", "AECDH", "LOW")
CIPHER_SEPARATORS = re.compile(r"[:,\s]+")


def weak_cipher_words(spec: str) -> list[str]:
    """The enabled entries of an OpenSSL cipher string that name weak suites."""
    weak: list[str] = []
    for entry in CIPHER_SEPARATORS.split(spec):
        if not entry or entry[0] in "!-":
            continue
        words = re.split(r"[-+_]", entry.lstrip("+").upper())
        if any(word in WEAK_CIPHER_WORDS for word in words) or "DES-CBC3" in entry.upper():
            weak.append(entry)
    return weak


class TlsWeakCiphers(Rule):
    """TLS cipher list that enables broken or unauthenticated suites

    What: a literal cipher string given to set_ciphers() or as ciphers= that enables
    RC4, DES or 3DES, NULL (no encryption), aNULL/ADH (no authentication), EXPORT or
    LOW grade suites, or MD5 MACs. Entries excluded with ! or - are not counted.
    Why: these suites are broken (RC4, DES, export keys), give no confidentiality
    (NULL) or let anyone impersonate the server (anonymous key exchange).
    Example:
        ctx.set_ciphers("RC4-SHA:DES-CBC3-SHA:AES128-SHA")
    Fix: keep the library default (Python's default list already excludes these), or
    use a vetted modern list such as "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!MD5".
    """

    id = "SCR353"
    name = "tls-weak-ciphers"
    category = Category.TLS_NETWORK
    cwe = 327
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    node_types = (ast.Call,)
    call_filter = exactly("set_ciphers", "set_cipher_list")
    keyword_filter = exactly("ciphers")

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("set_ciphers", "set_cipher_list"):
            spec = argument(node, "ciphers", 0)
        else:
            spec = next((kw.value for kw in node.keywords if kw.arg == "ciphers"), None)
        text = string_value(spec)
        if text is None and isinstance(spec, ast.Constant) and isinstance(spec.value, bytes):
            text = spec.value.decode("latin-1")
        if not text or spec is None:
            return
        weak = weak_cipher_words(text)
        if weak:
            shown = ", ".join(weak[:3]) + (" ..." if len(weak) > 3 else "")
            yield self.finding(spec, f"cipher list enables weak suites: {shown}", walk.src, scope=walk.scope_name)


class SslWrapSocket(CallRule):
    """Socket wrapped by the removed ssl.wrap_socket helper

    What: ssl.wrap_socket(...) without cert_reqs=ssl.CERT_REQUIRED. The helper was
    deprecated in Python 3.7 and removed in 3.12. An explicit cert_reqs=CERT_NONE is
    SCR304. With server_side=True it is low: a server checks no client certificate by
    default anyway, and only the removal remains. Low too when cert_reqs is given a
    value that is not a literal (a setting the caller passes in): the certificate check
    is then decided where that setting is made, not by the helper's default.
    Why: its defaults check no certificate (cert_reqs=CERT_NONE) and, with no
    ssl_version, accept whatever protocol the OpenSSL build allows, so anyone on the
    path can read and change the traffic; code using it also breaks on Python 3.12+.
    Example:
        conn = ssl.wrap_socket(sock)
    Fix: ctx = ssl.create_default_context(); conn = ctx.wrap_socket(sock,
    server_hostname=host) (verifies the certificate and host name, TLS 1.2+).
    """

    id = "SCR354"
    name = "ssl-wrap-socket"
    category = Category.TLS_NETWORK
    cwe = 295
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    calls = ("ssl.wrap_socket",)
    bandit = ("B504",)
    ruff = ("S504",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        reqs = walk.src.qualname(argument(call, "cert_reqs", 4)) or ""
        if reqs.endswith(("CERT_REQUIRED", "CERT_NONE")):
            return  # verified, or already reported by SCR304
        if is_true(argument(call, "server_side", 2)):
            # A server asks no certificate of its clients unless told to; what it lacks is a
            # future: the function is gone in Python 3.12.
            yield self.finding(call, "ssl.wrap_socket(server_side=True) is gone in Python 3.12 (a server does not "
                               "check client certificates by default, so nothing is lost there)", walk.src,
                               scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
            return
        given = argument(call, "cert_reqs", 4)
        if given is not None and not isinstance(given, ast.Constant):
            # The verification mode is a value the caller configures, not the helper's
            # default: whether a certificate is checked is decided where that value is set.
            yield self.finding(call, f"ssl.wrap_socket is gone in Python 3.12; its cert_reqs is {ast.unparse(given)}, "
                               "a setting passed in, so whether the certificate is checked is decided where that "
                               "value is set, not by the helper's default", walk.src,
                               scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
            return
        yield self.finding(call, "ssl.wrap_socket checks no certificate by default and is gone in Python 3.12",
                           walk.src, scope=walk.scope_name)  # fmt: skip


# pyOpenSSL methods that negotiate the version: whatever both sides and the build allow.
NEGOTIATING_METHODS = frozenset({"SSLv23_METHOD", "TLS_METHOD", "TLS_CLIENT_METHOD", "TLS_SERVER_METHOD"})
# The options that switch off each old version a negotiating context still offers.
OLD_VERSION_OPTIONS = {"OP_NO_TLSv1": "TLS 1.0", "OP_NO_TLSv1_1": "TLS 1.1"}
SAFE_FLOORS = frozenset({"TLS1_2_VERSION", "TLS1_3_VERSION"})


def _in_ssl_module(name: str | None, tails_: frozenset[str] | set[str]) -> str:
    """The last part of ``name`` when it is one of ``tails_`` in a module called SSL."""
    module, _, tail = (name or "").rpartition(".")
    return tail if tail in tails_ and module.rsplit(".", 1)[-1] == "SSL" else ""


def _option_names(node: ast.AST, walk: Walk) -> set[str] | None:
    """The SSL.OP_* names an options expression ORs together; None when one is not a name."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr | ast.Add):
        left, right = _option_names(node.left, walk), _option_names(node.right, walk)
        return None if left is None or right is None else left | right
    name = walk.src.qualname(node) if isinstance(node, ast.Attribute | ast.Name) else None
    tail = (name or "").rsplit(".", 1)[-1]
    return {tail} if tail.startswith("OP_") else None


class PyOpenSslNoVersionFloor(Rule):
    """pyOpenSSL connection on a context that still offers TLS 1.0/1.1

    What: OpenSSL.SSL.Connection(ctx, ...) where ctx, made in the same function (or
    module) by SSL.Context(SSLv23_METHOD / TLS_METHOD / TLS_CLIENT_METHOD /
    TLS_SERVER_METHOD), is never given set_min_proto_version(TLS1_2_VERSION or later)
    nor set_options covering both OP_NO_TLSv1 and OP_NO_TLSv1_1 before the connection is
    made. Quiet when the context is handed to any other call first (it may be configured
    there) or an option cannot be read from the text.
    Why: a negotiating method offers every version the OpenSSL build still allows;
    where the system's security level does not refuse TLS 1.0/1.1, a peer or an attacker
    in the middle can settle the connection on a deprecated protocol (RFC 8996).
    Example:
        ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
        conn = SSL.Connection(ctx, sock)
    Fix: ctx.set_min_proto_version(SSL.TLS1_2_VERSION) before making connections, or
    ctx.set_options(SSL.OP_NO_SSLv2 | SSL.OP_NO_SSLv3 | SSL.OP_NO_TLSv1 | SSL.OP_NO_TLSv1_1).
    """

    id = "SCR356"
    name = "pyopenssl-no-version-floor"
    category = Category.TLS_NETWORK
    cwe = 327
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Call,)
    call_filter = exactly("Connection")
    bandit = ()
    ruff = ()

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        src = walk.src
        if not _in_ssl_module(src.qualname(node.func), {"Connection"}):
            return
        context = argument(node, "context", 0)
        made, options = self._context(context, node, walk)
        if made is None or options is None:
            return
        method = _in_ssl_module(src.qualname(argument(made, "method", 0)), NEGOTIATING_METHODS)
        if not method:
            return
        still = [version for option, version in OLD_VERSION_OPTIONS.items() if option not in options]
        if not still:
            return
        yield self.finding(
            node,
            f"connection on a context made with {method} that still offers {' and '.join(still)}: nothing "
            f"before it sets a TLS 1.2 floor or OP_NO_ options (unless the system OpenSSL's security level "
            f"refuses them)",
            src,
            scope=walk.scope_name,
        )

    def _context(
        self, context: ast.expr | None, use: ast.Call, walk: Walk
    ) -> tuple[ast.Call | None, set[str] | None]:
        """The SSL.Context(...) call a connection's context comes from and the options
        set on it before ``use``; (None, None) when that is not known from the text."""
        src = walk.src
        if isinstance(context, ast.Call):
            return (context, set()) if _in_ssl_module(src.qualname(context.func), {"Context"}) else (None, None)
        if not isinstance(context, ast.Name):
            return None, None
        nodes = walk_function(walk.function) if walk.function else own_nodes(src.tree.body)
        made: ast.Call | None = None
        options: set[str] = set()
        for item in nodes:
            if isinstance(item, ast.Name) and item.id == context.id and isinstance(item.ctx, ast.Store):
                parent = walk.parent(item)
                value = parent.value if isinstance(parent, ast.Assign) else None
                if made is not None or not isinstance(value, ast.Call):
                    return None, None  # bound twice or from something else
                if not _in_ssl_module(src.qualname(value.func), {"Context"}):
                    return None, None
                made = value
            elif isinstance(item, ast.Call) and (item.lineno, item.col_offset) < (use.lineno, use.col_offset):
                func = item.func
                on_context = isinstance(func, ast.Attribute) and _is_name(func.value, context.id)
                if on_context and func.attr == "set_min_proto_version":
                    floor = src.qualname(argument(item, "version", 0)) or ""
                    if floor.rsplit(".", 1)[-1] not in SAFE_FLOORS:
                        return None, None
                    options.update(OLD_VERSION_OPTIONS)
                elif on_context and func.attr == "set_options":
                    named = _option_names(argument(item, "options", 0) or item, walk)
                    if named is None:
                        return None, None
                    options |= named
                elif any(_is_name(a, context.id) for a in [*item.args, *(k.value for k in item.keywords)]):
                    return None, None  # handed elsewhere first: may be configured there
        return made, options


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name
