"""What makes a value a secret: its name, and the evidence beyond the name.

A name such as ``token``, ``cookie`` or ``session_id`` is worn by parser tokens, lock
handles, pagination cursors and cookie dictionaries as often as by credentials. What
makes such a value a secret is what the code does with it: it comes from a credential
source (an Authorization or Cookie header, a request's cookies, a secret environment or
configuration key), it is made as a secret (secrets.token_*, os.urandom, a signer, a
login call), or it is handed to an authentication, signing or encryption API, or sent
in a credential header. This module finds those facts once per file.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from scrutiny.rules.base import name_parts, string_value
from scrutiny.source import SourceFile

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
# Words and pairs that alone are weak evidence: tokens, cookies and session ids are as
# often lexer tokens, cookie dictionaries and lock handles as credentials.
WEAK_WORDS = frozenset({"token", "cookie"})
WEAK_PAIRS = frozenset({("session", "id"), ("auth", "token")})
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
    # Messages and facts about a secret: error_messages["password_mismatch"], token_start.
    "mismatch",
    "incorrect",
    "invalid",
    "missing",
    "error",
    "message",
    "messages",
    "msg",
    "help",
    "label",
    "hint",
    "prompt",
    "start",
    "end",
    # What describes the shape of secrets (a detector's AWS_KEY_PREFIXES, TOKEN_PATTERN).
    "prefixes",
    "pattern",
    "patterns",
    "regex",
    "regexp",
}

# Last words that name a form of the value rather than another thing: a name ending in
# one of them holds the secret itself (password_bytes, token_b64, password_confirmation).
VALUE_FORMS = frozenset({
    "value", "val", "str", "string", "text", "bytes", "bin", "raw", "plain", "plaintext", "b64", "base64",
    "hex", "encoded", "data", "input", "confirm", "confirmation", "again", "repeat", "new", "old", "pem", "der",
    "env", "var", "arg", "param", "opt", "option", "s",
})  # fmt: skip

# First words of names that hold text shown about a secret (msg_wrong_password), not one.
TEXT_ABOUT_FIRST = frozenset({"msg", "message", "messages", "error", "label", "help", "hint", "prompt"})

# Words of a callee's dotted name that make it an authentication, signing or encryption
# API: login(user, token), signer.sign(value), hmac.new(key), jwt.decode(token).
AUTH_API_WORDS = frozenset({
    "auth", "authenticate", "authorize", "authorization", "login", "logon", "signin", "sign", "signer",
    "signature", "encrypt", "decrypt", "cipher", "fernet", "hmac", "jwt", "bearer", "credential",
    "credentials", "verify", "compare", "digest",
})  # fmt: skip
# Where a value comes from when it is made as a secret.
SECRET_MAKERS = ("secrets.token_", "secrets.randbits", "os.urandom", "jwt.encode", "itsdangerous.")
# Request and environment containers whose entries are credentials when the key says so.
CREDENTIAL_CONTAINERS = frozenset({"headers", "META", "environ"})
# A request's cookies: every entry is something a client presents to be recognised.
COOKIE_CONTAINERS = frozenset({"cookies", "COOKIES"})
# Configuration stores: an entry is a secret when its key names one.
CONFIG_WORDS = frozenset({"config", "conf", "cfg", "settings", "options", "secrets", "vault"})
# Header names (and their WSGI forms) that carry credentials by definition.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "http_authorization", "http_cookie"})

# A value is found again elsewhere by its local name within its function, or by its
# text (self.token, data["token"]) anywhere in the file.
Key = tuple[object, str]
Evidence = tuple[str, int]  # why, and on which line


def secret_name_strength(name: str) -> str | None:
    """How strongly a name says its value is a secret: "strong" for names only secrets
    wear (password, api_key), "weak" for names secrets share with other values (token,
    cookie, session_id), None for other names."""
    lowered = [p.lower() for p in re.split(r"[_\W]+|(?<=[a-z])(?=[A-Z])", name) if p]
    if not lowered or lowered[-1] in NOT_SECRET_SUFFIXES or lowered[0] in TEXT_ABOUT_FIRST:
        return None
    words = {p for p in lowered if p in SECRET_WORDS}
    pairs = {pair for pair in zip(lowered, lowered[1:], strict=False) if pair in SECRET_PAIRS}
    if not words and not pairs:
        return None
    if not _secret_is_head(lowered):
        return "weak"  # credentialInterfaces, token_bucket: the name is about something else
    return "weak" if words <= WEAK_WORDS and pairs <= WEAK_PAIRS else "strong"


def _secret_is_head(words: list[str]) -> bool:
    """Whether the name's last word (its head: what the value is) is the secret, a pair
    that names one, or a form of the secret's value (password_bytes, new_password2)."""
    tail = [w for w in words if not w.isdigit()]
    while tail and tail[-1] in VALUE_FORMS:
        tail.pop()
    if not tail:
        return True
    return tail[-1] in SECRET_WORDS or tuple(tail[-2:]) in SECRET_PAIRS


def is_secret_name(name: str) -> bool:
    return secret_name_strength(name) is not None


def reference_key(node: ast.AST, function: object) -> Key:
    return (function, node.id) if isinstance(node, ast.Name) else ("file", ast.unparse(node))


def _names_credential(key: str) -> bool:
    """A header, environment or configuration key that names a credential."""
    return key.lower() in CREDENTIAL_HEADERS or is_secret_name(key)


def auth_api(call: ast.Call, src: SourceFile) -> str | None:
    """The callee as written, when it authenticates, signs, encrypts or makes a secret.
    A module function is judged by its whole dotted name (hmac.new, jwt.decode); a method
    of an object of the program by its own name only (signer.sign, client.login): the
    object's name says what it is, not what this method does (hub_auth.get_next_url reads
    a URL), and of the method's name its verb and head word (store.set_auth_session_data
    stores data)."""
    callee = ast.unparse(call.func)
    qualified = src.qualname(call.func) or callee
    root: ast.AST = call.func
    while isinstance(root, ast.Attribute | ast.Call):
        root = root.value if isinstance(root, ast.Attribute) else root.func
    imported = isinstance(root, ast.Name) and root.id in src.names
    if imported or not isinstance(call.func, ast.Attribute):
        words = {part for piece in qualified.split(".") for part in name_parts(piece)}
    else:
        # What a method does is in its verb or its head word (verify_token, complete_login);
        # a word between says what it stores or reads (set_ui_auth_session_data stores data).
        words = _verb_and_head(call.func.attr)
    if EXCEPTION_CLASS.search(callee):
        return None  # building an exception (AuthError(...)) is reporting, not authenticating
    return callee if words & AUTH_API_WORDS or qualified.startswith(SECRET_MAKERS) else None


EXCEPTION_CLASS = re.compile(r"(?:^|\.)[A-Z]\w*(?:Error|Exception|Failure)$")


AUTH_VERBS = frozenset({"authenticate", "authorize", "login", "logon", "signin", "sign", "encrypt", "decrypt", "verify",
                        "compare", "hmac"})  # fmt: skip


def _verb_and_head(name: str) -> set[str]:
    """The words of a function name that say what it does: its head word, and its first
    word when that is an authentication verb (auth_dict_for_flows builds a dict)."""
    parts = name_parts(name)
    if not parts:
        return set()
    return {parts[-1], *(parts[:1] if parts[0] in AUTH_VERBS else ())}


def _references(node: ast.AST) -> Iterable[ast.AST]:
    """The names, attributes and subscripts a value is built from."""
    return (sub for sub in ast.walk(node) if isinstance(sub, ast.Name | ast.Attribute | ast.Subscript))


def credential_source(value: ast.AST, src: SourceFile) -> str | None:
    """How ``value`` reads or makes a credential, when it does: a credential header, a
    request cookie, a secret environment or configuration key, an auth API's result."""
    for sub in ast.walk(value):
        container: ast.AST | None = None
        key: str | None = None
        if isinstance(sub, ast.Subscript):
            container, key = sub.value, string_value(sub.slice)
        elif isinstance(sub, ast.Call):
            if (maker := auth_api(sub, src)) is not None:
                return f"made by {maker}()"
            if (src.qualname(sub.func) or "") == "os.getenv" and sub.args:
                if (key := string_value(sub.args[0])) and _names_credential(key):
                    return f"read from the environment variable {key}"
                continue
            if isinstance(sub.func, ast.Attribute) and sub.func.attr == "get" and sub.args:
                container, key = sub.func.value, string_value(sub.args[0])
        elif isinstance(sub, ast.Attribute) and sub.attr == "authorization":
            return f"read from {ast.unparse(sub)}"
        if container is None:
            continue
        last = container.attr if isinstance(container, ast.Attribute) else getattr(container, "id", "")
        if last in COOKIE_CONTAINERS:
            return "read from the request cookies"
        if key is None or not _names_credential(key):
            continue
        if last in CREDENTIAL_CONTAINERS:
            return f"read from the {key} entry of {last}"
        if set(name_parts(last)) & CONFIG_WORDS:
            return f"read from the configuration key {key}"
    return None


def _collect(src: SourceFile) -> dict[Key, Evidence]:
    found: dict[Key, Evidence] = {}
    function_of = src.index.function_of

    def note(nodes: Iterable[ast.AST], reason: str, line: int) -> None:
        for sub in nodes:
            found.setdefault(reference_key(sub, function_of.get(sub)), (reason, line))

    for call in src.index.of_type(ast.Call):
        assert isinstance(call, ast.Call)
        if (api := auth_api(call, src)) is not None:
            for arg in [*call.args, *(kw.value for kw in call.keywords)]:
                note(_references(arg), f"passed to {api}()", call.lineno)
        for kw in call.keywords:
            # The callee declares the parameter a credential: connect(password=...), get(auth=...).
            # A token= or session_id= keyword is a name like any other: weak, so not evidence.
            if kw.arg and (kw.arg == "auth" or secret_name_strength(kw.arg) == "strong"):
                note(_references(kw.value), f"passed as {kw.arg}= to {ast.unparse(call.func)}()", call.lineno)
    for node in src.index.of_type(ast.Dict):
        assert isinstance(node, ast.Dict)
        for key, value in zip(node.keys, node.values, strict=True):
            if (text := string_value(key)) and text.lower() in CREDENTIAL_HEADERS:
                note(_references(value), f"sent in the {text} header", node.lineno)
    for node in src.index.of_type(ast.Assign):
        assert isinstance(node, ast.Assign)
        for target in node.targets:
            if isinstance(target, ast.Subscript) and (text := string_value(target.slice)):
                if text.lower() in CREDENTIAL_HEADERS:
                    note(_references(node.value), f"sent in the {text} header", node.lineno)
        if (how := credential_source(node.value, src)) is not None:
            targets = [t for t in node.targets if isinstance(t, ast.Name | ast.Attribute | ast.Subscript)]
            note(targets, how, node.lineno)
    return found


_LAST: list[tuple[SourceFile, dict[Key, Evidence]]] = []


def evidence_in(src: SourceFile) -> dict[Key, Evidence]:
    """Why each value of ``src`` shown to be a secret is one, by its key; computed once per
    file, and only for files that log a value whose name alone would be weak evidence."""
    if _LAST and _LAST[0][0] is src:
        return _LAST[0][1]
    found = _collect(src)
    _LAST[:] = [(src, found)]
    return found


def secret_evidence(node: ast.AST, src: SourceFile) -> Evidence | None:
    """Why the value ``node`` (a name, attribute or subscript) is a secret beyond its name."""
    function = src.index.function_of.get(node)
    if isinstance(node, ast.Subscript) and (how := credential_source(node, src)) is not None:
        return how, 0  # request.headers["X-Auth-Token"], read where it is logged
    if isinstance(node, ast.Name) and isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        arguments = function.args
        own = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
        if node.id in own and _verb_and_head(function.name) & AUTH_API_WORDS:
            return f"a parameter of {function.name}()", function.lineno
    return evidence_in(src).get(reference_key(node, function))
