"""The text review is shaped like a review (issue 16): verdict first, defects most severe
first and grouped, notes counted unless asked for, one line per aspect for a tree, and a
short message when nothing was reviewed."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from helpers import NOVA, fetch_nova, review_json, seed_path
from scrutiny import cli, pypi
from scrutiny.report.compose import CLEAN_VERDICT
from scrutiny.rules import registered

# "path:12" or "path:12, 40, 77" (a group lists a file's lines), and "path:12:5" for one place.
PLACES = re.compile(r"(?P<path>[\w./-]+\.py):(?P<lines>\d+(?:, \d+)*)")
ASPECT_HEADER = re.compile(r"^ ?\d{1,2}\. ")


def review_text(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = cli.main(["review", "--quiet", *args])
    return code, capsys.readouterr().out.splitlines()


def verdict_at(lines: list[str]) -> int:
    """The index of the verdict: the line after the 'Verdict' heading."""
    return lines.index("Verdict") + 1


def places(lines: list[str]) -> set[tuple[str, int]]:
    """Every (path, line) the text names, reading wrapped line lists as one."""
    text = re.sub(r",\n\s+", ", ", "\n".join(lines))
    return {(match["path"], int(number)) for match in PLACES.finditer(text) for number in match["lines"].split(", ")}


# The nova 34.0.0 tree ------------------------------------------------------------------


@pytest.fixture(scope="module")
def nova() -> pypi.Fetched:
    return fetch_nova()


@pytest.mark.network
def test_nova_review_leads_with_its_verdict_and_lists_every_serious_finding(
    nova: pypi.Fetched, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document = review_json(capsys, NOVA)
    text_code, lines = review_text(capsys, NOVA)
    assert text_code == code == 1
    assert verdict_at(lines) < 10
    assert lines[verdict_at(lines)] == document["verdict"]["text"]
    assert len(lines) < 300, len(lines)
    serious = {(f["path"], f["line"]) for f in document["findings"] if f["severity"] in ("high", "medium")}
    assert serious, "nova 34.0.0 has medium findings; without them this test checks nothing"
    assert serious <= places(lines), sorted(serious - places(lines))
    # Defects come most severe first; the notes are counted, not listed.
    severities = [m.group(1) for line in lines for m in re.finditer(r"severity (high|medium|low|info)", line)]
    assert "info" not in severities
    assert severities == sorted(severities, key=["high", "medium", "low"].index)
    notes = document["summary"]["findings"]["info"]
    assert f"{notes:,} notes at info level are counted, not listed (--notes lists them)." in "\n".join(lines)
    # One line per aspect (wrapped at most once), no per-file statements.
    start = next(n for n, line in enumerate(lines) if line.startswith("Aspects, checked in 1,518 files"))
    assert [ASPECT_HEADER.match(line) is not None for line in lines[start + 1 : start + 13]].count(True) >= 10
    assert not any(line.startswith("   - nova-34.0.0/") for line in lines)


# A small tree: notes and details on request ----------------------------------------------

APP = """\
import hashlib
import subprocess


def digest(password):
    return hashlib.md5(password).hexdigest()


def run(name):
    subprocess.call("ls " + name, shell=True)
"""
TEST = """\
import unittest


class T(unittest.TestCase):
    def test_a(self):
        connect('db1.example.org')
        connect('db2.example.org')
        connect('db3.example.org')
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    for number in range(3):
        (tmp_path / "pkg" / f"m{number}.py").write_text(APP)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_hosts.py").write_text(TEST)
    return tmp_path


def test_a_tree_groups_one_rule_and_counts_its_notes(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, document = review_json(capsys, "--no-cache", str(tree))
    notes = [f for f in document["findings"] if f["severity"] == "info"]
    assert notes, "the test file's host names are notes"
    _, lines = review_text(capsys, "--no-cache", str(tree))
    text = "\n".join(lines)
    assert verdict_at(lines) < 10
    # The MD5 password digest, reported in three files, is one item listing the three places.
    md5 = [f for f in document["findings"] if f["rule_id"] == "SCR301"]
    assert len(md5) == 3
    assert text.count("[SCR301 ") == 1 and "3 places in 3 files" in text
    assert {(f["path"], f["line"]) for f in md5} <= places(lines)
    assert "severity info" not in text and f"{len(notes)} note" in text
    assert "1. Input validation:" in text and "checked, clean" not in text

    for asked in (["--notes"], ["--min-severity", "info"]):
        _, lines = review_text(capsys, "--no-cache", *asked, str(tree))
        assert "severity info" in "\n".join(lines)
        assert {(f["path"], f["line"]) for f in notes} <= places(lines)
    _, lines = review_text(capsys, "--no-cache", "--details", str(tree))
    assert any(line.startswith("   - ") and "m0.py: " in line for line in lines)
    assert "severity info" not in "\n".join(lines)


# Nothing reviewed ------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["missing", "empty", "no-python", "syntax-error", "all-failed"])
def test_nothing_reviewed_is_said_in_at_most_three_lines(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    targets = {
        "missing": [tmp_path / "missing"],
        "empty": [tmp_path / "empty"],
        "no-python": [tmp_path / "docs"],
        "syntax-error": [tmp_path / "broken.py"],
        "all-failed": [tmp_path / "broken.py", tmp_path / "missing", tmp_path / "other.py"],
    }[case]
    (tmp_path / "empty").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.txt").write_text("not Python\n")
    (tmp_path / "broken.py").write_text("def f(:\n")
    (tmp_path / "other.py").write_text("x = (\n")
    code, lines = review_text(capsys, "--no-cache", *map(str, targets))
    assert code == 2
    assert 1 <= len(lines) <= 3, lines
    assert lines[0].startswith("Nothing was reviewed")
    assert targets[0].name in lines[0]
    text = "\n".join(lines)
    for word in ("Verdict", "Aspects", "Injection", "No security defects", "clean"):
        assert word not in text
    if case == "missing":
        assert "does not exist" in text
    if case in ("empty", "no-python"):
        assert "no Python file was found" in text
    if case == "syntax-error":
        assert "syntax" in text


# The seed file -------------------------------------------------------------------------

# Every span the seed tests cite (tests/test_seed.py), as the text writes it.
SEED_CITED = (
    "line 34",  # _resize_and_assert_error(server, dest_host)
    "lines 38, 43",  # its API calls
    "lines 47, 50-51",  # the error-state assertions
    "line 62",  # the call with 'host2'
    "lines 55-56, 59, 62, 67-68",  # the host names (SCR402)
    "lines 64-81",  # the cleanup checks
    "lines 69-76",  # the FIXME naming bug 1825537
    "lines 75-76",  # the commented-out assertion (SCR603)
)


def test_the_seed_review_fits_a_page_and_keeps_every_cited_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = review_text(capsys, str(seed_path()))
    text = "\n".join(lines)
    assert code == 0
    assert len(lines) < 90, len(lines)
    assert lines[verdict_at(lines)] == CLEAN_VERDICT
    flat = " ".join(text.split())
    for cited in SEED_CITED:
        assert cited in flat, cited
    for line in (55, 56, 59, 62, 67, 68, 75, 76):  # each note's code is quoted with its number
        assert re.search(rf"^\s+{line} \| ", text, re.MULTILINE), line
    # Six SCR402 places are one item; a note the review calls acceptable gets no fix.
    assert text.count("[SCR402 ") == 1
    assert "Acceptable here" in text and "Fix:" not in text
    for words in ("taint engine", "observers", "rules ran", "Checked ("):
        assert words not in text
    # No sentence chains colons ("This matters for severity: it is weighed as test code: ...").
    statements = " ".join(" ".join(line for line in lines if not ASPECT_HEADER.match(line)).split())
    prose = re.sub(r"\S+:\d+(?::\d+)?(?:-\d+)?", "PLACE", statements)
    chained = [sentence for sentence in re.split(r"(?<=\.) ", prose) if sentence.count(":") > 1]
    assert not chained, chained


def test_no_aspect_of_the_seed_lists_more_than_three_rule_titles(capsys: pytest.CaptureFixture[str]) -> None:
    _, lines = review_text(capsys, str(seed_path()))
    titles = {rule.title() for rule in registered().values()}
    start = lines.index("Aspects")
    aspects: list[list[str]] = []
    for line in lines[start + 1 :]:
        if not line:
            break
        if ASPECT_HEADER.match(line):
            aspects.append([])
        aspects[-1].append(line)
    assert len(aspects) == 12
    for aspect in aspects:
        text = " ".join(" ".join(aspect).split())
        named = [title for title in titles if title in text]
        assert len(named) <= 3, (aspect[0], named)


# Titles and wording -----------------------------------------------------------------------


def test_standard_input_is_named(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for args, title in ((["--stdin-name", "app.py"], "of standard input (app.py)"), ([], "of standard input")):
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"x = 1\n")))
        _, lines = review_text(capsys, "--no-cache", "-", *args)
        assert lines[0].endswith(title) and not lines[0].endswith(" of -")


def test_one_line_and_mass_nouns_read_as_english(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "one.py").write_text("x = 1\n")
    (tmp_path / "app.py").write_text(
        "from flask import Flask, request\napp = Flask(__name__)\n\n\n"
        "@app.route('/')\ndef index():\n    return request.args['q']\n"
    )
    _, lines = review_text(capsys, "--no-cache", str(tmp_path))
    text = " ".join("\n".join(lines).split())
    assert "one.py (1 line) is production code." in text
    assert "app.py (7 lines) is Flask production code." in text
    assert "(1 lines)" not in text and "a Flask production code" not in text


def test_a_group_in_one_file_of_a_tree_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "clean.py").write_text("x = 1\n")
    (tmp_path / "app.py").write_text(APP + "\n\ndef other(password):\n    return hashlib.md5(password).digest()\n")
    _, lines = review_text(capsys, "--no-cache", str(tmp_path))
    text = "\n".join(lines)
    assert text.count("[SCR301 ") == 1
    assert f"lines 6, 14 of {tmp_path / 'app.py'}" in text
