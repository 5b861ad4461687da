"""What a distribution runs when it is installed and when it is imported, read from its files.

Install time: the build backend named in pyproject.toml's ``[build-system]`` (a legacy
``setup.py`` alone means setuptools), custom build hooks (hatch, setuptools ``cmdclass``,
poetry's build script, pdm's ``pdm_build.py``), the commands ``setup.py`` overrides and the
calls with side effects it makes at top level or in its command classes.
Import time: calls with side effects in the statements a module runs when it is first
imported (its top level and class bodies, not function bodies or ``if __name__ ==
"__main__":``): network, subprocess, file writes outside the package, ``exec``/``eval`` of
decoded data; and ``.pth`` files, whose ``import`` lines run at every interpreter start.
Everything comes from ``ast`` and ``tomllib``; nothing in the distribution is run.
"""

from __future__ import annotations

import ast
import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scrutiny import source
from scrutiny.discover import DEFAULT_EXCLUDES

INSTALL, IMPORT = "install", "import"


@dataclass(frozen=True, slots=True)
class Behaviour:
    when: str  # install or import
    what: str  # "build backend hatchling.build", "subprocess call subprocess.run"
    path: str  # relative to the distribution's root, with /
    line: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        """What stays the same between two releases whose lines moved."""
        return self.when, self.what, self.path

    def describe(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{self.what} ({where})"


# Calls with side effects, by qualified name (after import aliases are resolved).
NETWORK = {
    "urllib.request.urlopen", "urllib.request.urlretrieve", "urllib.urlopen", "urllib.urlretrieve",
    "urllib2.urlopen", "http.client.HTTPConnection", "http.client.HTTPSConnection", "httplib.HTTPConnection",
    "httplib.HTTPSConnection", "socket.socket", "socket.create_connection", "socket.gethostbyname",
    "socket.getaddrinfo", "ftplib.FTP", "smtplib.SMTP", "smtplib.SMTP_SSL", "telnetlib.Telnet",
    "urllib3.request",
    *(f"{lib}.{verb}" for lib in ("requests", "httpx") for verb in
      ("get", "post", "put", "patch", "delete", "head", "options", "request", "stream")),
}  # fmt: skip
SUBPROCESS = {
    "subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output", "subprocess.Popen",
    "subprocess.getoutput", "subprocess.getstatusoutput", "os.system", "os.popen", "os.startfile", "pty.spawn",
    "commands.getoutput", "os.posix_spawn", "os.posix_spawnp",
}  # fmt: skip
SUBPROCESS_PREFIXES = ("os.exec", "os.spawn")
FILE_WRITES = {
    "shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree", "shutil.move", "shutil.rmtree",
    "os.remove", "os.unlink", "os.rename", "os.replace", "os.makedirs", "os.mkdir", "os.rmdir", "os.chmod",
    "os.symlink", "os.link",
}  # fmt: skip
FILE_WRITE_METHODS = ("write_text", "write_bytes", "mkdir", "unlink", "touch", "symlink_to")
EXECUTORS = {"exec", "eval", "compile", "builtins.exec", "builtins.eval"}
DECODERS = {
    "base64.b64decode", "base64.b32decode", "base64.b16decode", "base64.b85decode", "base64.a85decode",
    "base64.decodebytes", "base64.decodestring", "base64.urlsafe_b64decode", "binascii.unhexlify",
    "binascii.a2b_base64", "binascii.a2b_hex", "codecs.decode", "zlib.decompress", "bz2.decompress",
    "lzma.decompress", "gzip.decompress", "marshal.loads", "bytes.fromhex",
}  # fmt: skip
# Base classes of setuptools/distutils commands: a class deriving from one is a command.
COMMANDS = {"install", "develop", "build_py", "build_ext", "build", "egg_info", "sdist", "bdist_wheel", "Command",
            "install_lib", "install_scripts", "build_clib", "easy_install", "bdist_egg"}  # fmt: skip
BUILD_FILES = {"setup.py", "hatch_build.py", "pdm_build.py", "build.py", "conftest.py", "noxfile.py", "fabfile.py"}
NOT_IMPORTED = {"test", "tests", "testing", "doc", "docs", "example", "examples", "bench", "benchmarks", "scripts",
                "tools", "ci", ".github"}  # fmt: skip


def behaviours(root: Path) -> list[Behaviour]:
    """Install-time, then import-time behaviour of the distribution unpacked at ``root``."""
    return install_time(root) + import_time(root)


# --- install time ------------------------------------------------------------------------


def install_time(root: Path) -> list[Behaviour]:
    found: list[Behaviour] = []
    pyproject = _toml(root / "pyproject.toml")
    setup_py = root / "setup.py"
    system = pyproject.get("build-system") if isinstance(pyproject.get("build-system"), dict) else None
    if isinstance(system, dict) and system.get("build-backend"):
        in_tree = " (in-tree backend-path)" if system.get("backend-path") else ""
        found.append(Behaviour(INSTALL, f"build backend {system['build-backend']}{in_tree}", "pyproject.toml"))
    elif setup_py.is_file():
        found.append(Behaviour(INSTALL, "build backend setuptools (legacy: runs setup.py)", "setup.py"))
    elif _is_wheel(root):
        return found  # installing a wheel unpacks files; its .pth files are import-time behaviour
    found.extend(_build_hooks(pyproject))
    for name in ("hatch_build.py", "pdm_build.py"):
        if (root / name).is_file():
            found.append(Behaviour(INSTALL, f"custom build hook {name}", name))
    if setup_py.is_file():
        found.extend(_setup_py(setup_py))
    return found


def _toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _table(document: object, *keys: str) -> dict[str, object]:
    for key in keys:
        document = document.get(key) if isinstance(document, dict) else None
    return document if isinstance(document, dict) else {}


def _build_hooks(pyproject: dict[str, object]) -> Iterator[Behaviour]:
    hatch = _table(pyproject, "tool", "hatch", "build")
    hook_tables = [("", _table(hatch, "hooks"))]
    hook_tables += [(f" ({target})", _table(hatch, "targets", target, "hooks")) for target in _table(hatch, "targets")]
    for target, hooks in hook_tables:
        for hook, settings in hooks.items():
            path = settings.get("path", "hatch_build.py") if isinstance(settings, dict) and hook == "custom" else ""
            suffix = f" {path}" if path else ""
            yield Behaviour(INSTALL, f"hatch build hook {hook}{suffix}{target}", "pyproject.toml")
    for command, implementation in _table(pyproject, "tool", "setuptools", "cmdclass").items():
        yield Behaviour(INSTALL, f"setuptools cmdclass {command} = {implementation}", "pyproject.toml")
    poetry_build = _table(pyproject, "tool", "poetry").get("build")
    script = poetry_build.get("script") if isinstance(poetry_build, dict) else poetry_build
    if isinstance(script, str):
        yield Behaviour(INSTALL, f"poetry build script {script}", "pyproject.toml")


def _setup_py(path: Path) -> list[Behaviour]:
    tree = _parse(path, "setup.py")
    if tree is None:
        return [Behaviour(INSTALL, "setup.py could not be parsed", "setup.py")]
    src, module = tree
    found: list[Behaviour] = []
    for call in (n for n in ast.walk(module) if isinstance(n, ast.Call)):
        for keyword in call.keywords:
            if keyword.arg != "cmdclass" or src.qualname(call.func) not in (
                "setup",
                "setuptools.setup",
                "distutils.core.setup",
            ):
                continue
            if isinstance(keyword.value, ast.Dict):
                for key, value in zip(keyword.value.keys, keyword.value.values, strict=True):
                    command = str(key.value) if isinstance(key, ast.Constant) else ast.unparse(key) if key else "**"
                    found.append(Behaviour(INSTALL, f"setup.py cmdclass {command} = {ast.unparse(value)}",
                                           "setup.py", call.lineno))  # fmt: skip
            else:
                found.append(Behaviour(INSTALL, f"setup.py cmdclass = {ast.unparse(keyword.value)}", "setup.py",
                                       call.lineno))  # fmt: skip
    for statement in module.body:
        if isinstance(statement, ast.ClassDef) and _is_command(src, statement):
            bases = ", ".join(ast.unparse(b) for b in statement.bases)
            found.append(Behaviour(INSTALL, f"setup.py command class {statement.name}({bases})", "setup.py",
                                   statement.lineno))  # fmt: skip
            for call in (n for n in ast.walk(statement) if isinstance(n, ast.Call)):
                what = side_effect(src, call, set())
                if what:
                    found.append(Behaviour(INSTALL, f"{what} in {statement.name}", "setup.py", call.lineno))
    # setup.py runs as __main__ (python setup.py ..., and setuptools' backend alike): a
    # __main__ block runs too.
    found.extend(_top_level(src, module, "setup.py", INSTALL, as_main=True))
    return found


def _is_command(src: source.SourceFile, node: ast.ClassDef) -> bool:
    return any((src.qualname(b) or "").rsplit(".", 1)[-1] in COMMANDS for b in node.bases)


# --- import time -------------------------------------------------------------------------


def import_time(root: Path) -> list[Behaviour]:
    found: list[Behaviour] = []
    for path in _module_files(root):
        rel = path.relative_to(root).as_posix()
        if path.suffix == ".pth":
            found.extend(_pth(path, rel))
            continue
        parsed = _parse(path, rel)
        if parsed is not None:
            found.extend(_top_level(*parsed, rel, IMPORT))
    return found


def _module_files(root: Path) -> list[Path]:
    """The modules an install would import (tests, docs, examples and build files left out), and .pth files."""
    files: list[Path] = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(
            d for d in subdirectories if d not in NOT_IMPORTED and not _excluded(d) and not d.endswith(".dist-info")
        )
        at_root = Path(directory) == root
        for name in sorted(names):
            if name.endswith(".pth") or (name.endswith(".py") and not (at_root and name in BUILD_FILES)):
                if not (name.startswith("test_") or name == "conftest.py"):
                    files.append(Path(directory, name))
    return files


def _excluded(name: str) -> bool:
    import fnmatch

    return any(fnmatch.fnmatch(name, pattern) for pattern in DEFAULT_EXCLUDES)


def _pth(path: Path, rel: str) -> list[Behaviour]:
    """A .pth line starting with ``import`` is executed by the site module at every start."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [
        Behaviour(IMPORT, "startup code in a .pth file (runs at every interpreter start)", rel, number)
        for number, line in enumerate(lines, 1)
        if line.startswith(("import ", "import\t"))
    ]


def _parse(path: Path, rel: str) -> tuple[source.SourceFile, ast.Module] | None:
    try:
        src = source.load(path.read_bytes(), rel)
    except (OSError, source.SourceError, RecursionError):
        return None
    return src, src.tree


def _top_level(
    src: source.SourceFile, module: ast.Module, rel: str, when: str, as_main: bool = False
) -> list[Behaviour]:
    """Side-effect calls in what runs when the module is executed: its top level and class bodies."""
    inside = _package_paths(module)
    found: list[Behaviour] = []
    for call, conditional in _executed_calls(module.body, as_main):
        what = side_effect(src, call, inside)
        if what:
            where = " at import" if when == IMPORT else " at top level"
            found.append(Behaviour(when, what + where + (", conditional" if conditional else ""), rel, call.lineno))
    return found


def _executed_calls(body: list[ast.stmt], as_main: bool = False) -> Iterator[tuple[ast.Call, bool]]:
    """Calls in statements that run when the body runs, each with whether it runs only on a
    condition (in an if, an except or else clause, a loop). Not in functions or lambdas,
    nor in an ``if __name__ == "__main__":`` block unless the module runs ``as_main``."""
    stack: list[tuple[ast.AST, bool]] = [(statement, False) for statement in reversed(body)]
    while stack:
        node, conditional = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            # Decorators and defaults run at definition time; the body does not.
            if not isinstance(node, ast.Lambda):
                stack.extend((d, conditional) for d in node.decorator_list)
            stack.extend((d, conditional) for d in node.args.defaults + node.args.kw_defaults if d is not None)
            continue
        if isinstance(node, ast.If) and _is_main_guard(node.test):
            # Run as __main__, the block always runs; imported, only its else does.
            kept, on_condition = (node.body, conditional) if as_main else (node.orelse, True)
            stack.extend((s, on_condition) for s in reversed(kept))
            continue
        if isinstance(node, ast.Call):
            yield node, conditional
        branches = _branches(node)
        for child in reversed(list(ast.iter_child_nodes(node))):
            stack.append((child, conditional or child in branches))


def _branches(node: ast.AST) -> list[ast.AST]:
    """The children of ``node`` that run only on a condition."""
    if isinstance(node, ast.If | ast.For | ast.AsyncFor | ast.While):
        return [*node.body, *node.orelse]
    if isinstance(node, ast.Try | ast.TryStar):
        return [*node.handlers, *node.orelse]
    return []


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def _package_paths(module: ast.Module) -> set[str]:
    """Module-level names bound to a path built from ``__file__``: writes there stay in the package."""
    names: set[str] = set()
    for _ in range(3):  # a chain of a few assignments (here = dirname(__file__); data = join(here, ...))
        for statement in module.body:
            if isinstance(statement, ast.Assign) and _mentions(statement.value, names | {"__file__"}):
                names.update(t.id for t in statement.targets if isinstance(t, ast.Name))
    return names


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def side_effect(src: source.SourceFile, call: ast.Call, inside: set[str]) -> str | None:
    """What kind of side effect the call has, e.g. ``network call requests.get``; None for none known."""
    name = src.qualname(call.func) or ""
    if name in NETWORK:
        return f"network call {name}"
    if name in SUBPROCESS or name.startswith(SUBPROCESS_PREFIXES):
        return f"subprocess call {name}"
    if name in EXECUTORS and call.args:
        decoders = [src.qualname(n.func) for n in ast.walk(call.args[0]) if isinstance(n, ast.Call)]
        decoded = next((d for d in decoders if d in DECODERS), None)
        if decoded:
            return f"{name.rsplit('.', 1)[-1]} of decoded data ({decoded})"
        return None
    if _mentions(call, inside | {"__file__"}):
        return None  # a path in the package itself
    if name in ("open", "io.open", "codecs.open") and _writes(call):
        return f"file write {name}"
    if name in FILE_WRITES:
        return f"file change {name}"
    if isinstance(call.func, ast.Attribute) and call.func.attr in FILE_WRITE_METHODS and "()" in name:
        return f"file write {call.func.attr}"
    return None


def _writes(call: ast.Call) -> bool:
    mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and any(c in mode.value for c in "wax+")


def _is_wheel(root: Path) -> bool:
    return any(p.name.endswith(".dist-info") and p.is_dir() for p in root.iterdir())
