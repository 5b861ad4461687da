"""Inline suppressions, # nosec, unused suppressions and how the review counts what they hide."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from scrutiny import cli, source, suppress
from scrutiny.config import FilePolicy, every_rule
from scrutiny.rules import RuleSet, all_rules, registered

TAINT_CASES = Path(__file__).parent / "fixtures" / "taint"


def review(capsys: pytest.CaptureFixture[str], *args: str, fmt: str = "json") -> tuple[int, Any]:
    code = cli.main(["review", "--format", fmt, "--quiet", "--no-cache", *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if fmt == "json" else out


def settled(code: str, policy: FilePolicy | None = None) -> tuple[list[tuple[int, str]], list[tuple[int, str, str]]]:
    src = source.load(code.encode(), "app.py")
    kept, hidden = suppress.settle(src, RuleSet(all_rules()).run(src), policy or every_rule())
    return (
        sorted((f.location.line, f.rule_id) for f in kept),
        sorted((s.finding.location.line, s.finding.rule_id, s.by) for s in hidden),
    )


def test_a_suppression_covers_the_whole_statement_it_ends() -> None:
    code = (
        "import subprocess\n\n"
        "subprocess.run(\n"
        "    cmd,\n"
        "    shell=True,\n"
        ")  # scrutiny: ignore[SCR101] cmd comes from the fixed table\n"
    )
    kept, hidden = settled(code)
    # Only the info note on the import (SCR339) is left.
    assert kept == [(1, "SCR339")] and hidden == [(3, "SCR101", "inline")]
    # The same comment two statements later covers nothing, and says so.
    kept, hidden = settled(code.replace(")  # scrutiny", ")\nx = 1\ny = 2  # scrutiny"))
    assert kept == [(1, "SCR339"), (3, "SCR101"), (8, "SCR605")] and hidden == []


def test_a_suppression_on_the_first_line_of_a_statement_covers_it() -> None:
    code = "import subprocess\n\nsubprocess.run(  # scrutiny: ignore[SCR101] fixed table\n    cmd, shell=True)\n"
    assert settled(code) == ([(1, "SCR339")], [(3, "SCR101", "inline")])


def test_unused_suppressions_name_the_rule_and_skip_rules_switched_off() -> None:
    code = "import hashlib\n\nhashlib.sha256(b'')  # scrutiny: ignore[SCR301, SCR102] was md5 once\n"
    kept, _ = settled(code)
    assert kept == [(3, "SCR605"), (3, "SCR605")]
    policy = FilePolicy(every_rule().enabled - {"SCR102"})
    assert settled(code, policy)[0] == [(3, "SCR605")]
    assert settled(code, FilePolicy(every_rule().enabled - {"SCR605"})) == ([], [])
    src = source.load(code.encode(), "app.py")
    messages = sorted(f.message for f in suppress.unused(src, set(), every_rule().enabled))
    assert messages == [
        "ignore[SCR102] suppresses nothing: SCR102 reports nothing here",
        "ignore[SCR301] suppresses nothing: SCR301 reports nothing here",
    ]


def test_a_suppression_without_reason_is_reported() -> None:
    code = "import hashlib\n\nhashlib.md5(b'')  # scrutiny: ignore[SCR301]\n"
    assert settled(code) == ([(3, "SCR651")], [(3, "SCR301", "inline")])


NOSEC = """\
import hashlib
import subprocess

hashlib.md5(b"")  # nosec
hashlib.md5(b"")  # nosec B324 cache key only
hashlib.md5(b"")  # nosec B602 wrong test id
subprocess.run(
    cmd,
    shell=True,
)  # nosec B602 fixed command table
"""


def test_nosec_hides_only_when_honoured_and_maps_bandit_ids() -> None:
    kept, hidden = settled(NOSEC)
    assert [rule for _, rule in kept].count("SCR301") == 3 and hidden == []
    kept, hidden = settled(NOSEC, FilePolicy(every_rule().enabled, honor_nosec=True))
    assert (6, "SCR301") in kept and (7, "SCR101") not in kept
    assert hidden == [(4, "SCR301", "nosec"), (5, "SCR301", "nosec"), (7, "SCR101", "nosec")]
    assert "B324" in registered()["SCR301"].bandit and "B324" not in registered()["SCR101"].bandit


def test_the_review_counts_what_each_mechanism_hid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "app.py"
    target.write_text(NOSEC + "hashlib.sha1(b'')  # scrutiny: ignore[SCR301] fingerprint of a public file\n")
    _, result = review(capsys, "--honor-nosec", str(target))
    assert result["summary"]["hidden_by"] == {
        "context": 0, "duplicate": 0, "inline": 1, "nosec": 3, "min_severity": 0, "baseline": 0
    }  # fmt: skip
    assert sorted(s["hidden_by"] for s in result["suppressed"]) == ["inline", "nosec", "nosec", "nosec"]
    _, text = review(capsys, "--honor-nosec", str(target), fmt="text")
    assert "Hidden: 4 findings (1 by inline suppression, 3 by # nosec)." in text
    _, text = review(capsys, str(target), fmt="text")
    assert "by # nosec" not in text


def test_a_pattern_finding_traced_by_taint_is_hidden_as_its_duplicate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """os.system on request data: SCR501 reports it with its path, SCR102 is the same defect;
    os.system on a parameter nothing untrusted reaches: SCR102 alone, as a low hint."""
    target = tmp_path / "app.py"
    target.write_text(
        "import os\nfrom flask import Flask, request\n\napp = Flask(__name__)\n\n\n"
        "@app.route('/a')\ndef a():\n    os.system('ls ' + request.args['d'])\n\n\n"
        "def b(d):\n    os.system('ls ' + d)\n"
    )
    _, result = review(capsys, str(target))
    shown = {(f["rule_id"], f["line"], f["severity"]) for f in result["findings"] if f["rule_id"] in ("SCR102", "SCR501")}
    assert shown == {("SCR501", 9, "high"), ("SCR102", 13, "low")}
    (duplicate,) = [s for s in result["suppressed"] if s["hidden_by"] == "duplicate"]
    assert duplicate["rule_id"] == "SCR102" and duplicate["line"] == 9 and "SCR501" in duplicate["reason"]
    assert result["summary"]["hidden_by"]["duplicate"] == 1


def _sink_case(tmp_path: Path) -> Path:
    case = tmp_path / "case"
    shutil.copytree(TAINT_CASES / "sink_in_helper", case)
    return case


def test_cross_module_taint_findings_obey_suppressions_on_the_sink_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = _sink_case(tmp_path)
    _, plain = review(capsys, str(case))
    assert [f["line"] for f in plain["findings"] if f["rule_id"] == "SCR503"] == [2]
    db = case / "app" / "db.py"
    text = db.read_text()
    mark = text.index("  # expect: SCR503")
    db.write_text(text[:mark] + "  # scrutiny: ignore[SCR503] admin-only tool" + text[text.index("\n", mark) :])
    _, suppressed = review(capsys, str(case))
    assert not [f for f in suppressed["findings"] if f["rule_id"] in ("SCR503", "SCR605")]
    (hidden,) = [s for s in suppressed["suppressed"] if s["rule_id"] == "SCR503"]
    assert hidden["hidden_by"] == "inline" and "admin-only tool" in hidden["reason"]


def test_cross_module_taint_findings_of_disabled_rules_are_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = _sink_case(tmp_path)
    _, result = review(capsys, "--disable", "SCR503", str(case))
    everything = [*result["findings"], *result["suppressed"]]
    assert everything and not [f for f in everything if f["rule_id"] == "SCR503"]
