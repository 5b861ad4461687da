"""Python 2 files are repaired line by line and reviewed, not dropped (src/scrutiny/python2.py).

Each fixture in tests/fixtures/python2/ holds one Python 2 construct (legacy_service.py holds
several, around real defects); ``# expect: SCRnnn`` marks the lines that must be reported.
The marks are read with a regular expression: ``tokenize`` of Python 3.12 and later rejects
Python 2 tokens such as ``0660`` and backticks.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import jsonschema
import pytest

from helpers import review_json
from scrutiny import cli, python2, source

FIXTURES = Path(__file__).parent / "fixtures" / "python2"
SCHEMA = Path(cli.__file__).parent / "report" / "review.schema.json"
EXPECT = re.compile(r"#\s*expect:\s*((?:SCR\d{3}[\s,]*)+)$")

# What each fixture needs repaired, (line, construct).
REPAIRS = {
    "except_comma.py": {(8, "except X, e clause")},
    "print_statement.py": {(6, "print statement")},  # the bare print on line 7 is Python 3 as it is
    "print_to_file.py": {(7, "print >>f, x statement"), (8, "print statement")},
    "octal.py": {(4, "long integer"), (8, "octal literal"), (9, "octal literal")},
    "raise_comma.py": {(7, "raise E, V statement")},
    "backticks.py": {(6, "backticks")},
    "not_equal.py": {(6, "<> operator")},
    "ur_string.py": {(4, "ur'' string prefix"), (5, "ur'' string prefix")},
    "exec_in.py": {(6, "exec statement")},
    "tabs.py": {(7, "tabs mixed with spaces in indentation")},
    "legacy_service.py": {
        (13, "octal literal"),
        (23, "except X, e clause"),
        (24, "print >>f, x statement"),
        (24, "backticks"),
        (25, "raise E, V statement"),
        (30, "<> operator"),
        (31, "print statement"),
        (34, "octal literal"),
    },
}


def expected(path: Path) -> set[tuple[int, str]]:
    marks: set[tuple[int, str]] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if match := EXPECT.search(line):
            marks.update((number, rule_id) for rule_id in re.findall(r"SCR\d{3}", match.group(1)))
    return marks


@pytest.fixture()
def legacy(tmp_path: Path) -> Path:
    """The fixtures outside tests/, so they are weighed as the production code they stand for."""
    root = tmp_path / "legacy"
    shutil.copytree(FIXTURES, root)
    return root


def test_every_fixture_is_covered() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.py")) == sorted(REPAIRS)


@pytest.mark.parametrize("name", sorted(REPAIRS))
def test_python2_file_is_reviewed_with_findings_on_the_right_lines(
    name: str, legacy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, review = review_json(capsys, "--no-cache", str(legacy / name))
    (entry,) = review["files"]
    assert entry["error"] is None and review["errors"] == []
    assert {(r["line"], r["construct"]) for r in entry["python2_repair"]} == REPAIRS[name]
    defects = {(f["line"], f["rule_id"]) for f in review["findings"] if f["severity"] != "info"}
    assert defects == expected(FIXTURES / name)
    assert code == (1 if defects else 0)


def test_the_mixed_file_keeps_its_real_defects_at_full_weight(legacy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, review = review_json(capsys, "--no-cache", str(legacy / "legacy_service.py"))
    by_rule = {(f["rule_id"], f["line"]): f for f in review["findings"]}
    assert by_rule[("SCR401", 12)]["severity"] == "medium"  # the hard-coded database password
    # cPickle.loads of a parameter: weighed as in any Python 3 file (no untrusted input traced).
    assert by_rule[("SCR201", 22)]["severity"] == "low"
    assert "no untrusted input was traced" in by_rule[("SCR201", 22)]["context_note"]
    assert by_rule[("SCR804", 34)]["message"].startswith("chmod sets mode 0o777")  # read from the repaired 0777
    # The shell commands built from argv: the trace starts at sys.argv on line 39.
    assert "line 39" in by_rule[("SCR501", 32)]["message"]
    jsonschema.validate(review, json.loads(SCHEMA.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", sorted(REPAIRS))
def test_the_repair_keeps_every_line_and_leaves_strings_and_comments_alone(name: str) -> None:
    original = (FIXTURES / name).read_text(encoding="utf-8")
    repaired = python2.repair(original)
    before, after = source.split_lines(original), source.split_lines(repaired.text)
    assert len(before) == len(after)
    changed = {number for number, (old, new) in enumerate(zip(before, after, strict=True), start=1) if old != new}
    assert changed == {line for line, _ in REPAIRS[name]}
    for number in changed:
        old, new = before[number - 1], after[number - 1]
        for literal in re.findall(r"""(["'])(.*?)\1""", old):
            assert literal[1] in new, (number, literal)
        if "#" in old:
            assert new.endswith(old[old.index("#") :])


def test_the_text_review_says_the_file_was_reviewed_after_a_python2_repair(
    legacy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.main(["review", "--no-cache", "--color", "never", str(legacy / "except_comma.py")])
    out = capsys.readouterr().out
    header = out[: out.index("1. ")]
    assert "It is Python 2 code, reviewed after a line-by-line repair to Python 3 syntax" in header
    assert "except X, e clause on line 8" in header
    assert "PEP 758" not in out


def test_a_tree_review_names_the_repaired_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    for number in range(11):  # more than ten files: the overview speaks of the tree
        (root / f"modern_{number}.py").write_text(f"VALUE = {number}\n")
    shutil.copy(FIXTURES / "octal.py", root / "legacy.py")
    cli.main(["review", "--no-cache", "--color", "never", str(root)])
    out = " ".join(capsys.readouterr().out.split())  # the paragraph is wrapped
    assert re.search(r"1 file is Python 2 code, reviewed after a line-by-line repair[^.]*: \S*legacy\.py\.", out)


def test_except_comma_name_is_python2_not_pep_758() -> None:
    src = source.load(b"try:\n    pass\nexcept ValueError, e:\n    raise\n", "old.py")
    assert [(r.line, r.construct) for r in src.python2_repairs] == [(3, "except X, e clause")]
    assert src.line_text(3) == "except ValueError as e:"


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="Python 3.14 parses except A, B: itself")
def test_except_comma_class_is_still_pep_758() -> None:
    with pytest.raises(source.SourceError) as caught:
        source.load(b"try:\n    pass\nexcept ValueError, TypeError:\n    raise\n", "new.py")
    assert caught.value.kind == "newer-python" and "PEP 758" in caught.value.message


def test_python2_the_repair_does_not_cover_is_an_error_naming_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "unpack.py"
    path.write_text('print "start"\n\n\ndef pair(a, (b, c)):\n    return b\n')
    code, review = review_json(capsys, "--no-cache", str(path))
    (error,) = review["errors"]
    assert code == 2
    assert error["kind"] == "python2" and error["line"] == 4
    assert error["message"].startswith("line 4: Python 2 syntax")
    assert "print statement" in error["message"]


def test_files_that_are_not_python2_keep_their_errors() -> None:
    with pytest.raises(source.SourceError) as caught:
        source.load(b"def broken(:\n", "broken.py")
    assert caught.value.kind == "syntax"
    # Tabs mixed with spaces are repaired, but alone they do not make a broken file Python 2.
    with pytest.raises(source.SourceError) as caught:
        source.load(b"if x:\n\ty = 1\n        z = 2\ndef broken(:\n", "tabbed.py")
    assert caught.value.kind == "syntax" and "line 3: inconsistent use of tabs" in caught.value.message


def test_python3_code_is_never_repaired() -> None:
    # A file that parses is not touched, even where it reads like Python 2 (print >> f is an expression).
    src = source.load(b"import sys\nprint >>sys.stderr, 'x'\nexec('y')\n", "modern.py")
    assert src.python2_repairs == ()
    # And the repair finds nothing to do in Python 3 code.
    stdlib = Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    files = sorted(stdlib.glob("*.py"))[:40]
    assert len(files) == 40
    for path in files:
        text = path.read_text(encoding="utf-8")
        repaired = python2.repair(text)
        assert (repaired.repairs, repaired.text) == ((), text), path.name


def test_except_comma_without_a_space() -> None:
    assert python2.repair("try:\n    f()\nexcept Exception,err:\n    pass\n").text.splitlines()[2] == (
        "except Exception as err:"
    )


def test_statements_are_found_after_semicolons_and_one_line_headers() -> None:
    repaired = python2.repair("if a: print a; print b\nfor x in y: exec x\nwhile 1: raise E, 'v'\n")
    assert repaired.text == "if a: print( a); print( b)\nfor x in y: exec( x)\nwhile 1: raise E( 'v')\n"


def test_print_is_left_alone_where_it_is_a_name_or_under_print_function() -> None:
    text = "print('a')\nprint = log\nprint.x\n"
    assert python2.repair(text).repairs == ()
    future = "from __future__ import print_function\nprint >>f, x\n0777\n"
    assert python2.repair(future).text == "from __future__ import print_function\nprint >>f, x\n0o777\n"
