"""Character-set mistakes found in regex text: what is reported, what it says, and what stays clean."""

from __future__ import annotations

import pytest

from scrutiny.regex_ranges import OVERLAP, REVERSED, WIDE, range_problems


def kinds(pattern: str | bytes, flags: int = 0) -> list[str]:
    return [problem.kind for problem in range_problems(pattern, flags)]


def test_a_wide_range_names_the_characters_it_lets_in() -> None:
    (problem, overlap) = range_problems(r"[A-ZA-z]")
    assert problem.kind == WIDE and problem.fragment == "A-z"
    assert problem.reason.endswith("[ \\ ] ^ _ `")
    assert overlap.kind == OVERLAP


def test_a_range_between_punctuation_names_the_digits_inside() -> None:
    (problem,) = range_problems(r"[*/+-<>=]")
    assert problem.fragment == "+-<" and "0-9" in problem.reason


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"[z-a]", [REVERSED]),
        (r"[0-93-5]", [OVERLAP]),
        (r"[0-9\d]", [OVERLAP]),
        (r"[7-F]", [WIDE]),
        (rb"[.-_]", [WIDE]),
        (r"[\w,.-?]", [WIDE]),  # .-? also overlaps \w only in part: not reported as lying inside it
        (r"[\]-a]", [WIDE]),
    ],
)
def test_mistakes(pattern: str | bytes, expected: list[str]) -> None:
    assert kinds(pattern) == expected


@pytest.mark.parametrize(
    "pattern",
    [
        r"[a-zA-Z0-9_-]", r"[\w.-]", r"[-a-z]", r"[a-z-]", r"[a-c-e]", r"[\x00-\x1f]", r"[0-9a-fA-F]",
        r"[\u0400-\u04FF]", r"[!-~]", r"[ -~]", r"[^\#-~| |!]", r"[]a-c]", r"[^\xa1-\U0010FFFF\w@+=:,./-]",
        r"\[A-z\]", r"[\w-.]", r"[A-z", "[\U0001d173-\U0001d17a\U000e0020-\U000e007f]",
    ],
)  # fmt: skip
def test_clean(pattern: str) -> None:
    assert kinds(pattern) == []


def test_a_verbose_comment_holds_no_set() -> None:
    assert kinds("\\d+  # not a set: [A-z]\n", flags=64) == []
    assert kinds("(?x) \\d+  # [A-z]\n") == []
    assert kinds("\\d+  # [A-z]\n") == [WIDE]
