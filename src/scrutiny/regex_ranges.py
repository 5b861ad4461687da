"""Character-class mistakes in a literal regular expression: reversed, overlapping and
accidentally wide ranges.

The pattern text is scanned by hand rather than with ``re._parser`` because the parser
rejects a reversed range outright and forgets how an endpoint was spelt (``0`` against
``\\x30``), and both matter here. Nothing is compiled or run.

Three mistakes are reported, worst first:

- a reversed range (``z-a``): the pattern does not compile at all;
- a range between printable ASCII characters spelt as themselves that crosses from one
  kind of character to another (digits, upper case, lower case, punctuation):
  ``A-z`` also takes ``[\\]^_``` and a backtick, ``.-_`` takes ``/0-9:;<=>?@A-Z[\\]^``.
  A range that starts below ``0`` and ends above ``z`` spans the whole printable set on
  purpose (``!-~``, ``#-~``) and is left alone, as are ranges spelt with code-point
  escapes (``\\x21-\\x7e``), whose author counted code points;
- a range that overlaps another range of the same set (``0-93-5``, ``A-ZA-z``) or lies
  wholly inside one of its ``\\d \\w \\s`` classes (``0-9\\d``): one of the two was not
  the one meant.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

REVERSED, WIDE, OVERLAP = "reversed", "wide", "overlap"
# Escapes that name a code point: an author who writes these counts code points.
_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
_HEX = {"x": 2, "u": 4, "U": 8}
_CLASSES = "dwsDWS"
_INLINE_VERBOSE = re.compile(r"\(\?[aiLmsux]*x")
_CLASS_SPAN = 0x10000  # widest range compared with \w \d \s member by member
FLAG_VERBOSE = 64


@dataclass(frozen=True, slots=True)
class _Item:
    """One member of a character set: a code point range (lo == hi for one character)
    or a class escape (``kind`` in dwsDWS)."""

    lo: int = 0
    hi: int = 0
    text: str = ""
    escaped: bool = False  # an endpoint was spelt as a code-point escape
    is_range: bool = False
    kind: str = ""


@dataclass(frozen=True, slots=True)
class RangeProblem:
    kind: str
    fragment: str  # the range as written
    reason: str


def _category(code: int) -> str:
    char = chr(code)
    if "0" <= char <= "9":
        return "digits"
    if "A" <= char <= "Z":
        return "upper-case letters"
    if "a" <= char <= "z":
        return "lower-case letters"
    return "punctuation"


def _show(codes: list[int]) -> str:
    """The members of a small ASCII range, runs of letters and digits shortened."""
    text, run = [], []
    for code in [*codes, -1]:
        if code >= 0 and chr(code).isalnum() and (not run or code == run[-1] + 1):
            run.append(code)
            continue
        if run:
            text.append(chr(run[0]) + ("-" + chr(run[-1]) if len(run) > 2 else "".join(map(chr, run[1:]))))
            run = []
        if code >= 0:
            if chr(code).isalnum():
                run = [code]
            else:
                text.append(repr(chr(code))[1:-1] if not 0x20 <= code < 0x7F else chr(code))
    return " ".join(text)


def _escape(text: str, i: int) -> tuple[_Item, int] | None:
    """The escape starting at text[i] == '\\' inside a set, and the index after it."""
    if i + 1 >= len(text):
        return None
    char = text[i + 1]
    if char in _CLASSES:
        return _Item(text=text[i : i + 2], kind=char), i + 2
    if char in _HEX:
        digits = text[i + 2 : i + 2 + _HEX[char]]
        if len(digits) != _HEX[char] or not all(c in "0123456789abcdefABCDEF" for c in digits):
            return None
        code = int(digits, 16)
        return _Item(code, code, text[i : i + 2 + len(digits)], escaped=True), i + 2 + len(digits)
    if char == "N" and text[i + 2 : i + 3] == "{":
        end = text.find("}", i + 3)
        try:
            code = ord(unicodedata.lookup(text[i + 3 : end]))
        except (KeyError, ValueError):
            return None
        return _Item(code, code, text[i : end + 1], escaped=True), end + 1
    if char in "01234567":
        j = i + 1
        while j < len(text) and j < i + 4 and text[j] in "01234567":
            j += 1
        code = int(text[i + 1 : j], 8)
        return _Item(code, code, text[i:j], escaped=True), j
    if char in _SIMPLE:
        return _Item(_SIMPLE[char], _SIMPLE[char], text[i : i + 2], escaped=True), i + 2
    if char.isalnum():  # an unknown letter escape is an error in a pattern
        return None
    return _Item(ord(char), ord(char), text[i : i + 2]), i + 2


def _set_items(text: str, i: int) -> tuple[list[_Item], int, bool] | None:
    """The items of the set whose '[' is at text[i - 1], the index after its ']', and
    whether it is negated; None when the set is malformed."""
    negated = text[i : i + 1] == "^"
    i += negated
    items: list[_Item] = []
    first = True
    while i < len(text):
        char = text[i]
        if char == "]" and not first:
            return items, i + 1, negated
        first = False
        if char == "\\":
            found = _escape(text, i)
            if found is None:
                return None
            item, i = found
        else:
            item, i = _Item(ord(char), ord(char), char), i + 1
        # A '-' between two members makes a range; first, last or after a range it is itself.
        if text[i : i + 1] == "-" and i + 1 < len(text) and text[i + 1] != "]":
            if item.kind:
                return None  # a class cannot start a range: the pattern does not compile
            if text[i + 1] == "\\":
                found = _escape(text, i + 1)
                if found is None or found[0].kind:
                    return None
                end, after = found
            else:
                end, after = _Item(ord(text[i + 1]), ord(text[i + 1]), text[i + 1]), i + 2
            item = _Item(item.lo, end.hi, text[i - len(item.text) : after], item.escaped or end.escaped, True)
            i = after
        items.append(item)
    return None


def character_sets(pattern: str, verbose: bool = False) -> list[tuple[list[_Item], bool]]:
    """Every [...] set of the pattern with whether it is negated; [] if one is malformed."""
    sets: list[tuple[list[_Item], bool]] = []
    verbose = verbose or bool(_INLINE_VERBOSE.match(pattern))
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
        elif char == "#" and verbose:
            end = pattern.find("\n", i)
            i = len(pattern) if end < 0 else end + 1
        elif char == "[":
            found = _set_items(pattern, i + 1)
            if found is None:
                return []
            items, i, negated = found
            sets.append((items, negated))
        else:
            i += 1
    return sets


def _class_members(kind: str, lo: int, hi: int) -> list[int]:
    """Members of ``\\d \\w \\s`` within lo..hi (for str patterns, the Unicode classes)."""
    test = {
        "d": lambda c: c.isdecimal(),
        "w": lambda c: c.isalnum() or c == "_",
        "s": lambda c: c.isspace(),
    }[kind]
    return [code for code in range(lo, hi + 1) if test(chr(code))]


def _wide(item: _Item) -> RangeProblem | None:
    if item.escaped or not (0x20 <= item.lo and item.hi < 0x7F):
        return None
    if item.lo < ord("0") and item.hi > ord("z"):
        return None  # the whole printable set on purpose
    kinds = list(dict.fromkeys(_category(c) for c in range(item.lo, item.hi + 1)))
    if len(kinds) < 2:
        return None
    return RangeProblem(
        WIDE,
        item.text,
        f"the range {item.text} spans {', '.join(kinds[:-1])} and {kinds[-1]}, so it also matches "
        f"{_show(_unexpected(item))}",
    )


def _unexpected(item: _Item) -> list[int]:
    """The members of a cross-kind range other than those of its endpoints' kinds."""
    ends = {_category(item.lo), _category(item.hi)}
    inside = [c for c in range(item.lo, item.hi + 1) if _category(c) not in ends]
    if inside:
        return inside
    # Neighbouring kinds (9-:) have nothing between them: show what lies past the first kind.
    return [c for c in range(item.lo, item.hi + 1) if _category(c) != _category(item.lo)]


def _overlap(items: list[_Item]) -> RangeProblem | None:
    ranges = [item for item in items if item.is_range]
    for index, item in enumerate(ranges):
        for other in ranges[index + 1 :]:
            lo, hi = max(item.lo, other.lo), min(item.hi, other.hi)
            if lo <= hi:
                shared = chr(lo) + ("-" + chr(hi) if hi > lo else "")
                reason = f"the ranges {item.text} and {other.text} overlap on {shared!r}"
                return RangeProblem(OVERLAP, item.text, reason)
        # A range inside a class is redundant; one that only meets it ([\xa1-\U0010FFFF\w]) adds to it.
        for other in items:
            if other.kind in ("d", "w", "s") and item.hi - item.lo <= _CLASS_SPAN:
                if len(_class_members(other.kind, item.lo, item.hi)) == item.hi - item.lo + 1:
                    reason = f"the range {item.text} lies wholly inside the class {other.text} of the same set"
                    return RangeProblem(OVERLAP, item.text, reason)
    return None


def range_problems(pattern: str | bytes, flags: int = 0) -> list[RangeProblem]:
    """The character-set mistakes of ``pattern``, worst first; [] when none or unreadable."""
    text = pattern.decode("latin-1") if isinstance(pattern, bytes) else pattern
    problems: list[RangeProblem] = []
    for items, _negated in character_sets(text, bool(flags & FLAG_VERBOSE)):
        for item in items:
            if item.is_range and item.lo > item.hi:
                reason = f"the range {item.text} is reversed: the pattern does not compile"
                problems.append(RangeProblem(REVERSED, item.text, reason))
        valid = [item for item in items if not item.is_range or item.lo <= item.hi]
        problems.extend(p for p in map(_wide, (i for i in valid if i.is_range)) if p)
        overlap = _overlap(valid)
        if overlap:
            problems.append(overlap)
    order = {REVERSED: 0, WIDE: 1, OVERLAP: 2}
    return sorted(problems, key=lambda p: order[p.kind])
