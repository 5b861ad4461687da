"""Cipher rules (3xx): broken ciphers, the ECB mode, and keys too short to resist attack."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import (
    DEFAULT_CONTEXT,
    CallRule,
    ContextPolicy,
    Walk,
    argument,
    default_pairs,
    parameters,
    walk_function,
)
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
    protocol's cipher, chosen on purpose); ECB in test code; and an ECB cipher kept in
    a local name and used as the raw block function of another construction, which the
    function shows when every run of it is over one constant block (CMAC's subkey from
    the zero block) or a run's input is fed by an earlier run's output (the chaining of
    CBC-MAC, CMAC, AES key wrap or ciphertext stealing).
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
            primitive = _block_primitive(call, walk)
            if primitive:
                yield self.finding(call, f"cipher used in ECB mode as a block function: {primitive}", walk.src,
                                   scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
                return
            yield self.finding(call, "cipher used in ECB mode, which shows repeated blocks", walk.src,
                               scope=walk.scope_name)  # fmt: skip
            return
        mode = argument(call, "mode", 1)
        if mode is not None and (walk.src.qualname(mode) or "").endswith("MODE_ECB"):
            primitive = _block_primitive(call, walk)
            if primitive:
                yield self.finding(call, f"{name} with MODE_ECB as a block function: {primitive}", walk.src,
                                   scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
                return
            yield self.finding(call, f"{name} with MODE_ECB, which shows repeated blocks", walk.src,
                               scope=walk.scope_name)  # fmt: skip


# Methods of a cipher object (PyCryptodome's, or cryptography's encryptor/decryptor)
# that run it over data, and the calls that make one zero block.
BLOCK_METHODS = frozenset({"encrypt", "decrypt", "update"})
ZERO_BLOCK_CALLS = frozenset({"bytes", "bytearray"})
BLOCK_BYTES = 16
PRIMITIVE_REASON = (
    "the code builds its own construction on the raw block cipher (as CMAC or key wrap do), where ECB's repeated "
    "blocks do not show"
)


def _block_primitive(call: ast.Call, walk: Walk) -> str:
    """Why the ECB cipher made at ``call`` is used as the raw block function of another
    construction: every run of it is over one constant block (CMAC's subkey from the
    zero block), or a run's input is fed by an earlier run's output (the chaining of
    CBC-MAC, CMAC or AES key wrap); '' otherwise, or when the cipher object is not kept
    in a local name this function's code can follow."""
    holder = _cipher_name(call, walk)
    function = walk.src.index.function_of.get(call)
    if holder is None or function is None:
        return ""
    runs = [
        node for node in walk_function(function)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in BLOCK_METHODS
        and isinstance(node.func.value, ast.Name) and node.func.value.id == holder
    ]  # fmt: skip
    if not runs or any(not run.args for run in runs):
        return ""
    if all(_one_constant_block(run.args[0]) for run in runs):
        return f"each run is over one constant block; {PRIMITIVE_REASON}"
    fed = _fed_by(runs, function)
    for run in runs:
        if any(isinstance(node, ast.Name) and node.id in fed for node in ast.walk(run.args[0])):
            shown = ast.unparse(run.func)
            return f"the input of {shown}() on line {run.lineno} is fed by an earlier run's output; {PRIMITIVE_REASON}"
    return ""


def _cipher_name(call: ast.Call, walk: Walk) -> str | None:
    """The local name the cipher object made at ``call`` is kept in: AES.new(...) or
    Cipher(algorithm, modes.ECB()), either one with .encryptor()/.decryptor() after it."""
    node: ast.AST | None = call
    parent = walk.parent(call)
    if (walk.src.qualname(call.func) or "") in ECB_CALLS:  # modes.ECB(): the cipher is the Cipher(...) around it
        node = walk.parent(parent) if isinstance(parent, ast.keyword) else parent
        if not isinstance(node, ast.Call):
            return None
        parent = walk.parent(node)
    while isinstance(parent, ast.Attribute) and parent.attr in ("encryptor", "decryptor"):
        outer = walk.parent(parent)
        if not (isinstance(outer, ast.Call) and outer.func is parent):
            return None
        node, parent = outer, walk.parent(outer)
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
        return parent.targets[0].id
    return None


def _one_constant_block(value: ast.expr) -> bool:
    """bytes(16), bytes(bytearray(16)), b"\\0" * 16 or a literal of at most one block."""
    if isinstance(value, ast.Constant) and isinstance(value.value, bytes):
        return len(value.value) <= BLOCK_BYTES
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):
        left, right = value.left, value.right
        if isinstance(left, ast.Constant) and isinstance(left.value, bytes):
            if isinstance(right, ast.Constant) and isinstance(right.value, int):
                return len(left.value) * right.value <= BLOCK_BYTES
        return False
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ZERO_BLOCK_CALLS:
        if len(value.args) != 1 or value.keywords:
            return False
        inner = value.args[0]
        if isinstance(inner, ast.Constant) and isinstance(inner.value, int) and not isinstance(inner.value, bool):
            return 0 < inner.value <= BLOCK_BYTES
        return _one_constant_block(inner)
    return False


def _fed_by(runs: list[ast.Call], function: ast.AST) -> set[str]:
    """Local names whose value comes from a run of the cipher, directly or through other
    local names (X = encrypt(Y); Y = xor(X, block)), followed to a fixed point."""
    run_ids = {id(run) for run in runs}
    assigns: list[tuple[list[str], ast.AST]] = []
    for node in walk_function(function):
        if isinstance(node, ast.Assign):
            targets = [n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            assigns.append((targets, node.value))
        elif isinstance(node, ast.AugAssign | ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            assigns.append(([node.target.id], node.value))
    fed: set[str] = set()
    for _ in range(4):  # a few hops is what a chaining loop needs; the bound keeps it cheap
        grown = False
        for targets, value in assigns:
            if not any(
                id(node) in run_ids or (isinstance(node, ast.Name) and node.id in fed) for node in ast.walk(value)
            ):
                continue
            for target in targets:
                if target not in fed:
                    fed.add(target)
                    grown = True
        if not grown:
            break
    return fed


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
