"""Reads the taint fixture cases: each a vulnerable program and its safe twin.

A case is marked on the line of its sink. The vulnerable line carries
``# expect: SCR5nn from=LINE case=NAME src=FAMILY via=FEATURE,...`` (``from=FILE:LINE`` when the
source is in another file of the case's tree); the safe twin's sink line carries ``# safe: NAME``.
Single files under tests/fixtures/taint/ and tests/fixtures/rules/SCR5nn.py are reviewed one
by one; each directory under tests/fixtures/taint/ is reviewed as one tree.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:[^#]*?((?:SCR5\d\d\s*)+)(?P<rest>[^#]*)")
SAFE = re.compile(r"#\s*safe:\s*([\w-]+(?:[ ,]+[\w-]+)*)")
FIELD = re.compile(r"(from|case|src|via)=(\S+)")


@dataclass
class Case:
    name: str
    unit: Path  # the file or directory reviewed
    path: str  # the sink's file, relative to the unit's directory
    line: int
    rule_id: str
    source: tuple[str, int]  # (file, line)
    family: str
    features: tuple[str, ...]
    safe: list[tuple[str, int]] = field(default_factory=list)


def units() -> list[Path]:
    rules = sorted((FIXTURES / "rules").glob("SCR5*.py"))
    taint = sorted((FIXTURES / "taint").iterdir())
    return [*rules, *(p for p in taint if p.suffix == ".py" or p.is_dir())]


def files_of(unit: Path) -> list[Path]:
    return sorted(unit.rglob("*.py")) if unit.is_dir() else [unit]


def relative(unit: Path, path: Path) -> str:
    return path.relative_to(unit).as_posix() if unit.is_dir() else path.name


def _comments(path: Path) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    return [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type == tokenize.COMMENT
    ]


def read_cases() -> tuple[dict[str, Case], list[str]]:
    """Every case by name, and the problems with the marks themselves."""
    cases: dict[str, Case] = {}
    safe: dict[str, list[tuple[Path, str, int]]] = {}
    problems: list[str] = []
    for unit in units():
        for path in files_of(unit):
            name = relative(unit, path)
            for line, comment in _comments(path):
                if match := SAFE.search(comment):
                    for twin in re.split(r"[ ,]+", match.group(1)):
                        safe.setdefault(twin, []).append((unit, name, line))
                match = EXPECT.search(comment)
                if not match:
                    continue
                fields = dict(FIELD.findall(match.group("rest")))
                ids = match.group(1).split()
                where = f"{path}:{line}"
                if len(ids) != 1 or not {"from", "case", "src"} <= fields.keys():
                    problems.append(f"{where}: one SCR5 id with from=, case= and src= expected")
                    continue
                origin = fields["from"]
                source = (
                    (origin.rpartition(":")[0], int(origin.rpartition(":")[2]))
                    if ":" in origin
                    else (name, int(origin))
                )
                if fields["case"] in cases:
                    problems.append(f"{where}: case {fields['case']} marked twice")
                features = tuple(f for f in fields.get("via", "").split(",") if f)
                cases[fields["case"]] = Case(fields["case"], unit, name, line, ids[0], source, fields["src"], features)
    for name, lines in safe.items():
        if name not in cases:
            problems.append(f"safe twin of unknown case {name} at {lines[0][1]}:{lines[0][2]}")
            continue
        for unit, path, line in lines:
            if unit != cases[name].unit:
                problems.append(f"safe twin of {name} is not in the same fixture")
            cases[name].safe.append((path, line))
    problems += [f"case {c.name} has no safe twin (# safe: {c.name})" for c in cases.values() if not c.safe]
    return cases, problems


def sink_calls_on(path: Path, line: int) -> list[str]:
    """Calls and item stores on ``line`` that the models name as sinks."""
    from scrutiny import source
    from scrutiny.taint.models import load

    models = load()
    src = source.load(path.read_bytes(), path.name)
    found = []
    for node in ast.walk(src.tree):
        if getattr(node, "lineno", None) != line:
            continue
        if isinstance(node, ast.Call):
            name = src.qualname(node.func) or ""
            method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            on_instance = {call.rsplit("().", 1)[-1] for call in models.sink_calls if "()." in call}
            chain = name.partition(".")[2]  # client.chat.completions.create on a client made by a call
            if name in models.sink_calls or method in models.sink_methods or {method, chain} & on_instance:
                found.append(name or method)
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
            name = src.qualname(node.value) or ""
            on_instance = any(call.endswith("().__setitem__") for call in models.sink_calls)
            if name + ".__setitem__" in models.sink_calls or on_instance:
                found.append(name + "[...]")
    return found


# Features: which syntax the path must pass through, checked on the lines of its steps.
FEATURES: dict[str, tuple[type[ast.AST], ...]] = {
    "unpack": (ast.Tuple, ast.List),
    "container": (ast.Dict, ast.List, ast.Set, ast.Tuple),
    "attribute": (ast.Attribute,),
    "subscript": (ast.Subscript,),
    "fstring": (ast.JoinedStr,),
    "percent": (ast.BinOp,),
    "format": (ast.Call,),
    "concat": (ast.BinOp,),
    "join": (ast.Call,),
    "comprehension": (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp),
    "with": (ast.With, ast.AsyncWith),
    "walrus": (ast.NamedExpr,),
    "return": (ast.Return,),
    "augassign": (ast.AugAssign,),
    "branch": (ast.If, ast.IfExp, ast.Try),
    "loop": (ast.For, ast.While, ast.AsyncFor),
}


def _feature_holds(feature: str, node: ast.AST) -> bool:
    if feature == "unpack":
        return isinstance(node, ast.Tuple | ast.List) and isinstance(node.ctx, ast.Store)
    if feature == "attribute":
        return isinstance(node.ctx, ast.Store)  # type: ignore[attr-defined]
    if feature == "percent":
        return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod)
    if feature == "concat":
        return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)
    if feature in ("format", "join"):
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == feature
    if feature == "container":
        return isinstance(node.ctx, ast.Load) if hasattr(node, "ctx") else True
    return True


def feature_seen(feature: str, trees: dict[str, ast.Module], steps: list[tuple[str, int]]) -> bool:
    """Whether some step of the path is on (or, for branches and loops, inside) the feature's syntax."""
    if feature == "recursion":
        return _recursion_seen(trees, steps)
    if feature == "guard":  # a check before the sink, in its function, that the path goes around
        path, line = steps[-1]
        functions = [f for f in ast.walk(trees[path]) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)]
        inner = [f for f in functions if f.lineno <= line <= (f.end_lineno or 0)]
        return any(
            isinstance(node, ast.If)
            and node.lineno < line
            and not node.lineno <= line <= (node.body[-1].end_lineno or 0)
            for function in inner[-1:]
            for node in ast.walk(function)
        )
    kinds = FEATURES[feature]
    spans = feature in ("branch", "loop", "with")
    for path, line in steps:
        tree = trees.get(path)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, kinds) or not _feature_holds(feature, node):
                continue
            start, end = node.lineno, (node.end_lineno or node.lineno) if spans else node.lineno
            if start <= line <= end and (not spans or line > start or feature == "with"):
                return True
    return False


def _recursion_seen(trees: dict[str, ast.Module], steps: list[tuple[str, int]]) -> bool:
    for path, line in steps:
        tree = trees.get(path)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.FunctionDef) and node.lineno <= line <= (node.end_lineno or 0):
                calls = {c.func.id for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
                if node.name in calls or any(_calls_back(tree, callee, node.name) for callee in calls):
                    return True
    return False


def _calls_back(tree: ast.Module, callee: str, name: str) -> bool:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == callee:
            return any(isinstance(c, ast.Call) and getattr(c.func, "id", "") == name for c in ast.walk(node))
    return False


def in_method(trees: dict[str, ast.Module], steps: list[tuple[str, int]]) -> bool:
    """Whether the path passes through a method of a class (self, cls, inheritance)."""
    for path, line in steps:
        tree = trees.get(path)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        if item.lineno <= line <= (item.end_lineno or item.lineno):
                            return True
    return False
