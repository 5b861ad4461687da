"""Modules and calls that are risky by design (3xx): cleartext protocols, the abandoned
PyCrypto package, SSH without host keys, community-string SNMP, urlopen's open scheme
list, CGI handlers open to httpoxy and logging's configuration listener."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import (
    PEER_CHECK_CONTEXT,
    CallRule,
    Rule,
    Walk,
    argument,
    caller_choice,
    exactly,
    keyword,
    string_value,
    tails,
)
from scrutiny.rules.url_schemes import caller_chosen, scheme_checked, settled_scheme


def _imported_modules(node: ast.Import | ast.ImportFrom) -> list[tuple[str, list[str]]]:
    """(module, imported names) for each module an import statement reads."""
    if isinstance(node, ast.Import):
        return [(alias.name, []) for alias in node.names]
    if node.level or not node.module:
        return []
    return [(node.module, [alias.name for alias in node.names])]


class PycryptoImport(Rule):
    """PyCrypto, an abandoned cryptography package, imported

    What: an import of the Crypto package (Crypto.Cipher, Crypto.Hash,
    Crypto.PublicKey ...), which is PyCrypto's name; PyCryptodome installs under the
    same name, so the finding has low confidence.
    Why: PyCrypto has had no release since 2013 and has known flaws, among them a heap
    overflow in its AES code (CVE-2013-7459) that crafted input can trigger; nothing in it
    will be fixed.
    Example:
        from Crypto.Cipher import AES
    Fix: depend on cryptography (or PyCryptodome, importing it as Cryptodome to make the
    choice explicit) and remove pycrypto from the requirements.
    """

    id = "SCR333"
    name = "pycrypto-import"
    category = Category.CRYPTOGRAPHY
    cwe = 1104
    severity = Severity.LOW
    confidence = Confidence.LOW
    node_types = (ast.Import, ast.ImportFrom)
    bandit = ("B413",)
    ruff = ("S413",)

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Import | ast.ImportFrom)
        for module, _ in _imported_modules(node):
            if module == "Crypto" or module.startswith("Crypto."):
                yield self.finding(node, f"{module} is PyCrypto's package name (unless PyCryptodome provides it)",
                                   walk.src, scope=walk.scope_name)  # fmt: skip
                return


# Modules that exist only to speak a protocol without encryption.
CLEARTEXT_MODULES = {"telnetlib": "Telnet", "pyghmi": "IPMI", "telnetlib3": "Telnet"}
CLEARTEXT_CALLS = {"telnetlib.Telnet": "Telnet", "ftplib.FTP": "FTP", "telnetlib3.open_connection": "Telnet"}
# ftplib names that do not imply a cleartext session.
FTP_SAFE_NAMES = frozenset({"FTP_TLS", "error_perm", "error_reply", "error_temp", "error_proto", "all_errors"})


class CleartextProtocol(Rule):
    """Credentials or data sent over a cleartext protocol (Telnet, FTP, IPMI)

    What: telnetlib.Telnet and ftplib.FTP connections, and imports of telnetlib,
    pyghmi (IPMI) and of ftplib names other than FTP_TLS.
    Why: Telnet and FTP send the user name, password and every byte of the session
    unencrypted, so anyone on the network path reads or changes them; pyghmi speaks
    IPMI, whose authentication can be cracked offline.
    Example:
        ftp = ftplib.FTP(host); ftp.login(user, password)
    Fix: use SSH (paramiko, asyncssh) instead of Telnet, SFTP or ftplib.FTP_TLS with
    prot_p() instead of FTP, and the Redfish API over HTTPS instead of IPMI.
    """

    id = "SCR334"
    name = "cleartext-protocol"
    category = Category.TLS_NETWORK
    cwe = 319
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    node_types = (ast.Import, ast.ImportFrom, ast.Call)
    call_filter = exactly(tails(CLEARTEXT_CALLS))
    bandit = ("B312", "B321", "B401", "B402", "B415")
    ruff = ("S312", "S321", "S401", "S402", "S415")

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        if isinstance(node, ast.Call):
            name = walk.src.qualname(node.func)
            if name in CLEARTEXT_CALLS:
                yield self.finding(node, f"{name} opens a {CLEARTEXT_CALLS[name]} session, which is not encrypted",
                                   walk.src, scope=walk.scope_name)  # fmt: skip
            return
        assert isinstance(node, ast.Import | ast.ImportFrom)
        for module, names in _imported_modules(node):
            root = module.split(".", 1)[0]
            if root in CLEARTEXT_MODULES:
                protocol = CLEARTEXT_MODULES[root]
            elif root == "ftplib" and (not names or any(n not in FTP_SAFE_NAMES for n in names)):
                protocol = "FTP"
            else:
                continue
            yield self.finding(node, f"{module} is imported: {protocol} sends credentials unencrypted", walk.src,
                               scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
            return


LAX_HOST_KEY_POLICIES = ("AutoAddPolicy", "WarningPolicy")


class SshHostKeyNotChecked(CallRule):
    """SSH client that accepts unknown host keys

    What: set_missing_host_key_policy given paramiko's AutoAddPolicy or WarningPolicy
    (the class or an instance).
    Why: the client connects to whatever server answers and, with AutoAddPolicy, even
    saves its key; a machine in the middle receives the password or key-based login and
    every command and file of the session.
    Example:
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    Set only on a branch that tests a parameter of the function (the caller's choice) or a
    value of the run-time configuration that is not request data (the object's state, an
    imported settings object, the environment: if settings.TESTING:), it is low, with the
    branch named; set unconditionally it stays high.
    Fix: load the known host keys (client.load_system_host_keys() or
    load_host_keys(path)) and keep the default RejectPolicy.
    """

    id = "SCR335"
    name = "ssh-host-key-not-checked"
    category = Category.TLS_NETWORK
    cwe = 322
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    methods = ("set_missing_host_key_policy",)
    bandit = ("B507",)
    ruff = ("S507",)
    context = PEER_CHECK_CONTEXT

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        yield from caller_choice(self._check_call(call, walk), call, walk)

    def _check_call(self, call: ast.Call, walk: Walk) -> Iterator[Finding]:
        policy = argument(call, "policy", 0)
        if isinstance(policy, ast.Call):
            policy = policy.func
        shown = (walk.src.qualname(policy) or "") if policy is not None else ""
        last = shown.rsplit(".", 1)[-1]
        if last in LAX_HOST_KEY_POLICIES:
            yield self.finding(call, f"{last} accepts any SSH host key, so the server is not authenticated",
                               walk.src, scope=walk.scope_name)  # fmt: skip


class SnmpWeakSecurity(CallRule):
    """SNMP without authentication and encryption

    What: pysnmp CommunityData (SNMP v1 and v2c, a community string sent in clear)
    and UsmUserData (SNMPv3) created without both an authentication and a privacy key.
    Why: a community string is a password that every packet carries unencrypted, and
    SNMPv3 without a privacy key sends all values in clear (without an auth key, anyone
    can forge requests); device credentials and configuration leak or can be changed.
    Example:
        auth = CommunityData("public", mpModel=1)
    Fix: use SNMPv3 with both keys and strong protocols:
    UsmUserData(user, auth_key, priv_key, authProtocol=usmHMACSHAAuthProtocol,
    privProtocol=usmAesCfb128Protocol).
    """

    id = "SCR336"
    name = "snmp-weak-security"
    category = Category.TLS_NETWORK
    cwe = 319
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    calls = tuple(
        f"pysnmp.{module}.{cls}"
        for module in (
            "hlapi",
            "hlapi.asyncio",
            "hlapi.v3arch",
            "hlapi.v3arch.asyncio",
            "entity.rfc3413.oneliner.cmdgen",
        )
        for cls in ("CommunityData", "UsmUserData")
    )
    bandit = ("B508", "B509")
    ruff = ("S508", "S509")

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if any(kw.arg is None for kw in call.keywords):
            return
        if name.endswith("CommunityData"):
            yield self.finding(call, "SNMP v1/v2c community string, sent unencrypted", walk.src, scope=walk.scope_name)
            return
        auth = argument(call, "authKey", 1)
        priv = argument(call, "privKey", 2)
        if priv is None:
            missing = "authentication and privacy keys" if auth is None else "a privacy key"
            yield self.finding(call, f"SNMPv3 user without {missing}", walk.src, scope=walk.scope_name)


URL_OPEN_CALLS = tuple(
    f"{module}.{function}"
    for module in ("urllib.request", "six.moves.urllib.request", "urllib", "urllib2")
    for function in ("urlopen", "urlretrieve", "URLopener", "FancyURLopener")
)


class UrlOpenAnyScheme(CallRule):
    """urllib opening a URL whose scheme is not fixed to HTTP(S)

    What: urllib.request.urlopen and urlretrieve (also through six.moves or Python 2's
    urllib/urllib2) given a URL whose scheme the file does not fix to http or https
    (by a literal or literal prefix, through names, module constants, properties and a
    private function's callers, or a function of the file whose every return is such a
    URL) or test before the call, and the deprecated URLopener and FancyURLopener
    classes. A URL that is the parameter of a public, undecorated helper which opens it
    (a generic download function) is low: its scheme is the caller's choice, unless a
    caller in the file passes request data.
    Why: urllib also opens file:, ftp: and data: URLs, so a URL that comes from a user
    or a document reads local files or reaches internal services (server-side request
    forgery).
    Example:
        body = urllib.request.urlopen(request.args["feed"]).read()
    Fix: check urllib.parse.urlsplit(url).scheme in ("http", "https") (and the host
    against an allow-list) before opening it, or use an HTTP-only client such as
    requests or httpx.
    """

    id = "SCR337"
    name = "urlopen-any-scheme"
    category = Category.TLS_NETWORK
    cwe = 918
    severity = Severity.MEDIUM
    confidence = Confidence.LOW
    calls = URL_OPEN_CALLS
    bandit = ("B310",)
    ruff = ("S310",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if name.endswith("URLopener"):
            yield self.finding(call, f"{name} opens URLs of any scheme, file: included", walk.src,
                               scope=walk.scope_name, severity=Severity.LOW, confidence=Confidence.HIGH)  # fmt: skip
            return
        url = argument(call, "url", 0)
        if url is None:
            return
        text = string_value(url)
        if text is not None:
            if not text.lower().startswith(("http://", "https://")):
                message = f"{name} opens the non-HTTP URL '{text[:40]}'"
                yield self.finding(call, message, walk.src, scope=walk.scope_name, severity=Severity.LOW,
                                   confidence=Confidence.HIGH)  # fmt: skip
            return
        if settled_scheme(url, walk.src) or scheme_checked(url, call, walk.src):
            return  # the file fixes or tests the scheme
        message = f"{name} opens a URL chosen at run time without a scheme check"
        if reason := caller_chosen(url, call, walk.src):
            # A generic download helper: whether file: URLs are wanted is decided where it is called.
            yield self.finding(call, f"{message}; {reason} (no caller in the file passes request data)",
                               walk.src, scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
            return
        yield self.finding(call, message, walk.src, scope=walk.scope_name)


CGI_HANDLERS = (
    "wsgiref.handlers.CGIHandler",
    "twisted.web.twcgi.CGIScript",
    "twisted.web.twcgi.CGIDirectory",
)


class CgiHttpoxy(CallRule):
    """Application served through CGI, open to httpoxy

    What: wsgiref.handlers.CGIHandler and Twisted's twcgi.CGIScript / CGIDirectory.
    Why: CGI turns the request header Proxy: into the environment variable
    HTTP_PROXY, which HTTP libraries read as their outbound proxy, so a client sends
    the application's own outgoing requests, with their credentials, through a server
    of its choice (httpoxy, CVE-2016-5385 and relatives).
    Example:
        wsgiref.handlers.CGIHandler().run(app)
    Fix: serve the application with a WSGI server (gunicorn, uWSGI, mod_wsgi); if CGI
    must stay, remove HTTP_PROXY from the environment before handling each request.
    wsgiref's CGIHandler serves a Python application, whose outgoing requests go through
    urllib's proxy lookup (requests, httpx and aiohttp's trust_env use it too); since
    Python 3.5.3 and 2.7.13 (CVE-2016-1000110) that lookup drops HTTP_PROXY when
    REQUEST_METHOD is set, as under CGI: the finding is low, a defect only for a client
    that reads HTTP_PROXY itself. Twisted's CGIScript runs CGI programs in any language
    and stays medium.
    """

    id = "SCR338"
    name = "cgi-httpoxy"
    category = Category.TLS_NETWORK
    cwe = 454
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    calls = CGI_HANDLERS
    bandit = ("B412",)
    ruff = ("S412",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        message = f"{name} maps the Proxy: header to HTTP_PROXY"
        if name == "wsgiref.handlers.CGIHandler":
            yield self.finding(call, f"{message}; but the application is Python, whose urllib proxy lookup (used by "
                               "requests, httpx, aiohttp) ignores HTTP_PROXY under CGI since 3.5.3/2.7.13 "
                               "(CVE-2016-1000110), so only a client that reads HTTP_PROXY itself is exposed",
                               walk.src, scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
            return
        yield self.finding(call, message, walk.src, scope=walk.scope_name)


class LoggingConfigListener(CallRule):
    """Logging configuration accepted from a socket without verification

    What: logging.config.listen() started without a verify= function.
    Why: the listener accepts a new logging configuration from anyone who can connect
    to its port, and a configuration can name factories to call (the '()' key), so a
    local user (or, when the port is exposed, anyone) runs code in the process.
    Example:
        thread = logging.config.listen(9999)
    Fix: do not start the listener in production; if it must run, pass verify= with a
    function that checks an HMAC signature over the received bytes and rejects others.
    """

    id = "SCR136"
    name = "logging-config-listener"
    category = Category.INJECTION
    cwe = 94
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    calls = ("logging.config.listen",)
    bandit = ("B612",)
    ruff = ("S612",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if keyword(call, "verify") is None and len(call.args) < 2:
            yield self.finding(call, "logging.config.listen accepts configuration (and code) from its socket",
                               walk.src, scope=walk.scope_name)  # fmt: skip
