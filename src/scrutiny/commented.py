"""Code that was commented out, and comments that name a known bug.

A run of comment lines is commented-out code when, with the ``#`` removed, it parses
as Python that does something (a call, an assignment, an assert ...), not as prose.
The text is only handed to ``ast.parse``; it is never run.
"""

from __future__ import annotations

import ast
import keyword
import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scrutiny.source import quiet_parse

if TYPE_CHECKING:
    from scrutiny.source import Comment, SourceFile

# Longest run of comment lines tried as one piece of code; keeps the search linear
# in practice on files with long comment blocks.
MAX_CODE_LINES = 12

BUG_REFERENCE = re.compile(
    r"\b(?:FIXME|TODO|XXX|HACK|BUG|NOTE)\b[^:]*:?.*?\b(?:bug|lp|issue)\s*[#:]?\s*#?(\d{3,})"
    r"|\b(?:FIXME|TODO|XXX|HACK)\b.*?(?:bugs\.launchpad\.net/\S*?/(\d+)|#(\d{3,}))",
    re.IGNORECASE,
)
DIGIT = re.compile(r"\d")  # what BUG_REFERENCE calls a digit
MARKER = re.compile(r"\b(FIXME|TODO|XXX|HACK)\b")
# Words of a call's name (split at _ and case changes) that make it a check, and runs
# of words that do together: escape_html and verifyOrder are checks; split_quoted is not.
SECURITY_WORDS = frozenset({
    "authorize", "authorise", "enforce", "permission", "permissions", "verify", "validate", "sanitize",
    "sanitise", "escape", "csrf", "policy", "quote",
})  # fmt: skip
SECURITY_RUNS = (("has", "perm"), ("check", "access"), ("require", "admin"), ("is", "admin"), ("login", "required"))


# A call whose name starts with one of these gives a permission (add_permission,
# grantPolicy): commenting it out takes access away, it does not skip a check.
GRANTING_VERBS = frozenset({"add", "grant", "give", "assign"})


def is_security_call(name: str) -> bool:
    words = [w.lower() for w in re.split(r"[_\W]+|(?<=[a-z])(?=[A-Z])", name) if w]
    if words and words[0] in GRANTING_VERBS:
        return False
    if words == ["can"] or SECURITY_WORDS.intersection(words):
        return True
    return any(run == tuple(words[i : i + len(run)]) for run in SECURITY_RUNS for i in range(len(words)))


ACTION_NODES = (
    ast.Call,
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.Assert,
    ast.Return,
    ast.Raise,
    ast.Import,
    ast.ImportFrom,
    ast.If,
    ast.For,
    ast.While,
    ast.With,
    ast.FunctionDef,
    ast.ClassDef,
    ast.Delete,
)


@dataclass(frozen=True, slots=True)
class CommentedCode:
    start: int
    end: int
    code: str
    calls: tuple[str, ...]  # dotted names of the calls in it
    is_assertion: bool
    security_calls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BugNote:
    """A FIXME/TODO comment block that names a bug."""

    start: int
    end: int
    marker: str
    bug: str
    text: str


def comment_blocks(comments: list[Comment]) -> list[list[Comment]]:
    """Runs of own-line comments on consecutive lines."""
    blocks: list[list[Comment]] = []
    for comment in comments:
        if not comment.own_line:
            continue
        if blocks and blocks[-1][-1].line == comment.line - 1:
            blocks[-1].append(comment)
        else:
            blocks.append([comment])
    return blocks


def _uncomment(comment: Comment) -> str:
    text = comment.text[1:]
    return text[1:] if text.startswith(" ") else text


def _dotted(node: ast.AST) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _as_code(lines: list[str]) -> ast.Module | None:
    text = textwrap.dedent("\n".join(lines))
    if not text.strip() or text.lstrip().startswith(("#", "!")):
        return None
    try:
        tree = quiet_parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not any(isinstance(node, ACTION_NODES) for node in ast.walk(tree)):
        return None
    # Prose that happens to parse ("see foo(bar)") is one bare call with a single-word
    # line; real code has dotted calls, arguments, or several statements.
    return tree


# Only a line that starts like a statement can start commented-out code; testing this
# first spares a parse attempt for nearly every line of prose.
CODE_START = re.compile(
    r"^\s*(?:(?:assert|return|raise|import|from|if|elif|for|while|with|def|class|del|try|except|print)\b"
    r"|[A-Za-z_][\w.]*(?:\[[^\]]*\])?\s*(?:\(|[-+*/|&]?=[^=]|\.\w+\())"
)


EXAMPLE_LEAD = re.compile(r"(:|\b(e\.g\.|for example|for instance|such as|like|example))\s*$", re.IGNORECASE)


class _ProseBefore:
    """The block's lines before a position, as far as _introduces_example needs them: the
    last non-blank one and whether any has a FIXME/TODO. Read once as the position moves
    down the block (rereading every earlier line per code run made a long block quadratic)."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.read = 0
        self.last: str | None = None
        self.marked = False

    def up_to(self, index: int) -> _ProseBefore:
        for line in self.texts[self.read : index]:
            if line.strip():
                self.last = line
                self.marked = self.marked or MARKER.search(line) is not None
        self.read = max(self.read, index)
        return self


def _introduces_example(before: _ProseBefore) -> bool:
    """Prose ending in ':' or 'for example' introduces sample code, not disabled code,
    unless a FIXME/TODO in it says the code below is switched off."""
    last = before.last
    if last is None or CODE_START.match(last) or before.marked:
        return False
    return bool(EXAMPLE_LEAD.search(last.rstrip()))


# A prose line that stops on a word needing more ("its only use is in"): the next line
# finishes the sentence, even when it reads like code ("module.Class.method()").
SENTENCE_OPEN = re.compile(
    r"\b(?:in|of|to|the|a|an|by|from|with|via|see|use|uses|call|calls|and|or|than|as|is|are|into|on|at|for)\s*$",
    re.IGNORECASE,
)


def _continues_sentence(before: _ProseBefore) -> bool:
    last = before.last
    return last is not None and not CODE_START.match(last) and SENTENCE_OPEN.search(last) is not None


# Two names (or a number and a name) side by side, neither a keyword: a syntax error
# wherever it stands outside a string ("the instance", "2013 Intel"). ASCII only, so no
# name can normalise into a keyword.
NAME_PAIR = re.compile(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*|[0-9]+)[ \t]+(?=([A-Za-z_][A-Za-z0-9_]*)(?!\w))")
KEYWORDS = frozenset([*keyword.kwlist, *keyword.softkwlist, "type"])
PROSE, QUOTED = 1, 2


def _line_kind(text: str) -> int:
    """PROSE if the line cannot be part of code (unless a string is open), QUOTED if it
    has a quote (from there on nothing is certain), else 0."""
    if "'" in text or '"' in text:
        return QUOTED
    code = text.split("#", 1)[0]  # with no quote on the line, '#' starts a comment
    for pair in NAME_PAIR.finditer(code):
        if pair.group(1) not in KEYWORDS and pair.group(2) not in KEYWORDS:
            return PROSE
    return 0


def _parsable_end(kinds: list[int], index: int) -> int:
    """No run from ``index`` can parse past the first prose line met before any quote."""
    for position in range(index, len(kinds)):
        if kinds[position] == QUOTED:
            break
        if kinds[position] == PROSE:
            return position
    return len(kinds)


def _code_run(texts: list[str], index: int, limit: int) -> tuple[int, ast.Module] | None:
    """The longest run of lines from ``index`` (up to ``limit``) that parses as code: (end, tree)."""
    for end in range(min(limit, index + MAX_CODE_LINES), index, -1):
        tree = _as_code(texts[index:end])
        if tree is not None:
            return end, tree
    return None


def find_commented_code(src: SourceFile) -> list[CommentedCode]:
    found: list[CommentedCode] = []
    for block in comment_blocks(src.comments):
        texts = [_uncomment(c) for c in block]
        kinds: list[int] | None = None  # made when first needed: most blocks start no code
        before = _ProseBefore(texts)
        index = 0
        while index < len(block):
            run = None
            if CODE_START.match(texts[index]):
                if kinds is None:
                    kinds = [_line_kind(text) for text in texts]
                # Every run that would hold a prose line fails to parse: those are not tried.
                run = _code_run(texts, index, _parsable_end(kinds, index))
            if run is None:
                index += 1
                continue
            end, tree = run
            if not _introduces_example(before.up_to(index)) and not _continues_sentence(before):
                calls = tuple(_dotted(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call))
                is_assertion = any(isinstance(n, ast.Assert) for n in ast.walk(tree)) or any(
                    name.rsplit(".", 1)[-1].startswith(("assert", "fail")) for name in calls
                )
                security = tuple(c for c in calls if is_security_call(c.rsplit(".", 1)[-1]))
                code = "\n".join(texts[index:end])
                found.append(CommentedCode(block[index].line, block[end - 1].line, code, calls, is_assertion, security))
            index = end
    return found


def _may_mark(text: str) -> bool:
    """Whether MARKER can match: its words, looked for as plain text (a regex search costs more)."""
    return "TODO" in text or "FIXME" in text or "XXX" in text or "HACK" in text


def find_bug_notes(src: SourceFile) -> list[BugNote]:
    """FIXME/TODO blocks naming a bug; the block extends over its following comment lines."""
    notes: list[BugNote] = []
    if not any(_may_mark(comment.text) for comment in src.comments):
        return notes
    for block in comment_blocks(src.comments) + [[c] for c in src.comments if not c.own_line]:
        for position, comment in enumerate(block):
            marker = MARKER.search(comment.text) if _may_mark(comment.text) else None
            if not marker:
                continue
            # The sentence naming the bug may continue on the next comment line.
            joined = " ".join(c.text.lstrip("#").strip() for c in block[position : position + 3])
            # Every reference has digits; the search backtracks a lot on text without any.
            match = BUG_REFERENCE.search(joined) if DIGIT.search(joined) else None
            if match:
                bug = next(group for group in match.groups() if group)
                notes.append(BugNote(comment.line, block[-1].line, marker.group(1), bug, comment.text.strip()))
                break
    return sorted(notes, key=lambda note: note.start)
