"""TLS and network rules: certificate checks turned off, servers bound to every interface."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.kinds import main_guard
from scrutiny.rules.base import (
    PEER_CHECK_CONTEXT,
    ContextPolicy,
    Rule,
    Walk,
    argument,
    caller_choice,
    exactly,
    is_false,
    keyword,
    note,
    string_value,
    target_name,
    walk_function,
)
from scrutiny.rules.receivers import Receiver, receiver_of
from scrutiny.rules.url_targets import TEST_SERVER_MARKS, url_target
from scrutiny.source import SourceFile

HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
HTTP_LIBRARY_CALLS = HTTP_VERBS | {"Client", "AsyncClient", "stream", "Session", "send"}
HTTP_METHODS = HTTP_VERBS | {"send", "stream"}
HTTP_RECEIVER_WORDS = ("session", "client", "http", "requests")
HTTP_CLIENT_FACTORIES = frozenset(
    {"requests.Session", "requests.session", "requests.sessions.Session", "httpx.Client", "httpx.AsyncClient"}
)


def _bound_to_http_client(name: str, scope: ast.AST, src: SourceFile) -> bool:
    """Whether ``name`` is assigned a requests/httpx session or client in ``scope``."""
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                if src.qualname(node.value.func) in HTTP_CLIENT_FACTORIES:
                    return True
        elif isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
            if node.optional_vars.id == name and isinstance(node.context_expr, ast.Call):
                if src.qualname(node.context_expr.func) in HTTP_CLIENT_FACTORIES:
                    return True
    return False


class TlsVerifyDisabled(Rule):
    """TLS certificate verification turned off in an HTTP client

    What: verify=False passed to requests or httpx (module functions, Session, Client,
    AsyncClient) or to get/post/.../request/send on an HTTP session or client: one the
    code builds (s = requests.Session(), self.http = httpx.Client()) or, for objects it
    does not build, one whose name says so (self.session, client); also setting
    <session>.verify = False. The message names the receiver's type as the code shows it
    (the constructor call, annotation, with statement or import it comes from) or says it
    is not known; an assignment to an object of unknown type is medium confidence. A
    request whose URL names this machine (localhost, 127.0.0.1, ::1) is low; in a test, so
    is one whose URL comes from a parameter (a fixture) or from a with block the test
    enters (the server it starts).
    Why: without verification any host on the network path can present its own
    certificate and read or change the traffic, credentials and tokens included.
    Example:
        resp = requests.get(url, verify=False)
    Set only on a branch that tests a parameter of the function (if insecure: ...), the
    setting is the caller's choice and is low, with the branch named; so is one set only on
    a branch whose test reads the run-time configuration and no request data (the
    object's state, an imported settings object, the environment: if self.insecure:).
    Fix: leave verify at its default; for a private CA pass its bundle path,
    verify="/etc/ssl/certs/internal-ca.pem", or set REQUESTS_CA_BUNDLE.
    """

    id = "SCR303"
    name = "tls-verify-disabled"
    category = Category.TLS_NETWORK
    cwe = 295
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    node_types = (ast.Call, ast.Assign)
    keyword_filter = exactly("verify")
    bandit = ("B501",)
    ruff = ("S501",)

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        yield from caller_choice(self._check(node, walk), node, walk)

    def _check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr == "verify" and is_false(node.value):
                    shown = ast.unparse(target.value)
                    receiver = receiver_of(target.value, walk)
                    # A receiver made on the spot (requests.Session().verify) shows its own type.
                    typed = "" if isinstance(target.value, ast.Call) else _typed(shown, receiver)
                    yield self.finding(
                        node,
                        f"{shown}.verify = False turns off certificate checks{typed}",
                        walk.src,
                        scope=walk.scope_name,
                        confidence=None if receiver.known else Confidence.MEDIUM,
                    )
            return
        assert isinstance(node, ast.Call)
        verify = next((kw.value for kw in node.keywords if kw.arg == "verify"), None)
        if not is_false(verify) or not self._is_http_call(node, walk):
            return
        name = walk.src.qualname(node.func) or ast.unparse(node.func)
        typed = ""
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if receiver is not None and not isinstance(receiver, ast.Call) and not name.startswith(("requests.", "httpx.")):
            typed = _typed(ast.unparse(receiver), receiver_of(receiver, walk))
        message = f"{name} is called with verify=False{typed}"
        target = url_target(_url_argument(node, name), walk)
        if target.kind == "local":
            # Loopback traffic crosses no network: there is no one on the path to impersonate the server.
            message += f"; its URL {target.text}, so no network lies between client and server"
            yield self.finding(node, message, walk.src, scope=walk.scope_name, severity=Severity.LOW)
            return
        if target.kind:
            message += f"; its URL {target.text}"
        yield self.finding(node, message, walk.src, scope=walk.scope_name)

    @classmethod
    def context_policy(cls, finding: Finding, kind: FileKind) -> ContextPolicy | None:
        if kind is FileKind.TEST and any(mark in finding.message for mark in TEST_SERVER_MARKS):
            return TEST_OWN_SERVER
        return super().context_policy(finding, kind)

    def _is_http_call(self, call: ast.Call, walk: Walk) -> bool:
        name = walk.src.qualname(call.func) or ""
        root, _, last = name.rpartition(".")
        if name.startswith(("requests.", "httpx.")) and last in HTTP_LIBRARY_CALLS:
            return True
        if not isinstance(call.func, ast.Attribute) or call.func.attr not in HTTP_METHODS:
            return False
        receiver = call.func.value
        scope = walk.function or walk.src.tree
        if isinstance(receiver, ast.Name) and _bound_to_http_client(receiver.id, scope, walk.src):
            return True
        if receiver_of(receiver, walk).type in HTTP_CLIENT_FACTORIES:
            return True  # self.transport = requests.Session(), whatever the attribute is called
        # An object the file did not build (a base class's session, a client passed in):
        # its name is what is left to go on.
        return any(word in root.lower() for word in HTTP_RECEIVER_WORDS)


# A test that turns checks off against the server it runs (a fixture, or one it starts).
TEST_OWN_SERVER = ContextPolicy(
    Severity.LOW, "a test turning certificate checks off against its own server (a fixture or a server it starts)"
)


def _url_argument(call: ast.Call, name: str) -> ast.expr | None:
    """The URL a request call is given: the first argument, the second for request(method, url)."""
    last = name.rsplit(".", 1)[-1]
    if last not in HTTP_VERBS and last != "stream":
        return None  # a Session or Client, or send(prepared)
    return argument(call, "url", 1 if last in ("request", "stream") else 0)


def _typed(shown: str, receiver: Receiver) -> str:
    """What the message says of the receiver: its type and the code showing it, or that the
    code does not show it (never a framework object guessed from the variable's name)."""
    if receiver.known:
        return f" ({shown} is {receiver.evidence})"
    return f" (the type of {shown} is not known from the code)"


def _is_cert_none(node: ast.AST | None, src: SourceFile) -> bool:
    text = string_value(node)
    if text is not None:
        return text.upper() in ("CERT_NONE", "NONE")
    return (src.qualname(node) or "").endswith("CERT_NONE")


class SslUnverifiedContext(Rule):
    """TLS context that skips certificate or host name checks

    What: ssl._create_unverified_context(), installing it as
    ssl._create_default_https_context, setting <context>.check_hostname = False or
    <context>.verify_mode = ssl.CERT_NONE, or passing cert_reqs=ssl.CERT_NONE
    (or the string "CERT_NONE") to ssl, urllib3 or similar APIs.
    Setting self.check_hostname or self.verify_mode in a class that does not derive from an
    ssl or OpenSSL class (a look-alike keeping its own setting) is low.
    check_hostname = False is low when the same function loads a dedicated CA file into
    the context (certificates are still checked, against that CA only), and low on a
    branch that tests a parameter of the function (if verify is False: ...): the caller chose it;
    so is one on a branch whose test reads the run-time configuration and no request data
    (the object's state, an imported settings object, the environment:
    if self.verify_mode == "none": ...), the operator's choice. Unconditional, or on a branch
    that request data chooses, it keeps its severity.
    Why: a connection that accepts any certificate, or a certificate for any host name,
    can be intercepted by anyone on the network path.
    Example:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    Fix: use ssl.create_default_context() unchanged; to trust a private CA call
    ctx.load_verify_locations(cafile=...) instead of turning checks off.
    """

    id = "SCR304"
    name = "ssl-unverified-context"
    category = Category.TLS_NETWORK
    cwe = 295
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    node_types = (ast.Call, ast.Assign)
    call_filter = exactly("_create_unverified_context")
    keyword_filter = exactly("cert_reqs")
    bandit = ("B323", "B501")
    ruff = ("S323", "S501")
    context = PEER_CHECK_CONTEXT

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        yield from caller_choice(self._check(node, walk), node, walk)

    def _check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        src = walk.src
        if isinstance(node, ast.Call):
            func = node.func
            tail = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if tail == "_create_unverified_context" and src.qualname(func) == "ssl._create_unverified_context":
                yield self.finding(node, "ssl._create_unverified_context() skips all certificate checks", src,
                                   scope=walk.scope_name)  # fmt: skip
            for kw in node.keywords:
                if kw.arg == "cert_reqs" and _is_cert_none(kw.value, src):
                    name = src.qualname(func) or ast.unparse(func)
                    yield self.finding(
                        kw.value, f"{name} is called with cert_reqs=CERT_NONE", src, scope=walk.scope_name
                    )
            return
        assert isinstance(node, ast.Assign)
        for target in node.targets:
            if not isinstance(target, ast.Attribute):
                continue
            owner = src.qualname(target.value) or ast.unparse(target.value)
            if target.attr in ("check_hostname", "verify_mode") and (stand_in := _own_setting(target, walk)):
                if is_false(node.value) or _is_cert_none(node.value, src):
                    yield self.finding(node, f"self.{target.attr} is a setting of class {stand_in}, which is not an "
                                       "ssl.SSLContext: its starting value, which what uses the class decides on",
                                       src, scope=walk.scope_name, severity=Severity.LOW,
                                       confidence=Confidence.LOW)  # fmt: skip
                continue
            if target.attr == "_create_default_https_context":
                if src.qualname(node.value) == "ssl._create_unverified_context":
                    yield self.finding(node, "every HTTPS connection of the process now skips certificate checks",
                                       src, scope=walk.scope_name)  # fmt: skip
            elif target.attr == "check_hostname" and is_false(node.value):
                if _loads_dedicated_ca(walk, owner):
                    yield self.finding(node, f"{owner}.check_hostname = False: any certificate from the CA loaded "
                                       "for this context is accepted for any host", src, scope=walk.scope_name, cwe=297,
                                       severity=Severity.LOW, confidence=Confidence.MEDIUM)  # fmt: skip
                else:
                    yield self.finding(node, f"{owner}.check_hostname = False accepts certificates for any host",
                                       src, scope=walk.scope_name, cwe=297)  # fmt: skip
            elif target.attr == "verify_mode" and _is_cert_none(node.value, src):
                yield self.finding(node, f"{owner}.verify_mode = CERT_NONE accepts any certificate", src,
                                   scope=walk.scope_name)  # fmt: skip


def _own_setting(target: ast.Attribute, walk: Walk) -> str | None:
    """The enclosing class, when ``target`` is self.<attr> in a class with no base from the
    ssl module: the class keeps the setting for itself (a context look-alike), it is not
    a context being configured."""
    if not (isinstance(target.value, ast.Name) and target.value.id == "self"):
        return None
    owner = next((s for s in reversed(walk.scope) if isinstance(s, ast.ClassDef)), None)
    if owner is None:
        return None
    if any((walk.src.qualname(base) or ast.unparse(base)).startswith(("ssl.", "OpenSSL.")) for base in owner.bases):
        return None
    return owner.name


def _loads_dedicated_ca(walk: Walk, owner: str) -> bool:
    """The same function loads its own CA file into the context: certificates are still
    checked, against a CA that usually signs only the deployment's own services."""
    function = walk.function
    if function is None:
        return False
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "load_verify_locations"
            and (walk.src.qualname(node.func.value) or ast.unparse(node.func.value)) == owner
            and (node.args or any(kw.arg in ("cafile", "capath", "cadata") for kw in node.keywords))
        ):
            return True
    return False


PROBE_METHODS = frozenset({"bind", "getsockname", "close", "setsockopt", "settimeout"})


def _port_probe(call: ast.Call, function: ast.AST | None) -> bool:
    """sock.bind(("", 0)) in a function that does nothing else with sock than read the port
    the system chose and close it: a search for a free port, not a listening socket."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "bind" and isinstance(func.value, ast.Name)):
        return False
    address = call.args[0] if call.args else None
    if not (isinstance(address, ast.Tuple) and len(address.elts) == 2):
        return False
    port = address.elts[1]
    if function is None or not (isinstance(port, ast.Constant) and port.value == 0):
        return False
    sock = func.value.id
    nodes = walk_function(function)
    parents = {child: parent for parent in nodes for child in ast.iter_child_nodes(parent)}
    for node in nodes:
        if isinstance(node, ast.Name) and node.id == sock and isinstance(node.ctx, ast.Load):
            used = parents.get(node)
            if not (isinstance(used, ast.Attribute) and used.attr in PROBE_METHODS):
                return False
    return True


def _passed_to_server(name: str, function: ast.AST) -> bool:
    """Whether the function hands ``name`` (alone or in an address tuple) to a call that
    binds or serves, directly or through a local or attribute assigned from it."""
    carried = {name}
    for node in walk_function(function):
        if isinstance(node, ast.Assign) and any(isinstance(n, ast.Name) and n.id in carried
                                                for n in ast.walk(node.value)):  # fmt: skip
            for target in node.targets:
                if isinstance(target, ast.Name):
                    carried.add(target.id)
                elif isinstance(target, ast.Attribute):
                    return True  # kept on the object: a method that binds may read it later
    for node in walk_function(function):
        if isinstance(node, ast.Call) and _is_server_call(node):
            passed = [*node.args, *(kw.value for kw in node.keywords)]
            if any(isinstance(n, ast.Name) and n.id in carried for a in passed for n in ast.walk(a)):
                return True
    return False


def _fallback_for(node: ast.Assign, walk: Walk) -> str:
    """'<target> is not given' when the assignment sits in ``if <target> is None`` (or
    ``if not <target>``) for the same target: the address used when the caller or the
    configuration names none."""
    written = {ast.unparse(t) for t in node.targets}
    child: ast.AST = node
    parent = walk.parent(node)
    while parent is not None and not isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        if isinstance(parent, ast.If) and child in parent.body:
            test = parent.test
            checked = ""
            if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is):
                none = test.comparators[0]
                checked = ast.unparse(test.left) if isinstance(none, ast.Constant) and none.value is None else ""
            elif isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
                checked = ast.unparse(test.operand)
            if checked and checked in written:
                return f"{checked} is not given"
        child, parent = parent, walk.parent(parent)
    return ""


ALL_INTERFACES = frozenset({"0.0.0.0", "::"})  # noqa: S104  (the values this rule looks for)
BIND_WORDS = ("host", "bind", "listen", "address", "addr")
SERVER_CALLS = frozenset(
    {
        "bind", "run", "listen", "serve", "run_simple", "make_server", "create_server", "start_server",
        "run_app", "TCPServer", "UDPServer", "HTTPServer", "ThreadingHTTPServer", "ThreadingTCPServer",
        "ThreadingUDPServer", "ForkingTCPServer", "WSGIServer", "SimpleXMLRPCServer",
    }
)  # fmt: skip


def _is_bind_name(name: str | None) -> bool:
    return bool(name) and any(word in (name or "").lower() for word in BIND_WORDS)


def _is_server_call(call: ast.Call) -> bool:
    func = call.func
    tail = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    lowered = tail.lower()
    return tail in SERVER_CALLS or any(word in lowered for word in ("server", "serve", "listen", "bind"))


PUBLIC_WEB_PORTS = frozenset({80, 443})


def _bound_port(node: ast.AST, value: ast.expr) -> int | None:
    """The port bound next to ``value``: the second item of its (host, port) tuple, the
    argument after it (make_server(host, port, app)), or a port= keyword of the same call."""
    for tuple_node in ast.walk(node):
        if isinstance(tuple_node, ast.Tuple) and len(tuple_node.elts) == 2 and tuple_node.elts[0] is value:
            port = tuple_node.elts[1]
            return port.value if isinstance(port, ast.Constant) and isinstance(port.value, int) else None
    if isinstance(node, ast.Call):
        given = node.args[1] if len(node.args) > 1 and node.args[0] is value else keyword(node, "port")
        if isinstance(given, ast.Constant) and isinstance(given.value, int):
            return given.value
    return None


def _chosen_on_purpose(node: ast.AST, value: ast.expr, walk: Walk) -> str:
    """Why an all-interfaces address is the author's stated or structural choice, or ''.

    - the bind sits under the module's ``if __name__ == "__main__":`` guard: the address
      used when someone starts the file by hand (a demo, a developer's server);
    - the enclosing function's docstring names the address it binds: documented behaviour;
    - the port is 80 or 443, the public web ports: a server meant for browsers on the network;
    - a module-level dict or constant in a file that makes no call that binds or serves:
      a configuration default that whoever deploys the application reads and may override.
    """
    block = main_guard(walk.src)
    if block is not None and block.lineno <= getattr(node, "lineno", 0) <= (block.end_lineno or block.lineno):
        return (f"it runs only under the module's __main__ guard (line {block.lineno}), when someone starts the "
                "file by hand")  # fmt: skip
    address = string_value(value)
    function = walk.function
    if address and isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        if address in (ast.get_docstring(function) or ""):
            return f"the docstring of {function.name}() states that it listens on {address}, a documented choice"
    port = _bound_port(node, value)
    if port in PUBLIC_WEB_PORTS:
        return f"it listens on port {port}, a public web port, where a server is meant to be reached from the network"
    if function is None and isinstance(node, ast.Dict | ast.Assign | ast.AnnAssign):
        calls = walk.src.index.by_type.get(ast.Call, ())
        if not any(isinstance(call, ast.Call) and _is_server_call(call) for call in calls):
            return ("a module-level setting in a file that binds or serves nothing itself: a configuration "
                    "default that whoever deploys the application reads and may override")  # fmt: skip
    return ""


class BindAllInterfaces(Rule):
    """Server bound to every network interface

    What: the address 0.0.0.0 (or ::) given as a host, bind or listen argument, assigned
    to a host/bind/listen/address name (unless the function reads that name only outside
    calls that bind or serve), or used as the host of a socket or server
    address tuple, or as the default= of a setting whose name says it is a host or listen
    address (oslo.config StrOpt/HostAddressOpt, argparse-style options); '' in a
    bind((host, port)) tuple means the same. A parameter's default is low (the caller
    chooses the address; a server meant to be reached listens somewhere), and not
    reported when the function never hands the parameter to a call that binds or serves
    (an address written into a packet). An assignment made only when the address is not
    given (inside if addr is None / if not addr for the same target) is low. A class
    attribute or module constant whose name says only address (addr, not host, bind or
    listen) is reported when a call of the file that binds or serves uses it. bind(("", 0))
    on a socket the function only reads the chosen port from and closes is a search for
    a free port, not reported. Lowered to low, with the reason in the message, where the
    address is a stated or structural choice: the bind sits under the module's
    ``if __name__ == "__main__":`` guard (a file started by hand), the enclosing function's
    docstring names the address it binds, the port is 80 or 443 (a public web server), or
    the value is a module-level setting of a file that makes no call that binds or serves
    (a configuration default the deployment reads and may override).
    Why: the service becomes reachable from every network the machine is on, not just
    the one it was meant for, which exposes admin and debug endpoints and unauthenticated
    services.
    Example:
        app.run(host="0.0.0.0", port=8080)
    Fix: bind to 127.0.0.1 or to the one interface that should serve, read from
    configuration; let a reverse proxy or firewall decide what the outside can reach.
    """

    id = "SCR403"
    name = "bind-all-interfaces"
    category = Category.TLS_NETWORK
    cwe = 1327
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Call, ast.Assign, ast.AnnAssign, ast.Dict, ast.arguments)
    call_filter = re.compile(exactly(SERVER_CALLS).pattern + "|(?i:serve|listen|bind)")  # see _is_server_call
    keyword_filter = re.compile(".")  # any keyword may name the address
    bandit = ("B104",)
    ruff = ("S104",)
    context = {
        FileKind.TEST: note("binding to every interface is normal for test servers in containers"),
        FileKind.EXAMPLE: note("example code often listens on every interface for convenience"),
        FileKind.DOCS: note("documentation code often listens on every interface for convenience"),
    }

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        if isinstance(node, ast.arguments):
            yield from self._defaults(node, walk)
            return
        for value, how in self._bound_values(node, walk.function):
            if isinstance(node, ast.Call) and _port_probe(node, walk.function):
                continue  # bound to port 0 to learn a free port, then closed: nothing listens
            if isinstance(node, ast.Assign | ast.AnnAssign) and not self._reaches_server(node, walk):
                continue
            address = string_value(value)
            shown = f"'{address}'" if address else "'' (any address)"
            fallback = _fallback_for(node, walk) if isinstance(node, ast.Assign) else ""
            if purpose := _chosen_on_purpose(node, value, walk):
                yield self.finding(value, f"{shown} {how} binds every interface; {purpose}", walk.src,
                                   scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
                continue
            if fallback:
                yield self.finding(value, f"{shown} {how} binds every interface, only when {fallback}", walk.src,
                                   scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
                continue
            yield self.finding(value, f"{shown} {how} binds every interface", walk.src, scope=walk.scope_name)

    def _defaults(self, node: ast.arguments, walk: Walk) -> Iterator[Finding]:
        """A parameter default is what the function binds when its caller names no address:
        low, since a server meant to be reached listens somewhere and the caller chooses where;
        not reported when the function never hands the parameter to a call that binds or
        serves (an address written into a packet or a record)."""
        function = walk.parent(node)
        for value, how in self._bound_values(node, walk.function):
            parameter = how.rsplit(" ", 1)[-1]
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                if not _passed_to_server(parameter, function):
                    continue
            yield self.finding(value, f"'{string_value(value)}' {how} binds every interface unless the caller "
                               "passes another address", walk.src, scope=walk.scope_name,
                               severity=Severity.LOW)  # fmt: skip

    @staticmethod
    def _reaches_server(node: ast.Assign | ast.AnnAssign, walk: Walk) -> bool:
        """Whether a class attribute or module constant whose name says only address (not
        host, bind or listen: mladdr, a packet field's default) reaches a call of the file
        that binds or serves; other names and assignments in functions are judged as before."""
        if walk.function is not None:
            return True
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [name for t in targets if (name := target_name(t))]
        if any(word in name.lower() for name in names for word in ("host", "bind", "listen")):
            return True
        for call in walk.src.index.by_type.get(ast.Call, ()):
            assert isinstance(call, ast.Call)
            if _is_server_call(call):
                for sub in (n for a in [*call.args, *(k.value for k in call.keywords)] for n in ast.walk(a)):
                    if (isinstance(sub, ast.Name) and sub.id in names) or (
                        isinstance(sub, ast.Attribute) and sub.attr in names
                    ):
                        return True
        return False

    @staticmethod
    def _only_shown(target: ast.expr, function: ast.AST | None) -> bool:
        """A local name used only inside f-strings: an address shown to people (a startup
        message), not one a server binds."""
        if function is None or not isinstance(target, ast.Name):
            return False
        nodes = walk_function(function)
        loads = sum(1 for n in nodes if isinstance(n, ast.Name) and n.id == target.id and isinstance(n.ctx, ast.Load))
        shown = sum(
            1
            for n in nodes
            if isinstance(n, ast.FormattedValue) and isinstance(n.value, ast.Name) and n.value.id == target.id
        )
        return loads > 0 and loads == shown

    @staticmethod
    def _used_but_not_bound(target: ast.expr, function: ast.AST | None) -> bool:
        """A local name the function reads, never in a call that binds or serves: an address
        recorded or compared (remote_addr = '0.0.0.0' put into a ticket), not listened on."""
        if function is None or not isinstance(target, ast.Name):
            return False
        nodes = walk_function(function)
        if not any(isinstance(n, ast.Name) and n.id == target.id and isinstance(n.ctx, ast.Load) for n in nodes):
            return False
        for call in nodes:
            if isinstance(call, ast.Call) and _is_server_call(call):
                passed = [*call.args, *(kw.value for kw in call.keywords)]
                if any(isinstance(n, ast.Name) and n.id == target.id for a in passed for n in ast.walk(a)):
                    return False
        return True

    def _bound_values(self, node: ast.AST, function: ast.AST | None) -> Iterator[tuple[ast.expr, str]]:
        if isinstance(node, ast.Call):
            server = _is_server_call(node)
            for kw in node.keywords:
                if string_value(kw.value) in ALL_INTERFACES and _is_bind_name(kw.arg):
                    yield kw.value, f"passed as {kw.arg}= to {ast.unparse(node.func)}"
                elif kw.arg == "default" and string_value(kw.value) in ALL_INTERFACES and node.args:
                    option = string_value(node.args[0])
                    if option and _is_bind_name(option):
                        yield kw.value, f"as the default of the {option!r} setting"
            if not server or not node.args:
                return
            name = ast.unparse(node.func)  # only for calls that bind an address
            first = node.args[0]
            if string_value(first) in ALL_INTERFACES:
                yield first, f"passed to {name}"
            elif isinstance(first, ast.Tuple) and first.elts:
                host = first.elts[0]
                if string_value(host) in ALL_INTERFACES | {""}:
                    yield host, f"as the host in the address given to {name}"
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is not None and string_value(node.value) in ALL_INTERFACES:
                for target in targets:
                    if (_is_bind_name(bound := target_name(target)) and not self._only_shown(target, function)
                            and not self._used_but_not_bound(target, function)):  # fmt: skip
                        yield node.value, f"assigned to {bound}"
                        return
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if string_value(value) in ALL_INTERFACES and _is_bind_name(string_value(key)):
                    yield value, f"under key '{string_value(key)}'"
        elif isinstance(node, ast.arguments):
            positional = node.posonlyargs + node.args
            pairs = list(zip(positional[len(positional) - len(node.defaults) :], node.defaults, strict=True))
            pairs += [(arg, d) for arg, d in zip(node.kwonlyargs, node.kw_defaults, strict=True) if d is not None]
            for arg, default in pairs:
                if string_value(default) in ALL_INTERFACES and _is_bind_name(arg.arg):
                    yield default, f"as the default of parameter {arg.arg}"
