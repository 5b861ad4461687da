"""The regex backtracking analysis itself: which shapes are exponential, polynomial or safe."""

import pytest

from scrutiny.regex_risk import EXPONENTIAL, POLYNOMIAL, analyse


def kinds(pattern: str | bytes, flags: int = 0, **options: bool) -> set[str]:
    return {risk.kind for risk in analyse(pattern, flags, **options)}


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a+)+$",
        r"^(\w+\s?)*$",
        r"(a*b*)*c",
        r"(a*)*c",
        r"^([a-zA-Z0-9._%+-]+)+@",
        r"(\r\n|\r|\n)+x",
        r"(a|ab|b)*c",
        r"(?:\w\d|\d\w)+$",
        r"(?:x|(?:y+)?)+z",
        rb"(\w+\s?)*$",
    ],
)
def test_exponential_shapes(pattern: str | bytes) -> None:
    assert EXPONENTIAL in kinds(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a+)+",  # nothing after the repetition can fail: the first attempt wins
        r"(?>a+)+b",  # atomic group: no retry inside
        r"(a++)+b",  # possessive
        r"(\w+\.)*\w+$",  # the dot separates iterations
        r"(?:a+b)+c",
        r"(\r\n|\n)+x",  # no branch spells another
        r"(\w|\d)+$",  # single characters are merged into one class by the parser
        r"(ab|a\w)*c",  # the parser factors the common prefix a(?:b|\w)
        r"(\b\w+)+$",  # the boundary cannot hold between two word characters
        r"(?:\w\d|\d[a-z])+$",
        r"[^,]*,.*x",
        r"(unclosed",
    ],
)
def test_safe_shapes(pattern: str) -> None:
    assert EXPONENTIAL not in kinds(pattern)


def test_branch_overlap_uses_ascii_flag() -> None:
    # \d is only 0-9 under ASCII and [a-z] does not hold a digit, so the branches differ.
    assert kinds(r"(?:\w\d|\d[a-z])+$", 256) == set()
    # Under IGNORECASE a literal and its other case overlap.
    assert EXPONENTIAL in kinds(r"(?:ab|Ab)+$", 2)
    assert EXPONENTIAL not in kinds(r"(?:ab|Ab)+$")


def test_negated_sets_and_dot() -> None:
    assert EXPONENTIAL in kinds(r"(?:[^a]x|\dx)+$")  # a digit is not 'a'
    assert EXPONENTIAL not in kinds(r"(?:[^\d]x|\dx)+$")
    assert EXPONENTIAL not in kinds(r"(?:.x|\nx)+$")  # '.' does not match a newline
    assert EXPONENTIAL in kinds(r"(?:.x|\nx)+$", 16)  # unless DOTALL


def test_unicode_categories_by_representative() -> None:
    # Arabic-Indic digits are \d and \w in str patterns, not in bytes or ASCII ones.
    assert EXPONENTIAL in kinds("(?:\\d.|[\u0660-\u0669]a)+$")
    assert EXPONENTIAL not in kinds("(?:\\d.|[\u0660-\u0669]a)+$", 256)


@pytest.mark.parametrize(
    ("pattern", "options", "expected"),
    [
        (r"\s*.*\s*$", {}, {POLYNOMIAL}),
        (r"^\s*.*\s*$", {}, {POLYNOMIAL}),  # cubic even from one start
        (r"\d+\w*:?\w+x", {}, {POLYNOMIAL}),  # optional parts between do not separate them
        (r"\d+\w+x", {}, set()),  # a pair is only quadratic
        (r"\d+\s*\w+x", {}, set()),  # \d and \s do not overlap: no chain of three
        (r"\d+x\w+\w+", {}, set()),
        (r"\s*.*\s*", {}, set()),  # nothing after can fail
        (r"\s*.*\s*", {"full": True}, {POLYNOMIAL}),  # fullmatch must reach the end
    ],
)
def test_polynomial_shapes(pattern: str, options: dict[str, bool], expected: set[str]) -> None:
    assert kinds(pattern, **options) == expected


def test_fragment_and_reason_name_the_sub_pattern() -> None:
    (risk,) = analyse(r"^(\w+\s?)*$")
    assert risk.fragment == r"(\w+\s?)*"
    assert r"\w+" in risk.reason
    (risk,) = analyse(r"(\r\n|\r|\n)+x")
    assert risk.fragment == r"(\r\n|\r|\n)+"
    assert r"\r\n" in risk.reason


def test_repetitions_inside_lookahead_use_the_lookahead_tail() -> None:
    assert EXPONENTIAL in kinds(r"(?=(a+)+b)")
    assert EXPONENTIAL not in kinds(r"(?=(a+)+)b")
