"""Secret rules (4xx) beyond names: credentials recognised by their format or randomness.

SCR401 (hardcoded.py) reports literals stored under credential names; these rules skip
every literal SCR401 already reports, so one secret gives one finding.
"""

from __future__ import annotations

import ast
import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import NamedTuple
from urllib.parse import unquote

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, default_pairs, name_parts, note, string_value, target_name
from scrutiny.rules.hardcoded import (
    DESCRIPTIVE_SUFFIXES,
    HardcodedPassword,
    _looks_like_credential,
    _secret_kind,
    option_word,
)

SECRET_CONTEXT = {
    FileKind.TEST: note("credentials in tests are fixtures, expected to be fake"),
    FileKind.EXAMPLE: note("example code shows credentials for the reader to replace"),
    FileKind.DOCS: note("documentation shows credentials for the reader to replace"),
}


class Format(NamedTuple):
    what: str
    pattern: re.Pattern[str]
    severity: Severity
    cwe: int = 798
    # Literal text every match contains: one search for all anchors rules out most
    # strings far faster than the patterns themselves, which start with \b.
    anchor: str = ""


# Prefixes and lengths are the issuers' published token formats.
FORMATS = (
    Format("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), Severity.HIGH, anchor="AKIA|ASIA"),
    Format("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"), Severity.HIGH, anchor="gh[pousr]_"),
    Format(
        "GitHub fine-grained token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{60,}"), Severity.HIGH, anchor="github_pat_"
    ),
    Format(
        "GitLab token",
        re.compile(r"\bgl(?:pat|dt|rt|ptt|soat|cbt)-[A-Za-z0-9_-]{20,}"),
        Severity.HIGH,
        anchor="gl(?:pat|dt|rt|ptt|soat|cbt)-",
    ),
    Format("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), Severity.HIGH, anchor="xox[abposr]-"),
    Format(
        "Slack webhook URL",
        re.compile(r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,}"),
        Severity.MEDIUM,
        anchor=r"hooks\.slack\.com",
    ),
    Format("Stripe live key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{16,}"), Severity.HIGH, anchor="k_live_"),
    Format("Stripe test key", re.compile(r"\b[rs]k_test_[A-Za-z0-9]{16,}"), Severity.LOW, anchor="k_test_"),
    Format("Twilio API key", re.compile(r"\bSK[0-9a-f]{32}\b"), Severity.HIGH, anchor="SK[0-9a-f]"),
    Format("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), Severity.HIGH, anchor="AIza"),
    Format("Google OAuth client secret", re.compile(r"\bGOCSPX-[A-Za-z0-9_-]{28}\b"), Severity.HIGH, anchor="GOCSPX-"),
    Format(
        "SendGrid API key", re.compile(r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b"), Severity.HIGH, anchor=r"SG\."
    ),
    Format("npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), Severity.HIGH, anchor="npm_"),
    Format("PyPI upload token", re.compile(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"), Severity.HIGH, anchor="pypi-"),
    # A key block with a body; the bare header line is what PEM parsers look for.
    Format(
        "private key block",
        re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----\s*[A-Za-z0-9+/=\s:,-]{64,}"),
        Severity.HIGH,
        321,
        anchor="-----BEGIN ",
    ),
    Format(
        "JSON Web Token",
        re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,}"),
        Severity.MEDIUM,
        anchor="eyJ",
    ),
)
# Every format's anchor at once: one search rules out most strings before any format is tried.
ANY_FORMAT = re.compile("|".join(fmt.anchor for fmt in FORMATS))
# scheme://user:password@host; the user may be empty (redis://:pw@host).
CREDENTIAL_URL = re.compile(r"\b([a-z][a-z0-9+.-]{1,20})://([^\s:/@'\"]*):([^\s/@'\"]+)@([^\s/?#'\"]+)")
PLACEHOLDER_WORDS = (
    "example", "xxxx", "dummy", "fake", "sample", "placeholder", "changeme", "change_me", "redacted", "your_",
    "your-", "<", "...", "****",
)  # fmt: skip
PLACEHOLDER_PASSWORDS = frozenset(
    {
        "password", "pass", "passwd", "pwd", "secret", "pw", "user", "username", "xxx", "x", "changeme", "test",
        "foo", "bar", "none", "null", "dummy", "fake", "example", "redacted", "hidden", "masked", "token", "key",
    }
)  # fmt: skip
TEMPLATE_MARKS = ("{", "}", "%", "$", "<", ">", "*")


def _placeholder(token: str) -> bool:
    lowered = token.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS):
        return True
    # A token of few distinct characters (ghp_aaaa..., AKIA0000...) is made up.
    return len(set(token)) < max(6, len(token) // 5)


def reported_by_scr401(node: ast.Constant, walk: Walk) -> bool:
    """Whether SCR401 reports this literal already (same candidates, same filters)."""
    parent = walk.parent(node)
    owner = walk.parent(parent) if isinstance(parent, ast.keyword) else parent
    if owner is None or not isinstance(node.value, str):
        return False
    for name, value, _ in HardcodedPassword()._candidates(owner):
        if value is node and _secret_kind(name) and _looks_like_credential(node.value, name):
            return not option_word(name, node.value, walk.src)
    return False


def _text(node: ast.Constant) -> str | None:
    if isinstance(node.value, str):
        return node.value
    if isinstance(node.value, bytes):
        return node.value.decode("latin-1")
    return None


class KnownFormatSecret(Rule):
    """Credential of a well-known format in a string literal

    What: a string literal anywhere in the code that contains an AWS access key id, a
    GitHub, GitLab, Slack, npm or PyPI token, a Stripe, Twilio, SendGrid or Google API
    key, a Google OAuth client secret, a private key block with its body, a signed JSON
    Web Token, or a URL carrying a password (scheme://user:password@host) in a string the
    code uses as a value. Placeholders (EXAMPLE, xxxx, your_..., templates such as
    {password}) are skipped, and so are literals SCR401 reports under a credential name
    and URLs in docstrings and bare string statements (prose: examples of the syntax).
    A URL whose password is its user name (guest:guest) is a default account, not a
    secret: low severity.
    Why: the format says what the value is whatever the variable is called: a key that
    reached the repository is in every clone and must be treated as leaked. Scanners
    harvest public repositories for exactly these prefixes within minutes of a push.
    Example:
        DATABASE_URL = "postgresql://app:Tr0ub4dor&3@db.internal:5432/app"
        s3 = boto3.client("s3", aws_access_key_id="AKIA2E0A8F3B244C9986")
    Fix: revoke and rotate the credential first, then read it at run time from the
    environment or a secret store (os.environ["DATABASE_URL"]); keep only placeholders
    in the repository.
    """

    id = "SCR451"
    name = "known-format-secret"
    category = Category.HARDCODED_VALUES
    cwe = 798
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    node_types = (ast.Constant,)
    constant_values = (str, bytes)  # check() returns on any other value (see _text)
    context = SECRET_CONTEXT

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Constant)
        text = _text(node)
        if not text or len(text) < 16:
            return
        found = self._match(text, in_prose=_prose(node, walk))
        if found is None or reported_by_scr401(node, walk):
            return
        what, severity, cwe = found
        yield self.finding(
            node, f"{what} in a string literal", walk.src, scope=walk.scope_name, severity=severity, cwe=cwe
        )

    def _match(self, text: str, in_prose: bool = False) -> tuple[str, Severity, int] | None:
        """The credential ``text`` holds: a token of an issuer's format anywhere, or a URL
        with a password unless the text is prose (a docstring or a bare string), where a
        URL with a password is an example of the syntax written for the reader."""
        for fmt in FORMATS if ANY_FORMAT.search(text) else ():
            for match in fmt.pattern.finditer(text):
                if not _placeholder(match.group(0).split("-----")[-1] if "-----" in match.group(0) else match.group(0)):
                    return fmt.what, fmt.severity, fmt.cwe
        if "://" in text and not in_prose:
            for match in CREDENTIAL_URL.finditer(text):
                password = unquote(match.group(3))
                if (
                    match.group(1) in ("fake", "none")
                    or password.lower() in PLACEHOLDER_PASSWORDS
                    or any(mark in password for mark in TEMPLATE_MARKS)
                    or any(word in password.lower() for word in PLACEHOLDER_WORDS)
                    or set(password) <= {"x", "X", "*", "."}
                ):
                    continue
                if unquote(match.group(2)) == password:
                    # guest:guest, postgres:postgres: a default account anyone can name, not a secret.
                    return f"{match.group(1)} URL whose password is its user name", Severity.LOW, 798
                return f"{match.group(1)} URL with a password", Severity.MEDIUM, 259
        return None


# Keywords whose value is text for a person (argparse, click, optparse, setup()).
PROSE_KEYWORDS = frozenset({"help", "description", "epilog", "usage", "long_description", "doc"})
PROSE_CALLS = frozenset({"textwrap.dedent", "textwrap.indent", "textwrap.fill", "gettext.gettext", "_"})
# Syntax only a regular expression has: such a literal describes URLs, it is not one.
PATTERN_SYNTAX = ("(?:", "(?P<", "[^", "\\d", "\\w", "\\S", "\\s", ".*", ".+", "[a-z", "[A-Z", "[0-9")


def _prose(node: ast.Constant, walk: Walk) -> bool:
    """A string that is a statement of its own (a docstring or a bare string), or part of
    an f-string that is, or help text (an argument of textwrap.dedent, a help= keyword):
    text for the reader, which the code never uses as a value; so is a log record's or a
    warning's message. A regular expression is not a URL either."""
    if isinstance(node.value, str) and any(mark in node.value for mark in PATTERN_SYNTAX):
        return True
    parent = walk.parent(node)
    if isinstance(parent, ast.JoinedStr):
        parent = walk.parent(parent)
    if isinstance(parent, ast.keyword) and parent.arg in PROSE_KEYWORDS:
        return True
    if isinstance(parent, ast.Call) and walk.src.index.slot(node)[0] == "args":
        return (walk.src.qualname(parent.func) or "") in PROSE_CALLS or _message_call(parent, walk)
    return isinstance(parent, ast.Expr)


LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical"})


def _message_call(call: ast.Call, walk: Walk) -> bool:
    """A log record's or a warning's text: log.warning("use 'db://user:pass@host'"),
    warnings.warn(...); the URL there shows the reader a syntax."""
    func = call.func
    if (walk.src.qualname(func) or "") == "warnings.warn":
        return True
    if not (isinstance(func, ast.Attribute) and func.attr in LOG_METHODS):
        return False
    receiver = func.value
    name = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
    return "log" in name.lower() or (walk.src.qualname(receiver) or "") == "logging"


# SCR452 ---------------------------------------------------------------------------

# Name parts that mark a value as key material even when SCR401 would not call it a secret.
KEY_MATERIAL_WORDS = frozenset({"secret", "token", "password", "passwd", "passphrase", "salt", "pepper", "hmac"})
KEY_QUALIFIERS = frozenset(
    {
        "api", "access", "secret", "private", "signing", "sign", "encryption", "encrypt", "crypt", "crypto",
        "cipher", "aes", "hmac", "master", "auth", "session", "jwt", "client", "app", "webhook", "shared",
    }
)  # fmt: skip
# Names of values that are random-looking by nature but public: digests, ids, versions.
CHECKSUM_WORDS = frozenset(
    {
        "sha", "sha1", "sha224", "sha256", "sha384", "sha512", "md5", "checksum", "digest", "hexdigest", "hash",
        "fingerprint", "etag", "uuid", "guid", "id", "crc", "crc32", "sum", "commit", "revision", "rev", "version",
        "nonce", "public", "pub", "example", "sample", "fake", "dummy", "test",
    }
)  # fmt: skip
HEX = re.compile(r"^[0-9a-fA-F]+$")
BASE64ISH = re.compile(r"^[A-Za-z0-9+/=_.~-]+$")
# Entropy floors (bits per character), measured on 20,000 random strings each: 3.5 is the
# 5th percentile for 16-character base62 strings and below the 1st percentile from 20
# characters on; 3.0 is below the 1st percentile (3.26) for 32-character hex strings.
# Word-made values pass the entropy floor too, so non-hex values also need upper case,
# lower case and digits, which random keys nearly always have and phrases rarely do.
MIN_LENGTH = 16
MIN_HEX_LENGTH = 32
BASE64_FLOOR = 3.5
HEX_FLOOR = 3.0
# Words of three or more letters covering 60% of the value make it a phrase
# (KeyForTheSessionStore2024); 7% of random 16-character base62 strings look like this.
WORD = re.compile(r"[A-Z]?[a-z]+")
PHRASE_SHARE = 0.6


def shannon_entropy(text: str) -> float:
    counts = Counter(text)
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in counts.values()) if size else 0.0


def _ascending_run(value: str, length: int = 5) -> bool:
    """An alphabet or counting sequence (abcdef, 012345) inside the value: a character
    table, not a key; random strings almost never hold five consecutive code points."""
    run = 1
    for before, after in zip(value, value[1:], strict=False):
        run = run + 1 if ord(after) == ord(before) + 1 else 1
        if run >= length:
            return True
    return False


def looks_random(value: str) -> bool:
    if len(value) < MIN_LENGTH or _placeholder(value) or _ascending_run(value):
        return False
    if HEX.match(value):
        return len(value) >= MIN_HEX_LENGTH and shannon_entropy(value) >= HEX_FLOOR
    if not BASE64ISH.match(value):
        return False
    mixed = any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value)
    if not mixed or shannon_entropy(value) < BASE64_FLOOR:
        return False
    return sum(len(word) for word in WORD.findall(value) if len(word) >= 3) < PHRASE_SHARE * len(value)


def key_material_name(name: str) -> bool:
    parts = name_parts(name)
    if not parts or parts[-1] in DESCRIPTIVE_SUFFIXES or set(parts) & CHECKSUM_WORDS:
        return False
    if set(parts) & KEY_MATERIAL_WORDS:
        return True
    return ("key" in parts or "keys" in parts) and bool(set(parts) & KEY_QUALIFIERS) or parts == ["key"]


def _named_values(node: ast.AST) -> Iterator[tuple[str, ast.expr]]:
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if name := target_name(target):
                yield name, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        if name := target_name(node.target):
            yield name, node.value
    elif isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg:
                yield kw.arg, kw.value
    elif isinstance(node, ast.arguments):
        yield from default_pairs(node)
    elif isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if name := string_value(key):
                yield name, value


class HighEntropySecret(Rule):
    """Random-looking key material stored under a key-like name

    What: a string literal of at least 16 characters (32 for hex) whose Shannon entropy
    is that of a random key (3.5 bits per character, with upper case, lower case and
    digits; 3.0 for hex), assigned, passed or defaulted to a name of key material: salt,
    pepper, hmac, secret, token, password, or key qualified as signing, encryption,
    master, session, api, private ... Digests, ids and versions (sha256, checksum,
    etag, uuid) and literals SCR401 reports are skipped.
    Why: generated keys, salts and signing secrets in the source are shared by every
    installation and known to everyone with the code, so signatures can be forged and
    encrypted data read.
    Example:
        SIGNING_KEY = "q8ZkF2rXw9Lm4TtV7bNc1YhA"
    Fix: generate the key per deployment and load it at run time (environment, secret
    store, key management service); rotate the committed one.
    """

    id = "SCR452"
    name = "high-entropy-secret"
    category = Category.HARDCODED_VALUES
    cwe = 321
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Assign, ast.AnnAssign, ast.Call, ast.arguments, ast.Dict)
    keyword_filter = re.compile(".")  # a call is only read for its keyword arguments
    context = SECRET_CONTEXT

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        for name, value in _named_values(node):
            text = string_value(value)
            if text is None or not key_material_name(name) or not looks_random(text):
                continue
            assert isinstance(value, ast.Constant)
            if reported_by_scr401(value, walk) or KnownFormatSecret()._match(text):
                continue
            yield self.finding(
                value,
                f"random-looking literal ({shannon_entropy(text):.1f} bits/char) stored as {name}",
                walk.src,
                scope=walk.scope_name,
            )
