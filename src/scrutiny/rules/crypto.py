"""Cryptography rules (3xx): broken hashes and predictable randomness used for secrets."""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterator
from itertools import pairwise

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import (
    CallRule,
    Walk,
    argument,
    keyword,
    name_parts,
    string_value,
    target_name,
    walk_function,
)
from scrutiny.rules.digest_uses import Grade, read_hash
from scrutiny.rules.secret_values import auth_api
from scrutiny.source import SourceFile

# Constructor name -> algorithm, for hash objects that are broken for security use.
WEAK_HASH_CALLS = {
    "hashlib.md5": "MD5",
    "hashlib.sha1": "SHA-1",
    "hashlib.md4": "MD4",
    "Crypto.Hash.MD5.new": "MD5",
    "Crypto.Hash.MD4.new": "MD4",
    "Crypto.Hash.MD2.new": "MD2",
    "Cryptodome.Hash.MD2.new": "MD2",
    "Crypto.Hash.SHA.new": "SHA-1",
    "Crypto.Hash.SHA1.new": "SHA-1",
    "Cryptodome.Hash.MD5.new": "MD5",
    "Cryptodome.Hash.MD4.new": "MD4",
    "Cryptodome.Hash.SHA.new": "SHA-1",
    "Cryptodome.Hash.SHA1.new": "SHA-1",
    "cryptography.hazmat.primitives.hashes.MD5": "MD5",
    "cryptography.hazmat.primitives.hashes.SHA1": "SHA-1",
}
# Names hashlib.new accepts for the same algorithms, compared in lower case.
WEAK_HASH_NAMES = {"md5": "MD5", "sha1": "SHA-1", "md4": "MD4", "md5-sha1": "MD5-SHA1", "sha": "SHA-1"}
# crypt(3) methods that are broken for passwords (METHOD_BLOWFISH is bcrypt, which is not).
WEAK_CRYPT_METHODS = {"crypt.METHOD_CRYPT": "DES crypt", "crypt.METHOD_MD5": "MD5 crypt"}


class WeakHash(CallRule):
    """Broken hash algorithm (MD5, SHA-1, MD4)

    What: an MD5, SHA-1 or MD4 hash object from hashlib (including hashlib.new with one
    of those names), PyCryptodome or cryptography, unless usedforsecurity=False says
    the digest protects nothing; also MD2, and crypt.crypt/mksalt with the DES or MD5
    methods. The severity follows the use the code shows, and the message says which:
    medium when the hashed input is a credential or certificate (a value the code hands
    to a call as password=, or one whose own name says password, secret, token or
    certificate, as CodeQL reads it; reported at the update() it enters through), when
    the digest is compared with a value from elsewhere and a mismatch is rejected,
    compared in constant time, signed, or used as key material or a MAC, and for crypt();
    low otherwise, naming what the digest is used for when the code shows it (a file
    name, a lookup or cache key, an ETag, a value returned or stored, a change checksum
    compared without rejecting a mismatch). Also low: an algorithm picked by comparing
    a protocol value with its name (HTTP Digest's algorithm=MD5), even where the
    protocol hashes a password, since the code has no other choice; a digest sent to
    the remote side as a request parameter (stored in the mapping given as params=,
    data=, json= or headers= to an HTTP call, or encoded by urlencode; also through a
    digest hashed again; also any keyword of a call whose first argument is an absolute
    http(s) URL the code spells out, a literal or a module or class constant, with the
    mapping given directly or as json.dumps(mapping), and a keyword given to a method of
    the same class that hands its **kwargs to such a call), whose algorithm the remote
    API fixes; a digest of nothing but random bytes and constants (a nonce) compared with a peer's answer or otherwise
    checked, a value anyone who sees the nonce computes (the WebSocket handshake); and a hash of
    random bytes from os.urandom, secrets or uuid4, whose digest is a random value no
    collision or preimage attack can use. That case stays a low finding rather than
    none because secrets.token_hex() makes the same value without a broken hash. Also
    low: cryptography's MD5 or SHA1 given as the hash of an HMAC, a key derivation
    (PBKDF2HMAC, HKDF, ConcatKDF, X963KDF, KBKDFHMAC) or OAEP/MGF1, whose security does
    not rest on collision resistance (HMAC-MD5 has no practical forgery and
    PBKDF2-HMAC-SHA1 is what WPA2 uses); SHA-256 is still the choice for a new design.
    The same holds for an HMAC written out by hand (RFC 2104): two calls of the hash in
    one function, each hashing a value made by XOR (the key XOR ipad, the key XOR opad)
    followed by data, the second hashing the first's digest. Low as the protocol's choice:
    MD4 over text encoded as UTF-16LE, which is the NT hash NTLM defines (MS-NLMP NTOWF).
    Why: collisions for these algorithms can be computed cheaply, so a digest used as a
    signature, integrity check, password hash or unique token can be forged or matched.
    Example:
        digest = hashlib.md5(password.encode()).hexdigest()
    Fix: use hashlib.sha256 or a stronger SHA-2/SHA-3 function; for passwords use a slow
    key-derivation function (hashlib.scrypt, argon2, bcrypt); when the hash is only a
    checksum or cache key, say so with hashlib.md5(data, usedforsecurity=False).
    """

    id = "SCR301"
    name = "weak-hash"
    category = Category.CRYPTOGRAPHY
    cwe = 328
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    calls = (*WEAK_HASH_CALLS, "hashlib.new", "crypt.crypt", "crypt.mksalt")
    bandit = ("B303", "B324")
    ruff = ("S324",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        flag = keyword(call, "usedforsecurity")
        if isinstance(flag, ast.Constant) and flag.value is False:
            return
        hashed = argument(call, "data", 0) or keyword(call, "string")
        if name.startswith("crypt."):
            salt = argument(call, "salt", 1) if name == "crypt.crypt" else argument(call, "method", 0)
            method = (walk.src.qualname(salt) or "") if salt is not None else ""
            algorithm: str | None = WEAK_CRYPT_METHODS.get(method)
            if algorithm:  # crypt() exists to hash passwords: always a security use
                yield self.finding(call, f"{name} uses the broken hash algorithm {algorithm}", walk.src,
                                   scope=walk.scope_name)  # fmt: skip
            return
        if name == "hashlib.new":
            algorithm = WEAK_HASH_NAMES.get((string_value(argument(call, "name", 0)) or "").lower())
            hashed = argument(call, "data", 1) or keyword(call, "string")
        else:
            algorithm = WEAK_HASH_CALLS.get(name)
        if not algorithm:
            return
        reading = read_hash(call, hashed, algorithm, walk)
        if reading.grade is Grade.SECURITY:
            # Reported where the protected data is hashed, which may be an update() call.
            made = f" (made on line {call.lineno})" if reading.node is not call else ""
            yield self.finding(reading.node, f"{name}{made} uses the broken hash algorithm {algorithm} to protect "
                               f"something: {reading.evidence}", walk.src, scope=walk.scope_name)  # fmt: skip
            return
        tail = {
            Grade.PROTOCOL: "the weakness is the protocol's",
            Grade.KEYED: "prefer SHA-256 for a new design",
            Grade.RANDOM: "collisions and preimages do not apply; secrets.token_hex() makes one without a broken hash",
            Grade.PLAIN: "collisions matter little there, but usedforsecurity=False should say so",
        }[reading.grade]
        yield self.finding(call, f"{name} ({algorithm}): {reading.evidence}; {tail}", walk.src,
                           scope=walk.scope_name, severity=Severity.LOW, confidence=Confidence.MEDIUM)  # fmt: skip


RANDOM_FUNCTIONS = (
    "random",
    "randint",
    "randrange",
    "randbytes",
    "choice",
    "choices",
    "sample",
    "getrandbits",
    "uniform",
    "shuffle",
)
# Name parts that mark a value as a secret; pairs must appear next to each other.
SECRET_WORDS = frozenset(
    {
        "token", "tokens", "password", "passwd", "pwd", "passphrase", "secret", "secrets", "nonce",
        "salt", "otp", "totp", "hotp", "csrf", "xsrf", "apikey", "sessionid", "sessionkey", "pin", "key",
        "keys",
    }
)  # fmt: skip
SECRET_PAIRS = frozenset(
    {("session", "id"), ("reset", "code"), ("verification", "code"), ("confirmation", "code"), ("auth", "code")}
)
# Calls that only reshape a random value on its way into a secret (str.join, hex, ...).
RESHAPING_METHODS = frozenset(
    {
        "join", "format", "encode", "hex", "to_bytes", "zfill", "upper", "lower", "rjust", "md5", "sha1",
        "sha256", "sha512", "hexdigest", "digest", "b64encode", "urlsafe_b64encode", "hexlify",
    }
)  # fmt: skip
RESHAPING_FUNCTIONS = frozenset({"str", "int", "hex", "bytes", "bytearray", "list", "tuple", "chr", "format"})
PASS_THROUGH = (
    ast.BinOp, ast.JoinedStr, ast.FormattedValue, ast.ListComp, ast.SetComp, ast.GeneratorExp,
    ast.comprehension, ast.List, ast.Tuple, ast.Set, ast.Starred, ast.Attribute, ast.IfExp,
)  # fmt: skip


def _is_secret_name(name: str) -> bool:
    parts = name_parts(name)
    if any(part in SECRET_WORDS for part in parts):
        return True
    return any(pair in SECRET_PAIRS for pair in pairwise(parts))


def _target_names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Tuple | ast.List):
        return [name for element in target.elts for name in _target_names(element)]
    name = target_name(target)
    return [name] if name else []


def _reshapes(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr in RESHAPING_METHODS
    return isinstance(func, ast.Name) and func.id in RESHAPING_FUNCTIONS


BARE_KEY = (["key"], ["keys"])


def _bare_key(call: ast.Call, walk: Walk) -> ast.expr | None:
    """The target of the assignment that stores ``call``'s value, when its name is the bare
    word key (key, self.key): a word that names a mapping key or an identifier as often
    as a secret one."""
    node: ast.AST | None = walk.parent(call)
    while node is not None and not isinstance(node, ast.stmt):
        node = walk.parent(node)
    if not isinstance(node, ast.Assign) or len(node.targets) != 1:
        return None
    target = node.targets[0]
    if isinstance(target, ast.Name | ast.Attribute) and name_parts(target_name(target) or "") in BARE_KEY:
        return target
    return None


def _key_uses(target: ast.expr, walk: Walk) -> tuple[bool, bool]:
    """(used as a mapping key, passed to a signing, encryption or authentication call) for
    the value stored in ``target``, within its function (a local) or its class (self.key)."""
    if isinstance(target, ast.Attribute):
        scope: ast.AST | None = next((s for s in reversed(walk.scope) if isinstance(s, ast.ClassDef)), None)
        nodes = list(ast.walk(scope)) if scope is not None else []
        text = ast.unparse(target)
    else:
        nodes = list(walk_function(walk.function)) if walk.function is not None else list(ast.walk(walk.src.tree))
        text = ast.unparse(target)

    def refers(node: ast.AST | None) -> bool:
        return node is not None and any(ast.unparse(sub) == text for sub in ast.walk(node)
                                        if isinstance(sub, ast.Name | ast.Attribute))  # fmt: skip

    indexed = any(isinstance(n, ast.Subscript) and refers(n.slice) for n in nodes) or any(
        isinstance(n, ast.Dict) and any(refers(k) for k in n.keys) for n in nodes
    )
    secret_use = any(
        isinstance(n, ast.Call) and auth_api(n, walk.src) is not None
        and any(refers(a) for a in [*n.args, *(k.value for k in n.keywords)])
        for n in nodes
    )  # fmt: skip
    return indexed and not secret_use, secret_use


# Words that name a salt or a nonce: values a protocol or a hash format shows in the clear.
CLEAR_VALUE_WORDS = frozenset({"salt", "nonce", "cnonce"})
# The salt parameter of hash and crypt APIs, by position (salt= is recognised on any call);
# crypt(3) and these KDFs keep the salt in the clear, in the hash string or beside it.
SALT_POSITIONS = {
    "crypt.crypt": 1,
    "oslo_utils.secretutils.crypt_password": 1,
    "hashlib.pbkdf2_hmac": 2,
    "bcrypt.hashpw": 1,
}
HASH_MODULES = ("hashlib.", "hmac.", "Crypto.Hash.", "Cryptodome.Hash.")
# Calls that only spell a value as text or bytes: what they return carries the value.
CARRYING_CALLS = frozenset({"str", "bytes", "encode", "format", "join", "lower", "upper"})


def _names_clear_value(name: str) -> bool:
    return bool(set(name_parts(name)) & CLEAR_VALUE_WORDS)


def _salt_in_clear(call: ast.Call, walk: Walk) -> str:
    """How the random value, held by a name for a salt or nonce, is shown in the clear next
    to what it salts: passed as the salt of a hash or crypt call, or returned or placed in
    one container (a tuple, a dict, the same params object) with the digest made from it;
    '' when the code shows neither. Followed into the callers of the file when the value is
    what a function named for a salt returns (def _make_salt(): return ''.join(...))."""
    statement: ast.AST | None = walk.parent(call)
    while statement is not None and not isinstance(statement, ast.stmt):
        statement = walk.parent(statement)
    function = walk.function
    if isinstance(statement, ast.Assign) and function is not None:
        names = [t.id for t in statement.targets if isinstance(t, ast.Name) and _names_clear_value(t.id)]
        return _shown_with_digest(names[0], function, walk.src) if names else ""
    if isinstance(statement, ast.Return) and function is not None and _names_clear_value(function.name):
        found = ""
        for use in walk.src.index.of_type(ast.Call):
            assert isinstance(use, ast.Call)
            callee = use.func.attr if isinstance(use.func, ast.Attribute) else getattr(use.func, "id", "")
            if callee != function.name:
                continue
            holder = walk.parent(use)
            caller = walk.src.index.function_of.get(use)
            if not (isinstance(holder, ast.Assign) and len(holder.targets) == 1
                    and isinstance(holder.targets[0], ast.Name) and caller is not None):  # fmt: skip
                return ""
            shown = _shown_with_digest(holder.targets[0].id, caller, walk.src)
            if not shown:
                return ""  # every use must show it; one that keeps it hidden may need it secret
            held = holder.targets[0].id
            found = found or f"what {function.name}() returns becomes {held} in {caller.name}(), and {shown}"
        return found
    return ""


def _hash_call(node: ast.AST, src: SourceFile) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = src.qualname(node.func) or ""
    if name.startswith(HASH_MODULES):
        return True
    return isinstance(node.func, ast.Name) and node.func.id in hashlib.algorithms_guaranteed and (
        node.func.id in src.aliases
    )


def _refers(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(sub, ast.Name) and sub.id in names for sub in ast.walk(node))


def _carries(value: ast.AST, carried: set[str]) -> bool:
    """``value`` is the carried value spelled again: joined into a string, encoded, formatted."""
    if not _refers(value, carried):
        return False
    for sub in ast.walk(value):
        if isinstance(sub, ast.Call):
            func = sub.func
            tail = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if tail not in CARRYING_CALLS:
                return False
    return True


def _shown_with_digest(name: str, function: ast.AST, src: SourceFile) -> str:
    """How ``name``, a salt or nonce of ``function``, is shown next to the digest made from it."""
    nodes = walk_function(function)
    assigns = [n for n in nodes if isinstance(n, ast.Assign)]
    carried, digests = {name}, set()
    for _ in range(4):  # payload = secret + nonce; data = payload.encode(); a few hops suffice
        for assign in assigns:
            targets = {t.id for t in assign.targets if isinstance(t, ast.Name)}
            if any(_hash_call(sub, src) and _refers(sub, carried) for sub in ast.walk(assign.value)):
                digests |= targets
            elif _carries(assign.value, carried):
                carried |= targets
    for call in nodes:
        if not isinstance(call, ast.Call):
            continue
        qualname = src.qualname(call.func) or ""
        salt = keyword(call, "salt")
        if salt is None and qualname in SALT_POSITIONS:
            salt = argument(call, "salt", SALT_POSITIONS[qualname])
        if salt is not None and _refers(salt, carried):
            shown = qualname or ast.unparse(call.func)
            return f"{name} is the salt of {shown}() (line {call.lineno}), whose hash keeps it in the clear"

    def digest_in(node: ast.AST) -> bool:
        return _refers(node, digests) or any(_hash_call(sub, src) and _refers(sub, carried) for sub in ast.walk(node))

    for node in nodes:
        if isinstance(node, ast.Return) and node.value is not None:
            together = node.value
            what = "returned"
        elif isinstance(node, ast.Dict | ast.Tuple | ast.List):
            together, what = node, "placed in one container"
        else:
            continue
        if isinstance(together, ast.Tuple | ast.List | ast.Dict):
            parts = [*together.elts] if not isinstance(together, ast.Dict) else [*together.values]
            if any(isinstance(p, ast.Name) and p.id == name for p in parts) and any(digest_in(p) for p in parts):
                return f"{name} is {what} next to the digest made from it (line {node.lineno})"
    # params["s"] = salt; params["t"] = token: two fields of the same request.
    stores: dict[str, list[ast.expr]] = {}
    for assign in assigns:
        for target in assign.targets:
            if isinstance(target, ast.Subscript):
                stores.setdefault(ast.unparse(target.value), []).append(assign.value)
    for container, values in stores.items():
        if any(isinstance(v, ast.Name) and v.id == name for v in values) and any(digest_in(v) for v in values):
            return f"{name} is stored in {container} next to the digest made from it"
    return ""


class InsecureRandomSecret(CallRule):
    """Secret made with the random module

    What: a function of the random module (choice, randint, getrandbits, sample ...)
    whose result is stored in a name that holds a secret (token, password, salt, nonce,
    key, PIN, CSRF or session id), returned from a function named for one, or joined
    into one. A salt or nonce (the name says which) that the code shows in the clear next
    to what it salts is low: passed as the salt of a hash or crypt call (salt=, or
    crypt.crypt's, pbkdf2_hmac's, bcrypt.hashpw's salt), or returned, put in one tuple,
    list or dict, or stored in the same params object with the digest made from it
    (return salt, md5(password + salt).hexdigest()); for a function named for a salt,
    every call of it in the file must show the result so. Such a value needs to be
    unique, not unpredictable.
    Why: random is a Mersenne Twister seeded for simulations; its output is predictable
    after a few hundred observed values, so tokens, reset codes and keys made with it
    can be guessed.
    Example:
        token = "".join(random.choice(ALPHABET) for _ in range(32))
    Fix: use the secrets module: secrets.token_urlsafe(32), secrets.token_hex(16),
    secrets.choice(ALPHABET) or secrets.randbelow(n).
    A value stored under the bare name key (key, self.key) is judged by where it goes: used
    as a mapping key (data[key] = ..., {key: ...}) in its function or class, it is left to
    the SCR305 note; passed to a signing, encryption or authentication call there, it is
    reported; otherwise (an identifier written into data) it is low. Low as well when
    every read of the name or attribute it is stored in, in the file, is an argument of a
    logging call (log.debug, logger.info, logging.warning, print): a label that tells log
    lines apart, not a secret.
    """

    id = "SCR302"
    name = "insecure-random-secret"
    category = Category.CRYPTOGRAPHY
    cwe = 338
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    calls = tuple(f"random.{function}" for function in RANDOM_FUNCTIONS)
    bandit = ("B311",)
    ruff = ("S311",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        where = self._secret_destination(call, walk)
        if where:
            key = _bare_key(call, walk)
            if key is not None and not _key_uses(key, walk)[1]:
                yield self.finding(call, f"{name}() is not cryptographically secure, and its result becomes {where}; "
                                   "but a bare key names no secret, and no signing, encryption or authentication "
                                   "use of it is seen in its scope", walk.src, scope=walk.scope_name,
                                   severity=Severity.LOW, confidence=Confidence.LOW)  # fmt: skip
                return
            logged = _only_logged(call, walk)
            if logged:
                yield self.finding(call, f"{name}() is not cryptographically secure, and its result becomes {where}; "
                                   f"but {logged}, so it serves as a label in the log, not as a secret", walk.src,
                                   scope=walk.scope_name, severity=Severity.LOW, confidence=Confidence.LOW)  # fmt: skip
                return
            clear = _salt_in_clear(call, walk)
            if clear:
                yield self.finding(call, f"{name}() is not cryptographically secure, and its result becomes {where}; "
                                   f"but {clear}: a salt or nonce shown in the clear must be unique, not "
                                   "unpredictable", walk.src, scope=walk.scope_name,
                                   severity=Severity.LOW)  # fmt: skip
                return
            yield self.finding(
                call,
                f"{name}() is not cryptographically secure, but its result becomes {where}",
                walk.src,
                scope=walk.scope_name,
            )

    def _secret_destination(self, call: ast.Call, walk: Walk) -> str:
        """Where the random value ends up, when that is a secret; '' otherwise."""
        child: ast.AST = call
        node = walk.parent(call)
        while node is not None:
            if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [n for target in targets for n in _target_names(target) if _is_secret_name(n)]
                key = _bare_key(call, walk)
                if key is not None and _key_uses(key, walk)[0]:
                    return ""  # a mapping key: it indexes a dict, it is not a secret
                return f"'{names[0]}'" if names else ""
            if isinstance(node, ast.Return):
                function = walk.function
                if function is not None and _is_secret_name(function.name):
                    return f"the return value of {function.name}()"
                return ""
            if isinstance(node, ast.keyword):
                return f"argument {node.arg}=" if node.arg and _is_secret_name(node.arg) else ""
            if isinstance(node, ast.Dict):
                field, index = walk.src.index.slot(child)
                key = string_value(node.keys[index]) if field == "values" else None
                return f"the value of key '{key}'" if key and _is_secret_name(key) else ""
            if isinstance(node, ast.Call):
                if not _reshapes(node):
                    return ""
            elif not isinstance(node, PASS_THROUGH):
                return ""
            child, node = node, walk.parent(node)
        return ""


class RandomModuleUsed(InsecureRandomSecret):
    """Note: the predictable random module is used

    What: a call of the random module (random(), randint, choice, sample, shuffle,
    uniform, triangular, getrandbits, Random() ...) whose result does not visibly
    become a secret. Reported as a note only: it is not a defect and does not change
    the verdict.
    Why: random is predictable once a few hundred outputs are seen. That is fine for
    jitter, sampling and shuffling, but a value that reaches a token or key under a
    name the secret check does not recognise (SCR302) would be guessable; the note
    lets a reader confirm each use.
    Example:
        delay = random.uniform(0.5, 1.5)
    Fix: nothing to fix for simulation or jitter; use the secrets module for
    anything an attacker must not guess.
    """

    id = "SCR305"
    name = "random-module-used"
    severity = Severity.INFO
    confidence = Confidence.HIGH
    calls = (*InsecureRandomSecret.calls, "random.triangular", "random.Random")

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if name in InsecureRandomSecret.calls and self._secret_destination(call, walk):
            return  # SCR302 reports it
        yield self.finding(call, f"{name}() is predictable: fine for jitter or sampling, not for a secret",
                           walk.src, scope=walk.scope_name)  # fmt: skip


LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})


def _logging_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id == "print"
    if isinstance(func, ast.Attribute) and func.attr in LOG_METHODS:
        base = func.value
        owner = base.attr if isinstance(base, ast.Attribute) else base.id if isinstance(base, ast.Name) else ""
        return "log" in owner.lower()
    return False


def _only_logged(call: ast.Call, walk: Walk) -> str:
    """When the random value is stored in a name or attribute whose every read in the
    file is an argument of a logging call: the evidence as text, else ''."""
    node = walk.parent(call)
    while node is not None and not isinstance(node, ast.Assign | ast.AnnAssign):
        if isinstance(node, ast.stmt):
            return ""
        node = walk.parent(node)
    if node is None:
        return ""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if len(targets) != 1 or not isinstance(targets[0], ast.Attribute | ast.Name):
        return ""
    target = targets[0]
    if isinstance(target, ast.Attribute):
        reads = [n for n in walk.src.index.of_type(ast.Attribute)
                 if isinstance(n, ast.Attribute) and n.attr == target.attr and isinstance(n.ctx, ast.Load)]  # fmt: skip
        label = f".{target.attr}"
    else:
        scope = walk.function if walk.function is not None else walk.src.tree
        reads = [n for n in ast.walk(scope) if isinstance(n, ast.Name) and n.id == target.id
                 and isinstance(n.ctx, ast.Load)]  # fmt: skip
        label = target.id
    if not reads:
        return ""
    for read in reads:
        up = walk.parent(read)
        while up is not None and not isinstance(up, ast.stmt) and not _logging_call(up):
            up = walk.parent(up)
        if up is None or not _logging_call(up):
            return ""
    return f"each of the {len(reads)} reads of {label} in this file is an argument of a logging call"
