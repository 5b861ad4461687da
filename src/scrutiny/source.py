"""SourceFile: one reviewed file as text, syntax tree, comments and import aliases.

Only ``tokenize`` and ``ast.parse`` ever see the code; it is never imported or run.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrutiny.commented import BugNote, CommentedCode

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
RUNNING_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

SUPPRESSION = re.compile(r"#\s*scrutiny:\s*ignore\[([A-Za-z0-9_,\s-]+)\](.*)$")


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


@dataclass
class SourceFile:
    path: str
    text: str
    tree: ast.Module
    comments: list[Comment] = field(default_factory=list)
    in_package: bool = False  # an __init__.py sits beside it on disk

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @property
    def line_count(self) -> int:
        return len(self.lines)

    def line_text(self, line: int) -> str:
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return ""

    def snippet(self, line: int, end_line: int = 0, limit: int = 6) -> str:
        end = max(line, end_line)
        end = min(end, line + limit - 1)
        return "\n".join(self.line_text(n).rstrip() for n in range(line, end + 1))

    # Import aliases ---------------------------------------------------------------

    @cached_property
    def aliases(self) -> dict[str, str]:
        """Local name -> fully qualified name, from every import in the file."""
        names: dict[str, str] = {}
        for node in ast.walk(self.tree):
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
    def imported_modules(self) -> frozenset[str]:
        modules: set[str] = set()
        for node in ast.walk(self.tree):
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
        parts: list[str] = []
        while True:
            if isinstance(node, ast.Attribute):
                parts.append(node.attr)
                node = node.value
            elif isinstance(node, ast.Call):
                parts.append("()")
                node = node.func
            elif isinstance(node, ast.Name):
                parts.append(self.aliases.get(node.id, node.id))
                break
            else:
                return None
        dotted = ".".join(reversed(parts))
        return dotted.replace(".()", "()")

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
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.stmt):
                continue
            start = node.lineno
            end = node.end_lineno or start
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                end = max(start, body[0].lineno - 1)
                decorators = getattr(node, "decorator_list", [])
                if decorators:
                    start = min(d.lineno for d in decorators)
            for line in range(start, end + 1):
                known = spans.get(line)
                if known is None or known[1] - known[0] > end - start:
                    spans[line] = (start, end)
        return spans

    def statement_span(self, line: int) -> tuple[int, int]:
        return self._statement_spans.get(line, (line, line))

    def suppression_for(self, line: int, end_line: int, rule_id: str) -> Suppression | None:
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
        lines = text.splitlines()
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


def parse(text: str, path: str) -> ast.Module:
    try:
        return ast.parse(text, filename=path)
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
        raise SourceError("syntax", f"line {exc.lineno}: {exc.msg}", exc.lineno or 0) from None
    except RecursionError:
        raise SourceError("too-deep", "nesting is too deep for the Python parser") from None
    except MemoryError:
        raise SourceError("too-large", "the parser ran out of memory on this file") from None
    except ValueError as exc:  # e.g. NUL bytes that slipped past decode()
        raise SourceError("binary", str(exc)) from None


def read_comments(text: str) -> list[Comment]:
    comments: list[Comment] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                line, col = token.start
                own = not token.line[:col].strip()
                comments.append(Comment(line, col, token.string, own))
    except (tokenize.TokenError, SyntaxError):
        # The parser accepted the file, so this is a tokenizer corner case; comments
        # found so far are kept and the rest of the review goes on.
        pass
    return comments


def load(data: bytes, path: str, *, in_package: bool = False, max_bytes: int = DEFAULT_MAX_BYTES) -> SourceFile:
    text = decode(data, path, max_bytes)
    tree = parse(text, path)
    return SourceFile(path=path, text=text, tree=tree, comments=read_comments(text), in_package=in_package)
