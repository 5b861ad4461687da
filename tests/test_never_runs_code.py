"""scrutiny parses reviewed code; it never imports or executes it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PAYLOAD = """\
import pathlib
pathlib.Path({marker!r}).write_text("ran")
{extra}
"""


def test_reviewing_code_that_would_write_a_marker_leaves_no_marker(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    package = tmp_path / "pkg"
    package.mkdir()
    for name, extra in (
        ("__init__.py", ""),
        ("module.py", "eval(input())"),
        ("setup.py", "from setuptools import setup\nsetup()"),
        ("conftest.py", ""),
        ("__main__.py", ""),
    ):
        (package / name).write_text(PAYLOAD.format(marker=str(marker), extra=extra))
    result = subprocess.run(
        [sys.executable, "-m", "scrutiny", "review", "--format", "json", "--quiet", str(package)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    review = json.loads(result.stdout)
    assert review["summary"]["files_reviewed"] == 5
    # eval(input()): the taint rule SCR502 reports it (SCR103, the same defect, is hidden as its duplicate).
    assert any(f["rule_id"] in ("SCR103", "SCR502") for f in review["findings"]), "the review did run its rules"
    assert not marker.exists(), "reviewed code was executed"
