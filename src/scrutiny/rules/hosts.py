"""Hard-coded network hosts (SCR402).

A string names a host by its form - an IP address, a URL with a host, a lower-case dotted
name under a known top-level domain - or by its use: it is handed to the code where a host
goes. Its use is read from the code around it, not from the words in it:

- an argument named host, hostname or server (``Redis(host=...)``, ``move(dest_host=...)``),
  the value under such a settings key (``{"HOST": ...}``, ``conf["host"] = ...``);
- the address of a network call (``smtplib.SMTP(h)``, ``socket.create_connection((h, 25))``,
  ``sock.connect((h, 22))``), the URL of an HTTP client call (``requests.get(url)``);
- the argument of a call whose API name says it takes a host (``get_uuid_by_host(h)``).

The string counts when it is written there, when a variable assigned it in the same scope is
(``db_host = 'pg-1'`` ... ``connect(host=db_host)``), or when the same literal is used that way
elsewhere in the file: ``start('host1')`` names the host that ``find_by_host('host1')`` takes.
A bare word handed to anything else (``graph.add_edge('node1', 'node2')``) is not a host.
"""

from __future__ import annotations

import ast
import ipaddress
import re
from collections.abc import Iterator
from functools import lru_cache
from operator import attrgetter
from typing import NamedTuple
from urllib.parse import urlsplit

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, call_tail, default_pairs, name_parts, note, string_value, target_name
from scrutiny.rules.hardcoded import CONSTANT_NAME, WHITE_SPACE
from scrutiny.source import SourceFile

SHORT_HOST = re.compile(r"^(host|node|compute|server|controller|worker)[-_]?\d+$", re.IGNORECASE)
FQDN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}\.?$", re.IGNORECASE)
PLAIN_HOST = re.compile(r"^[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]$")
PORT_SUFFIX = re.compile(r":\d{1,5}$")
URL_SCHEMES = frozenset(
    {
        "http", "https", "ws", "wss", "ftp", "ftps", "sftp", "ldap", "ldaps", "amqp", "amqps", "redis", "rediss",
        "postgres", "postgresql", "mysql", "mongodb",
    }
)  # fmt: skip
# Top-level domains a dotted name ends with when it is a host name. Endings that are also
# file extensions or module names (py, sh, md, pl, br, au, ai, cl, app, dev, info, int,
# cloud, local) are left out: config.dev, logging.info, setup.py and page.br are not hosts.
KNOWN_TLDS = frozenset(
    {
        "com", "net", "org", "edu", "gov", "mil", "io", "co", "biz", "me", "tv", "xyz", "online", "tech", "corp",
        "us", "uk", "de", "fr", "nl", "be", "ch", "at", "se", "no", "dk", "fi", "es", "pt", "ie", "eu", "ru", "cn",
        "jp", "kr", "nz", "ca", "mx", "za", "tw", "hk", "sg", "cz", "gr", "hu", "ro", "ua", "il", "vn", "ph",
    }
)  # fmt: skip
# Domains reserved for documentation and testing (RFC 2606, RFC 6761) and loopback names.
RESERVED_DOMAINS = ("example.com", "example.org", "example.net", "localhost", "localdomain")
RESERVED_TLDS = frozenset({"example", "test", "invalid", "localhost"})
# Hosts that name XML/JSON namespaces and licences in URLs, not servers the code contacts.
NAMESPACE_HOSTS = frozenset(
    {"w3.org", "json-schema.org", "purl.org", "xmlsoap.org", "openxmlformats.org", "xml.org", "apache.org"}
)
# API argument and settings-key names (their last word) whose URL is an endpoint the code talks to.
ENDPOINT_WORDS = frozenset(
    {
        "host", "hostname", "server", "endpoint", "endpoints", "api", "base", "service", "backend", "upstream",
        "webhook", "callback", "auth", "broker", "proxy", "registry", "mirror", "remote", "target", "login",
        "token", "oauth", "db", "database", "cache", "queue", "redis", "amqp", "smtp", "ldap",
    }
)  # fmt: skip
DOC_NETWORKS = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
# Argument and settings-key names (their last word) whose value is a host.
HOST_KEYWORDS = frozenset({"host", "hostname", "server", "servername"})
# The last word of a constant's name that makes it a host setting (DB_HOST; not SERVER,
# which is as often a product or header name).
SETTING_HOST_WORDS = frozenset({"host", "hostname"})
# Words that name a kind of host, or hold a setting, rather than a host.
HOST_WORDS = HOST_KEYWORDS | {
    "hosts", "domain", "fqdn", "addr", "address", "endpoint", "remote", "peer", "proxy", "broker", "nameserver",
}  # fmt: skip
# Names around a literal that say it is a version, an OID, a namespace or an allow-list.
NOT_HOST_CONTEXTS = ("version", "allowed", "namespace", "xmlns", "license", "objectidentifier")
NOT_HOSTS = frozenset({"localhost", "default", "none", "null", "all", "any", "auto", "self", "local", "unknown"})
# Calls whose first argument is the host to reach.
ADDRESS_CALLS = frozenset(
    {
        "gethostbyname", "gethostbyname_ex", "getaddrinfo", "SMTP", "SMTP_SSL", "LMTP", "FTP", "FTP_TLS",
        "HTTPConnection", "HTTPSConnection", "POP3", "POP3_SSL", "IMAP4", "IMAP4_SSL", "Telnet", "NNTP",
    }
)  # fmt: skip
# Calls handed a (host, port) address tuple.
ADDRESS_TUPLE_CALLS = frozenset({"create_connection", "connect", "connect_ex", "sendto"})
# Modules whose calls take the URL to fetch as their first argument.
HTTP_CLIENT_MODULES = ("requests", "httpx", "urllib.request", "urllib3", "aiohttp")

ADDRESS_CHARACTERS = re.compile(r"[0-9A-Fa-f.:]*[.:][0-9A-Fa-f.:]*(?:%.*)?\Z", re.DOTALL)


@lru_cache(maxsize=8192)  # pure, and a file repeats its literals
def _reserved_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host.rsplit(".", 1)[-1] in RESERVED_TLDS:
        return True
    return any(host == domain or host.endswith("." + domain) for domain in RESERVED_DOMAINS)


def _ip_kind(text: str) -> str:
    """'IPv4 address' / 'IPv6 address' for a routable literal address, '' otherwise."""
    if not ADDRESS_CHARACTERS.match(text):
        return ""  # cheaper than letting ipaddress raise on every word
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return ""
    if address.is_loopback or address.is_unspecified or any(address in net for net in DOC_NETWORKS):
        return ""
    if address.version == 4:
        # A netmask (255.255.255.0) or network address (10.0.0.0) is not a host; a
        # four-part version number (1.0.0.0) often looks like one.
        if text.startswith("255.") or text.endswith(".0"):
            return ""
        return "IPv4 address" if text.count(".") == 3 else ""
    return "IPv6 address" if ":" in text else ""


def _namespace_host(host: str) -> bool:
    return any(host == h or host.endswith("." + h) for h in NAMESPACE_HOSTS)


def _url_host(text: str, endpoint: bool) -> str:
    """The host of a URL worth reporting: any host of a service URL (redis://, amqp://
    ...), an address or machine name in an http(s) URL, or a domain in an http(s) URL the
    code uses as an endpoint (``endpoint``); links to documentation and project pages are
    not hosts the code depends on."""
    if "://" not in text:
        return ""
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in URL_SCHEMES or not host or _reserved_name(host) or _namespace_host(host):
        return ""
    if _ip_kind(host) or SHORT_HOST.match(host):
        return host
    if FQDN.match(host) or PLAIN_HOST.match(host):
        if scheme not in ("http", "https") or "." not in host or endpoint:
            return host
    return ""


def _domain_name(text: str) -> bool:
    """A lower-case dotted name under a known top-level domain (smtp.mailgun.org)."""
    return (
        text == text.lower()
        and FQDN.match(text) is not None
        and text.rstrip(".").rsplit(".", 1)[-1] in KNOWN_TLDS
        and not _reserved_name(text)
    )


def _could_name_host(text: str) -> bool:
    """Whether the literal could be reported in some place: tests of the text alone, tried
    before its place is worked out (most literals are messages or names)."""
    # Short literals repeat (a file's keys, names and options) and are remembered; long
    # ones (docstrings, messages) are not kept alive for that.
    return _could_name_host_text(text) if len(text) > 256 else _could_name_host_short(text)


def _could_name_host_text(text: str) -> bool:
    if WHITE_SPACE.search(text) or text in ("0.0.0.0", "::"):  # noqa: S104
        return False
    if "://" in text or ADDRESS_CHARACTERS.match(text):
        return True
    bare = PORT_SUFFIX.sub("", text) if text.count(":") == 1 else text
    return bool(ADDRESS_CHARACTERS.match(bare) or FQDN.match(bare) or PLAIN_HOST.match(bare))


_could_name_host_short = lru_cache(maxsize=8192)(_could_name_host_text)


def _machine_name(text: str) -> bool:
    """A word that can name one machine: a host name with a digit, a hyphen or a dot in it
    (host1, pg-primary, db.corp.net), not a word like 'cache' that has other uses."""
    bare = PORT_SUFFIX.sub("", text) if text.count(":") == 1 else text
    return bool(PLAIN_HOST.match(bare) or FQDN.match(bare)) and any(c.isdigit() or c in "-." for c in bare)


@lru_cache(maxsize=8192)  # pure, and a file repeats its literals
def _host_word(text: str) -> bool:
    """A string that names a host where a host is expected: a plain host name, a dotted
    name or an address with an optional port; not a placeholder or a setting's name."""
    bare = PORT_SUFFIX.sub("", text) if text.count(":") == 1 else text
    if not (PLAIN_HOST.match(bare) or FQDN.match(bare) or SHORT_HOST.match(bare)):
        return False
    lowered = bare.lower()
    return (
        lowered not in NOT_HOSTS and lowered not in HOST_WORDS and not CONSTANT_NAME.match(bare)
        and not _reserved_name(bare)
    )  # fmt: skip


class Use(NamedTuple):
    """Why a value is a host by where it goes, and on which line."""

    reason: str
    line: int
    url: bool = False  # where a URL goes (an HTTP client call, url=): a domain there is an endpoint


@lru_cache(maxsize=4096)  # keyword and key names repeat across a file
def _last_word(name: str) -> str:
    parts = name_parts(name)
    return parts[-1] if parts else ""


def _host_use(node: ast.expr, src: SourceFile) -> Use | None:
    """Where ``node``'s value goes, if that place takes a host or a URL."""
    parents = src.index.parents
    child, parent = node, parents.get(node)
    in_address = False
    if isinstance(parent, ast.Tuple) and parent.elts and parent.elts[0] is child:
        in_address, child, parent = True, parent, parents.get(parent)  # (host, port)
    line = getattr(node, "lineno", 0)
    if isinstance(parent, ast.keyword) and parent.arg and not in_address:
        call = parents.get(parent)
        called = f" to {call_tail(call)}()" if isinstance(call, ast.Call) else ""
        word = _last_word(parent.arg)
        if word in HOST_KEYWORDS:
            return Use(f"passed as {parent.arg}={called}", line)
        # url= names a link as often as an endpoint (help texts, schemas); an HTTP client's
        # url= is the one it fetches.
        if word in ENDPOINT_WORDS or (word == "url" and isinstance(call, ast.Call) and _http_client_call(call, src)):
            return Use(f"passed as {parent.arg}={called}", line, url=True)
        return None
    if isinstance(parent, ast.Call) and parent.args and parent.args[0] is child:
        tail = call_tail(parent)
        if in_address:
            return Use(f"passed as the address to {tail}()", line) if tail in ADDRESS_TUPLE_CALLS else None
        if tail in ADDRESS_CALLS:
            return Use(f"passed to {tail}()", line)
        if _http_client_call(parent, src):
            return Use(f"fetched by {src.qualname(parent.func) or tail}()", line, url=True)
        if _last_word(tail) in ("host", "hostname"):
            return Use(f"passed to {tail}(), which takes a host", line)
        return None
    if in_address:
        return None
    if isinstance(parent, ast.Dict):
        formatted = parents.get(parent)
        if isinstance(formatted, ast.BinOp) and isinstance(formatted.op, ast.Mod) and formatted.right is parent:
            return None  # the mapping of a "%(host)s" message, not a setting
        field, index = src.index.slot(child)
        key = string_value(parent.keys[index]) if field == "values" else None
        return _settings_key_use(key, line)
    if isinstance(parent, ast.Assign):
        for target in parent.targets:
            if isinstance(target, ast.Subscript) and (use := _settings_key_use(string_value(target.slice), line)):
                return use
    return None


def _http_client_call(call: ast.Call, src: SourceFile) -> bool:
    qualified = src.qualname(call.func) or ""
    return qualified.startswith(HTTP_CLIENT_MODULES) or call_tail(call) == "urlopen"


# The last words of argument and key names _host_use reads.
PLACE_WORDS = HOST_KEYWORDS | ENDPOINT_WORDS | {"url"}


def _settings_key_use(key: str | None, line: int) -> Use | None:
    """A settings key ('host', 'DB_HOST', 'api_url'); 'SocketServer' is not one."""
    if not key or key not in (key.lower(), key.upper()):
        return None
    word = _last_word(key)
    if word in HOST_KEYWORDS:
        return Use(f"stored under '{key}'", line)
    if word in ENDPOINT_WORDS:
        return Use(f"stored under '{key}'", line, url=True)
    return None


_POSITION = attrgetter("lineno", "col_offset")


def _host_place_values(src: SourceFile) -> list[ast.expr]:
    """The values standing where _host_use looks (keyword values, first arguments and the
    host of an address tuple, dict values, values stored under a key), in source order."""
    found: list[ast.expr] = []
    for node in src.index.of_type(ast.keyword, ast.Call, ast.Dict, ast.Assign):
        if isinstance(node, ast.keyword):
            if node.arg and _last_word(node.arg) in PLACE_WORDS:
                found.append(node.value)
        elif isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            found.append(first.elts[0] if isinstance(first, ast.Tuple) and first.elts else first)
        elif isinstance(node, ast.Dict):
            found.extend(v for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant))
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) for t in node.targets):
            found.append(node.value)
    found = [n for n in found if isinstance(n, ast.Name | ast.Constant)]
    found.sort(key=_POSITION)
    return found


class HostUses:
    """Where a file hands values to the places that take hosts.

    The places are found in one pass; whether a place takes a host (_host_use) is worked
    out only for the names and literals asked about, in source order until the first
    that does: most files ask about a few names, and a file hands thousands of values to
    calls.
    """

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self._by_value: dict[str, list[ast.Constant]] = {}  # literal -> its places, in source order
        self._by_name: dict[str, list[ast.Name]] = {}  # variable -> its places, in source order
        for node in _host_place_values(src):
            if isinstance(node, ast.Constant):
                if isinstance(node.value, str):
                    self._by_value.setdefault(node.value, []).append(node)
            elif isinstance(node, ast.Name):
                self._by_name.setdefault(node.id, []).append(node)
        self._values: dict[str, Use | None] = {}
        self._names: dict[tuple[ast.AST | None, str], Use | None] = {}
        self._anywhere: dict[str, Use | None] = {}

    def value(self, text: str) -> Use | None:
        """The first use as a host of the literal ``text`` anywhere in the file."""
        if text in self._values:
            return self._values[text]
        use = None
        if _could_name_host(text):
            for node in self._by_value.get(text, ()):
                if (use := _host_use(node, self.src)) is not None:
                    break
        self._values[text] = use
        return use

    def of_name(self, function: ast.AST | None, name: str) -> Use | None:
        """The host use of a variable assigned in ``function``; at module level (None), of
        the name wherever the module's functions read it."""
        if function is None:
            if name not in self._anywhere:
                self._anywhere[name] = self._first(name, None, anywhere=True)
            return self._anywhere[name]
        key = (function, name)
        if key not in self._names:
            self._names[key] = self._first(name, function, anywhere=False)
        return self._names[key]

    def _first(self, name: str, function: ast.AST | None, *, anywhere: bool) -> Use | None:
        function_of = self.src.index.function_of
        for node in self._by_name.get(name, ()):
            if not anywhere and function_of.get(node) is not function:
                continue
            if (use := _host_use(node, self.src)) is not None:
                return use
        return None


class HardcodedHost(Rule):
    """Network host written into the code

    What: a string literal naming a specific host: an IPv4 or IPv6 address, a URL with a
    host, a lower-case dotted name under a known top-level domain, or a host name that the
    code hands to a place that takes a host - an argument named host, hostname or server,
    a 'host' settings key, the address of a network call, an HTTP client's URL, a call
    whose name says it takes a host - directly, through a variable assigned in the same
    scope, or as the same literal used that way elsewhere in the file. Loopback,
    0.0.0.0, documentation domains and addresses, docstrings and dict keys are not
    reported, nor are bare words handed to anything else (graph.add_edge('node1', 'node2')).
    Why: a fixed host ties the code to one deployment; moving, scaling or securing the
    service means a code change, and addresses of internal systems leak with the source.
    In tests, fixed host names make runs depend on each other and hide which host is
    meant.
    Example:
        client = Redis(host="10.1.4.22", port=6379)
    Fix: read hosts from configuration or the environment; in tests, keep host names in
    named constants or fixtures (SOURCE_HOST = "host1") so their role is clear.
    """

    id = "SCR402"
    name = "hardcoded-host"
    category = Category.HARDCODED_VALUES
    cwe = 547
    severity = Severity.LOW
    confidence = Confidence.LOW
    node_types = (ast.Constant,)
    constant_values = (str,)  # check() returns on any other value
    context = {
        FileKind.TEST: note("hard-coded hosts are expected in test code"),
        FileKind.EXAMPLE: note("example code names hosts for the reader to replace"),
        FileKind.DOCS: note("documentation code names hosts for the reader to replace"),
        FileKind.MIGRATION: note("migrations record data as it was when they were written"),
    }

    def __init__(self) -> None:
        self._uses: tuple[SourceFile, HostUses] | None = None

    def uses(self, src: SourceFile) -> HostUses:
        """The file's host uses, worked out once per file (rules see one file at a time)."""
        if self._uses is None or self._uses[0] is not src:
            self._uses = (src, HostUses(src))
        return self._uses[1]

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Constant)
        if not isinstance(node.value, str) or not node.value or not _could_name_host(node.value):
            return
        place = _place(node, walk)
        if place is None:
            return
        lowered = (place.context or "").lower() + " " + place.call_tail.lower()
        if any(word in lowered for word in NOT_HOST_CONTEXTS) or "oid" in name_parts(lowered):
            return
        described = self._describe(node, place, walk)
        if described:
            yield self.finding(node, f"hard-coded {described}", walk.src, scope=walk.scope_name)

    def _describe(self, node: ast.Constant, place: Place, walk: Walk) -> str:
        """What the literal is and what the decision rests on, or '' when it is not a host."""
        text = str(node.value)
        where = f" for {place.context}" if place.context else f" passed to {place.call_tail}" if place.call_tail else ""
        bare = PORT_SUFFIX.sub("", text) if text.count(":") == 1 else text
        kind = _ip_kind(text) or (_ip_kind(bare) if bare != text else "")
        if kind:
            return f"{kind} '{text}'{where}"
        if place.compared and "://" not in text:
            return ""
        if "://" not in text and _domain_name(bare):
            return f"host name '{text}'{where} (a domain name)"
        if "://" not in text and not _host_word(text):
            return ""
        use = _host_use(node, walk.src)
        evidence = ""
        if use is None and place.assigned:
            use = self.uses(walk.src).of_name(walk.src.index.function_of.get(node), place.assigned)
            if use is not None:
                evidence = f" ({place.assigned} is {use.reason} on line {use.line})"
        if use is None and place.setting:
            use = _settings_key_use(place.setting, node.lineno)
        if use is None and place.parameter and place.function is not None:
            use = self.uses(walk.src).of_name(place.function, place.parameter)
            if use is not None:
                evidence = f" (parameter {place.parameter} is {use.reason} on line {use.line})"
        if use is None and place.direct and _machine_name(text):
            same = self.uses(walk.src).value(text)
            if same is not None and same.line != node.lineno:
                use, evidence = same, f" (the same name is {same.reason} on line {same.line})"
        if "://" in text:
            host = _url_host(text, endpoint=use is not None and use.url or place.endpoint)
            return f"URL with host {host} '{text}'{where}{evidence}" if host else ""
        if use is None or use.url:
            return ""
        return f"host name '{text}' {use.reason}" if not evidence else f"host name '{text}'{where}{evidence}"


class Place(NamedTuple):
    """Where a string literal is used, as far as deciding whether it names a host."""

    context: str | None  # the name it is stored under or passed as (for the message)
    call_tail: str = ""  # last name of the call it is passed to
    direct: bool = True  # False inside a tuple, list or set
    assigned: str = ""  # the variable it is assigned to, whose uses may say it is a host
    setting: str = ""  # a module-level ALL_CAPS setting it is assigned to (DB_HOST)
    endpoint: bool = False  # stored under a settings key or argument that names an endpoint
    compared: bool = False  # an operand of a comparison
    parameter: str = ""  # the parameter it is the default of, in ``function``
    function: ast.AST | None = None


def _place(node: ast.Constant, walk: Walk) -> Place | None:
    """Where the literal is used; None where it is not a value (docstrings, bare
    strings, dict keys, subscript indexes, f-string parts)."""
    child: ast.AST = node
    parent = walk.parent(node)
    direct = True
    # Look through a tuple or list: ('db.corp', 5432), [host_a, host_b].
    while isinstance(parent, ast.Tuple | ast.List | ast.Set):
        child, parent, direct = parent, walk.parent(parent), False
    if isinstance(parent, ast.Expr | ast.JoinedStr | ast.FormattedValue):
        return None
    if isinstance(parent, ast.Subscript) and parent.slice is child:
        return None
    if isinstance(parent, ast.Dict):
        field, index = walk.src.index.slot(child)
        if field == "keys":
            return None
        grandparent = walk.parent(parent)
        if isinstance(grandparent, ast.BinOp) and isinstance(grandparent.op, ast.Mod) and grandparent.right is parent:
            return None  # the mapping of a "%(node)s" message, not a setting
        key = string_value(parent.keys[index])
        # Only config-style keys ('host', 'DB_HOST') name a setting; 'SocketServer' does not.
        if key is None or key not in (key.lower(), key.upper()):
            return Place(None, "", direct)
        return Place(key, "", direct, endpoint=_last_word(key) in ENDPOINT_WORDS)
    if isinstance(parent, ast.keyword):
        call = walk.parent(parent)
        tail = call_tail(call) if isinstance(call, ast.Call) else ""
        return Place(parent.arg, tail, direct, endpoint=_last_word(parent.arg or "") in ENDPOINT_WORDS)
    if isinstance(parent, ast.Call):
        return None if parent.func is child else Place(None, call_tail(parent), direct)
    if isinstance(parent, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        name = next((n for t in targets if (n := target_name(t))), None)
        variable = next((t.id for t in targets if isinstance(t, ast.Name)), "")
        # An ALL_CAPS name outside functions (a module or class constant) is a setting that
        # frameworks and callers read by name (DB_HOST, Config.API_BASE).
        constant = walk.src.index.function_of.get(parent) is None
        setting = variable if constant and CONSTANT_NAME.match(variable.lstrip("_")) else ""
        endpoint = bool(setting) and _last_word(setting) in ENDPOINT_WORDS
        if setting and _last_word(setting) not in SETTING_HOST_WORDS:
            setting = ""
        return Place(name, "", direct, assigned=variable, setting=setting, endpoint=endpoint)
    if isinstance(parent, ast.arguments):
        name = next((name for name, value in default_pairs(parent) if value is child), None)
        function = walk.parent(parent)
        defaulted = function if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) else None
        return Place(name, "", direct, parameter=name or "", function=defaulted)
    # Comparisons check a value rather than fix one ("gitlab.com" in url): only addresses
    # and URLs count there.
    return Place(None, "", direct, compared=isinstance(parent, ast.Compare))
