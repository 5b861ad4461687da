"""Cipher rules (3xx): broken ciphers, the ECB mode, and keys too short to resist attack."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import DEFAULT_CONTEXT, CallRule, ContextPolicy, Walk, argument, default_pairs, parameters
from scrutiny.rules.resolve import callers_arguments, module_value

CRYPTO_PACKAGES = ("Crypto", "Cryptodome")
HAZMAT = "cryptography.hazmat.primitives"
HAZMAT_DECREPIT = "cryptography.hazmat.decrepit.ciphers.algorithms"
# cryptography moved the ciphers it keeps only for legacy protocols to its decrepit
# package; importing one from there is the author choosing it for such a protocol.
DECREPIT_REASON = "imported from cryptography.hazmat.decrepit, where the library keeps ciphers for legacy protocols"

# A test that runs a cipher encrypts the test's own data, to check a protocol's or a
# format's encryption; the same call in the package is what the finding is about.
CIPHER_TEST_CONTEXT: Mapping[FileKind, ContextPolicy] = {
    **DEFAULT_CONTEXT,
    FileKind.TEST: ContextPolicy(Severity.LOW, "in test code, where the cipher encrypts the test's own data"),
}

# PyCrypto/PyCryptodome cipher modules -> cipher name, reached through Module.new(...).
PYCRYPTO_WEAK = {"ARC2": "RC2", "ARC4": "RC4", "Blowfish": "Blowfish", "DES": "DES", "XOR": "XOR", "CAST": "CAST"}
# cryptography's algorithm classes that are broken or have 64-bit blocks.
HAZMAT_WEAK = {
    "ARC4": "RC4",
    "Blowfish": "Blowfish",
    "CAST5": "CAST5",
    "IDEA": "IDEA",
    "SEED": "SEED",
    "TripleDES": "Triple DES",
    "RC2": "RC2",
}
WEAK_CIPHER_CALLS = {
    **{f"{pkg}.Cipher.{module}.new": name for pkg in CRYPTO_PACKAGES for module, name in PYCRYPTO_WEAK.items()},
    **{f"{HAZMAT}.ciphers.algorithms.{cls}": name for cls, name in HAZMAT_WEAK.items()},
    **{f"{HAZMAT_DECREPIT}.{cls}": name for cls, name in HAZMAT_WEAK.items()},
}


class WeakCipher(CallRule):
    """Data encrypted with a broken or 64-bit-block cipher

    What: RC4, RC2, DES, Blowfish, CAST, XOR (PyCrypto and PyCryptodome Cipher modules)
    and cryptography's ARC4, Blowfish, CAST5, IDEA, SEED and TripleDES algorithms.
    Why: RC4 has keystream biases that leak plaintext, DES keys can be searched
    exhaustively, XOR is not encryption, and the 64-bit block ciphers (Blowfish, CAST5,
    IDEA, Triple DES) leak plaintext once a few gigabytes go through one key (Sweet32).
    Lowered to low: an algorithm taken from cryptography.hazmat.decrepit, the package
    the library moved these ciphers to for legacy protocols, since importing it from
    there is a deliberate choice; and a cipher run in test code, which encrypts the
    test's own data.
    Example:
        cipher = DES.new(key, DES.MODE_CBC, iv)
    Fix: use an authenticated modern cipher: cryptography's AESGCM or ChaCha20Poly1305,
    or Fernet for simple symmetric encryption of data at rest.
    """

    id = "SCR330"
    name = "weak-cipher"
    category = Category.CRYPTOGRAPHY
    cwe = 327
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    calls = tuple(WEAK_CIPHER_CALLS)
    bandit = ("B304",)
    ruff = ("S304",)
    context = CIPHER_TEST_CONTEXT

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        cipher = WEAK_CIPHER_CALLS[name]
        if name.startswith(HAZMAT_DECREPIT):
            yield self.finding(call, f"{name} encrypts with {cipher}, which is broken; {DECREPIT_REASON}",
                               walk.src, scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
            return
        yield self.finding(call, f"{name} encrypts with {cipher}, which is broken", walk.src, scope=walk.scope_name)


ECB_CALLS = (f"{HAZMAT}.ciphers.modes.ECB",)


class EcbMode(CallRule):
    """Block cipher used in ECB mode

    What: cryptography's modes.ECB, and PyCrypto/PyCryptodome AES or Triple DES ciphers
    created with MODE_ECB.
    Why: ECB encrypts equal plaintext blocks to equal ciphertext blocks, so patterns in
    the data stay visible and blocks can be cut, reordered or replayed without the key.
    Lowered to low: ECB over an algorithm from cryptography.hazmat.decrepit (a legacy
    protocol's cipher, chosen on purpose), and ECB in test code.
    Example:
        encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    Fix: use an authenticated mode (AESGCM, ChaCha20Poly1305) or Fernet; never ECB for
    more than one block of data.
    """

    id = "SCR331"
    name = "ecb-mode"
    category = Category.CRYPTOGRAPHY
    cwe = 327
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    calls = (*ECB_CALLS, *(f"{pkg}.Cipher.{module}.new" for pkg in CRYPTO_PACKAGES for module in ("AES", "DES3")))
    bandit = ("B305",)
    ruff = ("S305",)
    context = CIPHER_TEST_CONTEXT

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if name in ECB_CALLS:
            algorithm = _cipher_algorithm(call, walk)
            if algorithm.startswith(HAZMAT_DECREPIT):
                yield self.finding(call, f"{algorithm} used in ECB mode, which shows repeated blocks; "
                                   f"{DECREPIT_REASON}", walk.src, scope=walk.scope_name,
                                   severity=Severity.LOW)  # fmt: skip
                return
            yield self.finding(call, "cipher used in ECB mode, which shows repeated blocks", walk.src,
                               scope=walk.scope_name)  # fmt: skip
            return
        mode = argument(call, "mode", 1)
        if mode is not None and (walk.src.qualname(mode) or "").endswith("MODE_ECB"):
            yield self.finding(call, f"{name} with MODE_ECB, which shows repeated blocks", walk.src,
                               scope=walk.scope_name)  # fmt: skip


def _cipher_algorithm(mode: ast.Call, walk: Walk) -> str:
    """The name of the algorithm a Cipher(algorithm(key), mode) is given next to ``mode``, or ''."""
    parent = walk.parent(mode)
    if isinstance(parent, ast.keyword):
        parent = walk.parent(parent)
    if not isinstance(parent, ast.Call) or not (walk.src.qualname(parent.func) or "").endswith("ciphers.Cipher"):
        return ""
    algorithm = argument(parent, "algorithm", 0)
    if not isinstance(algorithm, ast.Call):
        return ""
    return walk.src.qualname(algorithm.func) or ""


# Key generators -> (name of the size parameter, its position, minimum bits).
KEY_SIZE_CALLS = {
    f"{HAZMAT}.asymmetric.rsa.generate_private_key": ("key_size", 1, 2048, "RSA"),
    f"{HAZMAT}.asymmetric.dsa.generate_private_key": ("key_size", 0, 2048, "DSA"),
    **{
        f"{pkg}.PublicKey.{algo}.generate": ("bits", 0, 2048, algo)
        for pkg in CRYPTO_PACKAGES
        for algo in ("RSA", "DSA")
    },
}
EC_CALL = f"{HAZMAT}.asymmetric.ec.generate_private_key"
# Curves below 224 bits offer less than 112-bit security.
WEAK_CURVES = frozenset({"SECP192R1", "SECT163K1", "SECT163R2"})


class WeakKeySize(CallRule):
    """Asymmetric key generated too short

    What: RSA or DSA keys generated with fewer than 2048 bits (cryptography,
    PyCrypto, PyCryptodome) and elliptic-curve keys on curves under 224 bits
    (SECP192R1, SECT163K1, SECT163R2).
    Why: 1024-bit RSA and DSA are within reach of well-funded attackers and 512-bit
    keys can be factored on rented hardware in hours; a broken key forges every
    signature and decrypts all traffic made with it.
    Example:
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    Fix: generate RSA keys of 3072 bits (at least 2048), or use an elliptic curve such
    as SECP256R1 or Ed25519.
    """

    id = "SCR332"
    name = "weak-key-size"
    category = Category.CRYPTOGRAPHY
    cwe = 326
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    calls = (*KEY_SIZE_CALLS, EC_CALL)
    bandit = ("B505",)
    ruff = ("S505",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if name == EC_CALL:
            for value, via in _values(argument(call, "curve", 0), walk):
                curve = value.func if isinstance(value, ast.Call) else value  # ec.SECP192R1() or the class
                curve_name = (walk.src.qualname(curve) or "").rsplit(".", 1)[-1] if curve is not None else ""
                if curve_name in WEAK_CURVES:
                    yield self.finding(call, f"elliptic-curve key on {curve_name}, a curve under 224 bits{via}",
                                       walk.src, scope=walk.scope_name)  # fmt: skip
                    return
            return
        keyword_name, position, minimum, algorithm = KEY_SIZE_CALLS[name]
        for size, via in _values(argument(call, keyword_name, position), walk):
            if isinstance(size, ast.Constant) and isinstance(size.value, int) and not isinstance(size.value, bool):
                if size.value < minimum:
                    severity = Severity.HIGH if size.value < 1024 else Severity.MEDIUM
                    message = f"{algorithm} key of {size.value} bits{via}; at least {minimum} are needed"
                    yield self.finding(call, message, walk.src, scope=walk.scope_name, severity=severity)
                    return


def _values(node: ast.expr | None, walk: Walk) -> Iterator[tuple[ast.expr | None, str]]:
    """What an argument may be, with how it was found: itself, the module constant it
    names, or, for a parameter of the enclosing function, its default and what the
    function's callers in this file pass for it (each through module constants)."""
    src, function = walk.src, walk.function
    value, constant = module_value(node, src, function)
    yield value, f" ({constant} = {ast.unparse(value)})" if constant and value is not None else ""
    if not isinstance(node, ast.Name) or constant or function is None or node.id not in parameters(function):
        return
    for parameter, default in default_pairs(function.args):
        if parameter == node.id:
            resolved, name = module_value(default, src, None)
            yield resolved, f" (the default of parameter {node.id}{', ' + name if name else ''})"
    for caller, passed in callers_arguments(function, node.id, src):
        resolved, name = module_value(passed, src, src.index.function_of.get(caller))
        shown = f"{name} = {ast.unparse(resolved)}" if name and resolved else ast.unparse(passed)
        yield resolved, f" ({function.name}() is called with {node.id}={shown} on line {caller.lineno})"
