"""Token and session rules (92x): secrets compared in variable time, tokens that never expire."""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Callable, Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import DEFAULT_CONTEXT, CallRule, Rule, Walk, argument, drop, keyword, name_parts, string_value
from scrutiny.rules.jwt_tokens import _dict_for
from scrutiny.rules.reaching import reaching_values
from scrutiny.rules.secret_values import SECRET_PAIRS, SECRET_WORDS
from scrutiny.source import SourceFile

# Words that, heading a name (its last word), say the value itself is a secret whose
# bytes an attacker must not learn one at a time. A nonce is not one: the server sends it
# in the clear, and a counter or a size is a number, not a string compared byte by byte.
SECRET_HEADS = frozenset(SECRET_WORDS | {"signature", "digest", "hmac", "hexdigest", "otp", "csrf"})
SECRET_HEAD_PAIRS = frozenset(SECRET_PAIRS)
# Last words that say how a value is held, not what it is: the head is the word before.
REPRESENTATION_WORDS = frozenset(
    "value str string bytes b64 hex raw text data encoded decoded plain plaintext candidate guess attempt".split()
)
# A hash or MAC of a secret (password_hash, token_digest) is compared like the secret.
DERIVED_HEADS = frozenset({"hash", "digest", "hexdigest", "hmac", "sig"})
DIGEST_METHODS = {"digest", "hexdigest"}
SIGNING_METHODS = {"sign", "signature", "compute_signature", "make_signature"}
# verify_signature, use_token: switches that say whether to check, not the secret.
FLAG_FIRST = {"verify", "check", "use", "enable", "require", "has", "is", "allow", "validate", "sign", "should"}
# Checksums of public data are compared for integrity, not secrecy.
NOT_COMPARED_WORDS = {"config", "checksum", "md5", "sha1", "sha256", "etag", "image", "file", "os", "type", "algorithm"}


def _is_constant(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) or (isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant))


def _names_secret(name: str) -> bool:
    """Whether the head of ``name`` is a secret: link_token and stored api_key are;
    password_min_days (a number of days), cookie_domain and api_key_given are not."""
    parts = name_parts(name)
    while len(parts) > 1 and parts[-1] in REPRESENTATION_WORDS:
        parts = parts[:-1]
    if not parts:
        return False
    if parts[-1] in SECRET_HEADS or tuple(parts[-2:]) in SECRET_HEAD_PAIRS:
        return True
    return parts[-1] in DERIVED_HEADS and len(parts) > 1 and parts[-2] in SECRET_HEADS


def _compared_secret(node: ast.expr) -> str | None:
    """The name of a secret held by ``node``: a variable, attribute, string key or digest call."""
    if isinstance(node, ast.Call):
        func = node.func
        tail = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        text = ast.unparse(node)
        # hmac.new(...).hexdigest() is a MAC; hashlib.sha256(data).hexdigest() is a checksum.
        keyed = tail in SIGNING_METHODS or (tail in DIGEST_METHODS and "hmac" in text.lower())
        return text[:60] if keyed else None
    if isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Attribute):
        name = node.attr
    elif isinstance(node, ast.Subscript):
        name = string_value(node.slice) or ""
    else:
        return None
    parts = name_parts(name)
    # Constants and classes (VIR_ERR_NO_SECRET, InvalidToken) name kinds of things, not values.
    if not parts or name.lstrip("_")[:1].isupper() or set(parts) & NOT_COMPARED_WORDS or parts[0] in FLAG_FIRST:
        return None
    return ast.unparse(node)[:60] if _names_secret(name) else None


# Builtins whose result is a number or a bool, and annotations that say a value is one.
SCALAR_CALLS = frozenset({"int", "float", "bool", "len", "abs", "round", "ord", "hash"})
SCALAR_TYPES = frozenset({"int", "float", "bool", "None"})
NUMERIC_OPERATORS = (ast.Sub, ast.Div, ast.FloorDiv, ast.Pow, ast.LShift, ast.RShift, ast.BitAnd, ast.BitXor)


def _scalar(value: ast.expr) -> bool:
    """A number, a bool or None by the expression's own form (42, x is None, not x, int(s))."""
    if isinstance(value, ast.Constant):
        return not isinstance(value.value, str | bytes)
    if isinstance(value, ast.Compare):
        return True
    if isinstance(value, ast.UnaryOp):
        return isinstance(value.op, ast.Not) or _scalar(value.operand)
    if isinstance(value, ast.BoolOp):
        return all(_scalar(v) for v in value.values)
    if isinstance(value, ast.Call):
        return isinstance(value.func, ast.Name) and value.func.id in SCALAR_CALLS
    if isinstance(value, ast.BinOp):
        if isinstance(value.op, NUMERIC_OPERATORS):
            return True
        return isinstance(value.op, ast.Add) and (_scalar(value.left) or _scalar(value.right))
    return False


def _scalar_annotation(annotation: ast.expr | None) -> bool:
    if annotation is None:
        return False
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):  # int | None
        return _scalar_annotation(annotation.left) and _scalar_annotation(annotation.right)
    return ast.unparse(annotation) in SCALAR_TYPES


def _bindings_scalar(scope: ast.AST, matches: Callable[[ast.expr], bool]) -> bool:
    """Whether every binding in ``scope`` of the target ``matches`` picks out gives it a
    number, bool or None (and there is at least one). Any other binding (a loop target,
    tuple unpacking, an unannotated parameter) leaves the type unknown."""
    found = False
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if matches(target):
                    found = True
                    if not _scalar(node.value):
                        return False
                elif any(matches(inner) for inner in ast.walk(target) if inner is not target):
                    return False
        elif isinstance(node, ast.AnnAssign) and matches(node.target):
            found = True
            if not (_scalar_annotation(node.annotation) or (node.value is not None and _scalar(node.value))):
                return False
        elif isinstance(node, ast.AugAssign | ast.For | ast.AsyncFor | ast.comprehension | ast.NamedExpr):
            if any(matches(inner) for inner in ast.walk(node.target)):
                return False
        elif isinstance(node, ast.arg) and matches(ast.Name(node.arg)):
            found = True
            if not _scalar_annotation(node.annotation):
                return False
    return found


def _known_scalar(side: ast.expr, walk: Walk) -> bool:
    """``side`` holds a number, a bool or None by the evidence of its bindings: a local
    assigned only x is not None / int(...) / 0, a parameter annotated int, or self.attr
    assigned only such values in its class."""
    if _scalar(side):
        return True
    function = walk.function
    if isinstance(side, ast.Name) and function is not None:
        return _bindings_scalar(function, lambda t: isinstance(t, ast.Name) and t.id == side.id)
    if isinstance(side, ast.Attribute) and isinstance(side.value, ast.Name) and side.value.id == "self":
        owner = next((s for s in reversed(walk.scope) if isinstance(s, ast.ClassDef)), None)
        if owner is None:
            return False
        return _bindings_scalar(
            owner,
            lambda t: (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                       and t.attr == side.attr),
        )  # fmt: skip
    return False


# password != password2: two values the same user typed, checked for a typo.
CONFIRMATION = re.compile(r"confirm|again|repeat|retype|\w2\b|\bnew_|\bold_", re.IGNORECASE)


# A timing leak matters where the comparison decides access: in a function that
# authenticates or verifies, or against a value read from the request.
ACCESS_WORDS = frozenset(
    "auth authenticate authorize login logon verify validate check signature webhook csrf otp token hmac "
    "password secret signed unsign sign valid compare match matches pin callback hook session api key "
    "digest".split()
)
REQUEST_WORDS = {"request", "req", "headers", "header", "cookies", "cookie", "params", "args", "form", "environ",
                 "query", "provided", "given", "supplied", "received", "submitted"}  # fmt: skip


def _access_evidence(node: ast.Compare, function: ast.FunctionDef | ast.AsyncFunctionDef | None) -> str:
    """Why the comparison decides access ('' when nothing says it does), for the message."""
    if function is not None and set(name_parts(function.name)) & ACCESS_WORDS:
        return f"in {function.name}()"
    if _source_words(node) & REQUEST_WORDS:
        return "against a value read from the request"
    # secret = request.args.get("s"); ...; secret == self.secret, also through a few
    # assignments (creds = b64decode(request.auth); user, password = creds.split(":")).
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    derived = sorted(names & _request_derived(function)) if function is not None else []
    return f"({derived[0]} comes from the request)" if derived else ""


def _request_derived(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Local names whose value is computed from the request, followed to a fixed point."""
    assigns = [(a.targets, a.value) for a in ast.walk(function) if isinstance(a, ast.Assign)]
    derived: set[str] = set()
    for _ in range(4):  # a handful of hops is what real code needs; the bound keeps it cheap
        grown = False
        for targets, value in assigns:
            used = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
            if not (_data_words(value) & REQUEST_WORDS or used & derived):
                continue
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name) and name.id not in derived:
                        derived.add(name.id)
                        grown = True
        if not grown:
            break
    return derived


def _data_words(node: ast.AST) -> set[str]:
    """The words of ``node`` less a method called by a one-word name: db.query(...) runs a
    database query, it does not read the request's query string (request.query,
    request.args, self.get_cookie(...) still count)."""
    called = {
        id(sub.func) for sub in ast.walk(node)
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and len(name_parts(sub.func.attr)) == 1
    }  # fmt: skip
    return {
        part
        for sub in ast.walk(node)
        if id(sub) not in called
        for part in name_parts(getattr(sub, "id", "") or getattr(sub, "attr", ""))
    }


def _source_words(compare: ast.Compare) -> set[str]:
    """The words of a comparison's operands that can say where a value was read from:
    all but the attribute each operand finally reads. request.cookie and
    request.cookies["sid"] say the request; self.cookie == other.cookie (a protocol
    field of two packets) names only what is compared, not where it came from."""
    words: set[str] = set()
    for side in (compare.left, *compare.comparators):
        words |= _data_words(side.value) if isinstance(side, ast.Attribute) else _data_words(side)
    return words


def _words(node: ast.AST) -> set[str]:
    return {part for sub in ast.walk(node) for part in name_parts(getattr(sub, "id", "") or getattr(sub, "attr", ""))}


CONTAINER_METHODS = frozenset({"pop", "update", "setdefault", "clear", "add", "append", "extend", "discard",
                               "remove", "insert"})  # fmt: skip


def _own_state(side: ast.expr) -> bool:
    """``side`` reads only the object's own state: self.x, self.x.y, self.method() with no
    arguments, and none of it named for the request (self.request.headers is a client's)."""
    for sub in ast.walk(side):
        if isinstance(sub, ast.Name) and sub.id not in ("self", "cls"):
            return False
        if isinstance(sub, ast.Call) and (sub.args or sub.keywords):
            return False
        if not isinstance(sub, ast.Name | ast.Attribute | ast.Call | ast.Load):
            return False
    return isinstance(side, ast.Attribute | ast.Call) and not _data_words(side) & REQUEST_WORDS


def _decides(node: ast.Compare, walk: Walk) -> bool:
    """Whether the comparison's outcome can grant or refuse something. A branch whose
    statements only update containers (refresh a cache entry when the value changed)
    grants and refuses nothing; anything else (a return, a raise, a flag or user set,
    a call) may."""
    child: ast.AST = node
    parent = walk.parent(node)
    while isinstance(parent, ast.BoolOp | ast.UnaryOp):
        child, parent = parent, walk.parent(parent)
    if isinstance(parent, ast.If | ast.While) and child is parent.test:
        return not all(_updates_container(s) for s in [*parent.body, *parent.orelse])
    return True


def _updates_container(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Assign | ast.AugAssign):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return all(isinstance(t, ast.Subscript) for t in targets)
    if isinstance(statement, ast.Delete):
        return all(isinstance(t, ast.Subscript) for t in statement.targets)
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        return isinstance(func, ast.Attribute) and func.attr in CONTAINER_METHODS
    return isinstance(statement, ast.Pass)


DIGEST_METHODS_OF_HASHES = frozenset({"hexdigest", "digest", "finalize"})
# Builtins and methods that give a digest as text without changing what it says.
TEXT_FORMS = frozenset({"str", "bytes"})
TEXT_METHODS = frozenset({"hex", "encode", "decode", "lower", "upper", "strip"})
# hashlib's constructors by name: a module that re-exports one (from compat import sha1)
# hands out the same unkeyed hash.
HASHLIB_CONSTRUCTORS = frozenset(hashlib.algorithms_guaranteed)
# cryptography's unkeyed hash object (its HMAC is keyed and does not count).
HAZMAT_HASH = "cryptography.hazmat.primitives.hashes.Hash"


def unkeyed_digest(node: ast.expr, src: SourceFile, depth: int = 3) -> bool:
    """A digest of hashlib or of cryptography's hashes.Hash (not an HMAC) computed in
    sight: hashlib.sha1(x).hexdigest(), hashes.Hash(algorithm) updated and finalized, a
    name the function binds to one, or a call of a function or self method of the file
    whose every return is one."""
    if depth <= 0:
        return False
    if isinstance(node, ast.Call):
        func = node.func
        # str(h.digest()), digest.hex(), b64encode(d).decode(): the same bytes, only spelled out.
        if isinstance(func, ast.Name) and func.id in TEXT_FORMS and len(node.args) == 1 and not node.keywords:
            return unkeyed_digest(node.args[0], src, depth)
        if isinstance(func, ast.Attribute) and func.attr in TEXT_METHODS:
            return unkeyed_digest(func.value, src, depth)
        if isinstance(func, ast.Attribute) and _fingerprint_call(node, src):
            return True
        if isinstance(func, ast.Attribute) and func.attr in DIGEST_METHODS_OF_HASHES:
            receiver = func.value
            if isinstance(receiver, ast.Call):
                return _hashlib_call(receiver, src)
            if isinstance(receiver, ast.Name) and _bound_to_hash(receiver, src):
                return True
            # hashers[algorithm].hexdigest(): a hasher kept in a container. It is no MAC
            # when the file neither imports hmac nor builds an HMAC anywhere.
            return isinstance(receiver, ast.Subscript | ast.Attribute) and _makes_no_mac(src)
        callee = _local_callee(node, src)
        if callee is not None:
            returns = [r.value for r in ast.walk(callee) if isinstance(r, ast.Return) and r.value is not None]
            return bool(returns) and all(unkeyed_digest(r, src, depth - 1) for r in returns)
        return False
    if isinstance(node, ast.Name):
        values = reaching_values(node.id, node, src)
        return bool(values) and all(unkeyed_digest(v, src, depth - 1) for v in values)
    return False


FINGERPRINT_METHODS = frozenset({"digest", "fingerprint", "get_fingerprint"})


def _fingerprint_call(call: ast.Call, src: SourceFile) -> bool:
    """obj.digest("sha256"), obj.get_fingerprint("sha1"), cert.fingerprint(hashes.SHA256()):
    the fingerprint of an object (a certificate) under the hash algorithm named by the one
    argument. hashlib's and hmac's digest() take no algorithm, so this is no MAC: an unkeyed
    hash of the object's bytes, which whoever presents the object cannot choose."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in FINGERPRINT_METHODS) or call.keywords:
        return False
    if len(call.args) != 1:
        return False
    algorithm = call.args[0]
    named = string_value(algorithm)
    if named is not None:
        return named.lower().replace("-", "") in HASHLIB_CONSTRUCTORS
    return isinstance(algorithm, ast.Call) and (src.qualname(algorithm.func) or "").startswith(
        "cryptography.hazmat.primitives.hashes."
    )


def _makes_no_mac(src: SourceFile) -> bool:
    """The file imports no hmac and calls no HMAC constructor, so its digests are unkeyed."""
    if any(module == "hmac" or module.startswith("hmac.") for module in src.imported_modules):
        return False
    return not any((src.qualname(call.func) or "").rsplit(".", 1)[-1] in ("HMAC", "new_hmac", "hmac")
                   for call in src.index.of_type(ast.Call) if isinstance(call, ast.Call))  # fmt: skip


# The last word of a stored hash (token.hash, password_digest) and the words of a call
# that computes one (hash_token, make_digest).
HASH_WORDS = frozenset({"hash", "hashed", "digest", "hexdigest"})


def _hash_against_stored_hash(computed: ast.expr, stored: ast.expr, walk: Walk) -> str:
    """How ``computed`` is a hash the code computes here (a call named for hashing, or a
    local name every binding of which is one) while ``stored`` is named as a hash: a
    presented value hashed and looked up against the stored hash; '' otherwise."""
    stored_name = stored.attr if isinstance(stored, ast.Attribute) else getattr(stored, "id", "")
    parts = name_parts(stored_name)
    if not parts or parts[-1] not in HASH_WORDS:
        return ""
    values: list[ast.expr] | None = [computed]
    if isinstance(computed, ast.Name):
        values = reaching_values(computed.id, computed, walk.src)  # None: a parameter, or unknown
    if not values:
        return ""
    calls = [v for v in values if isinstance(v, ast.Call)]
    if len(calls) != len(values):
        return ""
    for call in calls:
        func = call.func
        tail = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if not set(name_parts(tail)) & HASH_WORDS or not call.args:
            return ""
    shown = ast.unparse(calls[0].func)
    computed_text, stored_text = ast.unparse(computed)[:40], ast.unparse(stored)[:40]
    return f"{computed_text} is computed by {shown}() and compared with the stored {stored_text}"


def _bound_to_hash(name: ast.Name, src: SourceFile) -> bool:
    values = reaching_values(name.id, name, src)
    return bool(values) and all(isinstance(v, ast.Call) and _hashlib_call(v, src) for v in values)


def _hashlib_call(call: ast.Call, src: SourceFile) -> bool:
    """A call of the hashlib module as the file imports it (not a parameter named hashlib),
    or of cryptography's hashes.Hash."""
    root = call.func
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name) or root.id not in src.aliases:
        return False
    function = src.index.function_of.get(call)
    if function is not None and root.id in {a.arg for a in (*function.args.args, *function.args.kwonlyargs)}:
        return False
    name = src.qualname(call.func) or ""
    if name.startswith("hashlib.") or name == HAZMAT_HASH:
        return True
    # from .compat import sha1: an imported name that is a hashlib constructor's (not hmac's).
    return (
        isinstance(call.func, ast.Name)
        and call.func.id in HASHLIB_CONSTRUCTORS
        and name.rsplit(".", 1)[-1] == call.func.id
        and "hmac" not in name.lower()
    )


def _local_callee(call: ast.Call, src: SourceFile) -> ast.FunctionDef | None:
    """The function of the file that ``f(...)`` or ``self.f(...)`` calls (by name)."""
    func = call.func
    if isinstance(func, ast.Name):
        name = func.id
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
        name = func.attr
    else:
        return None
    found = [f for f in src.index.of_type(ast.FunctionDef) if isinstance(f, ast.FunctionDef) and f.name == name]
    return found[0] if len(found) == 1 else None


def _class_constant(node: ast.expr, walk: Walk) -> bool:
    """self.reset_url_token where the class assigns the attribute a literal."""
    if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"):
        return False
    owner = next((s for s in reversed(walk.scope) if isinstance(s, ast.ClassDef)), None)
    if owner is None:
        return False
    return any(
        isinstance(item, ast.Assign) and isinstance(item.value, ast.Constant)
        and any(getattr(t, "id", "") == node.attr for t in item.targets)
        for item in owner.body
    )  # fmt: skip


class SecretComparedInVariableTime(Rule):
    """Secret compared with == instead of a constant-time comparison

    What: an == or != comparison where one side is a secret: a value whose name is
    headed by a secret word (token, password, secret, api_key, signature, digest, hmac,
    otp, csrf; link_token is one, token_expiry_days and cookie_domain are not) or
    a computed MAC (hmac.new(...).hexdigest()), and the other side is not a literal,
    where the comparison decides access: in a function named for authentication or
    verification (auth, login, verify, check, token, signature...) or against a value
    read from the request (the object an operand's attribute is read from says so:
    request.cookie does, while self.cookie == other.cookie, the same protocol field of
    two packets, names only what is compared; a method called by a one-word name, as
    in db.query(...), is an action, not the request's query string), and whose
    outcome can grant or refuse something (not the test of a branch that only updates
    containers, such as a cache refreshed when a value changed). Confirmation fields
    (password2), constants, __eq__ methods, checksums of public data, nonces (sent in
    the clear), a plain digest of hashlib or of cryptography's hashes.Hash (or of a
    hasher kept in a container, in a file that builds no HMAC; a hashlib constructor
    imported through another module, from .compat import sha1; the fingerprint of an object
    under a named algorithm, x509.digest("sha256") or cert.fingerprint(hashes.SHA256()); the
    digest spelled as text, str(h.digest()) or d.hex(); a local or a function of the file
    that returns one)
    compared with a stored or received one (the guesser cannot pick the compared bytes;
    HMACs still count), values the code shows to be numbers, bools or None (x is not
    None, int(...), a parameter annotated int), and comparisons that are arguments of
    an ORM query builder (query.filter(Model.token == x), join(..., A.id == B.id)), which
    the database evaluates, are left alone. Lowered to low: a value
    computed here by a call named for hashing (hash_token(presented)) compared with a
    stored value named as a hash (record.hash), since the guesser does not choose the
    compared bytes but the code does not show whether the hash is keyed; and two sides
    that both read only the object's own state (self.current_owner() != self._owner:
    self attributes and self method calls without arguments, none named for the request),
    where no parameter, local or request value carries a guess, the function's name being
    all that says the comparison decides access.
    Why: == stops at the first differing byte, so the response time tells an attacker
    how many leading bytes of a guess are right; repeated guesses recover a signature
    or token byte by byte.
    Example:
        if request.headers["X-Signature"] == expected_signature:
            ...
    Fix: hmac.compare_digest(expected_signature, received) (or secrets.compare_digest),
    which takes the same time wherever the values differ.
    """

    id = "SCR920"
    name = "secret-compared-in-variable-time"
    category = Category.CRYPTOGRAPHY
    cwe = 208
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Compare,)
    context = {**DEFAULT_CONTEXT, FileKind.TEST: drop("tests compare secrets to check values, not to authenticate")}

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Compare)
        function = walk.function
        if function is not None and function.name in ("__eq__", "__ne__", "__hash__", "__lt__"):
            return  # a value type comparing its fields, not a login
        if len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq | ast.NotEq):
            return
        left, right = node.left, node.comparators[0]
        if _is_constant(left) or _is_constant(right):
            return
        secret = _compared_secret(left) or _compared_secret(right)
        if secret is None or CONFIRMATION.search(ast.unparse(node)) or _class_constant(left, walk) or (
            _class_constant(right, walk)
        ):  # fmt: skip
            return
        if _query_expression(node, walk):
            return  # Model.column == value builds SQL for the database; Python compares nothing
        access = _access_evidence(node, function)
        if not access or not _decides(node, walk):
            return
        # An int, a bool or None is not compared byte by byte: nothing leaks by timing.
        if _known_scalar(left, walk) or _known_scalar(right, walk):
            return
        # A plain hash of the guess against a stored hash: the guesser cannot choose the
        # bytes being compared, so timing does not reveal the stored value a byte at a time.
        if unkeyed_digest(left, walk.src) or unkeyed_digest(right, walk.src):
            return
        op = "==" if isinstance(node.ops[0], ast.Eq) else "!="
        message = f"{secret} is compared with {op} {access}, which leaks by timing how much matched"
        if _own_state(left) and _own_state(right):
            # self.current_owner() != self._owner: two values the object holds or works out
            # itself; no parameter, local or request value carries a guess to time.
            yield self.finding(node, f"{message}; but both sides are the object's own state (self attributes "
                               "and self method calls without arguments), so no caller or client supplies a guess",
                               walk.src, scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
            return
        hashing = _hash_against_stored_hash(left, right, walk) or _hash_against_stored_hash(right, left, walk)
        if hashing:
            # The same reasoning as for a hashlib digest above, where the hash function
            # is another module's (a hash_token() of an adapter): lowered, not dropped,
            # since the code here does not show whether it is keyed or what it hashes.
            yield self.finding(node, f"{message}; but {hashing}, so the guesser does not choose the compared bytes",
                               walk.src, scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
            return
        yield self.finding(node, message, walk.src, scope=walk.scope_name)


# Calls whose arguments are query expressions of an ORM (SQLAlchemy, SQLModel, peewee).
QUERY_BUILDERS = frozenset({"filter", "where", "having", "join", "outerjoin", "and_", "or_", "not_", "case",
                            "on", "select_from", "exists"})  # fmt: skip


QUERY_KEYWORDS = frozenset({"where", "having", "condition", "onclause", "whereclause"})


def _query_expression(node: ast.Compare, walk: Walk) -> bool:
    """The comparison is an argument of a query builder (query.filter(Model.token == x),
    join(t, A.id == B.id), and_(...)), directly or inside & | ~: an expression object the
    database evaluates, not a comparison of bytes in this process."""
    current: ast.AST = node
    parent = walk.parent(current)
    while isinstance(parent, ast.BinOp | ast.UnaryOp | ast.BoolOp):
        if isinstance(parent, ast.BinOp) and not isinstance(parent.op, ast.BitAnd | ast.BitOr):
            return False
        if isinstance(parent, ast.UnaryOp) and not isinstance(parent.op, ast.Invert):
            return False
        current, parent = parent, walk.parent(parent)
    if isinstance(parent, ast.keyword) and parent.arg in QUERY_KEYWORDS:
        return True  # table.select(where=table.token == x): python-sql, SQLAlchemy core
    if not isinstance(parent, ast.Call) or current not in parent.args:
        return False
    func = parent.func
    tail = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return tail in QUERY_BUILDERS


# Tokens without an expiry -----------------------------------------------------------

JWT_ENCODE = ("jwt.encode", "jwt.api_jwt.encode", "jose.jwt.encode")
TIMED_SERIALIZERS = re.compile(r"itsdangerous\.(\w+\.)?(URLSafeTimedSerializer|TimedSerializer|TimestampSigner|"
                               r"TimedJSONWebSignatureSerializer)$")  # fmt: skip
DJANGO_TIMED = ("django.core.signing.TimestampSigner",)
DJANGO_LOADS = ("django.core.signing.loads",)
EXPIRY_CLAIMS = {"exp"}


def _sets_key_later(name: str, call: ast.Call, src: SourceFile, keys: set[str]) -> bool:
    """``payload["exp"] = ...`` or ``payload.update(exp=...)`` in the same function."""
    scope = src.index.function_of.get(call) or src.tree
    for node in ast.walk(scope):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == name:
            if isinstance(node.ctx, ast.Store) and string_value(node.slice) in keys:
                return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("update", "setdefault")
        ):
            if isinstance(node.func.value, ast.Name) and node.func.value.id == name:
                named = {kw.arg for kw in node.keywords} | {string_value(a) for a in node.args}
                named |= {string_value(k) for a in node.args if isinstance(a, ast.Dict) for k in a.keys}
                if named & keys:
                    return True
    return False


def _imports(src: SourceFile, modules: tuple[str, ...]) -> bool:
    return any(name == m or name.startswith(m + ".") for name in src.aliases.values() for m in modules)


def _receiver_constructor(call: ast.Call, src: SourceFile) -> str | None:
    """The class that built the receiver of ``x.loads(...)``: inline or assigned to a name."""
    func = call.func
    assert isinstance(func, ast.Attribute)
    receiver = func.value
    if isinstance(receiver, ast.Call):
        return src.qualname(receiver.func)
    names = {ast.unparse(receiver)}
    for node in src.index.of_type(ast.Assign):
        assert isinstance(node, ast.Assign)
        if isinstance(node.value, ast.Call) and any(ast.unparse(t) in names for t in node.targets):
            return src.qualname(node.value.func)
    return None


class TokenWithoutExpiry(CallRule):
    """Token issued or accepted without an expiry

    What: jwt.encode (PyJWT, python-jose) given a claims dict with no "exp" claim;
    loads/unsign on an itsdangerous timed serializer or signer, or Django's
    TimestampSigner.unsign, called without max_age; django.core.signing.loads without
    max_age.
    Why: a token without an expiry stays valid for as long as the signing key does:
    a token copied from a log, a browser history or a leaked link works for years, and
    logging out or resetting a password does not revoke it.
    Example:
        token = jwt.encode({"sub": user.id}, key, algorithm="HS256")
    Fix: put an expiry in the token and check it on every use:
    jwt.encode({"sub": user.id, "exp": now + timedelta(minutes=15)}, ...);
    serializer.loads(token, max_age=900); signing.loads(value, max_age=900).
    """

    id = "SCR921"
    name = "token-without-expiry"
    category = Category.CRYPTOGRAPHY
    cwe = 613
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    calls = JWT_ENCODE + DJANGO_LOADS
    methods = ("loads", "unsign", "loads_unsafe")

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        src, scope = walk.src, walk.scope_name
        if name in JWT_ENCODE:
            payload_node = argument(call, "payload", 0) or keyword(call, "claims")
            payload = _dict_for(payload_node, call, src)
            if payload is None or None in payload.keys:  # not a literal, or has a ** spread
                return
            keys = {string_value(k) for k in payload.keys}
            if keys & EXPIRY_CLAIMS:
                return
            if isinstance(payload_node, ast.Name) and _sets_key_later(payload_node.id, call, src, EXPIRY_CLAIMS):
                return
            yield self.finding(call, f"{name} issues a token with no 'exp' claim", src, scope=scope)
            return
        if name in DJANGO_LOADS:
            if keyword(call, "max_age") is None:
                yield self.finding(call, "signing.loads accepts a signed value of any age (no max_age)", src,
                                   scope=scope, severity=Severity.LOW, confidence=Confidence.LOW)  # fmt: skip
            return
        if not isinstance(call.func, ast.Attribute) or not _imports(src, ("itsdangerous", "django.core.signing")):
            return
        built_by = _receiver_constructor(call, src) or ""
        if not (TIMED_SERIALIZERS.search(built_by) or built_by in DJANGO_TIMED):
            return
        max_age = keyword(call, "max_age") or (call.args[1] if len(call.args) > 1 else None)
        if max_age is None or (isinstance(max_age, ast.Constant) and max_age.value is None):
            short = built_by.rsplit(".", 1)[-1]
            yield self.finding(call, f"{short}.{call.func.attr} without max_age never rejects an old token", src,
                               scope=scope)  # fmt: skip


REDIS_CLASSES = ("redis.Redis", "redis.StrictRedis", "redis.from_url", "redis.Redis.from_url",
                 "redis.asyncio.Redis", "redis.asyncio.from_url", "redis.client.Redis")  # fmt: skip
TTL_KEYWORDS = {"ex", "px", "exat", "pxat", "keepttl", "timeout", "ttl", "expire", "time"}
TOKEN_WORDS = {"token", "session", "otp", "nonce", "reset", "sid", "jti", "refresh", "csrf"}


def _mentions_token(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        text = sub.id if isinstance(sub, ast.Name) else getattr(sub, "attr", None) or string_value(sub) or ""
        if set(name_parts(text)) & TOKEN_WORDS:
            return True
    return False


class TokenStoredWithoutTtl(CallRule):
    """Token or session stored in Redis without a time to live

    What: set/hset/mset on a Redis client (built in the same file by redis.Redis,
    StrictRedis or from_url) whose key or value names a token, session, one-time code
    or nonce, with no ex/px/exat/pxat and no expire() call on the same key in the
    function.
    Why: the store is what makes the token valid; without a TTL the entry, and so the
    token, lives until someone deletes it by hand, so a leaked reset link or session
    id keeps working.
    Example:
        cache.set(f"reset:{token}", user.id)
    Fix: give the entry a lifetime as you store it: cache.set(key, value, ex=900), or
    cache.setex(key, 900, value).
    """

    id = "SCR922"
    name = "token-stored-without-ttl"
    category = Category.CRYPTOGRAPHY
    cwe = 613
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    methods = ("set", "hset", "mset")

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        src = walk.src
        if not isinstance(call.func, ast.Attribute) or not call.args or not _imports(src, ("redis",)):
            return
        built_by = _receiver_constructor(call, src) or ""
        if not built_by.startswith(REDIS_CLASSES):
            return
        if {kw.arg for kw in call.keywords} & TTL_KEYWORDS or not any(_mentions_token(a) for a in call.args[:2]):
            return
        key = ast.unparse(call.args[0])
        scope = src.index.function_of.get(call) or src.tree
        for node in ast.walk(scope):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                "expire", "pexpire", "expireat", "pexpireat"
            ) and node.args and ast.unparse(node.args[0]) == key:  # fmt: skip
                return
        yield self.finding(call, f"{call.func.attr}({key}, ...) stores a token with no expiry", src,
                           scope=walk.scope_name)  # fmt: skip
