"""The signals that say what kind of file a module is, and how much each one weighs.

A file's kind (test, script, migration, example, docs, production) is decided by its
strongest signal, not by the first one found: a directory word such as ``contrib/`` or
``tools/`` names library code as often as scripts, while a TestCase class, a Migration
class or a call to ``setup()`` only appears in one kind of file. Every signal weighed is
kept as a reason, so the review can say what the decision rests on and what it outweighed.
"""

from __future__ import annotations

import ast
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scrutiny.source import defined_in

if TYPE_CHECKING:
    from scrutiny.source import SourceFile


class FileKind(enum.Enum):
    PRODUCTION = "production"
    TEST = "test"
    SCRIPT = "script"
    MIGRATION = "migration"
    EXAMPLE = "example"
    DOCS = "docs"


class Strength(enum.IntEnum):
    """How much one signal says about a file's kind."""

    NOTED = 0  # weighed and reported, decides nothing alone (a test import, a bare test-like name)
    WEAK = 1  # a path word also used for library code (contrib/, tools/, scripts/)
    # A convention rarely broken, in the path or the code: tests/, examples/, a __main__
    # guard, a package module, a Migration class, a setup() call, a check with pytest.raises(),
    # an invoke or fabric @task. A Migration class or a
    # setup.py under tests/ is test data, so these tie with a test folder (and lose to it).
    FIRM = 2
    STRONG = 3  # test code only a test has: a TestCase class, a pytest fixture, a test function with pytest


@dataclass(frozen=True, slots=True)
class Signal:
    kind: FileKind
    strength: Strength
    text: str
    subkind: str = ""  # said of the file when this signal's kind wins ("packaging" for setup())


# When two signals are equally strong, the kind earlier here wins: a test directory holding
# a web app is a test, an example that runs itself is an example, a web app that can also
# run itself under a __main__ guard is production code.
PRECEDENCE = (
    FileKind.TEST, FileKind.MIGRATION, FileKind.DOCS, FileKind.EXAMPLE, FileKind.PRODUCTION, FileKind.SCRIPT,
)  # fmt: skip

TEST_DIRS = {"tests", "test", "testing", "unittests", "functional_tests", "testcases"}
# Words that name script folders in many projects and library subpackages in others
# (django/contrib/, a package's tools/): weak alone.
SCRIPT_DIRS = {"scripts", "bin", "tools", "devtools", "contrib", "utils-scripts"}
PACKAGING_DIRS = {"packaging", "build_backend", "_build_backend"}
EXAMPLE_DIRS = {"examples", "example", "samples", "sample", "demo", "demos"}
EXAMPLE_NAME = re.compile(r"(?:^|_)(?:example|sample)(?:_|$)")
# example_project/, sample_site/, demo_app/: a folder named as an example of something, the
# same convention as examples/ (the word leads the name, so audio_samples/ is not one).
EXAMPLE_FOLDER = re.compile(r"^(?:examples?|samples?|demos?)_[a-z0-9]")
DOCS_DIRS = {"doc", "docs", "api-ref", "releasenotes"}
MIGRATION_DIRS = {"migrations", "migrate_repo", "alembic"}
TEST_MODULES = {"unittest", "pytest", "testtools", "mock", "fixtures", "hypothesis", "oslotest", "testscenarios"}
# pytest's assertion helpers: what a test calls to check a result, never a library.
PYTEST_CHECKS = frozenset({"pytest.raises", "pytest.approx", "pytest.warns", "pytest.deprecated_call"})
# Decorators that make a function a task of a developer's task runner (invoke, fabric).
TASK_DECORATORS = frozenset({"invoke.task", "invoke.tasks.task", "fabric.task", "fabric.tasks.task",
                             "fabric.api.task", "fabric.decorators.task"})  # fmt: skip
CLI_PARSERS = {"argparse", "click", "typer", "optparse", "docopt", "fire"}
# What pytest and unittest collect as a test method: test_x, and testX in camelCase.
TEST_METHOD = re.compile(r"^test(_|[A-Z0-9])")
TEST_FILE = re.compile(r"^(test_.*|.*_tests?|conftest)\.py$")
# Fakes and stubs are test doubles shipped beside production code (nova/virt/fake.py).
TEST_DOUBLE_FILE = re.compile(r"^(fake|fakes|stub|stubs)(_\w+)?\.py$|^\w+_(fake|fakes|stubs?)\.py$")
# Constructors of web application objects: a module that makes one serves requests, even
# when its routes are registered elsewhere.
WEB_APP_CLASSES = frozenset(
    {"flask.Flask", "fastapi.FastAPI", "starlette.applications.Starlette", "aiohttp.web.Application",
     "quart.Quart", "sanic.Sanic", "falcon.App", "falcon.asgi.App", "bottle.Bottle", "tornado.web.Application",
     "django.core.wsgi.get_wsgi_application", "django.core.asgi.get_asgi_application"}
)  # fmt: skip
# The hooks PEP 517 asks of a build backend.
BUILD_HOOKS = frozenset({"build_wheel", "build_sdist"})
SETUP_CALLS = frozenset({"setuptools.setup", "distutils.core.setup"})


def roots(src: SourceFile) -> set[str]:
    return {module.split(".", 1)[0] for module in src.imported_modules}


def main_guard(src: SourceFile) -> ast.If | None:
    """The module's top-level ``if __name__ == "__main__":`` statement, or None."""
    for node in src.tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
            names = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
            values = {n.value for n in ast.walk(node.test) if isinstance(n, ast.Constant)}
            if "__name__" in names and "__main__" in values:
                return node
    return None


def main_guard_line(src: SourceFile) -> int:
    """The line of a top-level ``if __name__ == "__main__":``, or 0."""
    guard = main_guard(src)
    return guard.lineno if guard is not None else 0


def test_folders(dirs: Iterable[str]) -> list[str]:
    """The directories named as test folders; a leading underscore (``_tests/``, a package
    kept private) names the same folder."""
    return sorted(d for d in dirs if d.lstrip("_") in TEST_DIRS)


def path_signals(src: SourceFile, dirs: list[str], name: str) -> list[Signal]:
    """What the directories and the file name say, before any code is read."""
    found: list[Signal] = []
    folders = set(dirs)
    if hit := test_folders(folders):
        found.append(Signal(FileKind.TEST, Strength.FIRM, f"under a {hit[0]}/ directory"))
    if hit := sorted(folders & MIGRATION_DIRS):
        found.append(Signal(FileKind.MIGRATION, Strength.FIRM, f"under a {hit[0]}/ directory"))
    if hit := sorted(folders & DOCS_DIRS):
        found.append(Signal(FileKind.DOCS, Strength.FIRM, f"under {hit[0]}/"))
    if name == "conf.py" and "sphinx" in roots(src):
        found.append(Signal(FileKind.DOCS, Strength.FIRM, "Sphinx conf.py"))
    if hit := sorted(folders & EXAMPLE_DIRS) or sorted(d for d in folders if EXAMPLE_FOLDER.match(d)):
        found.append(Signal(FileKind.EXAMPLE, Strength.FIRM, f"under {hit[0]}/"))
    stem = name.rsplit(".", 1)[0]
    if EXAMPLE_NAME.search(stem):
        # settings_example.py, example_config.py: a template a user copies and edits.
        found.append(Signal(FileKind.EXAMPLE, Strength.FIRM, f"file name {name}"))
    if hit := sorted(folders & SCRIPT_DIRS):
        found.append(Signal(FileKind.SCRIPT, Strength.WEAK, f"under a {hit[0]}/ directory"))
    if hit := sorted(folders & PACKAGING_DIRS):
        found.append(Signal(FileKind.SCRIPT, Strength.WEAK, f"under a {hit[0]}/ directory", "packaging"))
    if name == "setup.py":
        # Weak: the name alone (a module that gathers a host's setup is also called setup.py).
        found.append(Signal(FileKind.SCRIPT, Strength.WEAK, "file name setup.py", "packaging"))
    return found


def test_signals(src: SourceFile, dirs: list[str], name: str) -> list[Signal]:
    """Test classes, test functions and fixtures, test file names, and test imports."""
    found: list[Signal] = []
    imported = test_imports(src)
    code: list[Signal] = []
    for node in src.tree.body:
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                base_name = (src.qualname(base) or "").rsplit(".", 1)[-1]
                if base_name.endswith(("TestCase", "TestBase")):
                    text = f"class {node.name} (line {node.lineno}) derives from {base_name}"
                    code.append(Signal(FileKind.TEST, Strength.STRONG, text))
                    break
            else:
                methods = (m.name for m in defined_in(node.body) if TEST_METHOD.match(m.name))
                if node.name.startswith(("Test", "test_")) and (method := next(methods, "")):
                    # A plain class named the way pytest collects, holding test_ methods.
                    text = f"class {node.name} (line {node.lineno}) holds test methods ({method})"
                    code.append(_test_code(text, imported))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if _is_pytest_fixture(src, node):
                code.append(Signal(FileKind.TEST, Strength.STRONG, f"pytest fixture {node.name} (line {node.lineno})"))
            elif node.name.startswith("test_"):
                code.append(_test_code(f"module-level test function {node.name} (line {node.lineno})", imported))
    if "pytest" in imported and (check := _pytest_check(src)):
        # pytest.raises(), pytest.approx(): assertion helpers a test calls, not a plugin or library.
        code.append(Signal(FileKind.TEST, Strength.FIRM, check))
    found.extend(sorted(code, key=lambda s: -s.strength)[:3])  # enough to show why, not every test
    helpers = sorted(m for m in src.imported_modules if {"tests", "_tests"} & set(m.split(".")[1:]))
    if TEST_FILE.match(name):
        # A test-like name counts with test code, a test import or a tests/ folder beside it
        # (app_test.py with none of them is code).
        backed = bool(code or imported or helpers or test_folders(dirs)) or name == "conftest.py"
        strength = Strength.FIRM if backed else Strength.NOTED
        found.append(Signal(FileKind.TEST, strength, f"file name {name} follows the test naming convention"))
    elif TEST_DOUBLE_FILE.match(name):
        found.append(Signal(FileKind.TEST, Strength.FIRM, f"file name {name} names a test double (fake or stub)"))
    if helpers:
        found.append(Signal(FileKind.TEST, Strength.NOTED, f"imports test helpers from {helpers[0]}"))
    elif imported:
        found.append(Signal(FileKind.TEST, Strength.NOTED, f"imports {', '.join(imported)}"))
    return found


def test_imports(src: SourceFile) -> list[str]:
    """The test frameworks the module imports; ``py.test`` is pytest's older import name."""
    found = roots(src) & TEST_MODULES
    if any(m == "py.test" or m.startswith("py.test.") for m in src.imported_modules):
        found.add("pytest")
    return sorted(found)


def _test_code(text: str, imported: list[str]) -> Signal:
    """A test_ function or class: test code with a test framework imported, a name without
    one (release tools have test_built_artifact(), clients have test_connection())."""
    if imported:
        return Signal(FileKind.TEST, Strength.STRONG, f"{text} with {imported[0]} imported")
    return Signal(FileKind.TEST, Strength.WEAK, text)


def _pytest_check(src: SourceFile) -> str:
    """The first call of one of pytest's assertion helpers inside a function ("" if none)."""
    for call in src.index.of_type(ast.Call):
        assert isinstance(call, ast.Call)
        if src.index.function_of.get(call) is not None and (src.qualname(call.func) or "") in PYTEST_CHECKS:
            return f"checks with {src.qualname(call.func)}() at line {call.lineno}"
    return ""


def _is_pytest_fixture(src: SourceFile, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (src.qualname(target) or "") in ("pytest.fixture", "pytest.yield_fixture"):
            return True
    return False


def migration_signals(src: SourceFile, dirs: list[str]) -> list[Signal]:
    found: list[Signal] = []
    if "versions" in dirs and "alembic" in roots(src):
        found.append(Signal(FileKind.MIGRATION, Strength.FIRM, "an alembic revision"))
    for node in src.tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            if any((src.qualname(b) or "").endswith("migrations.Migration") for b in node.bases):
                text = f"class Migration (line {node.lineno}) derives from migrations.Migration"
                found.append(Signal(FileKind.MIGRATION, Strength.FIRM, text))
    return found


def program_signals(src: SourceFile, dirs: list[str]) -> list[Signal]:
    """Whether the file runs as a program, builds the package, or is a module others import."""
    found: list[Signal] = []
    guard = main_guard_line(src)
    parsers = sorted(roots(src) & CLI_PARSERS) if guard else []
    folder = sorted(set(dirs) & (SCRIPT_DIRS | PACKAGING_DIRS))
    if guard and not src.in_package:
        text = f"runs as a program (__main__ guard at line {guard}) outside a package"
        found.append(Signal(FileKind.SCRIPT, Strength.FIRM, text))
    if parsers and folder:
        # The folder word backed by code: a command-line program in tools/ or packaging/
        # is a script even where an __init__.py makes the folder importable.
        text = f"a command-line program ({parsers[0]}, __main__ guard at line {guard}) under {folder[0]}/"
        found.append(Signal(FileKind.SCRIPT, Strength.FIRM, text))
    elif parsers:
        found.append(Signal(FileKind.SCRIPT, Strength.NOTED, f"parses its command line with {parsers[0]}"))
    for node in src.tree.body:
        if isinstance(node, ast.FunctionDef) and (task := _task_decorator(src, node)):
            # Run by hand through the task runner (invoke build, fab deploy), not imported by the package.
            text = f"function {node.name} (line {node.lineno}) is a {task} task, run by hand through the task runner"
            found.append(Signal(FileKind.SCRIPT, Strength.FIRM, text, "task"))
            break
    for call in _top_level_calls(src.tree.body):
        if (name := src.qualname(call.func) or "") in SETUP_CALLS:
            text = f"calls {name}() at line {call.lineno} to build the package"
            found.append(Signal(FileKind.SCRIPT, Strength.FIRM, text, "packaging"))
            break
    defined = {node.name for node in src.tree.body if isinstance(node, ast.FunctionDef)}
    if BUILD_HOOKS <= defined:
        text = "defines build_wheel and build_sdist, the hooks of a build backend"
        found.append(Signal(FileKind.SCRIPT, Strength.FIRM, text, "packaging"))
    for statement in src.tree.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign) and isinstance(statement.value, ast.Call):
            if (made := src.qualname(statement.value.func) or "") in WEB_APP_CLASSES:
                text = f"makes a web application object with {made}() at line {statement.lineno}"
                found.append(Signal(FileKind.PRODUCTION, Strength.FIRM, text))
                break
    builds = any(s.subkind == "packaging" for s in found)
    if src.in_package and not builds:
        # Installed with the package and importable by its other modules, whatever the
        # folder is called (django/contrib/, a package's bin/ of command modules); one that
        # also runs as a program is less plainly a library.
        text = "a module of an importable package (an __init__.py sits beside it)"
        if guard:
            text += f" that can also run as a program (__main__ guard at line {guard})"
        found.append(Signal(FileKind.PRODUCTION, Strength.WEAK if guard else Strength.FIRM, text))
    return found


def _task_decorator(src: SourceFile, function: ast.FunctionDef) -> str:
    """The task runner whose task decorator the function carries ("" if none)."""
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (name := src.qualname(target) or "") in TASK_DECORATORS:
            return name.split(".", 1)[0]
    return ""


def _top_level_calls(body: Iterable[ast.stmt]) -> Iterable[ast.Call]:
    """Calls made by the module's own statements (also under if/with/try), not in definitions."""
    for statement in body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            yield statement.value
        elif isinstance(statement, ast.If | ast.With | ast.Try):
            yield from _top_level_calls(statement.body)
            yield from _top_level_calls(getattr(statement, "orelse", []))


def decide(signals: list[Signal]) -> tuple[FileKind, list[str]]:
    """The kind the strongest signal names (ties go by PRECEDENCE), and every signal weighed
    as a reason: the deciding one first, then the others with what they would have said."""
    counted = [s for s in signals if s.strength > Strength.NOTED]
    if not counted:
        shown = [f"{s.text} (noted, decides nothing alone)" for s in signals]
        return FileKind.PRODUCTION, ["no test, script, migration, example or docs signal", *shown]
    winner = max(counted, key=lambda s: (s.strength, -PRECEDENCE.index(s.kind)))
    reasons = [f"{winner.text} ({winner.strength.name.lower()} {winner.kind.value} signal, decides)"]
    rest = sorted((s for s in signals if s is not winner), key=lambda s: -s.strength)
    for signal in rest:
        if signal.strength is Strength.NOTED:
            reasons.append(f"{signal.text} (noted)")
        elif signal.kind is winner.kind:
            reasons.append(f"{signal.text} ({signal.strength.name.lower()} {signal.kind.value} signal, agrees)")
        else:
            reasons.append(f"{signal.text} ({signal.strength.name.lower()} {signal.kind.value} signal, outweighed)")
    return winner.kind, reasons


def subkinds_of(kind: FileKind, signals: list[Signal]) -> list[str]:
    """What the signals of the deciding kind add to it (a packaging script)."""
    return list(dict.fromkeys(s.subkind for s in signals if s.kind is kind and s.subkind and s.strength))
