"""Backtracking risk of a literal regular expression, read from its parse tree.

The pattern is parsed with the standard library's own regex parser (``re._parser``; parsing
builds a tree and runs nothing) and three shapes are looked for:

- exponential, nested: an unbounded repetition whose body can itself be split into two
  iterations, because the body is an unbounded repetition surrounded only by parts that may
  match nothing (``(a+)+``, ``(\\w+\\s?)*``);
- exponential, ambiguous alternation: an unbounded repetition of branches where one branch
  matches what another matches, or what a sequence of branches matches (``(\\w|\\d)+``,
  ``(\\r\\n|\\r|\\n)+``);
- polynomial: three unbounded repetitions of overlapping single characters in a row with
  nothing required between them (``\\s*.*\\s*``), cubic or worse in the input length.

Each needs something after the repetition that can fail (more pattern, an anchor, or a
full match); otherwise the first attempt succeeds and nothing is retried.

Character classes are compared on a finite sample of code points holding every bound the
pattern names (and its neighbours) plus representatives of each category, so overlap of
literals, ranges, negated sets, ``.``, and ``\\w \\d \\s`` is decided exactly for ranges and
by representatives for categories.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

try:
    _parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - Python < 3.11 keeps the parser at the top level
    _parser = importlib.import_module("sre_parse")

FLAG_IGNORECASE, FLAG_MULTILINE, FLAG_DOTALL, FLAG_ASCII = 2, 8, 16, 256
EXPONENTIAL, POLYNOMIAL = "exponential", "polynomial"
# Code points that stand for the non-ASCII members of \w, \d, \s and for plain symbols.
UNICODE_SAMPLES = (0xA0, 0xB2, 0xE9, 0x131, 0x3B1, 0x660, 0x1680, 0x2000, 0x200B, 0x2028, 0x212A, 0x3000, 0x4E2D,
                   0x1F600, 0x10FFFF)  # fmt: skip
ASCII_SPACE = frozenset(b" \t\n\r\v\f")
CHAIN = 3  # overlapping repetitions in a row that make the polynomial cost worth reporting
SMALL_FIXED = 8  # longest {n} expanded when comparing fixed-width branches
Item = tuple[Any, Any]


@dataclass(frozen=True, slots=True)
class Risk:
    """One backtracking hazard: its kind, the sub-pattern at fault, and why."""

    kind: str
    fragment: str
    reason: str


class _Pattern:
    """A parsed pattern with the flags and character sample its sets are measured on."""

    def __init__(self, tree: Any, is_bytes: bool) -> None:
        self.tree = tree
        self.flags: int = tree.state.flags
        self.ascii = is_bytes or bool(self.flags & FLAG_ASCII)
        bounds: set[int] = set(range(256))
        if not is_bytes:
            bounds.update(UNICODE_SAMPLES)
        for op, av in _all_items(list(tree)):
            name = str(op)
            if name in ("LITERAL", "NOT_LITERAL"):
                bounds.update((av - 1, av, av + 1))
            elif name == "RANGE":
                bounds.update((av[0] - 1, av[0], av[1], av[1] + 1))
        top = 255 if is_bytes else 0x10FFFF
        self.universe = frozenset(c for c in bounds if 0 <= c <= top)

    def chars(self, item: Item) -> frozenset[int] | None:
        """The code points one single-character item matches, None if it is not one."""
        op, av = str(item[0]), item[1]
        members: frozenset[int] | None
        if op == "LITERAL":
            members = frozenset(c for c in self.universe if self._fold(c) & {av})
        elif op == "NOT_LITERAL":
            members = frozenset(c for c in self.universe if not self._fold(c) & {av})
        elif op == "ANY":
            members = self.universe if self.flags & FLAG_DOTALL else self.universe - {10}
        elif op == "IN":
            members = frozenset(c for c in self.universe if self._in_set(c, av))
        elif op == "SUBPATTERN" and len(av[-1]) == 1:
            members = self.chars(av[-1][0])
        else:
            return None
        return members

    def _fold(self, code: int) -> set[int]:
        if not self.flags & FLAG_IGNORECASE or code > 0x10FFFF:
            return {code}
        char = chr(code)
        return {code} | {ord(c) for c in (char.lower(), char.upper()) if len(c) == 1}

    def _in_set(self, code: int, members: list[Item]) -> bool:
        negate = bool(members) and str(members[0][0]) == "NEGATE"
        hit = any(self._member(c, members) for c in self._fold(code))
        return hit != negate

    def _member(self, code: int, members: list[Item]) -> bool:
        for op, av in members:
            name = str(op)
            if name == "LITERAL" and code == av:
                return True
            if name == "RANGE" and av[0] <= code <= av[1]:
                return True
            if name == "CATEGORY" and self._category(code, str(av)):
                return True
        return False

    def _category(self, code: int, category: str) -> bool:
        char = chr(code)
        if "DIGIT" in category:
            found = 48 <= code <= 57 if self.ascii else char.isdecimal()
        elif "SPACE" in category:
            found = code in ASCII_SPACE if self.ascii else char.isspace()
        elif "WORD" in category:
            found = (char.isascii() if self.ascii else True) and (char.isalnum() or char == "_")
        elif "LINEBREAK" in category:
            found = code == 10
        else:
            return False
        return found != ("NOT_" in category)


def _all_items(items: list[Item]) -> Iterator[Item]:
    """Every item of a parse tree, depth first, without recursion limits."""
    stack = list(reversed(items))
    while stack:
        item = stack.pop()
        yield item
        stack.extend(reversed(_children(item)))


def _children(item: Item) -> list[Item]:
    op, av = str(item[0]), item[1]
    if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT", "SUBPATTERN"):
        return list(av[-1])
    if op in ("ATOMIC_GROUP", "IN"):
        return list(av)
    if op in ("ASSERT", "ASSERT_NOT"):
        return list(av[1])
    if op == "BRANCH":
        return [child for branch in av[1] for child in branch]
    if op == "GROUPREF_EXISTS":
        return [child for branch in av[1:] if branch is not None for child in branch]
    return []


def _is_unbounded(item: Item) -> bool:
    return str(item[0]) in ("MAX_REPEAT", "MIN_REPEAT") and item[1][1] == _parser.MAXREPEAT


def _may_be_empty(item: Item) -> bool:
    """True when the item can match the empty string under no condition (anchors can fail)."""
    op, av = str(item[0]), item[1]
    if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return av[0] == 0 or all(_may_be_empty(i) for i in av[-1])
    if op == "SUBPATTERN":
        return all(_may_be_empty(i) for i in av[-1])
    if op == "ATOMIC_GROUP":
        return all(_may_be_empty(i) for i in av)
    if op == "BRANCH":
        return any(all(_may_be_empty(i) for i in branch) for branch in av[1])
    return False


def _splittable(items: Sequence[Item]) -> Item | None:
    """An unbounded repetition that, with everything else empty, makes up the whole sequence."""
    for index, item in enumerate(items):
        if all(_may_be_empty(other) for k, other in enumerate(items) if k != index):
            inner = _splittable_item(item)
            if inner is not None:
                return inner
    return None


def _splittable_item(item: Item) -> Item | None:
    op, av = str(item[0]), item[1]
    if _is_unbounded(item) and not all(_may_be_empty(i) for i in av[-1]):
        return item
    if op in ("MAX_REPEAT", "MIN_REPEAT", "SUBPATTERN"):
        return _splittable(av[-1])
    if op == "BRANCH":
        for branch in av[1]:
            found = _splittable(branch)
            if found is not None:
                return found
    return None


def _fixed(pattern: _Pattern, items: Sequence[Item]) -> list[frozenset[int]] | None:
    """The character set of each position when the items always match one fixed length."""
    sets: list[frozenset[int]] = []
    for item in items:
        op, av = str(item[0]), item[1]
        single = pattern.chars(item)
        if single is not None:
            sets.append(single)
            continue
        if op == "SUBPATTERN":
            inner = _fixed(pattern, av[-1])
        elif op in ("MAX_REPEAT", "MIN_REPEAT") and av[0] == av[1] <= SMALL_FIXED:
            body = _fixed(pattern, av[-1])
            inner = body * av[0] if body is not None else None
        else:
            return None
        if inner is None:
            return None
        sets.extend(inner)
    return sets if len(sets) <= 4 * SMALL_FIXED else None


def _ambiguous_branches(pattern: _Pattern, branches: list[list[Item]]) -> tuple[int, str] | None:
    """(branch index, why) when a branch's strings can also be spelt by other branches."""
    shapes = [_fixed(pattern, branch) for branch in branches]
    known = [(i, s) for i, s in enumerate(shapes) if s]
    for i, shape in known:
        for j, other in known:
            if i != j and len(other) == len(shape) and all(a & b for a, b in zip(shape, other, strict=True)):
                return j, f"branches {_unparse_seq(branches[i])} and {_unparse_seq(branches[j])} match the same text"
        if _spelt_by_others(shape, [s for j, s in known if j != i]):
            return i, f"branch {_unparse_seq(branches[i])} also matches as a sequence of shorter branches"
    return None


def _spelt_by_others(shape: list[frozenset[int]], others: list[list[frozenset[int]]]) -> bool:
    """Can two or more of ``others`` (repeats allowed) cover ``shape`` position by position?"""
    reach = {0: 0}  # position -> fewest pieces used to reach it
    for start in range(len(shape)):
        if start not in reach:
            continue
        for piece in others:
            end = start + len(piece)
            if end <= len(shape) and all(a & b for a, b in zip(piece, shape[start:end], strict=True)):
                reach[end] = min(reach.get(end, end), reach[start] + 1)
    return reach.get(len(shape), 0) >= 2


def analyse(pattern: str | bytes, flags: int = 0, *, full: bool = False) -> list[Risk]:
    """The backtracking hazards of ``pattern``; [] when it does not parse.

    ``full``: the whole string must match (re.fullmatch), which makes the end a point that
    can fail.
    """
    try:
        with warnings.catch_warnings():  # the parser warns about the reviewed pattern ("nested set"): not ours
            warnings.simplefilter("ignore")
            tree = _parser.parse(pattern, flags)
    except Exception:  # noqa: BLE001 - any parse error means the pattern is not ours to judge
        return []
    parsed = _Pattern(tree, isinstance(pattern, bytes))
    risks: list[Risk] = []
    start = list(tree)
    _scan(parsed, start, [[("AT", "AT_END_STRING")]] if full else [], risks)
    unique: dict[tuple[str, str], Risk] = {}
    for risk in risks:
        unique.setdefault((risk.kind, risk.fragment), risk)
    return list(unique.values())


def _can_fail(tails: list[list[Item]]) -> bool:
    return any(not _may_be_empty(item) for tail in tails for item in tail)


def _scan(pattern: _Pattern, items: list[Item], tails: list[list[Item]], risks: list[Risk]) -> None:
    """Look at every repetition in ``items``; ``tails`` are what must follow, innermost first."""
    work: list[tuple[list[Item], list[list[Item]]]] = [(items, tails)]
    while work:
        sequence, outer = work.pop()
        for index, item in enumerate(sequence):
            tail = [sequence[index + 1 :], *outer]
            op, av = str(item[0]), item[1]
            if _is_unbounded(item) and _can_fail(tail):
                _check_repeat(pattern, item, risks)
                _check_adjacent(pattern, sequence, index, tail, risks)
            if op in ("MAX_REPEAT", "MIN_REPEAT", "SUBPATTERN"):
                work.append((list(av[-1]), tail))
            elif op == "BRANCH":
                work.extend((list(branch), tail) for branch in av[1])
            elif op in ("ASSERT", "ASSERT_NOT"):
                work.append((list(av[1]), []))
            elif op == "GROUPREF_EXISTS":
                work.extend((list(branch), tail) for branch in av[1:] if branch is not None)


def _check_repeat(pattern: _Pattern, item: Item, risks: list[Risk]) -> None:
    body = list(item[1][-1])
    inner = _splittable(body)
    if inner is not None:
        risks.append(Risk(EXPONENTIAL, _unparse(item),
                          f"the repeated part {_unparse(inner)} can be split between iterations of the outer "
                          "repetition in exponentially many ways"))  # fmt: skip
        return
    branches = _only_branch(body)
    if branches is not None:
        found = _ambiguous_branches(pattern, branches)
        if found is not None:
            risks.append(Risk(EXPONENTIAL, _unparse(item), f"{found[1]}, so each repetition can be matched in "
                              "several ways and failures retry them all"))  # fmt: skip


def _only_branch(body: list[Item]) -> list[list[Item]] | None:
    while len(body) == 1 and str(body[0][0]) == "SUBPATTERN":
        body = list(body[0][1][-1])
    if len(body) == 1 and str(body[0][0]) == "BRANCH":
        return [list(b) for b in body[0][1][1]]
    return None


def _check_adjacent(pattern: _Pattern, sequence: list[Item], index: int, tail: list[list[Item]],
                    risks: list[Risk]) -> None:  # fmt: skip
    """Three unbounded single-character repetitions in a row, each overlapping the next, with
    only optional parts between: a failing match retries every pair of split points (cubic in
    the input, worse when searched), which hurts at a few hundred characters. A pair alone is
    quadratic and needs inputs far longer than most size limits allow, so it is not reported."""
    chain = [index]
    while len(chain) < CHAIN:
        after = _next_overlapping(pattern, sequence, chain[-1])
        if after is None:
            return
        chain.append(after)
    if _can_fail([sequence[chain[-1] + 1 :], *tail[1:]]):
        risks.append(Risk(POLYNOMIAL, _unparse_seq(sequence[chain[0] : chain[-1] + 1]),
                          f"{CHAIN} unbounded repetitions of overlapping characters follow each other with nothing "
                          "required between them; a failing match retries every way to share the text"))  # fmt: skip


def _next_overlapping(pattern: _Pattern, sequence: list[Item], index: int) -> int | None:
    """The next unbounded repetition overlapping sequence[index], past optional parts only."""
    first = _repeated_chars(pattern, sequence[index])
    if first is None:
        return None
    for position in range(index + 1, len(sequence)):
        later = sequence[position]
        second = _repeated_chars(pattern, later) if _is_unbounded(later) else None
        if second is not None and first & second:
            return position
        if not _may_be_empty(later):
            return None
    return None


def _repeated_chars(pattern: _Pattern, item: Item) -> frozenset[int] | None:
    body = item[1][-1]
    return pattern.chars(body[0]) if len(body) == 1 else None


# Rendering a parsed sub-pattern back to regex text, for messages ---------------------------

CATEGORY_TEXT = {"DIGIT": r"\d", "NOT_DIGIT": r"\D", "SPACE": r"\s", "NOT_SPACE": r"\S", "WORD": r"\w",
                 "NOT_WORD": r"\W"}  # fmt: skip
AT_TEXT = {"AT_BEGINNING": "^", "AT_BEGINNING_STRING": r"\A", "AT_END": "$", "AT_END_STRING": r"\Z",
           "AT_BOUNDARY": r"\b", "AT_NON_BOUNDARY": r"\B"}  # fmt: skip
SPECIAL = set(".^$*+?{}[]\\|()")


def _char(code: int, in_class: bool = False) -> str:
    char = chr(code)
    named = {"\n": r"\n", "\r": r"\r", "\t": r"\t", "\f": r"\f", "\v": r"\v"}
    if char in named:
        return named[char]
    if not char.isprintable():
        return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"
    if (in_class and char in "]\\^-") or (not in_class and char in SPECIAL):
        return "\\" + char
    return char


def _unparse_seq(items: Sequence[Item]) -> str:
    return "".join(_unparse(i) for i in items)


def _unparse(item: Item) -> str:
    op, av = str(item[0]), item[1]
    if op == "LITERAL":
        return _char(av)
    if op == "NOT_LITERAL":
        return f"[^{_char(av, True)}]"
    if op == "ANY":
        return "."
    if op == "IN":
        parts = []
        for sub_op, sub_av in av:
            name = str(sub_op)
            if name == "NEGATE":
                parts.append("^")
            elif name == "LITERAL":
                parts.append(_char(sub_av, True))
            elif name == "RANGE":
                parts.append(f"{_char(sub_av[0], True)}-{_char(sub_av[1], True)}")
            elif name == "CATEGORY":
                parts.append(CATEGORY_TEXT.get(str(sub_av).replace("CATEGORY_", ""), "?"))
        text = "".join(parts)
        return text if len(av) == 1 and str(av[0][0]) == "CATEGORY" else f"[{text}]"
    if op == "AT":
        return AT_TEXT.get(str(av), "")
    if op == "BRANCH":
        return "|".join(_unparse_seq(b) for b in av[1])
    if op == "SUBPATTERN":
        return f"({_unparse_seq(av[-1])})" if av[0] is not None else f"(?:{_unparse_seq(av[-1])})"
    if op == "ATOMIC_GROUP":
        return f"(?>{_unparse_seq(av)})"
    if op in ("ASSERT", "ASSERT_NOT"):
        sign = "=" if op == "ASSERT" else "!"
        return f"(?{'<' if av[0] < 0 else ''}{sign}{_unparse_seq(av[1])})"
    if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, body = av
        inner = _unparse_seq(body)
        simple = len(body) == 1 and str(body[0][0]) in ("LITERAL", "NOT_LITERAL", "ANY", "IN", "SUBPATTERN")
        if not simple:
            inner = f"(?:{inner})"
        unbounded = high == _parser.MAXREPEAT
        quant = {(0, True): "*", (1, True): "+"}.get((low, unbounded))
        if quant is None:
            quant = "?" if (low, high) == (0, 1) else f"{{{low},{'' if unbounded else high}}}"
        return inner + quant + ("?" if op == "MIN_REPEAT" else "+" if op == "POSSESSIVE_REPEAT" else "")
    if op == "GROUPREF":
        return f"\\{av}"
    return "(?...)"
