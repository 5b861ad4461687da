"""bench/realfixes/cases.toml is well formed, and the benchmark's line logic is right (no network)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load() -> ModuleType:
    sys.path.insert(0, str(BENCH))  # realfixes.py shares the peer pins of bench/run.py
    try:
        spec = importlib.util.spec_from_file_location("realfixes", BENCH / "realfixes.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["realfixes"] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


realfixes = _load()
CASE = """
[[case]]
id = "demo"
package = "demo"
vulnerable = "1.9.2"
fixed = "1.10.0"
advisories = ["CVE-2024-12345", "GHSA-h5c8-rqwp-cp95"]
cwe = 79
kind = "XSS"
file = "src/demo/web.py"
lines = [[3, 4], [10, 10]]
summary = "s"
check = "c"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_cases_are_valid_and_numerous() -> None:
    cases = realfixes.load_cases()
    assert len(cases) >= 25
    assert len({c.id for c in cases}) == len(cases)
    assert all(realfixes.version_key(c.vulnerable) < realfixes.version_key(c.fixed) for c in cases)
    assert len({c.cwe for c in cases}) >= 12, "the cases should spread over many kinds of defect"
    assert len({c.package for c in cases}) >= 15
    assert all(c.package.lower() not in {"nova", "neutron", "keystone", "glance", "cinder"} for c in cases)


def test_a_good_case_loads(tmp_path: Path) -> None:
    (case,) = realfixes.load_cases(_write(tmp_path, CASE))
    assert case.lines == ((3, 4), (10, 10))
    assert case.advisories == ("CVE-2024-12345", "GHSA-h5c8-rqwp-cp95")
    assert realfixes.version_key("1.10.0") > realfixes.version_key("1.9.2")  # numeric, not text order


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("cwe = 79\n", 'cwe = "79"\n', "cwe must be int"),
        ('fixed = "1.10.0"', 'fixed = "1.9.2"', "not older"),
        ('fixed = "1.10.0"', 'fixed = "1.10.0rc1"', "plain release"),
        ("lines = [[3, 4], [10, 10]]", "lines = [[4, 3]]", "reversed"),
        ("lines = [[3, 4], [10, 10]]", "lines = [[0, 2]]", "reversed"),
        ("lines = [[3, 4], [10, 10]]", "lines = [[10, 10], [3, 4]]", "sorted"),
        ("lines = [[3, 4], [10, 10]]", "lines = [[3, 400]]", "implausibly long"),
        ("lines = [[3, 4], [10, 10]]", "lines = [[3]]", "[start, end]"),
        ("lines = [[3, 4], [10, 10]]", "lines = []", "no line ranges"),
        ('advisories = ["CVE-2024-12345", "GHSA-h5c8-rqwp-cp95"]', 'advisories = ["bug 12"]', "advisories"),
        ('check = "c"\n', "", "missing keys ['check']"),
        ('check = "c"\n', 'check = "c"\nurl = "x"\n', "unknown keys ['url']"),
        ('file = "src/demo/web.py"', 'file = "../web.py"', "bad cwe or file"),
    ],
)
def test_a_bad_case_is_rejected(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in CASE
    with pytest.raises(realfixes.CaseError, match=message.replace("[", r"\[").replace("]", r"\]")):
        realfixes.load_cases(_write(tmp_path, CASE.replace(old, new)))


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(realfixes.CaseError, match="duplicate"):
        realfixes.load_cases(_write(tmp_path, CASE + CASE))


OLD = ["a", "b", "c", "d", "e", "f"]
NEW = ["a", "B", "c", "d", "new", "e", "f"]  # line 2 replaced, a line inserted after line 4


def test_touched_lines_cover_replacements_and_the_sides_of_insertions() -> None:
    assert realfixes.touched_lines(OLD, NEW) == {2, 4, 5}
    assert realfixes.touched_lines(OLD, OLD + ["tail"]) == {6}  # appended: only the last line


def test_verify_fails_loudly_on_an_untouched_line() -> None:
    case = realfixes.Case("x", "p", "1", "2", ("CVE-2024-1",), 1, "k", "f.py", ((2, 2), (4, 5)), "s", "c")
    realfixes.verify(case, OLD, NEW)
    wrong = realfixes.Case("x", "p", "1", "2", ("CVE-2024-1",), 1, "k", "f.py", ((2, 3),), "s", "c")
    with pytest.raises(realfixes.CaseError, match=r"lines \[3\]"):
        realfixes.verify(wrong, OLD, NEW)


def test_a_confirmation_needs_a_hit_near_the_lines_that_the_fix_removed() -> None:
    hit = realfixes.Hit
    case = realfixes.Case("x", "p", "1", "2", ("CVE-2024-1",), 1, "k", "f.py", ((2, 2),), "s", "c")
    old = [f"line {n}" for n in range(1, 21)]
    new = old[:1] + ["fixed"] + old[2:]
    near, far = hit("R1", 4, 4), hit("R2", 9, 9)
    assert realfixes.confirming(case, old, new, [near, far], []) == [near]
    # still reported on the fixed file at the same place: the fix did not make it go away
    assert realfixes.confirming(case, old, new, [near], [hit("R1", 3, 3)]) == []
    # the same rule elsewhere in the fixed file does not count against it
    assert realfixes.confirming(case, old, new, [near], [hit("R1", 15, 15)]) == [near]


def test_counterpart_follows_lines_moved_by_the_fix() -> None:
    old = ["a", "b", "c", "d"]
    new = ["x", "y", "a", "b", "c2", "d"]
    assert realfixes.counterpart(old, new, 3, 3) == (5, 5)
    assert realfixes.counterpart(old, new, 2, 2) == (4, 4)
    assert realfixes.counterpart(old, new, 1, 2) == (1, 4)  # the lines inserted before line 1 belong to it
    assert realfixes.counterpart(old, new, 3, 4) == (5, 6)


def test_the_report_counts_confirmations_kept_findings_and_noise() -> None:
    hit, outcome = realfixes.Hit, realfixes.Outcome
    case = realfixes.Case("x", "p", "1", "2", ("CVE-2024-1",), 22, "k", "f.py", ((2, 2),), "s", "needs a path check")
    found = outcome(
        case,
        {"scrutiny": [hit("SCR1", 3, 3)], "Bandit": []},
        {"scrutiny": [], "Bandit": [hit("B1", 2, 2)]},
        {"scrutiny": 1, "Bandit": 4},
        ("a", "b"),
    )
    missed = outcome(
        case, {"scrutiny": [], "Bandit": []}, {"scrutiny": [], "Bandit": []}, {"scrutiny": 2, "Bandit": 0}, ("c", "d")
    )
    text = realfixes.render([found, missed], ["scrutiny", "Bandit"], "python bench/realfixes.py", "file", "skipped")
    rows = [line for line in text.splitlines() if line.startswith("| x ")]
    assert "**yes** SCR1 L3" in rows[0] and "no (kept: B1 L2)" in rows[0]
    assert rows[1].endswith("| needs a path check |") and not rows[0].endswith("| needs a path check |")
    assert "**1/2 (50%)**" in text and "**0/2 (0%)**" in text
    assert "**3** | **4**" in text
    assert "met: 50%" in text and "(met: 3 vs 4)" in text
