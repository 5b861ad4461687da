"""Trojan Source (6xx): bidi controls and invisible characters in the reviewed code.

This module is also the one place that knows these characters: the renderers call
``segments``/``visible`` so a review never prints them raw (a review that reproduced a
right-to-left override would reorder its own text in front of the reader).
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from scrutiny.findings import Category, Confidence, Finding, Location, Severity
from scrutiny.rules.base import Rule
from scrutiny.source import SourceFile

# Embeddings, overrides and isolates reorder everything up to their terminator.
BIDI_REORDERING = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))
# Marks only change the direction of the neutral characters around them.
BIDI_MARKS = frozenset({0x200E, 0x200F, 0x061C})
# Characters with no visible glyph that are never needed next to Python code: zero-width
# space, word joiner, invisible operators, BOM inside the text (a leading one is removed
# on load), soft hyphen, Mongolian vowel separator, line/paragraph separators (some
# editors break the line there, Python does not), combining grapheme joiner, the Hangul
# fillers and Khmer inherent vowels (valid in identifiers and blank), and tag characters.
INVISIBLE = frozenset(
    {0x200B, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xFEFF, 0x00AD, 0x180E, 0x2028, 0x2029, 0x034F}
    | {0x115F, 0x1160, 0x3164, 0xFFA0, 0x17B4, 0x17B5}
) | frozenset(range(0xE0000, 0xE0080))
# Joiners and variation selectors shape emoji sequences and scripts such as Persian or
# Devanagari: ordinary between non-ASCII characters, suspicious next to ASCII text.
JOINERS = frozenset({0x200C, 0x200D})
VARIATION_SELECTORS = frozenset(range(0xFE00, 0xFE10)) | frozenset(range(0xE0100, 0xE01F0))
CANDIDATES = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in sorted(BIDI_REORDERING | BIDI_MARKS | INVISIBLE | JOINERS)) + "]"
    "|[\ufe00-\ufe0f\U000e0100-\U000e01ef]"
)
# Runs of non-ASCII text: the only places a candidate can be. Searching these runs is
# far faster than searching the whole text for CANDIDATES, whose astral ranges make re
# test every character against each range in turn.
NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# Shown as markers too (never reported): C0/C1 controls such as ESC, which would drive a
# terminal, and other format characters.
_DISPLAY_ONLY = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Hit:
    index: int  # in the line, in characters
    char: str

    @property
    def bidi(self) -> bool:
        return ord(self.char) in BIDI_REORDERING or ord(self.char) in BIDI_MARKS

    @property
    def label(self) -> str:
        return f"U+{ord(self.char):04X} ({unicodedata.name(self.char, 'unnamed character')})"


EMOJI_STYLE = 0xFE0F
KEYCAP = "\u20e3"
# The canonical combining class of viramas (Devanagari, Malayalam, Bengali ... U+094D, U+0D4D).
VIRAMA_CLASS = 9


# An emoji spelled as an escape (\U0001f6e0, \u2764, \N{...}) right before the selector;
# an even run of backslashes before it would make it a literal backslash instead.
ESCAPED_BASE = re.compile(r"(?<!\\)(?:\\\\)*(\\(?:U[0-9a-fA-F]{8}|u[0-9a-fA-F]{4}|N\{[A-Za-z0-9 \-]+\}))$")


def _escaped_base(text: str) -> str:
    """The character an escape at the end of ``text`` stands for, or '' if none ends it."""
    match = ESCAPED_BASE.search(text)
    if match is None:
        return ""
    try:
        return match.group(1).encode("ascii").decode("unicode_escape")
    except (UnicodeDecodeError, ValueError):
        return ""


def _shaping_is_ordinary(line: str, index: int) -> bool:
    """A joiner between two non-ASCII characters, or a single variation selector after one."""
    code = ord(line[index])
    before = _escaped_base(line[:index]) or (line[index - 1] if index > 0 else "")
    after = line[index + 1] if index + 1 < len(line) else ""
    if code in JOINERS:
        if before and unicodedata.combining(before) == VIRAMA_CLASS:
            return True  # after a virama a joiner picks the letter's written form (Malayalam chillu)
        return not before.isascii() and not after.isascii()
    # Emoji and ideograph sequences carry at most one selector; a run of them hides data.
    previous_is_selector = bool(before) and ord(before) in VARIATION_SELECTORS
    next_is_selector = bool(after) and ord(after) in VARIATION_SELECTORS
    if code == EMOJI_STYLE and after == KEYCAP:
        # A keycap emoji: U+FE0F U+20E3 after its digit, #, or *, or after a template
        # expression that renders the digit ({{ loop.index }}); the keycap shows on screen.
        return True
    return not before.isascii() and not previous_is_selector and not next_is_selector


def hits(line: str) -> list[Hit]:
    """The bidi controls and invisible characters of one line that the rule reports."""
    found: list[Hit] = []
    for match in CANDIDATES.finditer(line):
        index = match.start()
        code = ord(line[index])
        if (code in JOINERS or code in VARIATION_SELECTORS) and _shaping_is_ordinary(line, index):
            continue
        found.append(Hit(index, line[index]))
    return found


def marker(char: str) -> str:
    return f"<U+{ord(char):04X}>"


def segments(text: str) -> Iterator[tuple[str, str | None]]:
    """``text`` cut into (plain text, None) and (character, its label) pieces, where each
    labelled character must be shown as a visible marker instead of being printed raw."""
    flagged: dict[int, str] = {}
    start = 0
    for line in text.split("\n"):
        for hit in hits(line):
            flagged[start + hit.index] = hit.char
        start += len(line) + 1
    for match in _DISPLAY_ONLY.finditer(text):
        flagged[match.start()] = match.group()
    position = 0
    for index in sorted(flagged):
        if index > position:
            yield text[position:index], None
        char = flagged[index]
        yield char, f"U+{ord(char):04X} {unicodedata.name(char, 'control character')}"
        position = index + 1
    if position < len(text):
        yield text[position:], None


def visible(text: str) -> str:
    """``text`` with every bidi control, invisible and control character as ``<U+XXXX>``."""
    if text.isascii() and not _DISPLAY_ONLY.search(text):
        return text
    return "".join(piece if label is None else marker(piece) for piece, label in segments(text))


def _byte_col(line: str, index: int) -> int:
    return len(line[:index].encode("utf-8"))


class TrojanSource(Rule):
    """Bidi control or invisible character in the code (Trojan Source)

    What: a Unicode bidirectional control (embeddings, overrides and isolates U+202A-U+202E
    and U+2066-U+2069; the marks U+200E, U+200F, U+061C) or an invisible character
    (zero-width space, word joiner, a BOM inside the text, soft hyphen, line separators, tag
    characters, Hangul fillers, and joiners or variation selectors next to ASCII text)
    written raw in a comment, a string literal or an identifier. Joiners and a single
    variation selector between non-ASCII characters (emoji, Persian, Indic text), a
    joiner after a virama (the chillu and half forms of Indic scripts, also at the end of
    a word) and the selector of a keycap emoji (U+FE0F U+20E3 after 1, #, * or a template
    expression that renders the digit) are not reported, nor is a
    selector right after an emoji written as an escape (\\U0001f527, \\N{...}); in a
    docstring, as in a comment, an invisible character is low. An invisible character that
    is the whole of a quoted literal ('<U+FEFF>' in a replacement table) is low: the literal
    names it. The marks alone inside a string literal are low: they cannot move code, and
    right-to-left locale data needs them. Bidi controls are CWE-451; invisible characters,
    which make different strings or names look identical, are CWE-1007.
    Why: editors and code review tools display such a line in a different order, or with
    different content, than Python reads it: a statement can look like part of a comment,
    a check can look active while it sits inside a string, a string can look equal to
    another, and a blank-looking identifier can hide a parameter (CVE-2021-42574, "Trojan
    Source").
    Example:
        # <U+XXXX> stands for the raw character; an editor shows the line roughly as
        # if access_level != "user": # Check if admin
        if access_level != "user<U+202E> <U+2066># Check if admin<U+2069> <U+2066>":
            print("You are an admin.")
    Fix: remove the characters; where text needs them, write them as escapes ("\\u202e",
    "\\u200d") so the code shows what it contains.
    """

    id = "SCR604"
    name = "trojan-source"
    category = Category.DISABLED_CHECKS
    cwe = 451
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    bandit = ("B613",)

    def check_file(self, src: SourceFile) -> Iterator[Finding]:
        # isascii() runs at memory speed and nearly every file is plain ASCII.
        if src.text.isascii() or not any(CANDIDATES.search(run.group()) for run in NON_ASCII.finditer(src.text)):
            return
        places = _Places(src)
        for number, line in enumerate(src.lines, start=1):
            found = hits(line)
            bidi = [hit for hit in found if hit.bidi]
            invisible = [hit for hit in found if not hit.bidi]
            if bidi:
                yield self._report(src, number, line, bidi, places, bidi=True)
            if invisible:
                yield self._report(src, number, line, invisible, places, bidi=False)

    def _report(
        self, src: SourceFile, number: int, line: str, found: list[Hit], places: _Places, *, bidi: bool
    ) -> Finding:
        where = {places.where(number, line, hit.index) for hit in found}
        kinds = list(dict.fromkeys(hit.label for hit in found))
        shown = ", ".join(kinds[:4]) + (f" and {len(kinds) - 4} more" if len(kinds) > 4 else "")
        in_text = " and ".join(sorted(where))
        last = found[-1]
        location = Location(
            src.path,
            number,
            _byte_col(line, found[0].index),
            number,
            _byte_col(line, last.index) + len(last.char.encode("utf-8")),
        )
        if bidi:
            reordering = any(ord(hit.char) in BIDI_REORDERING for hit in found)
            noun = "bidi control" if len(kinds) == 1 else "bidi controls"
            effect = "the line is displayed in a different order than Python reads it"
            severity = Severity.HIGH if reordering else Severity.MEDIUM
            if not reordering and where == {"a string literal"}:
                # A mark only moves neutral characters next to it inside the string;
                # right-to-left locale data needs them (date formats, separators).
                severity, effect = Severity.LOW, "neutral characters in the string may display in another order"
            return self.finding(
                location,
                f"{noun} {shown} in {in_text}: {effect}",
                src,
                severity=severity,
                confidence=Confidence.HIGH if reordering else Confidence.MEDIUM,
            )
        noun = "invisible character" if len(kinds) == 1 else "invisible characters"
        if any(w.startswith("the identifier") for w in where):
            severity, effect = Severity.HIGH, "the name looks blank or like another name"
        elif where == {"a string literal"} and _only_in_lone_literals(line, found):
            # '\ufeff' alone in quotes names the character (a replacement or escape table);
            # it hides nothing else, though an escape would show it.
            severity, effect = Severity.LOW, "the literal holds only that character, which it names"
        elif any(w == "a string literal" for w in where):
            severity, effect = Severity.MEDIUM, "the string differs from what it looks like"
        elif where == {"a docstring"}:
            severity, effect = Severity.LOW, "the docstring holds text nobody sees"
        else:
            severity, effect = Severity.LOW, "the comment holds text nobody sees"
        return self.finding(location, f"{noun} {shown} in {in_text}: {effect}", src, severity=severity, cwe=1007)


def _only_in_lone_literals(line: str, found: list[Hit]) -> bool:
    """Every hit is the whole content of a quoted literal ('<U+FEFF>' standing alone)."""
    for hit in found:
        before, after = line[: hit.index], line[hit.index + len(hit.char) :]
        quote = before[-1:]
        if quote not in ("'", '"') or not after.startswith(quote) or before[-2:-1] == quote:
            return False
    return True


class _Places:
    """Says whether a character of a line sits in a comment, a string or an identifier."""

    def __init__(self, src: SourceFile) -> None:
        self.comment_col: dict[int, int] = {}
        for comment in src.comments:
            self.comment_col.setdefault(comment.line, comment.col)
        # Byte-column spans of string literals per line (ast columns are UTF-8 offsets).
        self.strings: dict[int, list[tuple[int, int]]] = {}
        self.docstrings: dict[int, list[tuple[int, int]]] = {}
        documented = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        for node in src.index.of_type(ast.Constant, ast.JoinedStr):
            assert isinstance(node, ast.Constant | ast.JoinedStr)
            if isinstance(node, ast.Constant) and not isinstance(node.value, str):
                continue
            statement = src.index.parents.get(node)
            owner = src.index.parents.get(statement) if isinstance(statement, ast.Expr) else None
            # A docstring is prose for readers; no code compares or uses its text.
            is_doc = isinstance(owner, documented) and bool(owner.body) and owner.body[0] is statement
            spans = self.docstrings if is_doc else self.strings
            first = node.lineno
            last = node.end_lineno or first
            end_col = node.end_col_offset
            for number in range(first, last + 1):
                start = node.col_offset if number == first else 0
                stop = end_col if number == last and end_col is not None else 1 << 30
                spans.setdefault(number, []).append((start, stop))

    def where(self, number: int, line: str, index: int) -> str:
        column = self.comment_col.get(number)
        if column is not None and index >= column:
            return "a comment"
        byte = _byte_col(line, index)
        if any(start <= byte < stop for start, stop in self.strings.get(number, ())):
            return "a string literal"
        if any(start <= byte < stop for start, stop in self.docstrings.get(number, ())):
            return "a docstring"
        # Python accepts no other place for these characters than a name.
        begin = index
        while begin > 0 and ("a" + line[begin - 1]).isidentifier():
            begin -= 1
        end = index + 1
        while end < len(line) and ("a" + line[end]).isidentifier():
            end += 1
        return f"the identifier '{visible(line[begin:end])}'"
