"""SourceFile: one reviewed file as text, syntax tree, comments and import aliases.

Only ``tokenize`` and ``ast.parse`` ever see the code; it is never imported or run.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
import warnings
from dataclasses import dataclass
from functools import cached_property
from itertools import compress, count, repeat
from operator import contains
from typing import TYPE_CHECKING

from scrutiny import python2
from scrutiny.python2 import Python2Repair

if TYPE_CHECKING:
    from scrutiny.commented import BugNote, CommentedCode
    from scrutiny.findings import Excerpt

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
RUNNING_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

SUPPRESSION = re.compile(r"#\s*scrutiny:\s*ignore\[([A-Za-z0-9_,\s-]+)\](.*)$")


def split_lines(text: str) -> list[str]:
    """Lines as the Python parser counts them: only \\n, \\r\\n and \\r end a line.

    (str.splitlines also splits on form feeds and Unicode separators, which would shift
    every line number after one.)
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# The modules os.path stands for; their functions are named as os.path's.
PATH_MODULES = ("posixpath.", "ntpath.")

class SourceError(Exception):
    """A file that cannot be reviewed; ``kind`` is a stable short word."""

    def __init__(self, kind: str, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line


@dataclass(frozen=True, slots=True)
class Comment:
    line: int
    col: int
    text: str  # including the leading '#'
    own_line: bool  # nothing but white space before it on its line


@dataclass(frozen=True, slots=True)
class Suppression:
    line: int
    rule_ids: frozenset[str]
    reason: str


FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


# Statements that hold no other statement: each node belongs to at most one of them.
SIMPLE_STATEMENTS = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Assert, ast.Raise, ast.Delete)
_SIMPLE_STATEMENT_TYPES = frozenset(SIMPLE_STATEMENTS)
_CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


def _child_fields(node_type: type[ast.AST]) -> tuple[str, ...]:
    fields = _CHILD_FIELDS.get(node_type)
    if fields is None:
        # expr_context (Load/Store/Del) children carry nothing a rule reads.
        fields = _CHILD_FIELDS[node_type] = tuple(f for f in node_type._fields if f not in ("ctx", "type_ignores"))
    return fields


# Fields that never hold a node (names, flags, a constant's value), per node type: the index's
# walk skips them instead of reading each and testing it. A type not listed reads every field.
_PRIMITIVE_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {
    ast.Constant: ("value", "kind"),
    ast.Name: ("id",),
    ast.Attribute: ("attr",),
    ast.arg: ("arg", "type_comment"),
    ast.keyword: ("arg",),
    ast.FunctionDef: ("name", "type_comment"),
    ast.AsyncFunctionDef: ("name", "type_comment"),
    ast.ClassDef: ("name",),
    ast.alias: ("name", "asname"),
    ast.ImportFrom: ("module", "level"),
    ast.Global: ("names",),
    ast.Nonlocal: ("names",),
    ast.ExceptHandler: ("name",),
    ast.comprehension: ("is_async",),
    ast.FormattedValue: ("conversion",),
    ast.AnnAssign: ("simple",),
    ast.Assign: ("type_comment",),
    ast.For: ("type_comment",),
    ast.AsyncFor: ("type_comment",),
    ast.With: ("type_comment",),
    ast.AsyncWith: ("type_comment",),
}
_FUNCTION_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef)
# node type -> (its node-holding fields last-first, is a function, is a simple statement)
_WALK_PLANS: dict[type[ast.AST], tuple[tuple[str, ...], bool, bool]] = {}


def _walk_plan(node_type: type[ast.AST]) -> tuple[tuple[str, ...], bool, bool]:
    primitive = _PRIMITIVE_FIELDS.get(node_type, ())
    fields = tuple(f for f in reversed(_child_fields(node_type)) if f not in primitive)
    plan = _WALK_PLANS[node_type] = (fields, node_type in _FUNCTION_TYPES, node_type in _SIMPLE_STATEMENT_TYPES)
    return plan


# node type -> every field that can hold a node, ctx included (what ast.walk visits)
_WALK_ALL_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


def walk_nodes(node: ast.AST) -> list[ast.AST]:
    """``list(ast.walk(node))``, same nodes in the same (breadth-first) order, without a
    generator per node and per field: several rules walk the same functions again and again."""
    found: list[ast.AST] = [node]
    add = found.append
    node_class = ast.AST
    plans = _WALK_ALL_FIELDS
    position = 0
    while position < len(found):
        current = found[position]
        position += 1
        node_type = current.__class__
        fields = plans.get(node_type)
        if fields is None:
            primitive = _PRIMITIVE_FIELDS.get(node_type, ())
            fields = plans[node_type] = tuple(f for f in node_type._fields if f not in primitive)
        for name in fields:
            value = getattr(current, name, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, node_class):
                        add(item)
            elif isinstance(value, node_class):
                add(value)
    return found


class TreeIndex:
    """One pass over the tree that every rule and observer reads instead of re-walking.

    ``nodes`` is in source order (pre-order); ``function_of`` maps a node to its innermost
    enclosing function (None at module or class level); ``statement_nodes`` maps each
    simple statement to the nodes of its subtree.
    """

    def __init__(self, tree: ast.Module) -> None:
        self.nodes: list[ast.AST] = []
        self.by_type: dict[type[ast.AST], list[ast.AST]] = {}
        self.parents: dict[ast.AST, ast.AST] = {}
        self.function_of: dict[ast.AST, FunctionNode | None] = {}
        self.statement_nodes: dict[ast.stmt, list[ast.AST]] = {}
        self._slots: dict[ast.AST, dict[int, tuple[str, int]]] = {}  # parent -> id(child) -> slot()
        nodes, by_type, parents, function_of = self.nodes, self.by_type, self.parents, self.function_of
        statement_nodes = self.statement_nodes
        node_class = ast.AST
        plans = _WALK_PLANS
        stack: list[tuple[ast.AST, FunctionNode | None, list[ast.AST] | None]] = [(tree, None, None)]
        pop, push, add = stack.pop, stack.append, nodes.append
        # A hand-rolled walk: ast.iter_child_nodes costs a generator per node and this
        # loop is the hottest in scrutiny. Children are pushed last-first so they pop in
        # source order; each node type's plan says which fields can hold a node.
        while stack:
            node, function, bucket = pop()
            add(node)
            node_type = node.__class__
            found = by_type.get(node_type)
            if found is None:
                by_type[node_type] = [node]
            else:
                found.append(node)
            function_of[node] = function
            plan = plans.get(node_type)
            if plan is None:
                plan = _walk_plan(node_type)
            fields, is_function, is_simple = plan
            if bucket is not None:
                bucket.append(node)
            elif is_simple:
                bucket = statement_nodes[node] = [node]  # type: ignore[index]
            inner = node if is_function else function
            for name in fields:
                value = getattr(node, name, None)
                if value.__class__ is list:
                    # (Dict.keys holds None for a ** spread.)
                    for item in reversed(value):
                        if isinstance(item, node_class):
                            parents[item] = node
                            push((item, inner, bucket))  # type: ignore[arg-type]
                elif isinstance(value, node_class):
                    parents[value] = node
                    push((value, inner, bucket))  # type: ignore[arg-type]

    def slot(self, child: ast.AST) -> tuple[str, int]:
        """The field of its parent that holds ``child``, and its position in that field's list
        (-1 for a field holding one node); ("", -1) for the module.

        Rules ask "is this value a dict key?" or "which value is it?" of every literal in a
        literal of 100,000 entries: scanning the parent's list each time made that quadratic.
        Each parent's children are numbered once, on the first question about one of them.
        """
        parent = self.parents.get(child)
        if parent is None:
            return "", -1
        slots = self._slots.get(parent)
        if slots is None:
            slots = self._slots[parent] = {}
            for name in _child_fields(parent.__class__):
                value = getattr(parent, name, None)
                if value.__class__ is list:
                    for position, item in enumerate(value):
                        if item is not None:
                            slots[id(item)] = (name, position)
                elif value is not None:
                    slots[id(value)] = (name, -1)
        return slots.get(id(child), ("", -1))

    def of_type(self, *types: type[ast.AST]) -> list[ast.AST]:
        if len(types) == 1:
            return self.by_type.get(types[0], [])
        return [node for t in types for node in self.by_type.get(t, [])]

    @cached_property
    def calls_by_function(self) -> dict[FunctionNode | None, list[ast.Call]]:
        """The calls made directly in each function (not in functions nested in it), in source order."""
        calls: dict[FunctionNode | None, list[ast.Call]] = {}
        function_of = self.function_of
        for node in self.by_type.get(ast.Call, []):
            calls.setdefault(function_of[node], []).append(node)  # type: ignore[arg-type]
        return calls

    def functions(self) -> list[FunctionNode]:
        found = [f for f in self.of_type(ast.FunctionDef, ast.AsyncFunctionDef) if isinstance(f, FunctionNode)]
        return sorted(found, key=lambda f: (f.lineno, f.col_offset))


@dataclass
class SourceFile:
    path: str
    text: str
    tree: ast.Module
    in_package: bool = False  # an __init__.py sits beside it on disk
    # Python 2 code: ``text`` is the repaired text (same lines), and these are the repairs.
    python2_repairs: tuple[Python2Repair, ...] = ()

    @cached_property
    def lines(self) -> list[str]:
        return split_lines(self.text)

    @cached_property
    def comments(self) -> list[Comment]:
        return read_comments(self.lines, self.index)

    @cached_property
    def index(self) -> TreeIndex:
        return TreeIndex(self.tree)

    @property
    def line_count(self) -> int:
        return len(self.lines)

    def line_text(self, line: int) -> str:
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return ""

    def excerpt(self, line: int, end_line: int = 0, around: int = 2, limit: int = 12) -> Excerpt:
        """The statement holding lines ``line``-``end_line``, with ``around`` lines before and
        after; a statement longer than ``limit`` lines is cut to the reported lines."""
        from scrutiny.findings import Excerpt  # findings imports this module through context

        start, stop = self.statement_span(line)
        start, stop = min(start, line), max(stop, end_line, line)
        if stop - start >= limit:
            start, stop = line, min(max(end_line, line), line + limit - 1)
        first, last = max(1, start - around), min(len(self.lines), stop + around)
        return Excerpt(first, tuple(self.lines[first - 1 : last]), (start, stop))

    def snippet(self, line: int, end_line: int = 0, limit: int = 6) -> str:
        end = max(line, end_line)
        end = min(end, line + limit - 1)
        return "\n".join(self.line_text(n).rstrip() for n in range(line, end + 1))

    # Import aliases ---------------------------------------------------------------

    @cached_property
    def aliases(self) -> dict[str, str]:
        """Local name -> fully qualified name, from every import in the file."""
        names: dict[str, str] = {}
        for node in self.index.of_type(ast.Import, ast.ImportFrom):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        names[alias.asname] = alias.name
                    else:
                        root = alias.name.split(".", 1)[0]
                        names[root] = root
            elif isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    local = alias.asname or alias.name
                    names[local] = f"{module}.{alias.name}" if module else alias.name
        return names

    @cached_property
    def references(self) -> dict[str, str]:
        """Module-level names bound once to an imported object's attribute chain, and what
        they stand for: ``gen = rsa.generate_private_key`` makes ``gen(...)`` that call."""
        aliases = self.aliases
        bound: dict[str, list[ast.expr]] = {}
        for statement in self.tree.body:
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            bound.setdefault(name.id, []).append(statement.value)
            elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value:
                bound.setdefault(statement.target.id, []).append(statement.value)
            elif isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
                bound.setdefault(statement.target.id, []).extend([statement.value] * 2)  # rebound: not one value
        found: dict[str, str] = {}
        for local, values in bound.items():
            if len(values) != 1 or local in aliases or not isinstance(values[0], ast.Attribute):
                continue
            value = values[0]
            parts: list[str] = []
            root: ast.expr = value
            while isinstance(root, ast.Attribute):
                parts.append(root.attr)
                root = root.value
            if isinstance(root, ast.Name) and root.id in aliases:
                found[local] = ".".join([aliases[root.id], *reversed(parts)])
        return found

    @cached_property
    def names(self) -> dict[str, str]:
        """Import aliases and module-level references together: how a bare name resolves."""
        return {**self.references, **self.aliases} if self.references else self.aliases

    @cached_property
    def imported_modules(self) -> frozenset[str]:
        modules: set[str] = set()
        for node in self.index.of_type(ast.Import, ast.ImportFrom):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module)
        return frozenset(modules)

    def qualname(self, node: ast.AST | None) -> str | None:
        """Dotted name of a Name/Attribute chain with its root resolved through imports.

        ``sp.run`` after ``import subprocess as sp`` gives ``subprocess.run``; a call in the
        chain is kept as ``()`` so ``ssl.create_default_context().check_hostname`` resolves.
        """
        # Memoised per node: dozens of rules ask for the same call's name.
        memo = self._qualnames
        if node in memo:
            return memo[node]
        name = memo[node] = self._qualname(node)
        return name

    @cached_property
    def _qualnames(self) -> dict[ast.AST | None, str | None]:
        return {}

    def _qualname(self, node: ast.AST | None) -> str | None:
        parts: list[str] = []
        while True:
            if isinstance(node, ast.Attribute):
                parts.append(node.attr)
                node = node.value
            elif isinstance(node, ast.Call):
                parts.append("()")
                node = node.func
            elif isinstance(node, ast.Name):
                resolved = self.names.get(node.id)
                if resolved is not None and self._shadowed(node):
                    resolved = None  # a local of the same name hides the import here
                parts.append(resolved or node.id)
                break
            else:
                return None
        dotted = ".".join(reversed(parts)).replace(".()", "()")
        if dotted.startswith(PATH_MODULES):
            # os.path is posixpath (or ntpath): the same functions under the name models use.
            dotted = "os.path." + dotted.split(".", 1)[1]
        return dotted

    def _shadowed(self, name: ast.Name) -> bool:
        """Whether the function using ``name`` (or one enclosing it) binds that name itself,
        so the use is the local (``session = requests.Session()``), not the import."""
        function = self.index.function_of.get(name)
        while function is not None:
            if name.id in self._function_locals.get(function, ()):
                return True
            function = self.index.function_of.get(function)
        return False

    @cached_property
    def _function_locals(self) -> dict[ast.AST, set[str]]:
        """The names each function binds other than by importing: parameters, assignment and
        loop targets, with and except names, nested definitions (one pass over the index)."""
        index = self.index
        bound: dict[ast.AST, set[str]] = {}
        imported: dict[ast.AST, set[str]] = {}

        def add(table: dict[ast.AST, set[str]], node: ast.AST, name: str | None) -> None:
            function = index.function_of.get(node)
            if function is not None and name:
                table.setdefault(function, set()).add(name)

        function_of, store = index.function_of, ast.Store
        for node in index.by_type.get(ast.Name, ()):  # add(), inlined: a file has many names
            if isinstance(node.ctx, store) and node.id:  # type: ignore[attr-defined]
                function = function_of.get(node)
                if function is not None:
                    names = bound.get(function)
                    if names is None:
                        names = bound[function] = set()
                    names.add(node.id)  # type: ignore[attr-defined]
        for node in index.of_type(ast.arg):
            # A lambda's parameters are its own; the function holding the lambda keeps its names.
            if not isinstance(index.parents.get(index.parents.get(node, node)), ast.Lambda):
                add(bound, node, getattr(node, "arg", None))
        for node in index.of_type(ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler):
            add(bound, node, getattr(node, "name", None))
        for node in index.of_type(ast.alias):
            assert isinstance(node, ast.alias)
            add(imported, node, node.asname or node.name.split(".", 1)[0])
        for node in index.of_type(ast.Global, ast.Nonlocal):
            for name in getattr(node, "names", ()):
                add(imported, node, name)  # rebinds the outer name: not a local of its own
        return {function: names - imported.get(function, set()) for function, names in bound.items()}

    def call_name(self, call: ast.Call) -> str | None:
        return self.qualname(call.func)

    # Comments ---------------------------------------------------------------------

    @cached_property
    def commented_code(self) -> list[CommentedCode]:
        from scrutiny.commented import find_commented_code

        return find_commented_code(self)

    @cached_property
    def bug_notes(self) -> list[BugNote]:
        from scrutiny.commented import find_bug_notes

        return find_bug_notes(self)

    # Suppressions and statements ------------------------------------------------------

    @cached_property
    def suppressions(self) -> dict[int, Suppression]:
        found: dict[int, Suppression] = {}
        for comment in self.comments:
            match = SUPPRESSION.search(comment.text)
            if match:
                ids = frozenset(part.strip().upper() for part in match.group(1).split(",") if part.strip())
                found[comment.line] = Suppression(comment.line, ids, match.group(2).strip())
        return found

    @cached_property
    def _statement_spans(self) -> dict[int, tuple[int, int]]:
        """Line -> (first, last) line of the smallest statement (or compound header) on it."""
        spans: dict[int, tuple[int, int]] = {}
        known_span = spans.get
        statement = ast.stmt
        for node in self.index.nodes:
            if not isinstance(node, statement):
                continue
            start = node.lineno
            end = node.end_lineno or start
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], statement):
                end = max(start, body[0].lineno - 1)
                decorators = getattr(node, "decorator_list", [])
                if decorators:
                    start = min(d.lineno for d in decorators)
            span, width = (start, end), end - start
            if width == 0:  # most statements: one line, one look-up
                known = known_span(start)
                if known is None or known[1] - known[0] > 0:
                    spans[start] = span
                continue
            for line in range(start, end + 1):
                known = known_span(line)
                if known is None or known[1] - known[0] > width:
                    spans[line] = span
        return spans

    def statement_span(self, line: int) -> tuple[int, int]:
        return self._statement_spans.get(line, (line, line))

    def suppression_for(self, line: int, end_line: int, rule_id: str) -> Suppression | None:
        if not self.suppressions:
            return None
        start, stop = self.statement_span(line)
        for number in range(min(start, line), max(stop, end_line) + 1):
            suppression = self.suppressions.get(number)
            if suppression and rule_id in suppression.rule_ids:
                return suppression
        return None


# Loading ---------------------------------------------------------------------------


def decode(data: bytes, path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Bytes of a Python file to text, honouring its coding cookie and BOM."""
    if len(data) > max_bytes:
        raise SourceError("too-large", f"file is {len(data):,} bytes; the limit is {max_bytes:,} bytes")
    if b"\0" in data[:8192]:
        raise SourceError("binary", "file contains NUL bytes; it is not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError("encoding", f"bad coding cookie: {exc.msg}") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError("encoding", f"not valid {encoding} at byte {exc.start} (line {line})", line) from None
    except LookupError:
        raise SourceError("encoding", f"unknown encoding {encoding!r} in coding cookie") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\0" in text:
        raise SourceError("binary", "file contains NUL characters; it is not Python source")
    return text


NEWER_SYNTAX = (
    # (pattern on the offending line, Python version that accepts it, what it is)
    (re.compile(r"^\s*type\s+\w+\s*(\[.*\])?\s*="), "3.12", "a type alias statement (PEP 695)"),
    (re.compile(r"^\s*(async\s+)?def\s+\w+\s*\["), "3.12", "generic function syntax (PEP 695)"),
    (re.compile(r"^\s*class\s+\w+\s*\["), "3.12", "generic class syntax (PEP 695)"),
    (re.compile(r"""(?<![\w.])[tT][rR]?["']"""), "3.14", "a template string (PEP 750)"),
    (re.compile(r"^\s*except\s+[^():]+,[^:]+:"), "3.14", "except without parentheses (PEP 758)"),
)


def _newer_python_hint(exc: SyntaxError, text: str) -> tuple[str, str] | None:
    """Recognise code written for a newer Python than the one running scrutiny."""
    line = ""
    if exc.lineno:
        lines = split_lines(text)
        if 0 < exc.lineno <= len(lines):
            line = lines[exc.lineno - 1]
    message = exc.msg or ""
    if message.startswith("f-string") and sys.version_info < (3, 12):
        return "3.12", "an f-string that only the Python 3.12 parser accepts (PEP 701)"
    for pattern, version, what in NEWER_SYNTAX:
        major, minor = (int(part) for part in version.split("."))
        if sys.version_info < (major, minor) and pattern.search(line):
            return version, what
    return None


TOO_DEEP_MESSAGES = {
    "too many nested parentheses",
    "too many levels of indentation",
    "too many statically nested blocks",
}


def quiet_parse(text: str, filename: str = "<unknown>") -> ast.Module:
    """ast.parse, without the compiler's warnings about the reviewed code (an invalid
    escape, ``1if``) reaching the user's terminal: they are about code, not the review."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text, filename=filename)


def parse(text: str, path: str) -> ast.Module:
    return parse_source(text, path).tree


@dataclass(frozen=True, slots=True)
class Parsed:
    """The text reviewed (repaired if it was Python 2), its tree and what was repaired."""

    text: str
    tree: ast.Module
    python2_repairs: tuple[Python2Repair, ...] = ()


def parse_source(text: str, path: str) -> Parsed:
    """Parse ``text``; Python 2 code is parsed after a line-by-line repair (python2.py)."""
    try:
        return Parsed(text, _parse(text, path))
    except SourceError as error:
        if error.kind not in ("syntax", "newer-python"):
            raise
        original = error
        repaired = python2.repair(text)
        if not repaired.repairs:
            raise
    try:
        return Parsed(repaired.text, _parse(repaired.text, path), repaired.repairs)
    except SourceError as still:
        # Tabs mixed with spaces alone do not make a broken file Python 2: its own error stands.
        if still.kind == "too-deep" or not repaired.shows_python2:
            raise original from None
        constructs = ", ".join(sorted({r.construct for r in repaired.repairs}))
        raise SourceError(
            "python2",
            f"line {still.line}: Python 2 syntax that scrutiny cannot repair ({still.message.split(': ', 1)[-1]}); "
            f"it repaired {_lines(len({r.line for r in repaired.repairs}))} elsewhere: {constructs}",
            still.line,
        ) from None


def _lines(count: int) -> str:
    return f"{count} line" if count == 1 else f"{count} lines"


def _parse(text: str, path: str) -> ast.Module:
    try:
        return quiet_parse(text, path)
    except SyntaxError as exc:
        hint = _newer_python_hint(exc, text)
        if hint:
            version, what = hint
            raise SourceError(
                "newer-python",
                f"line {exc.lineno}: {what}; needs Python {version} or newer, "
                f"scrutiny is running on Python {RUNNING_PYTHON}",
                exc.lineno or 0,
            ) from None
        kind = "too-deep" if exc.msg in TOO_DEEP_MESSAGES else "syntax"
        raise SourceError(kind, f"line {exc.lineno}: {exc.msg}", exc.lineno or 0) from None
    except RecursionError:
        raise SourceError("too-deep", "nesting is too deep for the Python parser") from None
    except MemoryError:
        # CPython's parser reports a stack overflow on deeply nested code this way.
        raise SourceError("too-deep", "the parser's stack overflowed: the code is nested too deeply") from None
    except ValueError as exc:  # e.g. NUL bytes that slipped past decode()
        raise SourceError("binary", str(exc)) from None


def _char_col(line: str, byte_col: int) -> int:
    if line.isascii():
        return byte_col
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", "replace"))


def _fragment_comments(lines: list[str], node: ast.expr) -> list[Comment]:
    """Comments between the parts of a string implicitly concatenated over several lines.

    The parser gives one span for ``'a'  # note`` + newline + ``'b'``, so the text of that
    span alone is tokenized (in parentheses, so its indentation does not matter).
    """
    first, last = node.lineno, node.end_lineno or node.lineno
    start = _char_col(lines[first - 1], node.col_offset)
    fragment = [lines[first - 1][start:], *lines[first:last]]
    found: list[Comment] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO("(" + "\n".join(fragment) + "\n)").readline):
            if token.type == tokenize.COMMENT:
                row, col = token.start
                number = first + row - 1
                column = start + col - 1 if row == 1 else col
                found.append(Comment(number, column, token.string, not lines[number - 1][:column].strip()))
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def _string_spans(
    index: TreeIndex, lines: list[str], lines_with_hash: set[int]
) -> tuple[dict[int, list[tuple[int, int]]], list[Comment]]:
    """Byte-column ranges covered by string literals on the lines that contain '#',
    and the comments found inside multi-line implicit concatenations."""
    spans: dict[int, list[tuple[int, int]]] = {}
    inner: list[Comment] = []
    strings = (str, bytes)
    # Constants first, then f-strings (the order of_type gave; it orders ``inner``).
    for node in [*index.by_type.get(ast.Constant, ()), *index.by_type.get(ast.JoinedStr, ())]:
        if node.__class__ is ast.Constant and not isinstance(node.value, strings):  # type: ignore[attr-defined]
            continue
        first = node.lineno  # type: ignore[attr-defined]
        last = node.end_lineno or first  # type: ignore[attr-defined]
        if first == last:  # most literals: one set lookup
            if first not in lines_with_hash:
                continue
            end_col = node.end_col_offset  # type: ignore[attr-defined]
            spans.setdefault(first, []).append(
                (node.col_offset, end_col if end_col is not None else 1 << 30)  # type: ignore[attr-defined]
            )
            continue
        hashed = lines_with_hash.intersection(range(first, last + 1))
        if not hashed:
            continue
        opening = lines[first - 1][_char_col(lines[first - 1], node.col_offset) :].lstrip("rRbBuUfF")  # type: ignore[attr-defined]
        if not opening.startswith(('"""', "'''")):
            inner.extend(_fragment_comments(lines, node))  # type: ignore[arg-type]
        end_col = node.end_col_offset if node.end_col_offset is not None else 1 << 30  # type: ignore[attr-defined]
        for line in sorted(hashed):
            start = node.col_offset if line == first else 0  # type: ignore[attr-defined]
            stop = end_col if line == last else 1 << 30
            spans.setdefault(line, []).append((start, stop))
    return spans, inner


def read_comments(lines: list[str], index: TreeIndex) -> list[Comment]:
    """Comments: every '#' outside a string literal starts one.

    The parser already knows where every string is, so this avoids running the
    pure-Python tokenizer over the whole file (several times slower than parsing).
    """
    # (compress and map keep this loop over every line in C)
    lines_with_hash = set(compress(count(1), map(contains, lines, repeat("#"))))
    if not lines_with_hash:
        return []
    spans, inner = _string_spans(index, lines, lines_with_hash)
    comments: list[Comment] = list(inner)
    for number in sorted(lines_with_hash):
        line = lines[number - 1]
        ranges = spans.get(number, ())
        position = line.find("#")
        while position != -1:
            column = position if line.isascii() else len(line[:position].encode("utf-8"))
            if not any(start <= column < stop for start, stop in ranges):
                comments.append(Comment(number, position, line[position:], not line[:position].strip()))
                break
            position = line.find("#", position + 1)
    unique = {(c.line, c.col): c for c in comments}
    return [unique[key] for key in sorted(unique)]


def load(data: bytes, path: str, *, in_package: bool = False, max_bytes: int = DEFAULT_MAX_BYTES) -> SourceFile:
    parsed = parse_source(decode(data, path, max_bytes), path)
    return SourceFile(path, parsed.text, parsed.tree, in_package, parsed.python2_repairs)


COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.TryStar)


def defined_in(body: list[ast.stmt]) -> list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    """Functions and classes a body defines, also inside its if/for/with/try blocks (not inside other defs)."""
    out: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = []
    todo = list(reversed(body))
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.append(node)
        elif isinstance(node, COMPOUND):
            inner: list[ast.stmt] = [*node.body, *getattr(node, "orelse", ()), *getattr(node, "finalbody", ())]
            for handler in getattr(node, "handlers", ()):
                inner.extend(handler.body)
            todo.extend(reversed(inner))
        elif isinstance(node, ast.Match):
            todo.extend(reversed([s for case in node.cases for s in case.body]))
    return out
