"""The pre-commit hook's command works as documented."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from scrutiny import cli

HOOKS = Path(__file__).resolve().parents[1] / ".pre-commit-hooks.yaml"


def hook_entry() -> list[str]:
    match = re.search(r"^\s*entry:\s*(.+)$", HOOKS.read_text(), re.MULTILINE)
    assert match, "no entry in .pre-commit-hooks.yaml"
    return shlex.split(match.group(1))


def test_hook_fails_a_commit_with_a_defect_and_passes_a_clean_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program, *arguments = hook_entry()
    assert program == "scrutiny" and arguments[0] == "review"
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\n\ndef run(cmd):\n    os.system(cmd)\n")
    good = tmp_path / "good.py"
    good.write_text("def add(a, b):\n    return a + b\n")
    assert cli.main([*arguments, str(bad), str(good)]) == 1
    assert cli.main([*arguments, str(good)]) == 0
    capsys.readouterr()
