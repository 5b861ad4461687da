"""Hard-coded credentials (SCR401); hosts are in hosts.py."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import lru_cache
from itertools import pairwise
from typing import NamedTuple

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.kinds import main_guard
from scrutiny.rules.base import Rule, Walk, default_pairs, name_parts, note, string_value, target_name, walk_function
from scrutiny.rules.resolve import module_value
from scrutiny.source import SourceFile

# SCR401 ---------------------------------------------------------------------------


def _asserted_back(node: ast.AST, text: str, walk: Walk) -> int:
    """The line of an ``assert`` in the same function (or module) that compares something
    with this same literal (0: none): the code checks that a value it set comes back, as a
    test does; a login never asserts a password (asserts are stripped under -O)."""
    scope = walk.function or walk.src.tree
    for statement in walk_function(scope):
        if isinstance(statement, ast.Assert):
            for compare in ast.walk(statement.test):
                if isinstance(compare, ast.Compare) and any(isinstance(o, ast.Eq) for o in compare.ops):
                    if any(string_value(side) == text for side in (compare.left, *compare.comparators)):
                        return statement.lineno
    return 0


def _in_main_block(node: ast.AST, src: SourceFile) -> int:
    """The line of the top-level ``if __name__ == "__main__":`` holding ``node`` (0: outside one)."""
    block = main_guard(src)
    if block is None:
        return 0
    line = getattr(node, "lineno", 0)
    first = block.body[0].lineno if block.body else block.lineno
    return block.lineno if first <= line <= (block.end_lineno or block.lineno) and not block.orelse else 0

PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "passphrase"})
SECRET_WORDS = PASSWORD_WORDS | {"secret", "token", "apikey", "credential", "credentials"}
SECRET_PAIRS = frozenset({("api", "key"), ("access", "key"), ("private", "key"), ("auth", "key")})
# A last name part that makes the name describe a secret rather than hold one.
DESCRIPTIVE_SUFFIXES = frozenset(
    {
        "name", "names", "field", "fields", "type", "path", "file", "dir", "url", "uri", "header", "prefix",
        "prefixes", "patterns", "regexp",
        "suffix", "pattern", "regex", "re", "format", "fmt", "opt", "opts", "option", "options", "param",
        "attr", "column", "col", "env", "length", "len", "policy", "rule", "rules", "id", "label", "template",
        "var", "kind", "mode", "class", "module", "version", "ttl", "timeout", "expiry", "expiration",
        "lifetime", "count", "size", "min", "max", "prompt", "message", "msg", "text", "help", "description",
        "endpoint", "location", "scope", "scopes", "algorithm", "encoding", "schema", "backend", "provider",
        "driver", "handler", "table", "flag", "enabled", "required", "state", "status",
    }
)  # fmt: skip
TEMPLATE = re.compile(r"\{[^{}]*\}|%[(sdr]|\$\{|^\$\w+$|\{\{")
CONSTANT_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
IDENTIFIER_LIKE = re.compile(r"^_*[A-Za-z][A-Za-z0-9_.:-]*$")
DOTTED_PATH = re.compile(r"^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)+$")
# Values that are placeholders or switches, not credentials.
PLACEHOLDERS = frozenset(
    {
        "redacted", "hidden", "masked", "none", "null", "n/a", "todo", "tbd", "dummy", "yes", "no", "true",
        "false", "on", "off", "enabled", "disabled", "required", "optional", "bearer", "basic", "digest",
    }
)  # fmt: skip
REGEX = re.compile(r"\\[wdsbWDSB]|^\^|\[[^\]]+\][*+?{]")
# str.isspace's characters (re's \s tests the same Unicode property).
WHITE_SPACE = re.compile(r"\s")


@lru_cache(maxsize=8192)  # called for every assignment, argument and key; names repeat
def _secret_kind(name: str | None) -> str:
    """'password', 'secret' or '' for a name that does not hold a credential."""
    if not name:
        return ""
    parts = name_parts(name)
    if not parts or parts[-1] in DESCRIPTIVE_SUFFIXES or name.lower().endswith("key_name"):
        return ""
    if any(part in PASSWORD_WORDS for part in parts):
        return "password"
    if any(part in SECRET_WORDS for part in parts) or any(p in SECRET_PAIRS for p in pairwise(parts)):
        return "secret"
    return ""


def _looks_like_credential(value: str, name: str) -> bool:
    """Precision filters: drop values that are names, paths, templates or placeholders."""
    if "-----BEGIN" in value and "PRIVATE KEY" in value:
        return True
    if not value or any(ch.isspace() for ch in value) or not any(ch.isalnum() for ch in value):
        return False
    lowered = value.lower()
    if TEMPLATE.search(value) or DOTTED_PATH.match(value) or REGEX.search(value):
        return False
    # ADMIN_PASSWORD names a setting; AKIAIOSFODNN7EXAMPLE (digits, no _) is a key.
    if CONSTANT_NAME.match(value) and ("_" in value or value.isalpha()):
        return False
    if value.startswith(("/", "./", "~/")) or "://" in value:
        return False
    if set(lowered) <= {"*", "x", "."} or lowered in PLACEHOLDERS:
        return False
    if value[0] + value[-1] in ("<>", "[]", "()"):
        return False
    if not any(ch.isalpha() for ch in value) and ("." in value or len(value) <= 3):
        return False  # a number or a dotted code ("60" seconds, FTP reply "257.1"), not a password
    if lowered.replace("-", "_") == name.lower().replace("-", "_"):
        return False
    if IDENTIFIER_LIKE.match(value) and set(name_parts(value)) & (SECRET_WORDS | {"key", "pass"}):
        return False
    return True


# A plain lowercase word (always, on_create): the shape of a mode or option value.
OPTION_WORD = re.compile(r"^[a-z]+(?:[_-][a-z]+)*$")


class OptionWords(NamedTuple):
    """The file's evidence that a word is one value of an enumeration, not a secret."""

    compared: dict[str, frozenset[str]]  # name -> the words it is compared with (==, !=, in)
    listed: frozenset[str]  # words written together in a literal list, tuple or set (choices)
    # (function or None, name) -> the plain words assigned to the name there
    assigned: dict[tuple[ast.AST | None, str], frozenset[str]]


_option_cache: list[tuple[ast.Module, OptionWords]] = []


def _option_words(src: SourceFile) -> OptionWords:
    """Built once per file (the last file's is kept), on the first literal that needs it."""
    cached = _option_cache[0] if _option_cache else None
    if cached is not None and cached[0] is src.tree:
        return cached[1]
    compared: dict[str, set[str]] = {}
    for node in src.index.by_type.get(ast.Compare, ()):
        assert isinstance(node, ast.Compare)
        sides = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, sides, sides[1:], strict=False):
            if isinstance(op, ast.In | ast.NotIn) and isinstance(right, ast.Tuple | ast.List | ast.Set):
                pairs = [(left, element) for element in right.elts]
            elif isinstance(op, ast.Eq | ast.NotEq):
                pairs = [(left, right), (right, left)]
            else:
                continue
            for side, other in pairs:
                name, word = target_name(side), string_value(other)
                if name and word and OPTION_WORD.match(word):
                    compared.setdefault(name, set()).add(word)
    listed: set[str] = set()
    for node in src.index.of_type(ast.List, ast.Tuple, ast.Set):
        assert isinstance(node, ast.List | ast.Tuple | ast.Set)
        # Choices are words all alike; an argv list (["mysql", "-p", "letmein"]) is not.
        words = [string_value(element) or "" for element in node.elts]
        if len(words) >= 2 and all(OPTION_WORD.match(w) for w in words):
            listed.update(words)
    assigned: dict[tuple[ast.AST | None, str], set[str]] = {}
    for node in src.index.by_type.get(ast.Assign, ()):
        assert isinstance(node, ast.Assign)
        word = string_value(node.value)
        if word and OPTION_WORD.match(word):
            function = src.index.function_of.get(node)
            for target in node.targets:
                if name := target_name(target):
                    assigned.setdefault((function, name), set()).add(word)
    found = OptionWords({k: frozenset(v) for k, v in compared.items()}, frozenset(listed),
                        {k: frozenset(v) for k, v in assigned.items()})  # fmt: skip
    _option_cache[:] = [(src.tree, found)]
    return found


def option_word(name: str, text: str, src: SourceFile, node: ast.AST | None = None) -> bool:
    """Whether ``text``, stored under or compared with ``name``, is a mode word rather than
    a secret: a plain lowercase word that the file compares the same name with alongside
    other words (mode == "always" ... mode != "on_create"), or lists among the choices of a
    literal list, tuple or set, or (for an assignment ``node``) one of two or more plain
    words the same function assigns to the name (source = "env" ... source = "file"): a
    label of which case holds, as one variable holds one secret."""
    if not OPTION_WORD.match(text):
        return False
    words = _option_words(src)
    if len(words.compared.get(name, ())) >= 2 or text in words.listed:
        return True
    if isinstance(node, ast.Assign):
        return len(words.assigned.get((src.index.function_of.get(node), name), ())) >= 2
    return False


# A word as people write it (access, The, NONE): not the random mix of a token.
WORD_SHAPE = re.compile(r"^(?:[a-z]+|[A-Z][a-z]*|[A-Z]+)$")
TOKEN_WORDS = frozenset({"token", "tokens"})
# Lower-case words joined by _ . : or - (input_tokens, gen_ai.usage.input_tokens): a key or
# field name, as LLM usage counters are, not a random credential.
IDENTIFIER_SHAPE = re.compile(r"^[a-z]+(?:[._:-][a-z]+)+$")


def _word_under_token_name(name: str, value: str) -> bool:
    """A plain word or a lower-case identifier held by a name whose only secret word is
    token: a lexer or text token ("The", "access"), a claim's label, a field name
    ("input_tokens"), not a credential. A token credential is a random
    string (letters mixed with digits or symbols), and the other secret words (password,
    secret, api_key) keep plain words, which are what weak passwords are."""
    parts = name_parts(name)
    secret_parts = {part for part in parts if part in SECRET_WORDS}
    if not secret_parts or not secret_parts <= TOKEN_WORDS or any(p in SECRET_PAIRS for p in pairwise(parts)):
        return False
    return (len(value) <= 16 and bool(WORD_SHAPE.match(value))) or bool(IDENTIFIER_SHAPE.match(value))


def _restates_name(name: str, value: str) -> bool:
    """A value made only of words of its own name and set off by delimiters at both ends
    (SPACE_TOKEN = "!SPACE!", token = "__TOKEN__"): a marker or sentinel that names itself,
    not a credential. ADMIN_PASSWORD = "admin" has no delimiters and is still a password."""
    if value[0].isalnum() or value[-1].isalnum():
        return False
    words = [w for w in re.split(r"[^A-Za-z0-9]+", value) if w]
    return bool(words) and {w.lower() for w in words} <= set(name_parts(name))


def _shape(value: str) -> str:
    """The value with letter runs as a and digit runs as 9, a list (comma or semicolon
    separated) as the set of its items' shapes: 5/m/user and 20/m/ip,5/m/key are 9/a/a."""
    items = {re.sub(r"[0-9]+", "9", re.sub(r"[A-Za-z]+", "a", item)) for item in re.split(r"[,;]", value)}
    return ",".join(sorted(items))


def _shaped_like_siblings(node: ast.Dict, value: ast.expr, text: str) -> int:
    """How many entries of the same dict literal under keys that are not secret-named hold
    a value of the same structured shape as ``text`` (rate specs such as "5/m/user" under
    keys change_password, signup, login): the value is one setting of the kind the dict
    maps to, not a credential. Only structured shapes count, each item three or more
    fields of digits and letters (9/a/a): words, words joined by a dash and runs of letters
    and digits are what passwords look like."""
    shape = _shape(text)
    if not all("9" in item and "a" in item and len(re.findall(r"[a9]", item)) >= 3 for item in shape.split(",")):
        return 0
    count = 0
    for key, other in zip(node.keys, node.values, strict=True):
        key_text = string_value(key)
        other_text = string_value(other)
        if other is value or key_text is None or other_text is None or _secret_kind(key_text):
            continue
        count += _shape(other_text) == shape
    return count


# Keyword arguments that are a password or the user name logged in with it, whatever the callee.
CREDENTIAL_KEYWORDS = ("password", "passwd", "pwd", "passphrase")
USER_KEYWORDS = frozenset({"user", "username", "user_name", "login_name"})


def _used_as_credential(value: str | None) -> bool:
    """A string a call really logs in with: not empty, a placeholder or a template."""
    if not value or WHITE_SPACE.search(value) or TEMPLATE.search(value):
        return False
    return value.lower() not in PLACEHOLDERS and not set(value) <= {"*", "x", "."}


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def loopback_default(signature: ast.arguments) -> str | None:
    """Another parameter's default that addresses this machine (uri="http://localhost:19530"):
    a credential defaulted beside it is the stock login of a local development server."""
    for _name, default in default_pairs(signature):
        text = string_value(default) or ""
        host = text.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
        if host.startswith("[::1]") or host.split(":", 1)[0] in LOOPBACK_HOSTS:
            return text
    return None


# Settings a web framework signs sessions and tokens with: the framework's use, not the
# name, makes the value a key (Django's SECRET_KEY setting, Flask's app.secret_key and
# app.config["SECRET_KEY"]).
FRAMEWORK_KEYS = frozenset({"SECRET_KEY", "secret_key", "JWT_SECRET_KEY", "SECRET_KEY_FALLBACKS"})


def _use_shown(node: ast.AST, name: str, how: str, walk: Walk) -> bool:
    """The code shows the literal used as a credential, not only named as one: given to a
    call as its keyword argument, compared with a value to decide something (not inside an
    assert, which checks a value the code set), set as a framework's signing key, or
    assigned to a name that the file passes to a call as its password."""
    if how == "passed as keyword":
        return True
    if how == "compared with":
        return not isinstance(walk.parent(node), ast.Assert)
    if name in FRAMEWORK_KEYS:
        return True
    return how == "assigned to" and (name in _names_passed_as_password(walk.src) or _passed_on(name, walk))


def _passed_on(name: str, walk: Walk) -> bool:
    """The function (or module) holding the assignment hands the name to a call: as an
    argument, or inside text built for one (c.run(f"psql {db_password}"))."""
    scope = walk.function or walk.src.tree
    for call in walk_function(scope):
        if not isinstance(call, ast.Call):
            continue
        for argument in (*call.args, *(kw.value for kw in call.keywords)):
            if isinstance(argument, ast.Name) and argument.id == name:
                return True
            if isinstance(argument, ast.JoinedStr | ast.BinOp) and any(
                isinstance(n, ast.Name) and n.id == name for n in ast.walk(argument)
            ):
                return True
    return False


def _names_passed_as_password(src: SourceFile) -> frozenset[str]:
    """Names (variables, attributes) the file passes to a call as password=, passwd=...
    (asked only for the few literals that pass every other test, so not cached)."""
    return frozenset(
        name
        for call in src.index.by_type.get(ast.Call, ())
        for kw in call.keywords  # type: ignore[attr-defined]
        if kw.arg in CREDENTIAL_KEYWORDS and (name := target_name(kw.value))
    )


class HardcodedPassword(Rule):
    """Password, token or key written into the code

    What: a non-empty string literal assigned, passed as a keyword, used as a parameter
    default, stored under a dict key or compared with a name that holds a password,
    secret, token, API/access/private key or credential. Field names, templates, paths,
    constant names and placeholders are not reported, nor are mode words: a plain
    lowercase word the file also lists among literal choices, or compares the same name
    with alongside other words (update_password == "always" where "on_create" is the
    other choice), or assigns to the same name in the same function alongside another
    plain word (origin = "env" ... origin = "file": a label of which case holds). Not
    reported either: a plain word (access, The) under a name whose only secret word is
    token (a text token or a claim's label; token credentials are random strings), a
    value made only of its name's own words and set off by delimiters (a marker such as
    MARK_TOKEN = "!MARK!"),
    and a dict value whose structured shape (5/m/user: three or more fields of digits and
    letters) two or more entries under keys that are not secret-named share (a table of rate
    limits whose keys include change_password). Also a module constant, whatever
    its name, that a call receives as password= (and, at low severity, the constant
    passed with it as user= or username=). A parameter default is low when another
    parameter's default addresses this machine (localhost, 127.0.0.1, [::1]): the stock
    login of a local development server, which callers override. A literal that an
    assert of the same function compares with (assert cfg.password == "x") is a test's
    expected value, and one set inside the top-level if __name__ == "__main__": block
    runs only when the file is run by hand, for its user to edit: both are low, with the
    reason. Otherwise medium where the code shows the literal used as a credential:
    passed to a call as a keyword, compared with a value outside an assert (a check that
    decides access), assigned to a name the file passes as password= or that its
    function hands to a call, or set as a framework's signing key (SECRET_KEY,
    secret_key); where only its name says so, it is a lead to check, with low
    confidence, and the review shows it as low.
    Why: a secret in source code is in every clone, fork, backup and build artifact of
    the repository, cannot be rotated without a release, and is usually shared by every
    deployment.
    Example:
        db = connect(user="app", password="s3cr3t-Pa55")
    Fix: read it at run time from the environment, a secret store or a configuration
    file kept out of the repository: password=os.environ["DB_PASSWORD"].
    """

    id = "SCR401"
    name = "hardcoded-password"
    category = Category.HARDCODED_VALUES
    cwe = 798
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Assign, ast.AnnAssign, ast.Call, ast.arguments, ast.Dict, ast.Compare)
    keyword_filter = re.compile(".")  # a call is only read for its keyword arguments
    bandit = ("B105", "B106", "B107")
    ruff = ("S105", "S106", "S107")
    context = {
        FileKind.TEST: note("hard-coded credentials are expected in test code and fixtures"),
        FileKind.EXAMPLE: note("example code shows credentials as placeholders for the reader to replace"),
        FileKind.DOCS: note("documentation code shows credentials as placeholders for the reader to replace"),
    }

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        for name, value, how in self._candidates(node):
            text = string_value(value)
            if text is None:
                continue
            kind = _secret_kind(name)
            if not kind or not _looks_like_credential(text, name) or option_word(name, text, walk.src, node):
                continue
            if _word_under_token_name(name, text) or _restates_name(name, text):
                continue
            if isinstance(node, ast.Dict) and _shaped_like_siblings(node, value, text) >= 2:
                continue
            what = "password" if kind == "password" else "secret"
            local = loopback_default(node) if isinstance(node, ast.arguments) else None
            lowered = ""
            if local:
                lowered = f"; the server it logs in to defaults to {local}, a local development instance"
            elif line := _asserted_back(node, text, walk):
                lowered = f"; the code asserts this value back (line {line}): a test's expected value, not a login"
            elif line := _in_main_block(node, walk.src):
                lowered = (f"; set in the __main__ block (line {line}), which runs only when the file is run by hand "
                           "as a program, for its user to edit")
            used = _use_shown(node, name, how, walk)
            yield self.finding(
                value,
                f"hard-coded {what} {how} {name}{lowered}"
                + ("" if used or lowered else "; only its name says it is a credential: nothing here logs in or signs "
                   "with it"),
                walk.src,
                scope=walk.scope_name,
                cwe=259 if kind == "password" else 798,
                severity=Severity.LOW if lowered else None,
                confidence=None if used or lowered else Confidence.LOW,
            )

    def check_file(self, src: SourceFile) -> Iterator[Finding]:
        """Module constants that reach a call as its password (and the user name passed
        with it): the use says what the string is, whatever its name or look."""
        reported: set[int] = set()
        for call in src.index.by_type.get(ast.Call, ()):
            assert isinstance(call, ast.Call)
            if not any(kw.arg in CREDENTIAL_KEYWORDS for kw in call.keywords):
                continue
            function = src.index.function_of.get(call)
            passed = {kw.arg: (kw.value, *module_value(kw.value, src, function)) for kw in call.keywords if kw.arg}
            password = next((passed[k] for k in CREDENTIAL_KEYWORDS if k in passed), None)
            if password is None or not _used_as_credential(string_value(password[1])):
                continue
            called = ast.unparse(call.func)
            for keyword_name, (written, value, constant) in passed.items():
                is_password = keyword_name in CREDENTIAL_KEYWORDS
                if not constant or value is None or id(value) in reported:
                    continue
                if not (is_password or keyword_name in USER_KEYWORDS) or not _used_as_credential(string_value(value)):
                    continue
                text = string_value(value) or ""
                if _secret_kind(constant) and _looks_like_credential(text, constant):
                    continue  # the assignment is reported already, by its name
                reported.add(id(value))
                what, paired = ("password", "") if is_password else ("user name", ", with a hard-coded password")
                yield self.finding(
                    value,
                    f"hard-coded {what} assigned to {constant} and passed as {keyword_name}= to {called}() on "
                    f"line {call.lineno}{paired}",
                    src,
                    severity=None if is_password else Severity.LOW,
                    cwe=259 if is_password else 798,
                )

    def _candidates(self, node: ast.AST) -> Iterator[tuple[str, ast.expr, str]]:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    for element, value in zip(target.elts, node.value.elts, strict=False):
                        if name := target_name(element):
                            yield name, value, "assigned to"
                elif name := target_name(target):
                    yield name, node.value, "assigned to"
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            if name := target_name(node.target):
                yield name, node.value, "assigned to"
        elif isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg:
                    yield kw.arg, kw.value, "passed as keyword"
        elif isinstance(node, ast.arguments):
            for name, default in default_pairs(node):
                yield name, default, "as the default of parameter"
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if name := string_value(key):
                    yield name, value, "stored under key"
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq | ast.NotEq):
            # Parsers compare tokens with literals all the time, so only passwords and
            # secrets count here.
            left, right = node.left, node.comparators[0]
            for side, other in ((left, right), (right, left)):
                name = target_name(side)
                if name and _secret_kind(name):
                    # The head word (the last) must be the secret: secret_security != 'host'
                    # compares a mode, admin_password == 'x' checks a password.
                    parts = name_parts(name)
                    if parts and parts[-1] in PASSWORD_WORDS | {"secret"}:
                        yield name, other, "compared with"
