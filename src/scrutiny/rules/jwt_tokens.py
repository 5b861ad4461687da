"""JSON Web Token rules (3xx): tokens accepted without checking their signature."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import DEFAULT_CONTEXT, CallRule, ContextPolicy, Walk, is_false, keyword, string_value
from scrutiny.source import SourceFile

PYJWT_DECODE = ("jwt.decode", "jwt.decode_complete", "jwt.api_jwt.decode", "jwt.api_jws.decode")
JOSE_DECODE = ("jose.jwt.decode", "jose.jws.verify")
JOSE_UNVERIFIED = ("jose.jwt.get_unverified_claims", "jose.jws.get_unverified_claims")


def _dict_for(node: ast.expr | None, call: ast.Call, src: SourceFile) -> ast.Dict | None:
    """The dict literal passed, directly or through a name assigned once before the call."""
    if isinstance(node, ast.Dict):
        return node
    if not isinstance(node, ast.Name):
        return None
    function = src.index.function_of.get(call)
    for candidate in ast.walk(function or src.tree):
        if (
            isinstance(candidate, ast.Assign)
            and candidate.lineno < call.lineno
            and isinstance(candidate.value, ast.Dict)
            and any(isinstance(t, ast.Name) and t.id == node.id for t in candidate.targets)
        ):
            return candidate.value
    return None


def _options_turn_off_signature(options: ast.Dict | None) -> bool:
    if options is None:
        return False
    return any(
        string_value(key) in ("verify_signature", "verify") and is_false(value)
        for key, value in zip(options.keys, options.values, strict=True)
    )


def _allows_none(algorithms: ast.expr | None) -> bool:
    values = algorithms.elts if isinstance(algorithms, ast.List | ast.Tuple | ast.Set) else [algorithms]
    return any((string_value(v) or "").lower() == "none" for v in values if v is not None)


class JwtSignatureNotVerified(CallRule):
    """JSON Web Token decoded without verifying its signature

    What: PyJWT jwt.decode/decode_complete with options={"verify_signature": False},
    verify=False (PyJWT 1.x) or "none" among the accepted algorithms; python-jose
    jwt.decode with verify_signature off, and jwt.get_unverified_claims.
    Why: the claims of an unverified token are whatever the sender wrote: anyone can
    mint a token naming any user or role, and "none" lets them drop the signature
    altogether.
    Example:
        claims = jwt.decode(token, options={"verify_signature": False})
    Fix: verify with the issuer's key and a fixed algorithm list:
    jwt.decode(token, key, algorithms=["RS256"], audience=...); read unverified claims
    only to pick the key, then decode again with verification before trusting them.
    In test code the finding is low: a test that decodes a token without its key reads
    the claims of a token the code under test issued, to assert on them; nothing is
    authorized by what it reads.
    """

    id = "SCR351"
    name = "jwt-signature-not-verified"
    category = Category.CRYPTOGRAPHY
    cwe = 347
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    calls = PYJWT_DECODE + JOSE_DECODE + JOSE_UNVERIFIED
    context = {
        **DEFAULT_CONTEXT,
        FileKind.TEST: ContextPolicy(
            Severity.LOW, "in test code, which reads the claims of tokens the code under test issued to assert on "
            "them; no access is granted on what it reads"
        ),
    }

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        src, scope = walk.src, walk.scope_name
        if name in JOSE_UNVERIFIED:
            yield self.finding(call, f"{name} returns claims without checking the signature", src, scope=scope,
                               severity=Severity.MEDIUM, confidence=Confidence.MEDIUM)  # fmt: skip
            return
        options = _dict_for(keyword(call, "options"), call, src)
        if _options_turn_off_signature(options):
            yield self.finding(call, f"{name} is told not to verify the signature", src, scope=scope)
        elif is_false(keyword(call, "verify")):
            yield self.finding(call, f"{name}(verify=False) skips the signature check", src, scope=scope)
        elif _allows_none(keyword(call, "algorithms")):
            yield self.finding(call, f"{name} accepts the 'none' algorithm (unsigned tokens)", src, scope=scope,
                               cwe=327)  # fmt: skip


JWT_ENCODE = ("jwt.encode", "jwt.api_jwt.encode", "jwt.api_jws.encode", "jose.jwt.encode", "jose.jws.sign")


class JwtUnsignedToken(CallRule):
    """JSON Web Token issued without a signature (alg "none")

    What: PyJWT jwt.encode or python-jose jwt.encode/jws.sign called with
    algorithm="none" (any letter case).
    Why: an unsigned token proves nothing about who issued it; a service that accepts
    it lets anyone change the claims, and issuing such tokens pushes the verifying side
    to accept "none" as well.
    Example:
        token = jwt.encode({"sub": user_id}, None, algorithm="none")
    Fix: sign with a key and a fixed algorithm: jwt.encode(claims, private_key,
    algorithm="RS256") (or HS256 with a random secret of 32+ bytes).
    """

    id = "SCR355"
    name = "jwt-unsigned-token"
    category = Category.CRYPTOGRAPHY
    cwe = 347
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    calls = JWT_ENCODE

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        algorithm = keyword(call, "algorithm")
        if algorithm is None and len(call.args) >= 3:
            algorithm = call.args[2]
        if (string_value(algorithm) or "").lower() == "none":
            yield self.finding(call, f"{name} issues a token with the 'none' algorithm (no signature)", walk.src,
                               scope=walk.scope_name)  # fmt: skip
