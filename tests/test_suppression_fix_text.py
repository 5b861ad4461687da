"""SCR651's fix suggests scrutiny's own suppression syntax, and the line it suggests works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpers import review_json
from scrutiny.rules import registered


def _suggested_line() -> str:
    fix = registered()["SCR651"].fix_text()
    (line,) = [part.strip() for part in fix.splitlines() if "# scrutiny: ignore[" in part]
    return line


def test_the_fix_names_scrutinys_syntax_not_bandits() -> None:
    fix = registered()["SCR651"].fix_text()
    assert "# scrutiny: ignore[SCR101]" in fix
    assert "B602" not in fix and "# nosec B" not in fix


def _review(tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str) -> dict[str, Any]:
    path = tmp_path / "tool.py"
    path.write_text(f"import subprocess\n\n\ndef run(cmd):\n    {line}\n")
    _, review = review_json(capsys, "--no-cache", str(path))
    return review


def test_the_suggested_line_hides_the_finding_with_its_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review = _review(tmp_path, capsys, _suggested_line())
    shown = {(f["rule_id"], f["line"]) for f in review["findings"] if f["severity"] != "info"}
    assert shown == set()
    hidden = [(s["rule_id"], s["line"], s["hidden_by"]) for s in review["suppressed"]]
    assert ("SCR101", 5, "inline") in hidden


def test_the_bare_nosec_of_the_example_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review = _review(tmp_path, capsys, "subprocess.run(cmd, shell=True)  # nosec")
    shown = {(f["rule_id"], f["line"]) for f in review["findings"]}
    assert {("SCR651", 5), ("SCR101", 5)} <= shown
