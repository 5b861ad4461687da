"""The command line: help, version, exit codes, rule listing and explanation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from helpers import review_json, seed_path
from scrutiny import __version__, cli, terminal
from scrutiny.rules import registered

SCHEMA = Path(cli.__file__).parent / "report" / "review.schema.json"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"scrutiny {__version__}"
    assert cli.main(["review", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "exit codes" in help_text and "pypi:NAME" in help_text


@pytest.mark.parametrize(
    "argv",
    [[], ["review"], ["review", "x.py", "--min-severity", "severe"], ["review", "--format", "xml", "x.py"], ["frob"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    assert capsys.readouterr().err


def test_console_script_exit_code_on_the_seed() -> None:
    scrutiny = Path(sys.executable).parent / "scrutiny"
    command = [str(scrutiny)] if scrutiny.exists() else [sys.executable, "-m", "scrutiny"]
    result = subprocess.run([*command, "review", str(seed_path())], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "No security defects are detected in the code." in result.stdout


def test_json_output_follows_the_published_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "app.py").write_text("import pickle\n\ndef load(blob):\n    return pickle.loads(blob)\n")
    (tmp_path / "broken.py").write_text("def (\n")
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    for target in (str(seed_path()), str(tmp_path)):
        _, review = review_json(capsys, target)
        validator.validate(review)


def test_min_severity_hides_notes(capsys: pytest.CaptureFixture[str]) -> None:
    _, everything = review_json(capsys, str(seed_path()))
    _, filtered = review_json(capsys, "--min-severity", "low", str(seed_path()))
    assert any(f["severity"] == "info" for f in everything["findings"])
    assert filtered["findings"] == []
    assert filtered["summary"]["suppressed"] > everything["summary"]["suppressed"]


def test_fingerprints_survive_unrelated_line_shifts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = "import os\n\n\ndef run(cmd):\n    os.system(cmd)\n    os.system(cmd)\n"
    target = tmp_path / "tool.py"
    target.write_text(code)
    _, before = review_json(capsys, str(target))
    target.write_text('"""Docs."""\n\nimport sys\n' + code)
    _, after = review_json(capsys, str(target))
    assert [f["fingerprint"] for f in before["findings"]] == [f["fingerprint"] for f in after["findings"]]
    assert [f["line"] for f in before["findings"]] != [f["line"] for f in after["findings"]]
    assert len({f["fingerprint"] for f in after["findings"]}) == len(after["findings"])


def test_inline_suppression_needs_the_rule_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "tool.py"
    target.write_text(
        "import os\n\n\ndef run(cmd):\n"
        "    os.system(cmd)  # scrutiny: ignore[SCR102] cmd is a constant from our config\n"
        "    os.system(cmd)  # scrutiny: ignore[SCR999] wrong rule\n"
    )
    _, review = review_json(capsys, str(target))
    assert [(f["line"], f["rule_id"]) for f in review["findings"]] == [(6, "SCR102"), (6, "SCR605")]
    (hidden,) = review["suppressed"]
    assert hidden["hidden_by"] == "inline" and review["summary"]["hidden_by"]["inline"] == 1
    assert hidden["line"] == 5 and "constant from our config" in hidden["reason"]


def test_rules_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["rules"]) == 0
    listed = capsys.readouterr().out
    assert all(rule_id in listed for rule_id in registered())
    assert cli.main(["explain", "SCR101"]) == 0
    explained = capsys.readouterr().out
    for section in ("What:", "Why:", "Example:", "Fix:"):
        assert section in explained
    assert cli.main(["explain", "SCR000"]) == 2


def test_committed_rules_page_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["rules", "--format", "markdown"]) == 0
    generated = capsys.readouterr().out
    assert DOCS.read_text() == generated, "docs/rules.md is stale: run scrutiny rules --format markdown > docs/rules.md"


def test_progress_bar_waits_for_long_runs_and_honours_enabled(capsys: pytest.CaptureFixture[str]) -> None:
    quick = terminal.Progress(True, sys.stderr)
    quick.delay = 60.0
    quick.update(1, 2)
    quick.close()
    off = terminal.Progress(False, sys.stderr)
    off.started -= 5
    off.update(1, 2)
    assert quick.bar is None and off.bar is None
    assert capsys.readouterr().err == ""


def test_an_output_path_that_is_a_device_is_written_to_not_replaced(tmp_path: Path) -> None:
    # Renaming the review over /dev/null would turn the device into a file for every process.
    import os
    import stat

    from scrutiny.cli import write_atomically

    fifo = tmp_path / "review.pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_atomically(str(fifo), "review text\n")
        assert os.read(reader, 100) == b"review text\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
