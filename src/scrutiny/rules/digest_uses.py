"""What a weak hash is used for, read from the code around the hash call (for SCR301).

MD5 and SHA-1 are broken where someone gains by forging or matching a digest: a
credential hashed for storage, a digest compared with one somebody else supplies, a
signature, a MAC or key material. They are fine as file names, cache keys, dedupe ids,
ETags and change checksums. This module reads one hash call: what goes in (a credential,
random bytes), whether a protocol value picks the algorithm, and where the digest goes
(compared, signed, stored, returned, joined into a path). It returns the grade and the
evidence as text for the finding's message; the rule makes the finding.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from enum import Enum
from itertools import pairwise

from scrutiny.rules.base import Walk, call_tail, name_parts, parameters, string_value, walk_function
from scrutiny.source import SourceFile


class Grade(Enum):
    SECURITY = "security"  # the digest protects something: report at the rule's severity
    PROTOCOL = "protocol"  # a protocol value picks the algorithm
    KEYED = "keyed"  # the algorithm is the hash inside an HMAC or a key derivation
    RANDOM = "random"  # the input is random bytes: the digest is a random value
    PLAIN = "plain"  # no security use seen


@dataclass(frozen=True)
class DigestReading:
    grade: Grade
    evidence: str
    # Where the finding points: the hash call, or the update() a credential enters through.
    node: ast.AST


# Hash object methods that give the digest (copy gives the same object again).
DIGEST_METHODS = frozenset({"hexdigest", "digest", "finalize", "copy"})
# Calls that only change the digest's shape on its way to its use.
RESHAPING_METHODS = frozenset(
    {"encode", "decode", "upper", "lower", "strip", "rstrip", "lstrip", "zfill", "rjust", "ljust", "hex", "join",
     "format"}
)  # fmt: skip
# Conversions by type, and the usual names of helpers that convert text and bytes.
RESHAPING_FUNCTIONS = frozenset(
    {"str", "bytes", "bytearray", "memoryview", "to_bytes", "to_text", "to_str", "to_native"}
)
RESHAPING_MODULES = ("base64.", "binascii.", "codecs.")
PATH_CALLS = frozenset(
    {
        "os.path.join", "posixpath.join", "ntpath.join", "pathlib.Path", "pathlib.PurePath", "pathlib.PurePosixPath",
        "open", "os.makedirs", "os.mkdir", "os.rename", "os.replace", "shutil.move", "shutil.copy", "shutil.copyfile",
    }
)  # fmt: skip
PATH_METHODS = frozenset({"joinpath", "with_name", "with_stem", "with_suffix"})
# Libraries whose calls take a hash or digest as key material, a signature or a MAC.
CRYPTO_MODULES = ("hmac.", "Crypto.", "Cryptodome.", "cryptography.", "nacl.", "rsa.", "ecdsa.", "OpenSSL.", "jwt.")
SIGNING_METHODS = frozenset({"sign", "verify", "sign_digest", "verify_digest"})
CONSTANT_TIME_COMPARES = frozenset({"hmac.compare_digest", "secrets.compare_digest"})
RANDOM_SOURCES = ("os.urandom", "secrets.", "uuid.uuid4", "random.SystemRandom")
# cryptography's constructions that take a hash algorithm and whose security does not
# rest on its collision resistance: HMAC and the HMAC- or hash-based key derivations
# (PBKDF2-HMAC-SHA1 is what WPA2 uses), and RSA-OAEP with its MGF1 mask function.
KEYED_CONSTRUCTIONS = frozenset(
    {"HMAC", "PBKDF2HMAC", "HKDF", "HKDFExpand", "ConcatKDFHMAC", "ConcatKDFHash", "X963KDF", "KBKDFHMAC", "MGF1",
     "OAEP"}
)  # fmt: skip
# Hash constructors: a digest hashed again passes its uses on to the outer digest.
HASH_CONSTRUCTORS = frozenset(
    {"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_256", "sha3_512", "blake2b", "blake2s", "new"}
)
# Keywords of an HTTP request call that carry what is sent to the remote side, and the
# calls that make one (a verb of an HTTP client, or a query string by urlencode).
REQUEST_FIELDS = frozenset({"params", "data", "json", "headers", "query", "body", "fields"})
HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "fetch"})
QUERY_ENCODERS = frozenset({"urllib.parse.urlencode", "urllib.urlencode"})
# Serializers whose output is the body of a request when the mapping is given to one.
SERIALIZERS = frozenset({"json.dumps"})
SIZE_ATTRIBUTES = frozenset({"digest_size", "block_size", "name"})
# Words that mark a value as a credential. A name is taken as evidence only of what the
# hashed input holds (as CodeQL reads it), never of what the digest is used for.
CREDENTIAL_WORDS = frozenset(
    {
        "password", "passwords", "passwd", "pwd", "pw", "passphrase", "passcode", "secret", "secrets",
        "credential", "credentials", "creds", "apikey", "token", "certificate", "cert", "privkey",
    }
)  # fmt: skip
CREDENTIAL_PAIRS = frozenset({("private", "key"), ("api", "key"), ("signing", "key"), ("access", "key")})
# Names a protocol gives each weak algorithm (upper case, letters and digits only; a
# trailing SESS, the session variant of HTTP Digest, is dropped before comparing).
PROTOCOL_NAMES = {"MD5": {"MD5"}, "SHA-1": {"SHA", "SHA1"}, "MD4": {"MD4"}, "MD2": {"MD2"}, "MD5-SHA1": {"MD5SHA1"}}
# Expressions the digest passes through unchanged in meaning: formatting, containers, and
# a lambda that returns it (the lambda is then followed as the digest).
PASS_THROUGH = (ast.BinOp, ast.JoinedStr, ast.FormattedValue, ast.List, ast.Tuple, ast.IfExp, ast.Lambda)
FOLLOW_DEPTH = 3  # assignments followed from the hash call to the digest's uses
MAX_VISITS = 40  # uses read per hash call, so one long function cannot make it slow


def read_hash(call: ast.Call, hashed: ast.expr | None, algorithm: str, walk: Walk) -> DigestReading:
    """Grade one weak hash call; ``hashed`` is the data passed to the constructor, if any."""
    return _Reader(call, walk).read(hashed, algorithm)


@dataclass
class _Reader:
    call: ast.Call
    walk: Walk
    uses: list[str] = field(default_factory=list)
    protections: list[str] = field(default_factory=list)
    updates: list[ast.Call] = field(default_factory=list)
    keyed: list[str] = field(default_factory=list)  # the HMAC or KDF the algorithm is given to
    sent: list[str] = field(default_factory=list)  # the request the digest is sent to the remote side in
    visits: int = 0

    @property
    def src(self) -> SourceFile:
        return self.walk.src

    def read(self, hashed: ast.expr | None, algorithm: str) -> DigestReading:
        call = self.call
        # A protocol value naming the algorithm leaves this code no choice, even where the
        # protocol hashes a password (HTTP Digest): the weakness is the protocol's.
        chooser = _protocol_choice(call, self.walk, algorithm)
        if chooser:
            return DigestReading(Grade.PROTOCOL, f"the algorithm is chosen by the protocol peer ({chooser})", call)
        if algorithm == "MD4" and hashed is not None and _utf16le(hashed):
            # MD4 over the UTF-16LE text of a password is the NT hash (MS-NLMP's NTOWF),
            # the one form NTLM and its relatives accept: the weakness is the protocol's.
            evidence = (
                f"it hashes {_text(hashed)}, MD4 over UTF-16LE text, which is the NT hash the NTLM "
                f"protocol defines (MS-NLMP NTOWF), so the protocol fixes the algorithm"
            )
            return DigestReading(Grade.PROTOCOL, evidence, call)
        pads = _hand_made_hmac(call, hashed, self.walk)
        if pads:
            evidence = (
                f"it is one step of an HMAC built by hand (RFC 2104): {pads}; HMAC's security does not rest "
                f"on the collision resistance {algorithm} lacks (HMAC-{algorithm} has no practical forgery)"
            )
            return DigestReading(Grade.KEYED, evidence, call)
        self._follow_hash(call)
        inputs = [(hashed, call)] if hashed is not None else []
        inputs += [(argument, update) for update in self.updates for argument in update.args]
        if self.sent and not self.protections:
            # A signature parameter of someone else's API: the remote side fixed the
            # algorithm, and this code cannot change it without breaking the exchange.
            evidence = (
                f"the digest is sent to the remote side as {self.sent[0]}, so the remote API chooses the algorithm"
            )
            return DigestReading(Grade.PROTOCOL, evidence, call)
        if self.protections and inputs:
            nonce = self._only_random(inputs)
            if nonce:
                # A nonce's digest checked against a peer's answer (a WebSocket handshake):
                # anyone who sees the nonce computes the same value, so nothing is forged.
                evidence = (
                    f"its input is only random bytes from {nonce}() and constants (a nonce), and "
                    f"{self.protections[0]}: a value anyone who sees the nonce can compute, so no collision "
                    f"or preimage attack applies"
                )
                return DigestReading(Grade.PROTOCOL, evidence, call)
        for value, where in inputs:
            credential = self._credential(value, 0)
            if credential:
                evidence = f"its input {_text(value)} holds a credential or certificate ({credential})"
                return DigestReading(Grade.SECURITY, evidence, where)
        if self.protections:
            return DigestReading(Grade.SECURITY, self.protections[0], call)
        if self.keyed:
            construction = self.keyed[0]
            known = (
                f" (HMAC-{algorithm} has no practical forgery)"
                if "HMAC" in construction or "HKDF" in construction
                else ""
            )
            evidence = (
                f"it is the hash inside {construction}, whose security does not rest on the collision "
                f"resistance {algorithm} lacks{known}"
            )
            return DigestReading(Grade.KEYED, evidence, call)
        for value, _ in inputs:
            source = self._random_source(value, 0)
            if source:
                evidence = f"its input holds random bytes from {source}(), so the digest is a random value"
                return DigestReading(Grade.RANDOM, evidence, call)
        seen = " and ".join(list(dict.fromkeys(self.uses))[:2])
        return DigestReading(Grade.PLAIN, "no security use seen" + (f"; the digest is {seen}" if seen else ""), call)

    # Where the digest goes ---------------------------------------------------------

    def _follow_hash(self, call: ast.Call) -> None:
        """Follow the hash object. An algorithm object of the cryptography package
        (hashes.SHA1()) hashes nothing itself: follow the Hash() it is given to, and read
        any other call it is given to (a signature, MAC or key derivation) as a protection."""
        name = self.src.qualname(call.func) or ""
        if not name.startswith("cryptography."):
            self._follow(call, 0)
            return
        places: list[ast.AST] = [call]
        parent = self.walk.parent(call)
        if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
            places = list(_scope(self.walk, parent).reads.get(parent.targets[0].id, []))
        for place in places:
            user = self.walk.parent(place)
            if isinstance(user, ast.keyword):
                user = self.walk.parent(user)
            if not isinstance(user, ast.Call) or user.func is place:
                self._follow(place, 0)  # stored or returned: say where it went
                continue
            used_by = self.src.qualname(user.func) or call_tail(user)
            if used_by.endswith("hashes.Hash"):
                self._follow(user, 0)
            elif call_tail(user) == "fingerprint":
                self.uses.append("a certificate or key fingerprint")
            elif used_by.startswith("cryptography.") and call_tail(user) in KEYED_CONSTRUCTIONS:
                self.keyed.append(f"{used_by}()")
            else:
                self.protections.append(f"it is the algorithm of {used_by}() (a signature, MAC or key derivation)")

    def _follow(self, node: ast.AST, depth: int) -> None:
        """Climb from an expression holding the hash object or digest to what consumes it."""
        self.visits += 1
        if self.visits > MAX_VISITS:
            return
        parent = self.walk.parent(node)
        while parent is not None:
            if isinstance(parent, ast.Attribute):
                self._method_use(parent, depth)
                return
            if isinstance(parent, ast.Subscript):
                if parent.value is not node:
                    self.uses.append("used as a lookup key")
                    return
            elif isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Div):
                self.uses.append("joined into a file path")
                return
            elif isinstance(parent, ast.Call):
                # Calling a function that returns the digest (a lambda) gives the digest.
                if parent.func is not node and not self._reshapes(parent):
                    self._call_use(parent, depth)
                    return
            elif isinstance(parent, ast.keyword):
                self._keyword_use(parent)
                return
            elif isinstance(parent, ast.Compare):
                self._compare_use(parent, node)
                return
            elif isinstance(parent, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
                self._stored(parent, depth)
                return
            elif isinstance(parent, ast.Return | ast.Yield):
                function = self.src.index.function_of.get(parent)
                self.uses.append(f"returned by {function.name}()" if function is not None else "returned")
                return
            elif isinstance(parent, ast.Dict):
                self._dict_use(parent, node)
                return
            elif not isinstance(parent, PASS_THROUGH):
                return
            node, parent = parent, self.walk.parent(parent)

    def _method_use(self, attribute: ast.Attribute, depth: int) -> None:
        outer = self.walk.parent(attribute)
        if not (isinstance(outer, ast.Call) and outer.func is attribute):
            if attribute.attr in SIZE_ATTRIBUTES:
                self.uses.append(f"read only for its {attribute.attr}")
            return  # m.update handed over as a callback: input this reading cannot see
        if attribute.attr == "update":
            self.updates.append(outer)
        elif attribute.attr in DIGEST_METHODS or attribute.attr in RESHAPING_METHODS:
            self._follow(outer, depth)
        else:
            self.uses.append(f"read by .{attribute.attr}()")

    def _reshapes(self, call: ast.Call) -> bool:
        func = call.func
        name = self.src.qualname(func) or ""
        if name in PATH_CALLS:
            return False  # os.path.join is a use, "-".join a reshaping
        if isinstance(func, ast.Attribute) and func.attr in RESHAPING_METHODS:
            return True  # "-".join([...]), "{}.jpg".format(digest), digest.encode()
        return name.startswith(RESHAPING_MODULES) or call_tail(call) in RESHAPING_FUNCTIONS

    def _call_use(self, call: ast.Call, depth: int = 0) -> None:
        name = self.src.qualname(call.func) or call_tail(call)
        shown = f"{name}()" if name else "a call"
        if name.startswith("hashlib.") and name.removeprefix("hashlib.") in HASH_CONSTRUCTORS:
            if depth < FOLLOW_DEPTH:
                self._follow(call, depth + 1)  # hashed again: the outer digest's uses are this one's
            return
        if name in CONSTANT_TIME_COMPARES:
            self.protections.append(f"the digest is compared in constant time by {name}() (a verification)")
        elif name.startswith(CRYPTO_MODULES):
            self.protections.append(f"the hash is passed to {name}() (key material, a signature or a MAC)")
        elif call_tail(call) in SIGNING_METHODS:
            self.protections.append(f"the hash is passed to {shown} (a signature)")
        elif name in PATH_CALLS or call_tail(call) in PATH_METHODS:
            self.uses.append("joined into a file path")
        elif name == "int":
            self.uses.append("turned into a number")
        else:
            self.uses.append(f"passed to {shown}")

    def _keyword_use(self, keyword: ast.keyword) -> None:
        call = self.walk.parent(keyword)
        assert isinstance(call, ast.Call)
        name = self.src.qualname(call.func) or call_tail(call)
        if keyword.arg in REQUEST_FIELDS and self._request_call(call):
            self.sent.append(f"{keyword.arg}= of {name or 'a request'}()")
            return
        forwarded = self._forwarded(call, keyword)
        if forwarded:
            self.sent.append(forwarded)
            return
        if name.startswith(CRYPTO_MODULES):
            self.protections.append(f"the hash is passed to {name}() (key material, a signature or a MAC)")
        elif keyword.arg and keyword.arg.lower() == "etag":
            self.uses.append("sent as an ETag")
        else:
            self.uses.append(f"passed as {keyword.arg}= to {name or 'a call'}()")

    def _dict_use(self, mapping: ast.Dict, node: ast.AST) -> None:
        field, index = self.src.index.slot(node)
        if field == "keys":
            self.uses.append("used as a dictionary key")
            return
        key = string_value(mapping.keys[index]) if field == "values" else None
        request = self._request_of(mapping)
        if request:
            self.sent.append(f"parameter '{key}' of {request}" if key else request)
            return
        self.uses.append(_stored_under(key))

    def _stored(self, statement: ast.Assign | ast.AnnAssign | ast.AugAssign | ast.NamedExpr, depth: int) -> None:
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        for target in targets:
            if isinstance(target, ast.Name):
                if depth < FOLLOW_DEPTH and not self._follow_name(target.id, statement, depth + 1):
                    self.uses.append(f"kept in {target.id}")
            elif isinstance(target, ast.Attribute):
                self.uses.append(f"stored in {_text(target)}")
            elif isinstance(target, ast.Subscript):
                key = string_value(target.slice)
                request = self._request_of(target.value) if isinstance(target.value, ast.Name) else ""
                if request:
                    self.sent.append(f"parameter '{key}' of {request}" if key else request)
                    continue
                self.uses.append(_stored_under(key) if key is not None else f"stored in {_text(target)}")

    def _follow_name(self, name: str, statement: ast.AST, depth: int) -> bool:
        """Follow every later read of a local name; whether there was one."""
        after = getattr(statement, "end_lineno", 0) or 0
        function_of = self.src.index.function_of
        home = function_of.get(statement)
        reads = [
            node
            for node in _scope(self.walk, statement).reads.get(name, [])
            if node.lineno > after or function_of.get(node) is not home  # a closure reads it later
        ]
        for read in reads:
            self._follow(read, depth)
        return bool(reads)

    def _request_call(self, call: ast.Call) -> bool:
        """An HTTP request call (an HTTP verb of any client object, or of requests,
        httpx, aiohttp ...), urlencode making a query string, or any call given an
        absolute http(s) URL the code spells out (a request helper of the project)."""
        name = self.src.qualname(call.func) or ""
        if name in QUERY_ENCODERS or call_tail(call) in HTTP_VERBS or call_tail(call) == "urlencode":
            return True
        return self._url_call(call)

    def _url_call(self, call: ast.Call) -> bool:
        """Whether ``call`` is given, as its first argument or url=, an absolute http(s)
        URL: a literal, or one built by + or an f-string that starts with one, read directly,
        from a module constant or from a constant of the enclosing class (self.API_URL)."""
        first = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "url"), None)
        return first is not None and self._is_url(first, 0)

    def _is_url(self, value: ast.AST, depth: int) -> bool:
        if depth > 5:
            return False
        if isinstance(value, ast.Constant):
            return isinstance(value.value, str) and value.value.startswith(("http://", "https://"))
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
            return self._is_url(value.left, depth + 1)
        if isinstance(value, ast.JoinedStr) and value.values:
            return self._is_url(value.values[0], depth + 1)
        if isinstance(value, ast.Name):
            return any(self._is_url(v, depth + 1) for v in _module_values(value.id, self.walk))
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id in ("self", "cls"):
            owner = self._owner_class()
            if owner is None:
                return False
            for statement in owner.body:
                if (
                    isinstance(statement, ast.Assign) and len(statement.targets) == 1
                    and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id == value.attr
                ):  # fmt: skip
                    return self._is_url(statement.value, depth + 1)
        return False

    def _owner_class(self) -> ast.ClassDef | None:
        return next((s for s in reversed(self.walk.scope) if isinstance(s, ast.ClassDef)), None)

    def _forwarded(self, call: ast.Call, keyword: ast.keyword) -> str:
        """When ``call`` is a method of the enclosing class (self.api(...)) that collects
        its keyword arguments in **kwargs and gives them to a request call: that request."""
        func = call.func
        owner = self._owner_class()
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"):
            return ""
        if owner is None:
            return ""
        method = next((s for s in owner.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
                       and s.name == func.attr), None)  # fmt: skip
        if method is None or method.args.kwarg is None:
            return ""
        params = {a.arg for a in [*method.args.posonlyargs, *method.args.args, *method.args.kwonlyargs]}
        if keyword.arg in params:
            return ""
        bag = method.args.kwarg.arg
        for node in walk_function(method):
            if not isinstance(node, ast.Call) or not self._request_call(node):
                continue
            for given in node.keywords:
                if isinstance(given.value, ast.Name) and given.value.id == bag:
                    shown = self.src.qualname(node.func) or call_tail(node)
                    return f"parameter '{keyword.arg}' of {shown}() (through {func.attr}(**{bag}))"
        return ""

    def _request_of(self, mapping: ast.expr) -> str:
        """The request a mapping of parameters is sent in: the mapping given as a request
        field (params=, data=, json=, headers=) or encoded by urlencode, directly or
        through the local name it is kept in; '' when it goes anywhere else."""
        places: list[ast.AST] = [mapping]
        if isinstance(mapping, ast.Name):
            places = list(_scope(self.walk, mapping).reads.get(mapping.id, []))
        else:
            holder = self.walk.parent(mapping)
            if isinstance(holder, ast.Assign) and len(holder.targets) == 1 and isinstance(holder.targets[0], ast.Name):
                places = list(_scope(self.walk, holder).reads.get(holder.targets[0].id, []))
        for place in places:
            parent = self.walk.parent(place)
            if (
                isinstance(parent, ast.Call) and place in parent.args
                and (self.src.qualname(parent.func) or "") in SERIALIZERS
            ):  # fmt: skip
                place, parent = parent, self.walk.parent(parent)  # json.dumps(params) is the body sent
            if isinstance(parent, ast.keyword):
                call = self.walk.parent(parent)
                if not isinstance(call, ast.Call):
                    continue
                # A request field by name, or any keyword of a call given an absolute URL.
                if (parent.arg in REQUEST_FIELDS and self._request_call(call)) or self._url_call(call):
                    return f"{parent.arg}= of {self.src.qualname(call.func) or call_tail(call)}()"
            elif isinstance(parent, ast.Call) and place in parent.args and self._request_call(parent):
                if call_tail(parent) == "urlencode":
                    return "a query string made by urlencode()"
        return ""

    def _only_random(self, inputs: list[tuple[ast.expr, ast.AST]]) -> str:
        """The random source when every hashed value is made of random bytes and
        constants alone (a nonce, reshaped and joined with fixed text); '' otherwise."""
        sources: list[str] = []
        seen: set[str] = set()
        for value, _ in inputs:
            if not self._random_and_constants(value, sources, seen, 0):
                return ""
        return sources[0] if sources else ""

    def _random_and_constants(self, value: ast.AST, sources: list[str], seen: set[str], depth: int) -> bool:
        if isinstance(value, ast.Constant):
            return True
        if isinstance(value, ast.Call):
            name = self.src.qualname(value.func) or ""
            if name.startswith(RANDOM_SOURCES):
                sources.append(name)
                return True
            func = value.func
            method = func if isinstance(func, ast.Attribute) and func.attr in RESHAPING_METHODS else None
            if method is None and not (name.startswith(RESHAPING_MODULES) or call_tail(value) in RESHAPING_FUNCTIONS):
                return False
            parts: list[ast.AST] = [*value.args, *(keyword.value for keyword in value.keywords)]
            if method is not None:
                parts.append(method.value)  # nonce.decode(): the receiver is what is reshaped
            return all(self._random_and_constants(part, sources, seen, depth) for part in parts)
        if isinstance(value, ast.Attribute):  # uuid.uuid4().bytes, token.hex
            return self._random_and_constants(value.value, sources, seen, depth)
        if isinstance(value, ast.BinOp | ast.JoinedStr | ast.FormattedValue):
            return all(self._random_and_constants(child, sources, seen, depth) for child in ast.iter_child_nodes(value)
                       if not isinstance(child, ast.operator))  # fmt: skip
        if isinstance(value, ast.Name):
            if _is_credential(value.id):
                return False  # a shared secret in the challenge: a keyed answer, not a nonce's digest
            if value.id in seen:
                return True  # key = b64encode(key): the earlier values decide
            if depth >= FOLLOW_DEPTH:
                return False
            seen.add(value.id)
            assigned = _assigned(value.id, self.walk, value)
            function = self.src.index.function_of.get(value)
            if not assigned and (function is None or value.id not in parameters(function)):
                assigned = _module_values(value.id, self.walk)  # a module constant
            return bool(assigned) and all(self._random_and_constants(one, sources, seen, depth + 1) for one in assigned)
        return False

    def _compare_use(self, compare: ast.Compare, node: ast.AST) -> None:
        operands = [compare.left, *compare.comparators]
        others = [operand for operand in operands if operand is not node]
        if any(isinstance(op, ast.In | ast.NotIn) for op in compare.ops):
            self.uses.append("looked up in a collection (a dedupe or cache check)")
            return
        other = others[0] if others else None
        if other is None or isinstance(other, ast.Constant):
            self.uses.append("compared with a fixed value")
            return
        if self._is_digest(other):
            self.uses.append("compared with another digest computed here")
            return
        verdict = _verification(compare, self.walk)
        if verdict:
            self.protections.append(f"the digest is compared with {_text(other)} {verdict} (an integrity check)")
        else:
            self.uses.append(f"compared with {_text(other)} without rejecting a mismatch")

    def _is_digest(self, value: ast.AST, depth: int = 0) -> bool:
        """A value computed by a hashlib call in this scope, directly or through a local
        name or two (the other side of a comparison of two contents)."""
        for node in ast.walk(value):
            if isinstance(node, ast.Call) and (self.src.qualname(node.func) or "").startswith("hashlib."):
                return True
            if isinstance(node, ast.Name) and depth < 2:
                if any(self._is_digest(assigned, depth + 1) for assigned in _assigned(node.id, self.walk, node)):
                    return True
        return False

    # What goes in --------------------------------------------------------------------

    def _credential(self, value: ast.AST, depth: int) -> str:
        """How ``value`` shows it holds a credential, or ''."""
        nodes = list(ast.walk(value))
        # The names of a module or a random source (secrets.token_bytes) say nothing of the data.
        unnamed = {id(node) for node in nodes if isinstance(node, ast.Name) and self._is_module(node.id)}
        for node in nodes:
            if isinstance(node, ast.Call) and (self.src.qualname(node.func) or "").startswith(RANDOM_SOURCES):
                unnamed.update(id(part) for part in ast.walk(node.func))
        for node in nodes:
            name = _node_name(node) if id(node) not in unnamed else ""
            if name and _is_credential(name):
                return f"the name '{name}' says so"
            if not isinstance(node, ast.Name) or depth >= 2:
                continue
            for assigned in _assigned(node.id, self.walk, node):
                inner = self._credential(assigned, depth + 1)
                if inner:
                    return f"{node.id} = {_text(assigned)}; {inner}"
            passed = _scope(self.walk, node).credential_arguments.get(node.id)
            if passed:
                return f"{node.id} is also passed as {passed}"
        return ""

    def _is_module(self, name: str) -> bool:
        return self.src.names.get(name, "") in self.src.imported_modules

    def _random_source(self, value: ast.AST, depth: int) -> str:
        """The random function ``value`` is made from, or ''."""
        for node in ast.walk(value):
            if isinstance(node, ast.Call):
                name = self.src.qualname(node.func) or ""
                if name.startswith(RANDOM_SOURCES):
                    return name
            elif isinstance(node, ast.Name) and depth < 2:
                for assigned in _assigned(node.id, self.walk, node):
                    source = self._random_source(assigned, depth + 1)
                    if source:
                        return source
        return ""


@dataclass
class _Scope:
    """The local names of one function (or of the module), read in one pass over it."""

    values: dict[str, list[ast.expr]] = field(default_factory=dict)  # given by =, +=, :=
    reads: dict[str, list[ast.Name]] = field(default_factory=dict)
    credential_arguments: dict[str, str] = field(default_factory=dict)  # name -> "password= to login()"


_SCOPES: dict[ast.AST, _Scope] = {}


def _scope(walk: Walk, near: ast.AST) -> _Scope:
    """The names of the function around ``near`` (the module's at module level), memoised:
    every hash call in a function asks about the same names."""
    function = walk.src.index.function_of.get(near)
    owner: ast.AST = function if function is not None else walk.src.tree
    scope = _SCOPES.get(owner)
    if scope is not None:
        return scope
    if len(_SCOPES) > 256:  # bounded: keeps only the scopes of the file under review
        _SCOPES.clear()
    scope = _SCOPES[owner] = _Scope()
    for node in walk_function(owner):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                scope.reads.setdefault(node.id, []).append(node)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    scope.values.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign | ast.NamedExpr):
            if isinstance(node.target, ast.Name) and node.value is not None:
                scope.values.setdefault(node.target.id, []).append(node.value)
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg and isinstance(value, ast.Name) and _is_credential(keyword.arg):
                    callee = walk.src.qualname(node.func) or call_tail(node)
                    scope.credential_arguments.setdefault(value.id, f"{keyword.arg}= to {callee}()")
    return scope


def _module_values(name: str, walk: Walk) -> list[ast.expr]:
    """The values a module-level name is given (a constant the function reads)."""
    return _scope(walk, walk.src.tree).values.get(name, [])


def _assigned(name: str, walk: Walk, near: ast.AST) -> list[ast.expr]:
    """The values a local name is given in the scope of ``near``."""
    return _scope(walk, near).values.get(name, [])


def _node_name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return string_value(node.slice) or ""
    return ""


def _is_credential(name: str) -> bool:
    parts = name_parts(name)
    return any(part in CREDENTIAL_WORDS for part in parts) or any(pair in CREDENTIAL_PAIRS for pair in pairwise(parts))


def _stored_under(key: str | None) -> str:
    if key is None:
        return "stored in a mapping"
    if key.lower() == "etag":
        return "sent as an ETag"
    return f"stored under '{key}'"


def _verification(compare: ast.Compare, walk: Walk) -> str:
    """How the code acts on a mismatch when that is a rejection (assert, raise, return
    False, or returning the comparison itself); '' when a mismatch is let through."""
    node: ast.AST = compare
    parent = walk.parent(node)
    mismatch_when_true = all(isinstance(op, ast.NotEq | ast.IsNot) for op in compare.ops)
    while isinstance(parent, ast.BoolOp | ast.UnaryOp):
        if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
            mismatch_when_true = not mismatch_when_true
        node, parent = parent, walk.parent(parent)
    if isinstance(parent, ast.Assert):
        return "and asserted to match"
    if isinstance(parent, ast.Return):
        return "and the result returned"
    if not isinstance(parent, ast.If) or parent.test is not node:
        return ""
    if mismatch_when_true:
        branch = parent.body
    else:
        branch = list(parent.orelse)
        if not branch and parent.body and isinstance(parent.body[-1], ast.Return | ast.Raise | ast.Continue):
            branch = _next_statement(parent, walk)
    return "and a mismatch rejected" if any(_rejects(statement) for statement in branch) else ""


def _next_statement(statement: ast.stmt, walk: Walk) -> list[ast.stmt]:
    """The statement after ``statement`` in its block, as a list of at most one."""
    field, position = walk.src.index.slot(statement)
    if field not in ("body", "orelse", "finalbody"):
        return []
    block = getattr(walk.parent(statement), field)
    return block[position + 1 : position + 2]


def _rejects(statement: ast.stmt) -> bool:
    """A raise, or a return of nothing, None or False: the mismatched data goes no further."""
    if isinstance(statement, ast.Raise):
        return True
    if not isinstance(statement, ast.Return):
        return False
    value = statement.value
    return value is None or (isinstance(value, ast.Constant) and value.value in (None, False))


def _protocol_choice(call: ast.Call, walk: Walk, algorithm: str) -> str:
    """The test or table entry that picks this algorithm by its protocol name, or ''."""
    names = PROTOCOL_NAMES.get(algorithm, set())
    child: ast.AST = call
    node = walk.parent(call)
    while node is not None:
        if isinstance(node, ast.If | ast.IfExp):
            chosen = walk.src.index.slot(child)[0] == "body" if isinstance(node, ast.If) else child is node.body
            if chosen and _compares_with_name(node.test, names):
                return _text(node.test)
        elif isinstance(node, ast.Dict):
            field, index = walk.src.index.slot(child)
            key = string_value(node.keys[index]) if field == "values" else None
            if key is not None and _protocol_name(key) in names:
                return f"the entry '{key}' of a table of algorithms"
        elif isinstance(node, ast.match_case) and walk.src.index.slot(child)[0] == "body":
            pattern = node.pattern
            if isinstance(pattern, ast.MatchValue) and _protocol_name(string_value(pattern.value) or "") in names:
                return f"case {_text(pattern.value)}"
        child, node = node, walk.parent(node)
    return ""


def _compares_with_name(test: ast.expr, names: set[str]) -> bool:
    """Whether ``test`` compares a value with a literal naming the algorithm."""
    for node in ast.walk(test):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        if all(isinstance(operand, ast.Constant) for operand in operands):
            continue
        for operand in operands:
            literals = operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) else [operand]
            if any(_protocol_name(string_value(literal) or "") in names for literal in literals):
                return True
    return False


def _protocol_name(text: str) -> str:
    name = "".join(ch for ch in text.upper() if ch.isalnum())
    return name.removesuffix("SESS") if name != "SESS" else name


def _text(node: ast.AST, limit: int = 60) -> str:
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _leftmost(value: ast.expr) -> ast.expr:
    """The first operand of a concatenation ``a + b + c``, unwrapped from method calls
    that only convert it (``k.asOctets()``, ``bytes(k)``)."""
    while isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        value = value.left
    while isinstance(value, ast.Call):
        if isinstance(value.func, ast.Attribute) and not value.args:
            value = value.func.value
        elif len(value.args) == 1 and isinstance(value.func, ast.Name):
            value = value.args[0]
        else:
            break
    return value


def _hand_made_hmac(call: ast.Call, hashed: ast.expr | None, walk: Walk) -> str:
    """Whether ``call`` is a step of HMAC written out by hand: in its function, two calls
    of the same hash each hash a concatenation that begins with a value made by XOR-ing
    (the key XOR ipad, the key XOR opad), and one hashes the other's digest. Returns the
    evidence as text, or ''."""
    if hashed is None:
        return ""
    function: ast.AST | None = walk.parent(call)
    while function is not None and not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        function = walk.parent(function)
    if function is None:
        return ""
    bound: dict[str, ast.expr] = {}
    steps: list[tuple[ast.Call, ast.expr, set[str]]] = []  # call, its input, names its digest is bound to
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            bound[node.targets[0].id] = node.value
    wanted = ast.unparse(call.func)

    def padded(value: ast.expr, depth: int = 0) -> bool:
        value = _leftmost(value)
        if any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitXor) for n in ast.walk(value)):
            return True
        if isinstance(value, ast.Name) and value.id in bound and depth < 3:
            return padded(bound[value.id], depth + 1)
        return False

    for node in ast.walk(function):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == wanted and node.args:
            names = {
                name for name, value in bound.items()
                if any(inner is node for inner in ast.walk(value))
            }  # fmt: skip
            steps.append((node, node.args[0], names))
    mine = next((step for step in steps if step[0] is call), None)
    if mine is None or not padded(mine[1]):
        return ""
    for other in steps:
        if other[0] is call or not padded(other[1]):
            continue
        inner, outer = (other, mine) if _refers_to(mine[1], other[2]) else (mine, other)
        if _refers_to(outer[1], inner[2]):
            return (
                f"the calls on lines {inner[0].lineno} and {outer[0].lineno} each hash a value made by XOR "
                f"(a key XOR a pad) followed by data, and the second hashes the first's digest"
            )
    return ""


def _refers_to(value: ast.expr, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(value))


def _utf16le(value: ast.expr) -> bool:
    """Whether ``value`` is ``text.encode('utf-16-le')`` (any spelling of that codec)."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "encode"):
        return False
    codec = string_value(value.args[0]) if value.args else None
    return (codec or "").lower().replace("-", "").replace("_", "") == "utf16le"
